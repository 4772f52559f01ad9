#!/usr/bin/env bash
# Change events and webhooks under load on PostgreSQL: the drain of 10,000 queued
# deliveries by 1 and 2 replicas, and updateProfile's latency before change events
# existed (BENCH_BASELINE, default 4339248, the last commit without them) and now.
#
# Needs PostgreSQL (a superuser URL), Node.js, cargo, Python 3 and wrk. Builds the
# baseline in a git worktree under bench/.cache (the binary is kept there), then this
# checkout's release build, then runs bench/events.py.
#
# Settings (environment): BENCH_ADMIN_URL (postgres://postgres@127.0.0.1:5432/postgres),
# BENCH_SECONDS (20), BENCH_WARMUP (5), BENCH_CONNECTIONS (16), BENCH_ROUNDS (2),
# BENCH_BASELINE (a commit).
set -euo pipefail
cd "$(dirname "$0")/.."

ADMIN_URL="${BENCH_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
BASELINE="${BENCH_BASELINE:-4339248}"
command -v wrk >/dev/null || { echo "wrk is needed (apt-get install wrk)" >&2; exit 1; }

mkdir -p bench/.cache
BASE_BIN="bench/.cache/profiles-gateway-$BASELINE"
if [ ! -x "$BASE_BIN" ]; then
  rm -rf bench/.cache/baseline
  git worktree prune
  git worktree add --detach bench/.cache/baseline "$BASELINE" >/dev/null
  # A target folder of its own, so this checkout's build stays as it is.
  (cd bench/.cache/baseline && CARGO_TARGET_DIR="$PWD/../../../target/baseline" cargo build --release --locked --quiet)
  cp target/baseline/release/profiles-gateway "$BASE_BIN"
  git worktree remove --force bench/.cache/baseline
fi
cargo build --release --locked --quiet

exec python3 bench/events.py --admin-url "$ADMIN_URL" --ours target/release/profiles-gateway --baseline "$BASE_BIN" \
  --seconds "${BENCH_SECONDS:-20}" --warmup "${BENCH_WARMUP:-5}" --connections "${BENCH_CONNECTIONS:-16}" \
  --rounds "${BENCH_ROUNDS:-2}"
