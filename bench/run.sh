#!/usr/bin/env bash
# Prints Switchyard's throughput figures on this machine (release build, wrk with 1 thread), for
# SQLite (sync=full) and for PostgreSQL, in one run; the targets are issue 10's. See
# bench/README.md for what each figure means.
# Usage: bench/run.sh [seconds per load, default 20] [backends, default "sqlite postgres"]
# PostgreSQL: BENCH_POSTGRES (default postgres://postgres@127.0.0.1:5432) must let us create
# and drop databases; each store is a fresh database, dropped at the end.
# BENCH_NO_BUILD=1 skips `cargo build`; BENCH_KEEP=1 keeps the work folder (logs, stores).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-20}"
BACKENDS="${2:-sqlite postgres}"
PG_BASE="${BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}"
for tool in wrk curl sqlite3 psql; do
  command -v "$tool" >/dev/null || { echo "$tool is missing (apt-get install wrk curl sqlite3 postgresql-client)" >&2; exit 1; }
done
[ -n "${BENCH_NO_BUILD:-}" ] || cargo build --release --quiet --bin switchyard --example bench_receiver
TARGET="${CARGO_TARGET_DIR:-target}"
BIN=$TARGET/release/switchyard
WORK=$(mktemp -d)
PORT=$((20000 + RANDOM % 20000))
PORT2=$((PORT + 1))
RECEIVER="127.0.0.1:$((PORT + 2))"

export RUST_LOG=warn SWITCHYARD_SQLITE_SYNC=full
# The receiver is on loopback, which the outbound SSRF guard refuses by default.
export SWITCHYARD_ALLOW_PRIVATE_TARGETS=true
# The per-recipe inbound rate limit would turn most of the load into 429s: measure without it.
export SWITCHYARD_HOOK_RATE=off
# One key for every store and process (the CLI and a second server need the server's key).
SWITCHYARD_SECRET_KEY=$(head -c 32 /dev/urandom | base64)
export SWITCHYARD_SECRET_KEY

source bench/lib.sh

cleanup() {
  local pid
  unpin_xmin 2>/dev/null || true
  for pid in "${SERVERS[@]}" "${RECEIVER_PID:-}"; do if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi; done
  wait 2>/dev/null || true
  for db in "${PG_DBS[@]}"; do psql_admin -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true; done
  if [ -n "${BENCH_KEEP:-}" ]; then echo "work folder kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

declare -A FIG    # figures kept for the ratios: FIG[backend.name]

# The HTTP ceiling, accept-only and W1 on a fresh store; on PostgreSQL also two servers and a
# pinned xmin.
plain_store() {
  new_store main
  start_server "$PORT" "$STORE_DIR/serve.log"
  healthz_run 16; FIG[$BACKEND.healthz16]=$LAST_RPS
  healthz_run 64
  accept_run 16; FIG[$BACKEND.accept16]=$LAST_RPS
  accept_run 64
  stop_server "$SERVER_PID"
  log_report "$STORE_DIR/serve.log"

  start_server "$PORT" "$STORE_DIR/serve-w1.log"    # fresh process: its peak RSS is W1's
  w1 "W1 (c=16)" "$PORT"; FIG[$BACKEND.w1]=$W1_RATE
  stop_server "$SERVER_PID"
  log_report "$STORE_DIR/serve-w1.log"
  ratio_line "W1 / healthz c=16" "${FIG[$BACKEND.w1]}" "${FIG[$BACKEND.healthz16]}" "target ≥ 10 %"
  ratio_line "accept-only c=16 / healthz c=16" "${FIG[$BACKEND.accept16]}" "${FIG[$BACKEND.healthz16]}" "target ≥ 25 %"

  if [ "$BACKEND" = postgres ]; then
    start_server "$PORT" "$STORE_DIR/serve-a.log"
    local first=$SERVER_PID
    start_server "$PORT2" "$STORE_DIR/serve-b.log"
    w1 "W1, two serve (8 + 8 conns)" "$PORT" "$PORT2"
    stop_server "$SERVER_PID"
    stop_server "$first"
    log_report "$STORE_DIR/serve-a.log"
    log_report "$STORE_DIR/serve-b.log"
    ratio_line "two serve / one serve" "$W1_RATE" "${FIG[$BACKEND.w1]}" ""

    start_server "$PORT" "$STORE_DIR/serve-pinned.log"
    pin_xmin
    w1 "W1, xmin pinned" "$PORT"
    unpin_xmin
    stop_server "$SERVER_PID"
    log_report "$STORE_DIR/serve-pinned.log"
    ratio_line "pinned xmin / W1" "$W1_RATE" "${FIG[$BACKEND.w1]}" ""
  fi
  drop_store
}

# W1 on a fresh store that also holds 10,000 other recipes.
many_recipes() {
  new_store recipes
  import_other_recipes 10000
  start_server "$PORT" "$STORE_DIR/serve.log"
  w1 "W1, 10,000 other recipes" "$PORT"
  stop_server "$SERVER_PID"
  log_report "$STORE_DIR/serve.log"
  ratio_line "10,000 recipes / W1" "$W1_RATE" "${FIG[$BACKEND.w1]}" "target ≥ 90 %"
  drop_store
}

# W1 on a fresh store that also holds 1,000,000 finished events.
long_history() {
  new_store history
  seed_history 1000000
  start_server "$PORT" "$STORE_DIR/serve.log"
  w1 "W1, 1,000,000 events stored" "$PORT"
  stop_server "$SERVER_PID"
  log_report "$STORE_DIR/serve.log"
  ratio_line "1,000,000 events / W1" "$W1_RATE" "${FIG[$BACKEND.w1]}" "target ≥ 90 %"
  drop_store
}

ratio_line() { printf '  %-30s %8s   %s\n' "$1" "$(pct "$2" "$3")" "${4:+($4)}"; }

started=$(now)
echo "Switchyard bench  $(date -u '+%Y-%m-%d %H:%M UTC')  commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src migrations || echo '+changes')"
echo "$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2), wrk 1 thread, ${DURATION} s per load"
echo "W1: webhook → filter → transform → one POST to examples/bench_receiver; SQLite sync=full; rate limit off"

"$TARGET/release/examples/bench_receiver" "$RECEIVER" >"$WORK/receiver.log" 2>&1 &
RECEIVER_PID=$!
for _ in $(seq 100); do received >/dev/null 2>&1 && break; sleep 0.1; done

for BACKEND in $BACKENDS; do
  echo
  if [ "$BACKEND" = postgres ]; then
    echo "== PostgreSQL ($(psql -X -At -d "$PG_BASE/postgres" -c 'SHOW server_version'), synchronous_commit $(psql -X -At -d "$PG_BASE/postgres" -c 'SHOW synchronous_commit'))"
  else
    echo "== SQLite (sync=full)"
  fi
  plain_store
  many_recipes
  long_history
done

if [ -n "${FIG[sqlite.w1]:-}" ] && [ -n "${FIG[postgres.w1]:-}" ]; then
  echo
  ratio_line "PostgreSQL W1 / SQLite W1" "${FIG[postgres.w1]}" "${FIG[sqlite.w1]}" "target ≥ 60 %"
fi
echo
printf 'whole run: %.0f s\n' "$(calc "$(now) - $started")"
