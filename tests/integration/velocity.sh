#!/usr/bin/env bash
# SMS pumping on the real smsgate binary ($1): an account with a velocity
# limit per destination prefix is slowed and then blocked through REST,
# SMPP and Kannel sendsms (velocity.js), the block is logged, counted in
# /metrics, listed by the admin API, kept across a restart (the second
# gateway must still refuse), and lifted by an administrator. Then the
# restarted gateway's log and a second restart show the lifted block gone.
set -u
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/velocity.XXXXXX")
. "$HERE/../badinput/lib.sh"
trap sec_cleanup EXIT
trap 'exit 130' INT TERM
sg_store_for "$T/gw"

read -r HTTP SMPP SIM <<<"$(free_ports 3)"
[ -n "$SIM" ] || fail "no free ports"
start sim "$BIN" sim smsc --port "$SIM" --dlr-delay 50 --quiet --stats-interval 0
wait_log sim 'listening on' 10 || fail "simulator not ready"

cat >"$T/gw.yaml" <<EOF2
store: $STORE
http: {listen: 127.0.0.1:$HTTP}
smpp_server: {listen: 127.0.0.1:$SMPP, bind_fail_delay: 0}
accounts:
  - {name: admin, api_key: admin-key, admin: true}
  - name: pump
    api_key: pump-key
    password: pumppw
    smpp: {system_id: pump, password: pumppw}
    velocity: {prefix_digits: 6, per_minute: 3, block_after: 2}
  - {name: calm, api_key: calm-key, velocity: {per_minute: 100}}
connectors:
  - {name: operator, type: smpp, host: 127.0.0.1, port: $SIM, system_id: smsgate}
routes:
  - {prefix: "+", connectors: [operator]}
EOF2

BASE=http://127.0.0.1:$HTTP
start gw "$BIN" serve -c "$T/gw.yaml"
GW=$LAST_PID
wait_http "$BASE/healthz" '"status":"ok"' 30 || fail "gateway not ready"
wait_log gw 'SMPP server listening' 10 || fail "SMPP server not ready"
node "$HERE/velocity.js" flood "$BASE" "$SMPP" || fail "velocity flood"
grep -q 'warn.*velocity: account pump blocked from prefix +491511 after 2 refused' \
  "$T/gw.log" || fail "no warning logged for the block"
echo "ok - the block is logged as a warning"
stop "$GW"

start gw2 "$BIN" serve -c "$T/gw.yaml"
GW2=$LAST_PID
wait_http "$BASE/healthz" '"status":"ok"' 30 || fail "gateway did not restart"

grep -q "velocity: 1 prefix block(s) in force" "$T/gw2.log" || fail "no block at start"
node "$HERE/velocity.js" after-restart "$BASE" || fail "velocity after the restart"
grep -q 'prefix +491511 lifted by an administrator' "$T/gw2.log" || fail "lift not logged"
stop "$GW2"

start gw3 "$BIN" serve -c "$T/gw.yaml"
GW3=$LAST_PID
wait_http "$BASE/healthz" '"status":"ok"' 30 || fail "gateway did not restart"
grep -q 'prefix block(s) in force' "$T/gw3.log" && fail "the lifted block came back"
echo "ok - the lifted block stays lifted after another restart"
stop "$GW3"
echo "PASS"
