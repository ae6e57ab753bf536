#!/usr/bin/env bash
# End-to-end benchmark of smsgate through its REST API:
#
#   bench.js load --POST /v1/messages (keep-alive, C at once)--> smsgate
#       smsgate --SMPP submit_sm--> smsgate sim smsc (its own process)
#       smsgate <--deliver_sm receipt-- simulator
#       smsgate --POST webhook--> bench.js receiver
#
# Prints accepted/s, receipts/s, the time from the start of the load until
# the last "delivered" webhook, POST-to-sent and POST-to-delivered latency
# p50/p99 (from each message's events), and smsgate's peak RSS (VmHWM).
#
# usage: bench/e2e/run.sh [path/to/smsgate]     (default: ./build/smsgate)
# env:   N=5000 C=50 WINDOW=64 DLR_DELAY_MS=0 SYNC=full|normal WAIT_S=120
set -u
BIN=${1:-./build/smsgate}
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
N=${N:-5000}
C=${C:-50}
WINDOW=${WINDOW:-64}
DLR_DELAY_MS=${DLR_DELAY_MS:-0}
SYNC=${SYNC:-full}
WAIT_S=${WAIT_S:-120}
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
  node -e 'require("http").get(process.argv[1], (r) => { let b = "";
    r.on("data", (c) => b += c);
    r.on("end", () => { process.stdout.write(b); process.exit(r.statusCode === 200 ? 0 : 1); });
  }).on("error", () => process.exit(1));' "$1"
}

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

start receiver node "$HERE/bench.js" receiver "$HOOK"
start sim "$BIN" sim smsc --port "$SIM" --dlr-delay "$DLR_DELAY_MS" --quiet --stats-interval 0
cat >"$T/smsgate.yaml" <<EOF
store: {path: $T/data/smsgate.db, synchronous: $SYNC}
http: {listen: 127.0.0.1:$HTTP, max_connections: 2000}
accounts:
  - {name: bench, api_key: $KEY, default_region: RU,
     callback_url: "http://127.0.0.1:$HOOK/hook"}
connectors:
  - {name: sim, type: smpp, host: 127.0.0.1, port: $SIM, system_id: bench,
     window: $WINDOW}
routes:
  - {prefix: "+", connectors: [sim]}
webhooks: {allow_private_networks: true, concurrency: 256}
log: {level: warn}
EOF
wait_for 10 grep -q "receiver listening" "$T/receiver.log" || die "receiver did not start"
start smsgate "$BIN" serve -c "$T/smsgate.yaml"
GW=$LAST_PID
wait_for 30 eval 'get http://127.0.0.1:$HTTP/healthz | grep -q "\"status\":\"ok\""' ||
  die "smsgate not ready"

echo "smsgate e2e: N=$N C=$C window=$WINDOW dlr_delay=${DLR_DELAY_MS}ms synchronous=$SYNC" \
  "($(nproc) cores, $(uname -r))"
node "$HERE/bench.js" load "http://127.0.0.1:$HTTP" "$KEY" "$N" "$C" "$T/load.json" ||
  die "load failed"
accepted=$(node -e 'console.log(require(process.argv[1]).accepted)' "$T/load.json")

# Wait for every "delivered" webhook; give up after WAIT_S without progress.
last=-1 still=0
while :; do
  got=$(get "http://127.0.0.1:$HOOK/count" | node -e 'let s="";process.stdin.on("data",(c)=>s+=c).on("end",()=>console.log(JSON.parse(s).delivered))')
  [ "${got:-0}" -ge "$accepted" ] && break
  if [ "$got" = "$last" ]; then
    still=$((still + 1))
    [ $still -ge $((WAIT_S * 10)) ] && { echo "bench: stalled at $got webhooks of $accepted" >&2; break; }
  else
    still=0 last=$got
  fi
  sleep 0.1
done
rss=$(awk '/^VmHWM:/ {print $2}' "/proc/$GW/status")
node "$HERE/bench.js" report "http://127.0.0.1:$HTTP" "$KEY" "$T/load.json" \
  "http://127.0.0.1:$HOOK" "$rss" || die "report failed"
