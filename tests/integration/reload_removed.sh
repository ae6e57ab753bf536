#!/usr/bin/env bash
# A reload that removes a connector with parts still queued on it, on the
# real smsgate binary ($1): connector opx points at a port where nothing
# listens, so what is routed to it waits. The new configuration removes
# opx, routes +4915 to opa (an SMSC simulator) and has no route for +3361.
# Then the queued +4915 messages move to opa and are delivered, a
# scheduled one follows when it falls due, and the +3361 ones fail with a
# reason that names the removed connector, their failed webhooks received
# by `smsgate sim sink`. A message opa had sent before the reload keeps
# its receipt. Nothing is left under opx's name.
#
# Readiness is polled, never slept for. Everything started is stopped on
# exit. Needs node and curl.
set -u
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib/common.bash"
sg_test_init reload_removed
ADMIN=admin-key
KEY=user-key

# api METHOD PATH [BODY]: sets CODE and BODY.
api() {
  : >"$T/body"
  CODE=$(curl -s -o "$T/body" -w '%{http_code}' -X "$1" \
    -H "Authorization: Bearer ${KEY_USED:-$ADMIN}" -H 'Content-Type: application/json' \
    ${3:+--data "$3"} "$BASE$2") || CODE=000
  BODY=$(cat "$T/body")
}
jget() { # EXPR over d = the last BODY
  node -e 'const d = JSON.parse(process.argv[1]); const v = eval(process.argv[2]);
    console.log(typeof v === "string" ? v : JSON.stringify(v));' "$BODY" "$1"
}
wait_until() { # EXPR METHOD PATH: polls until EXPR is true (30 s)
  local i
  for ((i = 0; i < 300; i++)); do
    api "$2" "$3"
    [ "$CODE" = 200 ] && [ "$(jget "$1")" = true ] && return 0
    sleep 0.1
  done
  return 1
}
send() { # TO [SEND_AT]: sets ID
  local extra=""
  [ -n "${2:-}" ] && extra=", \"send_at\": \"$2\""
  KEY_USED=$KEY api POST /v1/messages "{\"to\": \"$1\", \"text\": \"to $1\"$extra}"
  [ "$CODE" = 202 ] || fail "send to $1: HTTP $CODE $BODY"
  ID=$(jget 'd.messages[0].id')
}
status_of() { # ID: prints its status (run in $(...): never fails itself)
  curl -s -H "Authorization: Bearer $KEY" "$BASE/v1/messages/$1" |
    node -e 'let b = ""; process.stdin.on("data", (c) => (b += c)).on("end", () => {
      try { console.log(JSON.parse(b).status); } catch (e) { console.log("?"); } });'
}

read -r HTTP SIM SINK DEAD <<<"$(free_ports 4)"
[ -n "$DEAD" ] || fail "no free ports"
BASE=http://127.0.0.1:$HTTP

sg_store_for "$T/gw" # one store for every configuration written below
conf() { # ROUTES [OPX=yes]
  cat >"$T/gw.yaml" <<EOF
store: $STORE
http: {listen: 127.0.0.1:$HTTP}
accounts:
  - {name: ops, api_key: $ADMIN, admin: true}
  - {name: user, api_key: $KEY, default_sender: Shop,
     callback_url: "http://127.0.0.1:$SINK/hook"}
connectors:
  - {name: opa, type: smpp, host: 127.0.0.1, port: $SIM, system_id: gw,
     reconnect_min: 200ms, reconnect_max: 1s}
EOF
  [ "${2:-yes}" = yes ] && cat >>"$T/gw.yaml" <<EOF
  - {name: opx, type: smpp, host: 127.0.0.1, port: $DEAD, system_id: gw,
     reconnect_min: 200ms, reconnect_max: 1s}
EOF
  printf 'routes:\n%s\nwebhooks: {allow_private_networks: true}\nlog: {level: info}\n' \
    "$1" >>"$T/gw.yaml"
}

"$BIN" sim smsc --port "$SIM" --dlr-delay 20 --stats-interval 0 >"$T/sim.log" 2>&1 &
PIDS+=($!)
"$BIN" sim sink --port "$SINK" >"$T/sink.log" 2>&1 &
PIDS+=($!)
conf '  - {prefix: "+4915", connectors: [opx]}
  - {prefix: "+3361", connectors: [opx]}
  - {prefix: "+447", connectors: [opa]}'
"$BIN" serve -c "$T/gw.yaml" >"$T/gw.log" 2>&1 &
PIDS+=($!)
wait_until 'd.connectors.find((c) => c.name === "opa").state === "up"' GET /v1/connectors ||
  fail "opa not up"
wait_http "http://127.0.0.1:$SINK/" '"total"' 10 || fail "sink not ready"

# Before the reload: one message sent by opa (its receipt must still
# match), five queued on opx, one scheduled for opx.
send +447911123456
SENT=$ID
for ((i = 0; i < 100; i++)); do [ "$(status_of "$SENT")" = delivered ] && break; sleep 0.1; done
[ "$(status_of "$SENT")" = delivered ] || fail "the +447 message was not delivered before the reload"
MOVE=() FAILS=()
for n in 1 2 3; do send "+4915112345$((670 + n))" && MOVE+=("$ID"); done
for n in 1 2; do send "+3361234567$n" && FAILS+=("$ID"); done
AT=$(node -e 'console.log(new Date(Date.now() + 4000).toISOString())')
send +4915112345699 "$AT"
LATER=$ID
wait_until 'd.depth === 5 && d.by_status.scheduled === 1' GET /v1/queues/opx ||
  fail "opx queue before the reload: $BODY"
echo "ok - 5 parts queued and 1 scheduled on opx, which cannot connect"

# The reload: opx removed, +4915 to opa, no route for +3361.
conf '  - {prefix: "+4915", connectors: [opa]}
  - {prefix: "+447", connectors: [opa]}' no
api POST /v1/admin/reload
[ "$CODE" = 200 ] || fail "reload: HTTP $CODE $BODY"
[ "$(jget d.connectors.removed)" = '["opx"]' ] || fail "reload report: $BODY"

delivered_all() {
  local id
  for id in "$@"; do [ "$(status_of "$id")" = delivered ] || return 1; done
}
for ((i = 0; i < 300; i++)); do delivered_all "${MOVE[@]}" && break; sleep 0.1; done
delivered_all "${MOVE[@]}" || fail "the moved messages were not delivered"
for id in "${MOVE[@]}"; do
  KEY_USED=$KEY api GET "/v1/messages/$id"
  [ "$(jget d.segments[0].connector)" = opa ] || fail "message $id not on opa: $BODY"
  jget 'JSON.stringify(d.events)' | grep -q 'connector opx was removed by a configuration reload; moved to opa' ||
    fail "no event says why $id moved: $BODY"
done
echo "ok - the 3 queued +4915 messages moved to opa and were delivered"

for id in "${FAILS[@]}"; do
  for ((i = 0; i < 100; i++)); do [ "$(status_of "$id")" = failed ] && break; sleep 0.1; done
  KEY_USED=$KEY api GET "/v1/messages/$id"
  [ "$(jget d.status)" = failed ] || fail "message $id: $BODY"
  [ "$(jget d.segments[0].error)" = "connector opx was removed by a configuration reload and no route matches $(jget d.to)" ] ||
    fail "the failure of $id does not say why: $BODY"
done
wait_http "http://127.0.0.1:$SINK/" '"failed":2[,}]' 30 ||
  fail "failed webhooks: $(curl -s "http://127.0.0.1:$SINK/")"
echo "ok - the 2 +3361 messages failed (no route), their webhooks received"

for ((i = 0; i < 150; i++)); do [ "$(status_of "$LATER")" = delivered ] && break; sleep 0.1; done
[ "$(status_of "$LATER")" = delivered ] || fail "the scheduled message: $(status_of "$LATER")"
echo "ok - the scheduled +4915 message went to opa when it fell due"

wait_http "http://127.0.0.1:$SINK/" '"delivered":5[,}]' 30 ||
  fail "delivered webhooks: $(curl -s "http://127.0.0.1:$SINK/")"
api GET /v1/queues
[ "$CODE" = 200 ] || fail "queues: HTTP $CODE"
[ "$(jget 'd.queues.some((q) => q.connector === "opx" && (q.depth > 0 || q.by_status.scheduled > 0))')" = false ] ||
  fail "parts left on opx: $BODY"
grep -q 'connector opx was removed: 3 queued part(s) moved to the connectors of their routes, 2 failed (no route)' "$T/gw.log" ||
  fail "the move is not logged"
grep -q 'receipt for no known part' "$T/gw.log" && fail "a receipt went unmatched"
echo "ok - nothing left on opx, every receipt matched"
