#!/usr/bin/env bash
# The operators' admin resources on the real smsgate binary ($1): the
# checks of ops_admin.js (queues inspected and purged with confirmation,
# purged messages failed with their webhooks, retry, cancel of any
# account's message, reconnect, /v1/openapi.json as docs/openapi.json),
# then the same actions through `smsgate queues`, `smsgate messages` and
# `smsgate connectors reconnect`, with their usage errors and refusals.
#
# Readiness is polled, never slept for. Everything started is stopped on
# exit. Needs node.
set -u
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
JS="$HERE/ops_admin.js"
. "$HERE/lib/common.bash"
sg_test_init ops_admin

read -r HTTP SIM SINK <<<"$(free_ports 3)"
[ -n "$SINK" ] || fail "no free ports"
sg_store_for "$T/gw"
cat >"$T/gw.yaml" <<EOF2
store: $STORE
http: {listen: 127.0.0.1:$HTTP}
simulator: {listen: 127.0.0.1:$SIM, dlr_delay: 50ms}
accounts:
  - {name: admin, api_key: admin-key, admin: true}
  - {name: user, api_key: user-key, default_region: DE}
connectors:
  - {name: op, type: smpp, host: 127.0.0.1, port: $SIM,
     system_id: smsgate, password: secret}
  - {name: spare, type: smpp, host: 127.0.0.1, port: $SIM,
     system_id: smsgate, password: secret}
routes:
  - {prefix: "+", connectors: [op]}
webhooks: {allow_private_networks: true, retry_min: 100ms}
log: {level: info}
EOF2
BASE=http://127.0.0.1:$HTTP

"$BIN" serve -c "$T/gw.yaml" >>"$T/gw.log" 2>&1 &
GW=$!
PIDS+=($GW)
wait_http "$BASE/readyz" '"status":"ready"' 30 || fail "gateway not ready"
wait_http "$BASE/v1/openapi.json" '"openapi"' 5 || fail "no /v1/openapi.json"
OPS_STATE="$T/state.json" node "$JS" "$BASE" "$SINK" "$HERE/../../docs/openapi.json" ||
  fail "admin resources"
read -r FAILED DELIVERED <<<"$(node -e 'const s = JSON.parse(require("fs").readFileSync(process.argv[1]));
  console.log(s.failed, s.delivered)' "$T/state.json")"
grep -q "connector=op queue purged by an operator: 5 parts of 4 messages failed (operator outage)" "$T/gw.log" ||
  fail "the purge is not in the log"

# The command line, over the same API.
export SMSGATE_URL=$BASE SMSGATE_KEY=admin-key
out() { cat "$T/cli.out"; }
"$BIN" queues >"$T/cli.out" 2>&1 || fail "queues: $(out)"
grep -qE '^op +depth 0 +oldest - +scheduled 0 sending 0 sent [0-9]+ claimed 0$' "$T/cli.out" || fail "queues: $(out)"
grep -qE '^spare +depth 0 ' "$T/cli.out" || fail "queues: $(out)"
"$BIN" queues show op --json | grep -q '"connector": "op"' || fail "queues show --json"
"$BIN" queues purge op >"$T/cli.out" 2>&1
[ $? -eq 2 ] && grep -q 'repeat the name with --confirm op' "$T/cli.out" || fail "purge without --confirm: $(out)"
"$BIN" queues purge op --confirm spare >"$T/cli.out" 2>&1
[ $? -eq 1 ] && grep -q 'HTTP 422 invalid_value (confirm)' "$T/cli.out" || fail "purge with another name: $(out)"
"$BIN" queues purge op --confirm op --reason "cli purge" >"$T/cli.out" 2>&1 || fail "purge: $(out)"
grep -qx 'op: 0 parts of 0 messages purged (failed)' "$T/cli.out" || fail "purge: $(out)"
"$BIN" messages retry "$FAILED" >"$T/cli.out" 2>&1 || fail "messages retry: $(out)"
# Queued again: the connector is up, so it may already be on its way.
grep -qxE "$FAILED (queued|sending|sent|delivered)" "$T/cli.out" || fail "messages retry: $(out)"
"$BIN" messages retry "$DELIVERED" >"$T/cli.out" 2>&1
[ $? -eq 1 ] && grep -q 'HTTP 409 not_retryable' "$T/cli.out" || fail "retry of a delivered message: $(out)"
"$BIN" messages cancel "$DELIVERED" >"$T/cli.out" 2>&1
[ $? -eq 1 ] && grep -q 'HTTP 409 not_cancelable' "$T/cli.out" || fail "cancel of a delivered message: $(out)"
"$BIN" connectors reconnect op >"$T/cli.out" 2>&1 || fail "connectors reconnect: $(out)"
grep -qE '^op ' "$T/cli.out" || fail "connectors reconnect: $(out)"
"$BIN" queues --key user-key >"$T/cli.out" 2>&1
[ $? -eq 1 ] && grep -q 'HTTP 403 admin_required' "$T/cli.out" || fail "queues with a user key: $(out)"
"$BIN" messages >/dev/null 2>&1; [ $? -eq 2 ] || fail "messages without a subcommand must be a usage error"
"$BIN" messages retry >/dev/null 2>&1; [ $? -eq 2 ] || fail "messages retry without an id must be a usage error"
"$BIN" queues --help | grep -q 'smsgate queues purge NAME --confirm NAME' || fail "queues --help"
"$BIN" connectors --help | grep -q 'smsgate connectors reconnect NAME' || fail "connectors --help"
# The retried message goes out.
for ((i = 0; i < 200; i++)); do
  curl -s -H 'Authorization: Bearer user-key' "$BASE/v1/messages/$FAILED" | grep -q '"status":"delivered"' && break
  sleep 0.1
done
[ $i -lt 200 ] || fail "the message retried from the command line was not delivered"
echo "ok - smsgate queues, messages, connectors reconnect"

# One message followed through the log by its id: accepted, queued again,
# sent on the connector with the operator's id, and its receipt by that id.
grep -F "message=$FAILED" "$T/gw.log" >"$T/follow.txt"
grep -q "message=$FAILED account=user connector=op: accepted, 1 part(s), queued" "$T/follow.txt" ||
  fail "no ingress line: $(cat "$T/follow.txt")"
grep -q "message=$FAILED connector=op: queued again by an operator (was failed), 1 part(s)" "$T/follow.txt" ||
  fail "no retry line: $(cat "$T/follow.txt")"
SMSC=$(sed -nE "s/.*message=$FAILED part=1 connector=op smsc_id=([^ :]+): sent$/\1/p" "$T/follow.txt" | tail -n 1)
[ -n "$SMSC" ] || fail "no connector line: $(cat "$T/follow.txt")"
grep -q "message=$FAILED part=1 connector=op smsc_id=$SMSC: receipt, part delivered, message delivered" "$T/follow.txt" ||
  fail "no receipt line: $(cat "$T/follow.txt")"
echo "ok - message $FAILED followed through the log (smsc id $SMSC)"

kill "$GW" && wait "$GW" || fail "gateway did not stop cleanly on SIGTERM"
PIDS=()
