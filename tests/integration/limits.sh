#!/usr/bin/env bash
# An account's protections on the real smsgate binary ($1): sender patterns,
# allowed destinations, prepaid balance with admin credits, daily quota and
# tps, refused through REST, smsgate's SMPP server (a node-smpp client) and
# Kannel sendsms with the right status and nothing stored (limits.js checks
# GET /v1/messages; here a separate simulator's --record file must hold
# exactly the parts accepted); then a restart keeps balance and quota use.
#
# Readiness is polled, never slept for. Everything started is stopped on
# exit. Needs node and tests/interop/node_modules.
set -u
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
JS="$HERE/limits.js"
. "$HERE/lib/common.bash"
sg_test_init limits

wait_log() {
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    grep -q "$2" "$T/$1.log" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

start() {
  local name=$1
  shift
  "$@" >"$T/$name.log" 2>&1 &
  PIDS+=($!)
  LAST_PID=$!
}

read -r HTTP SMPP SIM <<<"$(free_ports 3)"
[ -n "$SIM" ] || fail "no free ports"

start sim "$BIN" sim smsc --port "$SIM" --record "$T/record.txt" --dlr-delay 50 \
  --quiet --stats-interval 0
SIMP=$LAST_PID
wait_log sim 'listening on' 10 || fail "simulator not ready"

sg_store_for "$T/gw"
cat >"$T/gw.yaml" <<EOF
store: $STORE
http: {listen: 127.0.0.1:$HTTP}
smpp_server: {listen: 127.0.0.1:$SMPP, bind_fail_delay: 0}
accounts:
  - {name: admin, api_key: admin-key, admin: true}
  - name: shop
    api_key: shop-key
    password: kannelpw
    smpp: {system_id: shop, password: shoppw}
    default_region: DE
    senders: ["Shop*", "+4915112345678"]
    destinations: [DE, "+7"]
    quota: {daily: 6, monthly: 100}
    billing: {prices: {"+49": 0.07, "+7": 0.025, "+4930": 1}}
  - {name: fast, api_key: fast-key, smpp: {system_id: fast, password: fastpw},
     tps: 1, default_region: DE}
  - {name: burst, api_key: burst-key, quota: {daily: 5}, default_region: DE}
connectors:
  - {name: operator, type: smpp, host: 127.0.0.1, port: $SIM, system_id: smsgate,
     window: 64, reconnect_min: 200ms, reconnect_max: 1s}
routes:
  - {prefix: "+", connectors: [operator]}
log: {level: info}
EOF

BASE=http://127.0.0.1:$HTTP
start gw "$BIN" serve -c "$T/gw.yaml"
GW=$LAST_PID
wait_http "$BASE/healthz" '"status":"ok"' 30 || fail "gateway not ready"
wait_log gw 'SMPP server listening' 10 || fail "SMPP server not ready"
node "$JS" scenarios "$BASE" "$SMPP" "$T/expect.txt" || fail "limits scenarios"

kill "$GW" && wait "$GW" || fail "gateway did not stop cleanly"

start gw2 "$BIN" serve -c "$T/gw.yaml"
GW2=$LAST_PID
wait_http "$BASE/healthz" '"status":"ok"' 30 || fail "gateway did not restart"
node "$JS" after-restart "$BASE" || fail "limits after the restart"
node "$JS" drained "$BASE" || fail "accepted messages still waiting to be sent"
kill "$GW2" && wait "$GW2" || fail "gateway did not stop cleanly"
kill "$SIMP" && wait "$SIMP" # the simulator writes its record out on exit
want=$(cat "$T/expect.txt")
got=$(wc -l <"$T/record.txt")
[ "$got" -eq "$want" ] || fail "the simulator took $got parts; $want were accepted"
echo "ok - the simulator took exactly the $want parts accepted, nothing refused"
echo "PASS"
