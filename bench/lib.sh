# Helpers for bench/run.sh (sourced, not run): stores, servers, wrk, figures from /proc.
# Globals set by run.sh: BIN, WORK, BACKEND (sqlite | postgres), DURATION, RECEIVER, PG_BASE.

CLK_TCK=$(getconf CLK_TCK)
SERVERS=()    # pids of running `serve` processes
PG_DBS=()     # databases created by this run (dropped at exit)

now() { date +%s.%N; }
now_ms() { date +%s%3N; }
calc() { awk "BEGIN { printf \"%s\", $1 }"; }    # calc '1 / 3 * 100'; numbers only
pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f %%", 100 * a / b; else printf "—" }'; }

# ---------------------------------------------------------------------------------------------
# Stores. One query at a time against the current store; values tab-separated.

psql_admin() { psql -X -q -At -d "$PG_BASE/postgres" "$@"; }

sql() {
  if [ "$BACKEND" = postgres ]; then
    psql -X -q -At -F $'\t' -d "$DATABASE_URL" -c "$1"
  else
    sqlite3 -cmd '.timeout 10000' -separator $'\t' "$SWITCHYARD_DATA_DIR/switchyard.db" "$1"
  fi
}

# Work not yet done: events waiting for their run + deliveries waiting to be sent.
BACKLOG_SQL="SELECT (SELECT COUNT(*) FROM event_jobs)
                  + (SELECT COUNT(*) FROM delivery_queue)"
backlog() { sql "$BACKLOG_SQL"; }

# new_store NAME: an empty store for $BACKEND (created by a first `serve`), with the two W1
# recipes imported; sets HOOK_W1 and HOOK_FILTERED (webhook paths) and STORE_DIR.
new_store() {
  local name=$1
  STORE_DIR="$WORK/$BACKEND-$name"
  mkdir -p "$STORE_DIR"
  export SWITCHYARD_DATA_DIR="$STORE_DIR/data"
  if [ "$BACKEND" = postgres ]; then
    PG_DB="bench_$$_${name//-/_}"
    psql_admin -c "CREATE DATABASE $PG_DB" >/dev/null
    PG_DBS+=("$PG_DB")
    export DATABASE_URL="$PG_BASE/$PG_DB"
  else
    unset DATABASE_URL
  fi
  start_server "$PORT" "$STORE_DIR/create.log"    # creates the schema
  stop_server "$SERVER_PID"
  local recipe imported
  for recipe in w1 w1-filtered; do
    sed "s/@RECEIVER@/$RECEIVER/" "bench/$recipe.toml" >"$STORE_DIR/$recipe.toml"
  done
  imported=$("$BIN" import "$STORE_DIR/w1.toml" "$STORE_DIR/w1-filtered.toml")
  HOOK_W1=$(hook_path w1 <<<"$imported")
  HOOK_FILTERED=$(hook_path w1-filtered <<<"$imported")
}

# The path of a recipe's webhook URL in `switchyard import` output (id, kind, URL per line).
hook_path() { awk -F'\t' -v id="$1" '$1 == id { sub(/^https?:\/\/[^\/]+/, "", $3); print $3 }'; }

drop_store() {
  if [ "$BACKEND" = postgres ]; then
    psql_admin -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null
  fi
  rm -rf "$STORE_DIR/data"
}

# import_other_recipes N: N more webhook recipes (filter, transform, one action each), imported
# with one `switchyard import` of one file. Commits are not synced while importing: the figure
# of interest is serving with them, not importing them.
import_other_recipes() {
  local n=$1 file="$STORE_DIR/others.toml" t0
  awk -v n="$n" -v receiver="$RECEIVER" 'BEGIN {
    q = sprintf("%c", 39)
    for (i = 1; i <= n; i++) {
      if (i > 1) print "# --- switchyard recipe ---"
      printf "id = \"other-%05d\"\nname = \"Other recipe %d\"\n[trigger.webhook]\n", i, i
      printf "[filter]\nscript = %sevent.kind == \"k%d\" && event.amount > %d%s\n", q, i, i, q
      printf "[transform]\nscript = %s#{ text: `Other %d: ${event.id}` }%s\n", q, i, q
      printf "[[action]]\nname = \"receiver\"\nurl = \"http://%s/other/%d\"\n", receiver, i
    }
  }' >"$file"
  t0=$(now)
  if [ "$BACKEND" = postgres ]; then
    psql_admin -c "ALTER DATABASE $PG_DB SET synchronous_commit = off" >/dev/null
    "$BIN" import "$file" >/dev/null
    psql_admin -c "ALTER DATABASE $PG_DB RESET synchronous_commit" >/dev/null
  else
    SWITCHYARD_SQLITE_SYNC=normal "$BIN" import "$file" >/dev/null
  fi
  printf '  (imported %d recipes in %.1f s; %s recipes in the store)\n' "$n" \
    "$(calc "$(now) - $t0")" "$(sql 'SELECT COUNT(*) FROM recipes')"
}

# seed_history N: N finished (delivered) W1 events, received over the last days (inside the
# retention period), inserted with one statement.
seed_history() {
  local n=$1 t0 newest
  local body='{"type":"payment.succeeded","amount":1234,"currency":"usd","id":"evt_123"}'
  newest=$(( $(now_ms) - 60000 ))
  t0=$(now)
  if [ "$BACKEND" = postgres ]; then
    sql "INSERT INTO events (id, recipe_id, trigger, received_at, content_type, headers, body,
                             payload, status, error)
         SELECT 'hist-' || lpad(i::text, 9, '0'), 'w1', 'webhook', $newest - ($n - i) * 500,
                convert_to('application/json', 'UTF8'), '{}', convert_to('$body', 'UTF8'),
                '$body', 'delivered', NULL
         FROM generate_series(1, $n) AS i" >/dev/null
    sql "VACUUM ANALYZE events" >/dev/null
  else
    sql "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $n)
         INSERT INTO events (id, recipe_id, trigger, received_at, content_type, headers, body,
                             payload, status, error)
         SELECT printf('hist-%09d', i), 'w1', 'webhook', $newest - ($n - i) * 500,
                'application/json', '{}', CAST('$body' AS BLOB), '$body', 'delivered', NULL
         FROM n;
         ANALYZE;" >/dev/null
  fi
  printf '  (inserted %d events in %.1f s; %s events in the store)\n' "$n" \
    "$(calc "$(now) - $t0")" "$(sql 'SELECT COUNT(*) FROM events')"
}

# ---------------------------------------------------------------------------------------------
# Servers.

# start_server PORT LOG: `serve` on 127.0.0.1:PORT against the current store; sets SERVER_PID.
start_server() {
  local port=$1 log=$2 pid
  SWITCHYARD_BIND="127.0.0.1:$port" "$BIN" serve >"$log" 2>&1 &
  pid=$!
  SERVERS+=("$pid")
  for _ in $(seq 600); do
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && { SERVER_PID=$pid; return; }
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "the server did not start ($log):" >&2
  tail -20 "$log" >&2
  exit 1
}

stop_server() {
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  for i in "${!SERVERS[@]}"; do [ "${SERVERS[$i]}" = "$pid" ] && unset "SERVERS[$i]"; done
  SERVERS=("${SERVERS[@]}")
}

# Lines at WARN or ERROR in a server log, if any: printed so that nothing odd goes unseen.
log_report() {
  local log=$1 n
  # The one expected warning: the store has no admin account (the setup link).
  grep -E '\b(WARN|ERROR)\b' "$log" | grep -v 'no admin account yet' >"$log.odd" || true
  n=$(wc -l <"$log.odd")
  if [ "$n" -gt 0 ]; then
    printf '  ! %s: %d warning/error lines, the first:\n' "$(basename "$log")" "$n"
    head -3 "$log.odd" | cut -c1-300 | sed 's/^/      /'
  fi
}

# user+sys clock ticks of a process (field 2, the name, is "(switchyard)": no spaces).
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
ticks_sum() { local t=0 pid; for pid in "$@"; do t=$((t + $(ticks "$pid"))); done; echo "$t"; }
peak_rss_mb() { awk '/^VmHWM:/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }

# "pid ticks" of the PostgreSQL backends serving the current database.
pg_backend_ticks() {
  local pid
  psql_admin -c "SELECT pid FROM pg_stat_activity
                 WHERE datname = '$PG_DB' AND pid <> pg_backend_pid()" |
    while read -r pid; do
      [ -r "/proc/$pid/stat" ] && awk -v p="$pid" '{ print p, $14 + $15 }' "/proc/$pid/stat"
    done
  true
}
# Ticks used between two snapshots (a backend started in between counts in full).
ticks_between() {
  awk 'NR == FNR { before[$1] = $2; next } { used += $2 - ($1 in before ? before[$1] : 0) }
       END { print used + 0 }' "$1" "$2"
}

# n_dead_tup of the queue and history tables, as "event_jobs delivery_queue deliveries events".
dead_tuples() {
  sql "SELECT coalesce(sum(n_dead_tup) FILTER (WHERE relname = 'event_jobs'), 0) || ' ' ||
              coalesce(sum(n_dead_tup) FILTER (WHERE relname = 'delivery_queue'), 0) || ' ' ||
              coalesce(sum(n_dead_tup) FILTER (WHERE relname = 'deliveries'), 0) || ' ' ||
              coalesce(sum(n_dead_tup) FILTER (WHERE relname = 'events'), 0)
       FROM pg_stat_user_tables"
}

# profile_report LABEL: where the server spent its CPU during the load (BENCH_PROFILE=1): the
# share of samples per shared object, then the top symbols by self time, and the kernel's
# scheduling share (context switches and wake-ups, the cost of handing work between threads).
profile_report() {
  local data="$WORK/perf.data"
  [ -s "$data" ] || { echo "  ! no profile recorded (is perf installed and allowed?)"; return 0; }
  echo "  profile of the server during \"$1\" (perf, cpu-clock, self time):"
  # (no `head`: under pipefail its early close would fail the pipeline)
  perf report -i "$data" --stdio --no-children --sort dso -q 2>/dev/null \
    | awk 'NF && $1 ~ /%$/ && n++ < 8 { print "    " $0 }'
  perf report -i "$data" --stdio --no-children --sort comm -q 2>/dev/null \
    | awk 'NF && $1 ~ /%$/ && n++ < 8 { print "    thread " $0 }'
  perf report -i "$data" --stdio --no-children --sort sym -q -g none 2>/dev/null \
    | awk -v top="${BENCH_PROFILE_TOP:-25}" 'NF && $1 ~ /%$/ && n++ < top { print "    " $0 }'
  perf report -i "$data" --stdio --no-children --sort sym -q -g none 2>/dev/null \
    | awk '$1 ~ /%$/ && /\[k\] (finish_task_switch|__schedule|try_to_wake_up|futex|_raw_spin_unlock_irqrestore|schedule)/ { s += $1 }
           END { printf "    %.1f%% in kernel scheduling and futex symbols\n", s }'
}

# ---------------------------------------------------------------------------------------------
# Load.

received() { curl -sf "http://$RECEIVER/count"; }

# wait_drained [TIMEOUT_S]: until the backlog is 0; prints a warning on timeout.
wait_drained() {
  local deadline=$(( $(date +%s) + ${1:-300} )) left
  while :; do
    left=$(backlog)
    [ "$left" = 0 ] && return 0
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "  ! backlog still $left after ${1:-300} s" >&2
      return 1
    fi
    sleep 0.1
  done
}

# wrk_run OUTFILE CONNECTIONS URL [ARGS...]: wrk, 1 thread, $DURATION seconds, latencies on.
wrk_run() {
  local out=$1 c=$2 url=$3
  shift 3
  wrk -t1 -c"$c" -d"${DURATION}s" --latency "$@" "$url" >"$out"
}

# Figures of one or more wrk outputs: "req/s p50_ms p99_ms non2xx socket_errors" (req/s
# summed; latencies of the first output, or the worst when several ran at once).
wrk_figures() {
  awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /m$/) return v * 60000; if (v ~ /s$/) return v * 1000; return v }
    /Requests\/sec/ { rps += $2 }
    $1 == "50%" { v = ms($2); if (v > p50) p50 = v }
    $1 == "99%" { v = ms($2); if (v > p99) p99 = v }
    /Non-2xx/ { bad += $NF }
    /Socket errors/ { gsub(/,/, ""); errors += $4 + $6 + $8 + $10 }
    END { printf "%.0f %.2f %.2f %d %d\n", rps, p50, p99, bad, errors }' "$@"
}

# One line for a wrk measurement: label, req/s, p50, p99 and any failures.
print_wrk() {
  local label=$1 rps p50 p99 bad errors
  read -r rps p50 p99 bad errors < <(wrk_figures "${@:2}")
  printf '  %-30s %8d req/s   p50 %6.2f ms   p99 %6.2f ms' "$label" "$rps" "$p50" "$p99"
  [ "$bad" -gt 0 ] && printf '   NON-2xx %d' "$bad"
  [ "$errors" -gt 0 ] && printf '   SOCKET ERRORS %d' "$errors"
  printf '\n'
  LAST_RPS=$rps
}

# healthz_run C: the HTTP ceiling at concurrency C against $PORT; sets LAST_RPS.
healthz_run() {
  wrk_run "$WORK/wrk.out" "$1" "http://127.0.0.1:$PORT/healthz"
  print_wrk "/healthz c=$1" "$WORK/wrk.out"
}

# accept_run C: webhooks to the filter-false recipe at concurrency C; also the server CPU per
# accepted event until the engine has run every one of them. Sets LAST_RPS.
accept_run() {
  local c=$1 cpu0 t0ms accepted
  wait_drained
  cpu0=$(ticks "$SERVER_PID")
  t0ms=$(now_ms)
  wrk_run "$WORK/wrk.out" "$c" "http://127.0.0.1:$PORT$HOOK_FILTERED" -s bench/post.lua
  wait_drained
  accepted=$(sql "SELECT COUNT(*) FROM events
                  WHERE recipe_id = 'w1-filtered' AND received_at >= $t0ms")
  print_wrk "webhook accept c=$c" "$WORK/wrk.out"
  printf '  %-30s %8.2f ms server CPU per accepted event (%d events, run until filtered)\n' \
    "" "$(calc "($(ticks "$SERVER_PID") - $cpu0) * 1000 / $CLK_TCK / ($accepted > 0 ? $accepted : 1)")" "$accepted"
}

# w1 LABEL PORT...: W1 end to end against the running servers on these ports (16 connections
# split evenly, one wrk each, at once), until the receiver has every delivery. Sets W1_RATE.
w1() {
  local label=$1
  shift
  local ports=("$@") n=$# c0 cpu0 cpu1 t0 t0ms t1 t2 expected got deadline port outs=() i
  local pg0="$WORK/pg0" pg1="$WORK/pg1" dead0='' samples="$WORK/backlog"
  wait_drained
  [ "$BACKEND" = postgres ] && { sleep 1.5; dead0=$(dead_tuples); pg_backend_ticks >"$pg0"; }
  c0=$(received)
  cpu0=$(ticks_sum "${SERVERS[@]}")
  : >"$samples"
  (while :; do backlog >>"$samples" 2>/dev/null || true; sleep 1; done) &
  local sampler=$!
  t0=$(now)
  t0ms=$(now_ms)
  local loads=()
  i=0
  for port in "${ports[@]}"; do
    outs+=("$WORK/wrk.$i.out")
    wrk_run "$WORK/wrk.$i.out" $((16 / n)) "http://127.0.0.1:$port$HOOK_W1" -s bench/post.lua &
    loads+=($!)
    i=$((i + 1))
  done
  local profiler=''
  if [ -n "${BENCH_PROFILE:-}" ]; then
    perf record -q -e cpu-clock -F 499 -g -o "$WORK/perf.data" \
      -p "$(IFS=,; echo "${SERVERS[*]}")" -- sleep "$DURATION" 2>/dev/null &
    profiler=$!
  fi
  wait "${loads[@]}"
  t1=$(now)
  [ -n "$profiler" ] && { wait "$profiler" 2>/dev/null || true; profile_report "$label"; }
  kill "$sampler" 2>/dev/null || true
  wait "$sampler" 2>/dev/null || true
  # Until every accepted event is delivered: the receiver's count is polled every 20 ms and t2
  # is when it last grew; every 10th poll checks the events accepted (requests cut off at the
  # end of the load may still commit) and that no work is left.
  local seen polls=0
  got=0 expected=0 t2=$(now) deadline=$(( $(date +%s) + 600 ))
  while :; do
    seen=$(( $(received) - c0 ))
    if [ "$seen" -ne "$got" ]; then got=$seen t2=$(now); fi
    if (( polls++ % 10 == 0 )); then
      expected=$(sql "SELECT COUNT(*) FROM events WHERE recipe_id = 'w1' AND received_at >= $t0ms")
      [ "$got" -ge "$expected" ] && [ "$(backlog)" = 0 ] && break
    fi
    [ "$(date +%s)" -ge "$deadline" ] && break
    sleep 0.02
  done
  cpu1=$(ticks_sum "${SERVERS[@]}")
  [ "$BACKEND" = postgres ] && pg_backend_ticks >"$pg1"

  local rps p50 p99 bad errors
  read -r rps p50 p99 bad errors < <(wrk_figures "${outs[@]}")
  # Events delivered: a delivery the receiver got twice (at-least-once) counts once here and is
  # reported below.
  local delivered=$(( got < expected ? got : expected ))
  W1_RATE=$(calc "$delivered / ($t2 - $t0)")
  printf '  %-30s %8.0f delivered/s   accept p50 %6.2f ms   p99 %6.2f ms\n' "$label" "$W1_RATE" "$p50" "$p99"
  [ "$bad" -gt 0 ] || [ "$errors" -gt 0 ] && printf '  %-30s ! non-2xx %d, socket errors %d\n' "" "$bad" "$errors"
  local rss='' pid
  for pid in "${SERVERS[@]}"; do rss+="${rss:+ + }$(peak_rss_mb "$pid") MB"; done
  printf '  %-30s %8.2f ms server CPU per delivery   peak RSS %s   last 202 → last delivery %.2f s\n' \
    "" "$(calc "($cpu1 - $cpu0) * 1000 / $CLK_TCK / ($delivered > 0 ? $delivered : 1)")" "$rss" "$(calc "$t2 - $t1")"
  if [ "$BACKEND" = postgres ]; then
    printf '  %-30s %8.2f ms PostgreSQL backend CPU per delivery\n' "" \
      "$(calc "$(ticks_between "$pg0" "$pg1") * 1000 / $CLK_TCK / ($delivered > 0 ? $delivered : 1)")"
  fi
  # Kept up: the backlog at the end of the load is under a second of acceptance ("yes"), or at
  # least no larger than at half-time ("steady"); otherwise it grew through the run ("NO").
  awk -v rps="$rps" -v acc="$expected" -v got="$got" -v label="" '
    { v[++n] = $1; if ($1 > max) max = $1 }
    END {
      mid = v[int((n + 1) / 2)]; last = v[n]
      kept = (last <= rps) ? "yes" : (last <= 1.1 * mid) ? "steady" : "NO"
      printf "  %-30s %8d accepted, %d received; backlog (jobs + pending deliveries) in the load: max %d, half-time %d, end %d (kept up: %s)\n",
        label, acc, got, max, mid, last, kept
    }' "$samples"
  [ "$got" -lt "$expected" ] && printf '  %-30s ! only %d of %d delivered 600 s after the load\n' "" "$got" "$expected"
  [ "$got" -gt "$expected" ] && printf '  %-30s ! the receiver got %d calls more than there were events (sent twice)\n' "" $((got - expected))
  if [ -n "$dead0" ]; then
    sleep 1.5
    local dead1
    dead1=$(dead_tuples)
    awk -v a="$dead0" -v b="$dead1" -v label="" 'BEGIN {
      split(a, x, " "); split(b, y, " ")
      printf "  %-30s n_dead_tup growth: event_jobs %+d (%d → %d), delivery_queue %+d (%d → %d), deliveries %+d (%d → %d), events %+d (%d → %d)\n",
        label, y[1] - x[1], x[1], y[1], y[2] - x[2], x[2], y[2], y[3] - x[3], x[3], y[3], y[4] - x[4], x[4], y[4] }'
  fi
  return 0
}

# A session idle in a transaction that holds a snapshot and an xid for as long as it lives: the
# xmin horizon stays where it was, so VACUUM can remove no row deleted after it began.
pin_xmin() {
  PGAPPNAME=bench_pin psql -X -q -d "$DATABASE_URL" \
    -c 'BEGIN; SELECT txid_current(); SELECT pg_sleep(100000)' >/dev/null 2>&1 &
  PIN_PID=$!
  for _ in $(seq 100); do
    [ "$(psql_admin -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'bench_pin'
                        AND datname = '$PG_DB' AND backend_xmin IS NOT NULL")" = 1 ] && return
    sleep 0.1
  done
  echo "the xmin-pinning session did not start" >&2
  exit 1
}

unpin_xmin() {
  [ -n "${PIN_PID:-}" ] || return 0
  psql_admin -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                 WHERE application_name = 'bench_pin' AND datname = '$PG_DB'" >/dev/null
  wait "$PIN_PID" 2>/dev/null || true
  PIN_PID=
}
