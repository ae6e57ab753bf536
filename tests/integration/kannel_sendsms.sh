#!/usr/bin/env bash
# Kannel's sendsms interface end to end: the real smsgate binary ($1) with
# its built-in SMSC simulator (every message delivered) and a second
# simulator process that answers every message with an UNDELIV receipt
# (route +7901), a dlr-url receiver, and the checks of kannel_sendsms.js:
# GET and POST sendsms, several recipients, deferred, UCS-2, Kannel's
# refusal lines and codes, and the dlr-url GETs with their escape codes
# for dlr-mask 1, 2, 3, 8 and 31; and the account's webhook_events limiting
# its JSON webhooks to the statuses listed; an account whose password is an
# argon2id hash from `smsgate hash-password`.
#
# Readiness is polled, never slept for. Everything started is stopped on
# exit. Needs node and nothing else.
set -u
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib/common.bash"
sg_test_init kannel_sendsms
JS="$HERE/kannel_sendsms.js"

start() { # name, command...
  local name=$1
  shift
  "$@" >"$T/$name.log" 2>&1 &
  PIDS+=($!)
}

read -r HTTP SIM FAILSIM DLR <<<"$(free_ports 4)"
[ -n "$DLR" ] || fail "no free ports"

HASH=$(printf '%s' 'hashed pw' | "$BIN" hash-password) || fail "smsgate hash-password"
case $HASH in '$argon2id$'*) ;; *) fail "hash-password printed: $HASH" ;; esac
printf '' | "$BIN" hash-password >/dev/null 2>&1 && fail "hash-password took an empty password"

sg_store_for "$T/gw"
cat >"$T/gw.yaml" <<YAML
store: $STORE
http: {listen: 127.0.0.1:$HTTP}
simulator: {listen: 127.0.0.1:$SIM, dlr_delay: 50ms}
accounts:
  - {name: kannel, password: "s3cret pw", api_key: kannel-key,
     default_region: RU, default_sender: Gate,
     callback_url: "http://127.0.0.1:$DLR/hook",
     webhook_events: [delivered, undeliverable]}
  - {name: hashed, password: "$HASH", default_region: RU, default_sender: Gate}
connectors:
  - {name: operator, type: smpp, host: 127.0.0.1, port: $SIM,
     system_id: smsgate, password: secret, window: 64}
  - {name: failing, type: smpp, host: 127.0.0.1, port: $FAILSIM,
     system_id: smsgate, password: secret}
routes:
  - {prefix: "+", connectors: [operator]}
  - {prefix: "+7901", connectors: [failing]}
webhooks: {allow_private_networks: true, retry_min: 200ms, retry_max: 1s}
log: {level: warn}
YAML

start failsim "$BIN" sim smsc --port "$FAILSIM" --dlr-delay 50 --dlr-mix UNDELIV=100:001 \
  --stats-interval 0 --quiet
wait_log failsim 'listening on' 10 || fail "failing simulator not ready"
start receiver node "$JS" receiver "$DLR" "$T/dlr.jsonl"
wait_log receiver 'receiver listening' 10 || fail "dlr-url receiver not ready"
start gw "$BIN" serve -c "$T/gw.yaml"
wait_http "http://127.0.0.1:$HTTP/healthz" '"connectors_up":2' 30 || fail "gateway not ready"

node "$JS" scenarios "http://127.0.0.1:$HTTP" kannel-key "http://127.0.0.1:$DLR" \
  "$T/dlr.jsonl" || fail "sendsms scenarios"
