#!/usr/bin/env bash
# An HTTP provider that cannot be reached, on the real smsgate binary ($1):
# the connector of type http goes DOWN after transport failures in a row,
# the route fails over to the SMPP connector, /v1/connectors and /metrics
# say so, reconnect is answered, and when the provider listens again the
# connector's probe brings it UP by itself (http_down.js up, down, back).
#
# Readiness is polled, never slept for. Everything started is stopped on
# exit. Needs node.
set -u
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib/common.bash"
sg_test_init http_down

read -r HTTP PROV SIM <<<"$(free_ports 3)"
[ -n "$SIM" ] || fail "no free ports"
sg_store_for "$T/gw"
cat >"$T/gw.yaml" <<EOF2
store: $STORE
http: {listen: 127.0.0.1:$HTTP}
simulator: {listen: 127.0.0.1:$SIM}
accounts:
  - {name: admin, api_key: admin-key, admin: true}
  - {name: hd, api_key: hd-key}
connectors:
  - {name: operator, type: smpp, host: 127.0.0.1, port: $SIM,
     system_id: smsgate, password: secret}
  - name: acme
    type: http
    window: 2
    response_timeout: 2s
    max_retries: 1
    failover_after: 2s
    reconnect_min: 100ms
    reconnect_max: 300ms
    http:
      url: "http://127.0.0.1:$PROV/v1/messages"
      body: '{"to": "{{to}}", "text": "{{text}}"}'
      message_id: "\$.messages[0].id"
routes:
  - {prefix: "+44", connectors: [acme, operator]}
  - {prefix: "+", connectors: [operator]}
log: {level: info}
EOF2
BASE=http://127.0.0.1:$HTTP

"$BIN" serve -c "$T/gw.yaml" >"$T/gw.log" 2>&1 &
PIDS+=($!)
wait_http "$BASE/healthz" '"status":"ok"' 30 || fail "gateway not ready"
for p in up down back; do
  node "$HERE/http_down.js" $p "$BASE" "$PROV" 2>"$T/js.err" || fail "$p: $(cat "$T/js.err")"
done
grep -q 'connector acme is down: 3 transport failures in a row' "$T/gw.log" ||
  fail "no log line of acme going down"
grep -q 'connector acme is up: the provider takes connections again' "$T/gw.log" ||
  fail "no log line of acme coming up"
echo "http_down: ok"
