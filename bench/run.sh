#!/usr/bin/env bash
# Prints Switchyard's throughput figures on this machine (release build, wrk from Debian):
#   1. /healthz (no store access): the ceiling of the HTTP stack here;
#   2. webhook accept (202 after the group-committed, synced write) at concurrency 16 and 64;
#   3. end to end: events accepted → filter + transform → POST delivered to a local receiver.
# Usage: bench/run.sh [seconds per run, default 10]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-10}"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
cargo build --release --quiet --bin switchyard --example bench_receiver
TARGET="${CARGO_TARGET_DIR:-target}"
BIN=$TARGET/release/switchyard
WORK=$(mktemp -d)
PORT=$((20000 + RANDOM % 20000))
RECEIVER_PORT=$((PORT + 1))
export SWITCHYARD_DATA_DIR="$WORK/data" SWITCHYARD_BIND="127.0.0.1:$PORT" RUST_LOG=warn
export SWITCHYARD_ALLOW_PRIVATE_TARGETS=true
# The per-recipe inbound rate limit would turn most of the load into 429s: measure without it.
export SWITCHYARD_HOOK_RATE=off

cleanup() { kill "${SERVER:-}" "${RECEIVER:-}" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

cat > "$WORK/bench.toml" <<TOML
id = "bench"
name = "Bench: payment → receiver"
dedupe = "event.data.object.id"
[trigger.webhook]
[filter]
script = 'event.type == "payment_intent.succeeded" && event.data.object.amount > 1000'
[transform]
script = '''
let p = event.data.object;
#{ text: \`Payment \${p.id}: \${p.amount / 100.0} \${p.currency.to_upper()}\` }
'''
[[action]]
name = "receiver"
url = "http://127.0.0.1:$RECEIVER_PORT/in"
TOML

$TARGET/release/examples/bench_receiver "127.0.0.1:$RECEIVER_PORT" & RECEIVER=$!
URL=$($BIN import "$WORK/bench.toml" | cut -f3)
$BIN serve >"$WORK/serve.log" 2>&1 & SERVER=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
kill -0 "$SERVER" 2>/dev/null || { echo "the server did not start:" >&2; cat "$WORK/serve.log" >&2; exit 1; }

# wrk --latency prints "50%  1.23ms"; normalise to milliseconds.
summary() {
  awk '
    function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
    /Requests\/sec/ { rps = $2 }
    $1 == "50%" { p50 = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    / Non-2xx/ { bad = $NF }
    END { printf "%10.0f req/s   p50 %7.2f ms   p99 %7.2f ms   non-2xx %s\n", rps, p50, p99, (bad == "" ? 0 : bad) }'
}
run() { wrk -t2 -c"$1" -d"${DURATION}s" --latency "${@:2}" | summary; }

echo "Switchyard bench, $(nproc) cores, ${DURATION}s per run, sqlite sync=${SWITCHYARD_SQLITE_SYNC:-full}"
printf 'healthz ceiling       c=16: '; run 16 "http://127.0.0.1:$PORT/healthz"
printf 'healthz ceiling       c=64: '; run 64 "http://127.0.0.1:$PORT/healthz"

count() { curl -sf "http://127.0.0.1:$RECEIVER_PORT/count"; }
accepted() { sqlite3 "$SWITCHYARD_DATA_DIR/switchyard.db" 'SELECT COUNT(*) FROM events' 2>/dev/null || echo "?"; }
start=$(date +%s.%N)
printf 'webhook accept        c=16: '; run 16 -s bench/post.lua "$URL"
printf 'webhook accept        c=64: '; run 64 -s bench/post.lua "$URL"
load_end=$(date +%s.%N)

while :; do
  pending=$(sqlite3 "$SWITCHYARD_DATA_DIR/switchyard.db" \
    "SELECT (SELECT COUNT(*) FROM event_jobs) + (SELECT COUNT(*) FROM deliveries WHERE status = 'pending')")
  [ "$pending" = 0 ] && break
  sleep 0.2
done
done_at=$(date +%s.%N)
delivered=$(count)
events=$(accepted)
awk -v d="$delivered" -v e="$events" -v s="$start" -v l="$load_end" -v f="$done_at" 'BEGIN {
  printf "end to end: %d events accepted, %d deliveries; all delivered %.1f s after the load ended\n", e, d, f - l
  printf "  events processed (run: dedupe+filter+transform) / s over the whole run: %8.0f\n", e / (f - s)
  printf "  deliveries / s over the whole run:                                       %8.0f\n", d / (f - s)
}'
