#!/usr/bin/env bash
# The HTTP provider connector end to end: the real smsgate binary ($1) sends
# through a connector of type http, configured like
# packaging/providers/generic-json.yaml, into a node HTTP provider
# (http_provider.js): an accepted part with its provider id, a signed
# receipt posted back to /v1/hooks/provider/acme and the delivered webhook,
# a 503 retried, a 400 failed with the provider's error, a request without
# an answer timed out and sent again, a 3-part UCS-2 message, and bad
# receipts refused with the field named. Then the configuration errors of a
# bad template, with their file:line:column.
set -u
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib/common.bash"
sg_test_init http_provider

read -r HTTP PROV HOOK SIM <<<"$(free_ports 4)"
[ -n "$SIM" ] || fail "no free ports"
KEY=hp-key
HMAC=hp-hmac-secret

sg_store_for "$T/gw"
cat >"$T/gw.yaml" <<EOF
store: $STORE
http: {listen: 127.0.0.1:$HTTP}
simulator: {listen: 127.0.0.1:$SIM}
accounts:
  - {name: hp, api_key: $KEY, callback_url: "http://127.0.0.1:$HOOK/hook"}
connectors:
  - {name: operator, type: smpp, host: 127.0.0.1, port: $SIM,
     system_id: smsgate, password: secret}
  - name: acme
    type: http
    window: 4
    response_timeout: 1s
    reconnect_min: 100ms
    reconnect_max: 200ms
    http:
      url: "http://127.0.0.1:$PROV/v1/messages"
      headers: {Authorization: "Bearer {{token}}"}
      token: tok-123
      body: >-
        {"to": "{{to}}", "from": "{{from}}", "text": "{{text}}",
        "udh": "{{udh_hex}}", "coding": {{coding}}, "reference": "{{ref}}",
        "callback_url": "{{receipt_url}}"}
      message_id: "\$.messages[0].id"
      error: "\$.error.message"
      receipt_url: "http://127.0.0.1:$HTTP/v1/hooks/provider/acme"
      receipt: {id: "\$.id", status: "\$.status", error: "\$.error_code",
                hmac_secret: $HMAC}
routes:
  - {prefix: "+44", connectors: [acme]}
  - {prefix: "+", connectors: [operator]}
webhooks: {allow_private_networks: true, retry_min: 200ms, retry_max: 1s}
log: {level: warn}
EOF

"$BIN" serve -c "$T/gw.yaml" >"$T/gw.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$HTTP/healthz" '"status":"ok"' 30 || fail "gateway not ready"
node "$HERE/http_provider.js" run "http://127.0.0.1:$HTTP" "$PROV" "$HOOK" "$KEY" "$HMAC" \
  >"$T/provider.log" 2>&1 || fail "scenarios: $(cat "$T/provider.log")"
cat "$T/provider.log"
grep -q "$HMAC\|tok-123" "$T/gw.log" && fail "a secret reached the log"

# A bad template is refused whole, with file:line:column.
sed 's/{{udh_hex}}/{{udh_hexx}}/' "$T/gw.yaml" >"$T/bad.yaml"
out=$("$BIN" config check -c "$T/bad.yaml" 2>&1)
[ $? -ne 0 ] || fail "a bad placeholder was accepted"
grep -q "bad.yaml:[0-9]*:[0-9]*: connectors\[1\].http.body: body: unknown or unterminated placeholder" <<<"$out" ||
  fail "config check output: $out"
echo "ok - a bad placeholder: $(head -n 1 <<<"$out" | cut -c1-110)"
