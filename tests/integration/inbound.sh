#!/usr/bin/env bash
# Incoming messages end to end: the real smsgate binary ($1) against a
# separate SMSC simulator that sends MO on command (its stdin) and a node
# webhook receiver that checks signatures and answers with replies.
#   - an MO reaches the account's inbound webhook, signed; the webhook's
#     {"reply"} goes back to the sender through the gateway;
#   - concatenated MO out of order with a duplicate, UCS-2 with a 16-bit
#     reference, SAR TLVs: each arrives once, whole;
#   - half a message: delivered incomplete after reassembly_timeout;
#   - automatic replies stop at reply_limit;
#   - STOP: the sender is opted out and told so; a later send is refused
#     (422 opted_out), a message scheduled before the STOP ends rejected
#     and never reaches the SMSC; START opts in again; /v1/optouts and
#     /v1/inbound with their errors; `smsgate inbound` and --follow;
#   - kill -9 of the gateway between the parts of a message: after the
#     restart the message is whole.
# Readiness is polled, never slept for. Everything started is stopped.
set -u
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib/common.bash" # fail, free_ports, wait_http, wait_log
JS="$HERE/inbound.js"
T=$(mktemp -d "${TMPDIR:-/tmp}/inbound.XXXXXX")
PIDS=()
KEY=in-key
SECRET=in-webhook-secret

cleanup() {
  local p
  exec 3>&- 2>/dev/null
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start() { # name, command...: runs it in the background, logs to $T/name.log
  local name=$1
  shift
  "$@" >"$T/$name.log" 2>&1 &
  PIDS+=($!)
  LAST_PID=$!
}

# jx EXPR: evaluates a JS expression on the JSON read from stdin (as j).
jx() { node -e 'const j = JSON.parse(require("fs").readFileSync(0, "utf8"));
  const v = eval(process.argv[1]); console.log(typeof v === "string" ? v : JSON.stringify(v));' "$1"; }

api() { node "$JS" api "$BASE" "$KEY" "$@"; } # METHOD PATH [JSON] -> "STATUS BODY"

wait_for() { # seconds, command...: polls until the command succeeds
  local secs=$1 i
  shift
  for ((i = 0; i < secs * 10; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}

healthy() { api GET /healthz | grep -q '"status":"ok"'; }
mo() { echo "mo $*" >&3; } # a control line to the simulator

# hook FROM: the webhook of the message from FROM (waits 15 s)
hook() { node "$JS" hook "$T/hooks.jsonl" "$1" 15; }

read -r HTTP SIM HOOK <<<"$(free_ports 3)"
[ -n "$HOOK" ] || fail "no free ports"
BASE=http://127.0.0.1:$HTTP

mkfifo "$T/sim.in"
exec 3<>"$T/sim.in" # read-write: opening it does not wait for a reader
# Not through start(): a background job's stdin would be /dev/null.
"$BIN" sim smsc --port "$SIM" --record "$T/record.txt" --dlr-delay 50 \
  <"$T/sim.in" >"$T/sim.log" 2>&1 &
PIDS+=($!)
start receiver node "$JS" receiver "$HOOK" "$SECRET" "$T/hooks.jsonl"

sg_store_for "$T/gw"
gateway_config() { # file, reassembly timeout
  cat >"$1" <<YAML
store: $STORE
http: {listen: 127.0.0.1:$HTTP}
accounts:
  - {name: shop, api_key: $KEY, webhook_secret: $SECRET, default_region: RU,
     inbound_url: "http://127.0.0.1:$HOOK/in"}
  - {name: prepaid, api_key: prepaid-key, default_region: RU,
     billing: {prices: {"+49": 0.05}}}
connectors:
  - {name: operator, type: smpp, host: 127.0.0.1, port: $SIM, system_id: smsgate,
     reconnect_min: 200ms, reconnect_max: 500ms}
routes:
  - {prefix: "+", connectors: [operator]}
webhooks: {allow_private_networks: true, retry_min: 200ms, retry_max: 1s}
inbound:
  rules:
    - {keyword: ASK, aliases: [QUESTION], account: shop}
    - {to: "300", account: prepaid}
  catch_all: shop
  reassembly_timeout: $2
  reply_limit: 2
  reply_window: 1h
  stop_reply: You are unsubscribed.
log: {level: info}
YAML
}
gateway_config "$T/gw.yaml" 3s
start gw "$BIN" serve -c "$T/gw.yaml"
GW=$LAST_PID
wait_for 30 healthy || fail "gateway not ready"
wait_for 10 grep -q 'receiver listening' "$T/receiver.log" || fail "receiver not ready"

# ---- a signed webhook, and its reply sent back --------------------------------
mo +79001110001 100 ASK what time is it
h=$(hook +79001110001) || fail "no inbound webhook"
[ "$(jx 'j.verified' <<<"$h")" = true ] || fail "signature not verified: $h"
[ "$(jx 'j.body.text' <<<"$h")" = "ASK what time is it" ] || fail "text: $h"
[ "$(jx 'j.body.to + " " + j.body.keyword + " " + j.body.event' <<<"$h")" = \
  "100 ASK message.inbound" ] || fail "webhook body: $h"
replied() {
  api GET "/v1/messages?to=%2B79001110001&status=delivered" | grep -q '"from":"100"'
}
wait_for 15 replied || fail "the webhook's reply was not sent: $(api GET '/v1/messages?to=%2B79001110001')"
echo "ok - inbound webhook signed, its reply delivered to the sender"

# ---- reassembly: out of order with a duplicate, UCS-2 16-bit, SAR -------------
LONG="Part one of a long message that needs two SMS parts to carry it all, so the handset splits it; and this is the end of it, after more than one hundred and sixty characters, which is what one part holds."
mo -p 2,1,2 +79001110002 100 "$LONG"
h=$(hook +79001110002) || fail "no webhook for the concatenated message"
[ "$(jx 'j.body.text' <<<"$h")" = "$LONG" ] || fail "reassembled text: $h"
[ "$(jx 'j.body.parts + " " + (j.body.incomplete === undefined)' <<<"$h")" = "2 true" ] ||
  fail "parts: $h"
CYR="Длинное сообщение кириллицей, которое не помещается в одну часть UCS-2 и приходит в трёх частях с шестнадцатибитной ссылкой; вот и конец."
mo -u -w -p 3,1,2 +79001110003 100 "$CYR"
h=$(hook +79001110003) || fail "no webhook for the UCS-2 message"
[ "$(jx 'j.body.text' <<<"$h")" = "$CYR" ] || fail "UCS-2 text: $h"
[ "$(jx 'j.body.encoding' <<<"$h")" = ucs2 ] || fail "encoding: $h"
mo -s -p 2,1 +79001110004 100 "$LONG"
h=$(hook +79001110004) || fail "no webhook for the SAR message"
[ "$(jx 'j.body.text' <<<"$h")" = "$LONG" ] || fail "SAR text: $h"
n=$(grep -c '"from":"+79001110002"' "$T/hooks.jsonl")
[ "$n" -eq 1 ] || fail "the duplicate part made $n messages"
echo "ok - concatenated MO: any order, duplicate ignored, 16-bit UCS-2, SAR"

# ---- half a message: delivered incomplete after the timeout -------------------
mo -p 1 +79001110005 100 "$LONG"
h=$(hook +79001110005) || fail "no webhook for the incomplete message"
[ "$(jx 'j.body.incomplete + " " + j.body.parts' <<<"$h")" = "true 1" ] || fail "incomplete: $h"
[ "$(jx 'j.body.text' <<<"$h")" = "${LONG:0:153}" ] || fail "incomplete text: $h"
echo "ok - a message missing a part is delivered incomplete after the timeout"

# ---- the reply limit ------------------------------------------------------------
for i in 1 2 3; do mo +79001110007 100 "ASK number $i"; done
wait_for 15 bash -c "[ \$(grep -c '+79001110007' '$T/hooks.jsonl') -ge 3 ]" ||
  fail "webhooks of the ASKs"
wait_for 10 grep -q 'automatic reply from 100 to +79001110007 dropped' "$T/gw.log" ||
  fail "the third reply was not held back"
n=$(api GET '/v1/messages?to=%2B79001110007' | grep -o '"from":"100"' | wc -l)
[ "$n" -eq 2 ] || fail "$n automatic replies to +79001110007, want 2"
echo "ok - automatic replies stop at reply_limit"

# ---- STOP ------------------------------------------------------------------------
r=$(api POST /v1/messages "{\"to\":\"+79001110008\",\"from\":\"100\",\"text\":\"queued before STOP\",\"send_at\":\"$(date -u -d '+6 seconds' +%Y-%m-%dT%H:%M:%SZ)\"}")
[ "${r%% *}" = 202 ] || fail "scheduled send: $r"
QID=$(jx 'j.messages[0].id' <<<"${r#* }")
mo +79001110008 100 Stop
h=$(hook +79001110008) || fail "no webhook for STOP"
[ "$(jx 'j.body.keyword' <<<"$h")" = STOP ] || fail "STOP keyword: $h"
opted() { api GET '/v1/optouts' | grep -q '"number":"+79001110008"'; }
wait_for 10 opted || fail "not opted out: $(api GET /v1/optouts)"
confirmed() {
  api GET '/v1/messages?to=%2B79001110008' | grep -q '"status":"delivered"'
}
wait_for 15 confirmed || fail "no STOP confirmation: $(api GET '/v1/messages?to=%2B79001110008')"
r=$(api POST /v1/messages '{"to":"+79001110008","text":"after STOP","from":"Shop"}')
[ "$(jx 'j.error.code + " " + j.error.field' <<<"${r#* }")" = "opted_out to" ] &&
  [ "${r%% *}" = 422 ] || fail "send after STOP: $r"
r=$(api POST /v1/messages '{"to":["+79001110008","+79001110009"],"text":"mixed","from":"Shop"}')
[ "${r%% *}" = 202 ] && [ "$(jx 'j.messages[0].error.code' <<<"${r#* }")" = opted_out ] ||
  fail "mixed send: $r"
rejected() { api GET "/v1/messages/$QID" | grep -q '"status":"rejected"'; }
wait_for 20 rejected || fail "queued message not rejected: $(api GET /v1/messages/$QID)"
api GET "/v1/messages/$QID" | grep -q 'opted_out' || fail "no opted_out event"
sleep 1.2 # the simulator writes its record once a second
SM_HEX=$(printf 'queued before STOP' | od -An -tx1 | tr -d ' \n')
! grep -q "$SM_HEX" "$T/record.txt" || fail "the queued message reached the SMSC"
echo "ok - STOP: opted out, confirmed, later and queued sends refused and never sent"

# A prepaid account with no balance and no price for +7 still confirms a STOP,
# free of charge.
papi() { node "$JS" api "$BASE" prepaid-key "$@"; }
mo +79001110020 300 STOP
pconfirmed() {
  papi GET '/v1/messages?to=%2B79001110020' | grep -q '"status":"delivered"'
}
wait_for 15 pconfirmed || fail "no STOP confirmation on a prepaid account: $(papi GET '/v1/messages?to=%2B79001110020')"
r=$(papi GET /v1/balance)
[ "$(jx 'j.balance' <<<"${r#* }")" = 0.00 ] || fail "the confirmation was charged: $r"
r=$(papi POST /v1/messages '{"to":"+79001110021","text":"not free","from":"300"}')
[ "${r%% *} $(jx 'j.error.code' <<<"${r#* }")" = "422 no_price" ] || fail "a paid send: $r"
echo "ok - a STOP on a prepaid account without balance or price is confirmed and not charged"

# ---- the opt-out API and START -------------------------------------------------------
r=$(api POST /v1/optouts '{}')
[ "${r%% *} $(jx 'j.error.code + " " + j.error.field' <<<"${r#* }")" = "422 missing_field number" ] || fail "$r"
r=$(api POST /v1/optouts '{"number":"abc"}')
[ "${r%% *} $(jx 'j.error.code' <<<"${r#* }")" = "422 invalid_number" ] || fail "$r"
r=$(api POST /v1/optouts '{"number":"+79001110010","x":1}')
[ "${r%% *} $(jx 'j.error.field' <<<"${r#* }")" = "422 x" ] || fail "$r"
r=$(api POST /v1/optouts 'not json')
[ "${r%% *}" = 400 ] || fail "$r"
r=$(api POST /v1/optouts '{"number":"8 900 111-00-10"}')
[ "${r%% *} $(jx 'j.number + " " + j.added' <<<"${r#* }")" = "201 +79001110010 true" ] || fail "$r"
r=$(api POST /v1/optouts '{"number":"+79001110010"}')
[ "${r%% *}" = 200 ] || fail "repeated add: $r"
r=$(api POST /v1/messages '{"to":"+79001110010","text":"x","from":"Shop"}')
[ "${r%% *}" = 422 ] || fail "send to an API opt-out: $r"
r=$(api DELETE /v1/optouts/%2B79001110010)
[ "${r%% *}" = 200 ] || fail "delete: $r"
r=$(api DELETE /v1/optouts/%2B79001110010)
[ "${r%% *} $(jx 'j.error.code' <<<"${r#* }")" = "404 not_found" ] || fail "delete again: $r"
mo +79001110008 100 start
back() { ! api GET '/v1/optouts?number=%2B79001110008' | grep -q '+79001110008'; }
wait_for 10 back || fail "START did not opt in again"
r=$(api POST /v1/messages '{"to":"+79001110008","text":"welcome back","from":"Shop"}')
[ "${r%% *}" = 202 ] || fail "send after START: $r"
echo "ok - /v1/optouts add, list, delete with errors naming the field; START"

# ---- /v1/inbound and smsgate inbound ----------------------------------------------
r=$(api GET '/v1/inbound?keyword=ask&limit=2')
[ "$(jx 'j.data.length + " " + j.data.every((m) => m.keyword === "ASK") + " " + (j.next_cursor !== null)' <<<"${r#* }")" = "2 true true" ] || fail "$r"
C=$(jx 'j.next_cursor' <<<"${r#* }")
r=$(api GET "/v1/inbound?keyword=ask&limit=2&cursor=$C")
[ "$(jx 'j.data.length' <<<"${r#* }")" -ge 1 ] || fail "second page: $r"
r=$(api GET '/v1/inbound?from=%2B79001110003')
[ "$(jx 'j.data[0].text' <<<"${r#* }")" = "$CYR" ] || fail "from filter: $r"
r=$(api GET '/v1/inbound?bogus=1')
[ "${r%% *} $(jx 'j.error.code + " " + j.error.field' <<<"${r#* }")" = "422 unknown_field bogus" ] || fail "$r"
r=$(api GET '/v1/inbound?since=yesterday')
[ "${r%% *} $(jx 'j.error.field' <<<"${r#* }")" = "422 since" ] || fail "$r"
out=$("$BIN" inbound --url "$BASE" --key "$KEY" --from +79001110002) || fail "smsgate inbound: $out"
grep -q "+79001110002 -> 100: Part one" <<<"$out" || fail "smsgate inbound output: $out"
"$BIN" inbound --url "$BASE" --key "$KEY" --follow --limit 1 --max 2 --interval 100 \
  >"$T/follow.out" 2>&1 &
FOLLOW=$!
PIDS+=($FOLLOW)
wait_for 10 test -s "$T/follow.out" || fail "--follow printed nothing"
mo +79001110011 100 followed message
wait_for 15 grep -q 'followed message' "$T/follow.out" || fail "--follow: $(cat "$T/follow.out")"
wait "$FOLLOW" || fail "--follow --max 2 did not end cleanly"
echo "ok - GET /v1/inbound filters and cursor; smsgate inbound and --follow"

kill "$GW" && wait "$GW" || fail "gateway did not stop cleanly"

# ---- kill -9 between the parts of a message ---------------------------------------
gateway_config "$T/gw2.yaml" 10m
start gw2 "$BIN" serve -c "$T/gw2.yaml"
GW=$LAST_PID
wait_for 30 healthy || fail "gateway 2 not ready"
acked() { echo stats >&3; sleep 0.2; grep '"type":"stats"' "$T/sim.log" | tail -n 1 | grep -q "\"mo_acked\":$1[,}]"; }
before=$(echo stats >&3; sleep 0.3; grep '"type":"stats"' "$T/sim.log" | tail -n 1 | sed 's/.*"mo_acked":\([0-9]*\).*/\1/')
mo -p 1 -r 77 +79001110012 100 "$LONG"
wait_for 10 acked $((before + 1)) || fail "part 1 not acknowledged"
kill -9 "$GW"
wait "$GW" 2>/dev/null
start gw3 "$BIN" serve -c "$T/gw2.yaml"
wait_for 30 healthy || fail "gateway did not restart"
wait_for 15 grep -q 'engine running' "$T/gw3.log"
mo -p 2 -r 77 +79001110012 100 "$LONG"
h=$(hook +79001110012) || fail "no webhook after the restart: $(grep -c . "$T/hooks.jsonl") hooks"
[ "$(jx 'j.body.text' <<<"$h")" = "$LONG" ] || fail "text after restart: $h"
[ "$(jx 'j.body.incomplete === undefined' <<<"$h")" = true ] || fail "incomplete after restart: $h"
echo "ok - kill -9 between two parts: the message is whole after the restart"
echo "PASS"
