#!/usr/bin/env bash
# End-to-end benchmark of smsgate through its REST API:
#
#   bench.js load --POST /v1/messages (keep-alive, C at once)--> smsgate
#       smsgate --SMPP submit_sm--> smsgate sim smsc (its own process)
#       smsgate <--deliver_sm receipt-- simulator
#       smsgate --POST webhook--> smsgate sim sink (or bench.js receiver)
#
# Prints accepted/s, receipts/s, the time from the start of the load until
# the last "delivered" webhook, POST-to-sent and POST-to-delivered latency
# p50/p99 (from each message's events), and smsgate's peak RSS (VmHWM).
#
# The load is sent by bench_e2e (load.c, built beside smsgate) when it is
# there, else by bench.js; LOADER=node forces bench.js. Webhooks go to
# `smsgate sim sink` (C, checks every signature); SINK=node uses bench.js's
# receiver instead. Also printed: the CPU each process used during the run
# (and smsgate's per accepted message), and the store's commit figures.
# RSS_EVERY=S samples smsgate's VmRSS every S seconds during the run and
# prints the samples at the end (one "rss t_s kB" line each).
# STORE_URL=postgres://... runs the gateway on that PostgreSQL database
# (`store: {driver: postgres, url: ...}`; SYNC does not apply) instead of
# SQLite; give each run an empty database, since the figures and the
# webhook count assume one.
#
# usage: bench/e2e/run.sh [path/to/smsgate]     (default: ./build/smsgate)
# env:   N=5000 C=50 WINDOW=64 DLR_DELAY_MS=0 SYNC=full|normal WAIT_S=120
#        LOADER=path/to/bench_e2e|node SINK=c|node RSS_EVERY=0
#        WEBHOOK_THREAD=true|false (webhooks.thread)
#        WEBHOOK_CLIENT=builtin|curl (webhooks.client)
#        STORE_URL=postgres://... (the PostgreSQL store)
set -u
BIN=${1:-./build/smsgate}
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LOADER=${LOADER:-$(dirname "$BIN")/bench_e2e}
N=${N:-5000}
C=${C:-50}
WINDOW=${WINDOW:-64}
DLR_DELAY_MS=${DLR_DELAY_MS:-0}
SYNC=${SYNC:-full}
WAIT_S=${WAIT_S:-120}
SINK=${SINK:-c}
WEBHOOK_THREAD=${WEBHOOK_THREAD:-true}
WEBHOOK_CLIENT=${WEBHOOK_CLIENT:-builtin}
RSS_EVERY=${RSS_EVERY:-0}
STORE_URL=${STORE_URL:-}
SECRET=bench-secret
KEY=bench-key
T=$(mktemp -d "${TMPDIR:-/tmp}/smsgate-e2e.XXXXXX")
PIDS=()

cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
  echo "bench: $*" >&2
  for f in "$T"/*.log; do [ -f "$f" ] && { echo "--- $f" >&2; tail -n 20 "$f" >&2; }; done
  exit 1
}

start() { # name, command...
  local name=$1
  shift
  "$@" >"$T/$name.log" 2>&1 &
  PIDS+=($!)
  LAST_PID=$!
}

get() { # URL: prints the body, fails unless 200
  if command -v curl >/dev/null; then
    curl -sf --max-time 10 "$1"
    return
  fi
  node -e 'require("http").get(process.argv[1], (r) => { let b = "";
    r.on("data", (c) => b += c);
    r.on("end", () => { process.stdout.write(b); process.exit(r.statusCode === 200 ? 0 : 1); });
  }).on("error", () => process.exit(1));' "$1"
}

. "$(dirname "$0")/../lib.sh" # cpu_ms, threads_cpu, threads_report

wait_for() { # seconds, command...: polls until the command succeeds
  local secs=$1 i
  shift
  for ((i = 0; i < secs * 10; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}

read -r HTTP SIM HOOK <<<"$(node -e '
  const net = require("net"); const s = [];
  (function next() {
    if (s.length === 3) { console.log(s.map((x) => x.address().port).join(" "));
      s.forEach((x) => x.close()); return; }
    const x = net.createServer(); x.listen(0, "127.0.0.1", () => { s.push(x); next(); });
  })();')"

if [ "$SINK" = node ]; then
  start receiver node "$HERE/bench.js" receiver "$HOOK"
else
  start receiver "$BIN" sim sink --port "$HOOK" --secret "$SECRET"
fi
RX_PID=$LAST_PID
start sim "$BIN" sim smsc --port "$SIM" --dlr-delay "$DLR_DELAY_MS" --quiet --stats-interval 0
SIM_PID=$LAST_PID
if [ -n "$STORE_URL" ]; then
  STORE_LINE="store: {driver: postgres, url: \"$STORE_URL\"}"
  STORE_DESC="store=postgres"
else
  STORE_LINE="store: {path: $T/data/smsgate.db, synchronous: $SYNC}"
  STORE_DESC="synchronous=$SYNC"
fi
cat >"$T/smsgate.yaml" <<EOF
$STORE_LINE
http: {listen: 127.0.0.1:$HTTP, max_connections: 2000}
accounts:
  - {name: bench, api_key: $KEY, default_region: RU,
     callback_url: "http://127.0.0.1:$HOOK/hook", webhook_secret: $SECRET}
connectors:
  - {name: sim, type: smpp, host: 127.0.0.1, port: $SIM, system_id: bench,
     window: $WINDOW}
routes:
  - {prefix: "+", connectors: [sim]}
webhooks: {allow_private_networks: true, concurrency: 256, thread: $WEBHOOK_THREAD,
           client: $WEBHOOK_CLIENT}
log: {level: warn}
EOF
wait_for 10 grep -q "listening on" "$T/receiver.log" || die "receiver did not start"
start smsgate "$BIN" serve -c "$T/smsgate.yaml"
GW=$LAST_PID
wait_for 30 eval 'get http://127.0.0.1:$HTTP/healthz | grep -q "\"status\":\"ok\""' ||
  die "smsgate not ready"

echo "smsgate e2e: N=$N C=$C window=$WINDOW dlr_delay=${DLR_DELAY_MS}ms $STORE_DESC" \
  "($(nproc) cores, $(uname -r))"
if [ "$RSS_EVERY" -gt 0 ] 2>/dev/null; then
  ( t0=$(date +%s)
    while kill -0 "$GW" 2>/dev/null; do
      echo "rss $(($(date +%s) - t0)) $(awk '/^VmRSS:/ {print $2}' "/proc/$GW/status" 2>/dev/null)"
      sleep "$RSS_EVERY"
    done >"$T/rss.txt" ) &
  PIDS+=($!)
fi
threads_cpu "$GW" >"$T/threads0"
c_gw=$(cpu_ms "$GW") c_sim=$(cpu_ms "$SIM_PID") c_rx=$(cpu_ms "$RX_PID") t_start=$(date +%s%N)
( if [ -x "$LOADER" ]; then
    "$LOADER" 127.0.0.1 "$HTTP" "$KEY" "$N" "$C" "$T/load.json"
  else
    node "$HERE/bench.js" load "http://127.0.0.1:$HTTP" "$KEY" "$N" "$C" "$T/load.json"
  fi && times >"$T/load.times" ) || die "load failed"
accepted=$(node -e 'console.log(require(process.argv[1]).accepted)' "$T/load.json")

# Wait for every "delivered" webhook; give up after WAIT_S without progress.
last=-1 still=0
while :; do
  got=$(get "http://127.0.0.1:$HOOK/count" | sed -n 's/.*"delivered":\([0-9]*\).*/\1/p')
  [ "${got:-0}" -ge "$accepted" ] && break
  if [ "$got" = "$last" ]; then
    still=$((still + 1))
    [ $still -ge $((WAIT_S * 10)) ] && { echo "bench: stalled at $got webhooks of $accepted" >&2; break; }
  else
    still=0 last=$got
  fi
  sleep 0.1
done
t_end=$(date +%s%N)
rss=$(awk '/^VmHWM:/ {print $2}' "/proc/$GW/status")
# CPU used from the start of the load to the last webhook, per process; the
# load client's comes from the shell's `times` (its children's user and sys).
c_load=$(awk 'NR == 2 { n = split($0, f, /[ms]+/); s = 0
  for (i = 1; i <= n; i++) if (f[i] != "") s += (i % 2 ? f[i] * 60 : f[i]); print int(s * 1000) }' \
  "$T/load.times")
d_gw=$(($(cpu_ms "$GW") - c_gw))
threads_cpu "$GW" >"$T/threads1"
echo "cpu (ms) over $(((t_end - t_start) / 1000000)) ms wall:" \
  "smsgate $d_gw ($((d_gw * 1000 / (accepted > 0 ? accepted : 1))) us/message)," \
  "sim $(($(cpu_ms "$SIM_PID") - c_sim))," \
  "webhook receiver ($SINK) $(($(cpu_ms "$RX_PID") - c_rx)), load client $c_load"
# Per thread: the loop is the thread whose id is the process id.
threads_report "$GW" "$accepted" "$T/threads0" "$T/threads1"
get "http://127.0.0.1:$HTTP/metrics" 2>/dev/null | grep -E '^smsgate_store_(commits_total|writes_total|commit_seconds_total|max_group) ' |
  awk '{ printf "%s%s %s", sep, substr($1, 15), $2; sep = ", " } END { print "" }' | sed 's/^/store: /' 
recv=$(get "http://127.0.0.1:$HOOK/count")
echo "sink: $recv"
if [ "$SINK" != node ] && ! grep -q '"bad_signature":0,' <<<"$recv"; then
  echo "bench: the sink saw bad signatures" >&2
fi
if [ -s "$T/rss.txt" ]; then
  echo "smsgate VmRSS (s kB):" $(awk '{ printf "%s %s, ", $2, $3 }' "$T/rss.txt")
fi
node "$HERE/bench.js" report "http://127.0.0.1:$HTTP" "$KEY" "$T/load.json" \
  "http://127.0.0.1:$HOOK" "$rss" || die "report failed"
