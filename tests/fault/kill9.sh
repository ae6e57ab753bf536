#!/usr/bin/env bash
# kill -9 of smsgate ($1) again and again while messages flow in from a REST
# client and an SMPP client to the SMSC simulator, restarting it each time;
# then the checker (fault.js check) compares what every client was told with
# what the simulator received and what came back:
#   LOST = 0, PHANTOM = 0, DLR_LOST = 0, DLR_MISMATCH = 0, and DUP (parts
#   sent again after a crash because their submit_sm_resp was not yet
#   stored, and SMPP parts the client itself submitted again) within its
#   bound: faults x the connector's window + the client's resubmissions.
#
#   kill9.sh BIN [N_REST] [N_SMPP] [EVERY_MS]
# The clients are paced (REST_RATE, default 150 messages/s; SMPP_TPS,
# default 50) so that the run lasts long enough for several faults however
# fast the machine is. The short form (ctest fault/kill9): 1,500 REST + 500
# SMPP messages, about 10 s of load, a kill every 3 s on average. `make
# soak`: 70,000 + 30,000 at 1,000/s each. Prints the verdict, and writes it
# as JSON to $FAULT_JSON when set; KEEP=1 keeps the working directory.
# With SG_TEST_STORE_URL set to a postgres:// URL (ctest fault-pg/kill9 and
# fault-pg/sigterm) the gateway's store is a fresh database on that server,
# the same one across every restart, dropped at exit; else a SQLite file.
set -u
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
N_REST=${2:-1500}
N_SMPP=${3:-500}
EVERY_MS=${4:-3000}
HERE=$(cd "$(dirname "$0")" && pwd)
JS=$HERE/fault.js
. "$HERE/lib/gateway.bash" # fault_init, fail, wait_for, start, free_ports, sg_store_for
fault_init kill9
KEY=fault-key
WINDOW=32
# SIGNAL=TERM (tests/fault/sigterm.sh): graceful stops instead of crashes;
# then nothing may be sent twice by the gateway: DUP's bound has no window.
SIGNAL=${SIGNAL:-KILL}
DUP_WINDOW=$WINDOW
[ "$SIGNAL" = KILL ] || DUP_WINDOW=0

read -r HTTP SIM SMPP HOOK <<<"$(free_ports 4)"
BASE=http://127.0.0.1:$HTTP

healthy() { curl -s -m 1 "$BASE/healthz" 2>/dev/null | grep -q '"status":"ok"'; }

sg_store_for "$T/gw"
cat >"$T/gw.yaml" <<EOF
store: $STORE
http: {listen: 127.0.0.1:$HTTP}
smpp_server: {listen: 127.0.0.1:$SMPP}
accounts:
  - {name: fault, api_key: $KEY, default_region: RU,
     callback_url: "http://127.0.0.1:$HOOK/hook",
     webhook_events: [delivered, undeliverable, expired, rejected, failed],
     smpp: {system_id: fault, password: faultpw}}
connectors:
  - {name: operator, type: smpp, host: 127.0.0.1, port: $SIM, system_id: smsgate,
     window: $WINDOW, reconnect_min: 100ms, reconnect_max: 500ms}
routes:
  - {prefix: "+", connectors: [operator]}
webhooks: {allow_private_networks: true, retry_min: 200ms, retry_max: 1s}
log: {level: ${LOG_LEVEL:-warn}}
EOF

# The simulator's ids (hex) start at 6600000443331, so that they run ten
# of digits only, then six with a letter, again and again: every restart
# meets receipts of all-digit ids whose parts were answered before it,
# under the hex key the connector had learned, read by a new connector
# that has learned nothing yet (fault/midpdu says more).
start sim "$BIN" sim smsc --port "$SIM" --record "$T/record.txt" --dlr-delay 100 \
  --id-start 1794402980999985 --quiet
SIMP=$LAST_PID
start receiver node "$JS" receiver "$HOOK" "$T/hooks.txt"
RECP=$LAST_PID
wait_for 10 grep -q 'receiver listening' "$T/receiver.log" || fail "receiver not ready"

GW_RUNS=0
start_gw() {
  GW_RUNS=$((GW_RUNS + 1))
  "$BIN" serve -c "$T/gw.yaml" >>"$T/gw.log" 2>&1 &
  GW=$!
}
start_gw
wait_for 30 healthy || fail "gateway not ready"

for ((i = 0; i < N_SMPP; i++)); do echo "smpp-$i"; done >"$T/smpp-texts.txt"
start rest node "$JS" rest "$BASE" "$KEY" "$N_REST" 16 "$T/rest.jsonl" "${REST_RATE:-150}"
RESTP=$LAST_PID
# sim load is an SMPP client (smsgate's own connector): it rebinds after each
# crash; --verbose prints every submit_sm_resp and receipt as a JSON line.
"$BIN" sim load --port "$SMPP" --system-id fault --password faultpw \
  --texts-file "$T/smpp-texts.txt" --count "$N_SMPP" --to +79001234568 --from Fault \
  --window 16 --tps "${SMPP_TPS:-50}" --dlr --dlr-timeout 60 --connect-timeout 60 --verbose --quiet \
  >"$T/smpp.jsonl" 2>"$T/smpp.log" &
SMPPP=$!
PIDS+=($SMPPP)

running() { kill -0 "$RESTP" 2>/dev/null || kill -0 "$SMPPP" 2>/dev/null; }
FAULTS=0
while running; do
  # a kill at a random moment in [EVERY_MS/2, EVERY_MS*3/2)
  sleep "$(awk -v m="$EVERY_MS" -v r="$RANDOM" 'BEGIN { printf "%.3f", (m / 2 + r % m) / 1000 }')"
  running || break
  kill -"$SIGNAL" "$GW" 2>/dev/null
  wait "$GW" 2>/dev/null
  FAULTS=$((FAULTS + 1))
  start_gw
  wait_for 30 healthy || fail "gateway did not restart after SIG$SIGNAL number $FAULTS"
done
wait "$RESTP" || fail "the REST client failed"
wait "$SMPPP"
n_smpp=$(grep -c '"type":"part"' "$T/smpp.jsonl")
[ "$n_smpp" -ge "$N_SMPP" ] ||
  fail "the SMPP client has answers for $n_smpp of $N_SMPP messages: $(cat "$T/smpp.log")"
echo "$(cat "$T/rest.log"); $FAULTS times SIG$SIGNAL"
[ "$FAULTS" -ge 2 ] || fail "the load ended before two faults (raise N_REST/N_SMPP)"

# Let the last gateway finish: nothing queued or sending, every webhook out.
drained() {
  local s
  for s in queued sending scheduled; do
    curl -s -m 2 -H "Authorization: Bearer $KEY" "$BASE/v1/messages?status=$s&limit=1" |
      grep -q '"data":\[\]' || return 1
  done
}
wait_for 120 drained || fail "messages left queued at the end"
acked=$(grep -c '"outcome":"ack"' "$T/rest.jsonl")
hooks_done() { [ "$(awk '$3 == "delivered" && $1 != "-"' "$T/hooks.txt" | cut -d' ' -f1 | sort -u | wc -l)" -ge "$acked" ]; }
wait_for 60 hooks_done || echo "note: not every delivered webhook arrived within 60 s"
kill "$GW" && wait "$GW"
GW=
kill "$SIMP" && wait "$SIMP" # the simulator writes its record out on exit
kill "$RECP"

node "$JS" check --record "$T/record.txt" --rest "$T/rest.jsonl" --hooks "$T/hooks.txt" \
  --smpp "$T/smpp.jsonl" --faults "$FAULTS" --window "$DUP_WINDOW" ${FAULT_JSON:+--json "$FAULT_JSON"} ||
  fail "the ledgers do not match"
echo "PASS"
