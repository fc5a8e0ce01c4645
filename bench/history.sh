#!/usr/bin/env bash
# Times the event pages with a large history: seeds N events (default 100,000) straight into a
# fresh SQLite store, then prints the median of 5 requests for each page shape, including a deep
# keyset page. Usage: bench/history.sh [events]
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-100000}"
command -v sqlite3 >/dev/null || { echo "sqlite3 is missing: apt-get install sqlite3" >&2; exit 1; }
cargo build --release --quiet --bin switchyard
TARGET="${CARGO_TARGET_DIR:-target}"
BIN=$TARGET/release/switchyard
WORK=$(mktemp -d)
PORT=$((20000 + RANDOM % 20000))
export SWITCHYARD_DATA_DIR="$WORK/data" SWITCHYARD_BIND="127.0.0.1:$PORT" RUST_LOG=warn
export SWITCHYARD_API_TOKEN=bench-token
cleanup() { kill "${SERVER:-}" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

cat > "$WORK/bench.toml" <<TOML
id = "bench"
name = "History bench"
[trigger.webhook]
[[action]]
name = "nowhere"
url = "https://example.com/hook"
TOML
# Only `serve` creates a store; the CLI then imports into it.
$BIN serve >"$WORK/serve.log" 2>&1 & SERVER=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
kill -0 "$SERVER" 2>/dev/null || { echo "the server did not start:" >&2; cat "$WORK/serve.log" >&2; exit 1; }
$BIN import "$WORK/bench.toml" >/dev/null
sqlite3 "$SWITCHYARD_DATA_DIR/switchyard.db" <<SQL
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $N)
INSERT INTO events (id, recipe_id, trigger, received_at, content_type, headers, body, payload, status, error)
SELECT printf('seed-%09d', i), CASE WHEN i % 10 = 0 THEN 'other' ELSE 'bench' END, 'webhook',
       CAST(strftime('%s', 'now') AS INTEGER) * 1000 - ($N - i) * 1000, 'application/json', '{}',
       CAST('{"n": 1}' AS BLOB), '{"n": ' || i || '}',
       CASE i % 6 WHEN 0 THEN 'delivered' WHEN 1 THEN 'filtered' WHEN 2 THEN 'duplicate'
                  WHEN 3 THEN 'failed' WHEN 4 THEN 'dead' ELSE 'delivered' END,
       NULL
FROM n;
ANALYZE;
SQL

API="http://127.0.0.1:$PORT/api"
median_ms() {
  for _ in 1 2 3 4 5; do
    curl -s -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer bench-token" "$1"
  done | sort -n | sed -n 3p | awk '{ printf "%7.1f ms", $1 * 1000 }'
}
deep=$(sqlite3 "$SWITCHYARD_DATA_DIR/switchyard.db" \
  "SELECT received_at || '_' || id FROM events ORDER BY received_at, id LIMIT 1 OFFSET 100")
echo "Event pages with $N stored events (median of 5, release build):"
printf '  newest page, all events              %s\n' "$(median_ms "$API/events")"
printf '  newest page, status=dead             %s\n' "$(median_ms "$API/events?status=dead")"
printf '  newest page, status=pending (none)   %s\n' "$(median_ms "$API/events?status=pending")"
printf '  newest page, one recipe              %s\n' "$(median_ms "$API/events?recipe=bench")"
printf '  one recipe + status=failed           %s\n' "$(median_ms "$API/events?recipe=bench&status=failed")"
printf '  deep page (100 from the oldest)      %s\n' "$(median_ms "$API/events?before=$deep")"
printf '  recipes list                         %s\n' "$(median_ms "$API/recipes")"
printf '  one event                            %s\n' "$(median_ms "$API/events/seed-000050000")"
