#!/usr/bin/env bash
# Inbound rules over the API and rules' URL actions, end to end: the real
# smsgate binary ($1), a separate SMSC simulator that sends MO on command
# (its stdin) and a node HTTP receiver (inbound_rules.js).
#   - the configuration's rule seeds the store; non-admin keys get 403; a
#     bad rule is 422 naming the field (a bad regex with its offset) and
#     changes nothing;
#   - a rule added over the API takes the next message at once: a GET of
#     its URL with Kannel's escape codes (the exact query, UTF-8 and spaces
#     escaped), whose text/plain answer goes back to the sender;
#   - the rule edited (a URL that fails twice): the call is retried until
#     it is taken, and with reply: false its answer is not sent back;
#   - a POST URL action is signed and its {"reply"} goes back;
#   - the rule deleted: the next message goes to the catch-all's webhook;
#   - after a restart the rules are the same (source "api"), and the
#     automatic-reply limit still counts the replies sent before it;
#   - `smsgate inbound rules` list, add, delete and its errors.
# Readiness is polled, never slept for (but for the checks that something
# did NOT happen, which wait for a later event first). Everything started
# is stopped.
set -u
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib/common.bash" # fail, free_ports, wait_http, wait_log
JS="$HERE/inbound_rules.js"
T=$(mktemp -d "${TMPDIR:-/tmp}/inrules.XXXXXX")
PIDS=()
KEY=admin-key
USER_KEY=user-key
SECRET=rules-secret

cleanup() {
  local p
  exec 3>&- 2>/dev/null
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
  echo "FAIL: $*" >&2
  for f in "$T"/*.log "$T"/requests.jsonl; do
    [ -f "$f" ] && { echo "--- $f" >&2; tail -n 30 "$f" >&2; }
  done
  exit 1
}

start() { # name, command...: runs it in the background, logs to $T/name.log
  local name=$1
  shift
  "$@" >>"$T/$name.log" 2>&1 &
  PIDS+=($!)
  LAST_PID=$!
}

jx() { node -e 'const j = JSON.parse(require("fs").readFileSync(0, "utf8"));
  const v = eval(process.argv[1]); console.log(typeof v === "string" ? v : JSON.stringify(v));' "$1"; }

# api [KEY=k] METHOD PATH [JSON] -> "STATUS BODY" (curl: polled often)
api_as() {
  local key=$1 m=$2 p=$3 out code
  shift 3
  out=$(mktemp "$T/api.XXXXXX")
  code=$(curl -s -o "$out" -w '%{http_code}' -X "$m" -H "Authorization: Bearer $key" \
    ${1:+-H 'Content-Type: application/json' --data-binary "$1"} "$BASE$p")
  echo "$code $(cat "$out")"
  rm -f "$out"
}
api() { api_as "$KEY" "$@"; }
body() { cut -d' ' -f2-; }
status() { cut -d' ' -f1; }

wait_for() { # seconds, command...: polls until the command succeeds
  local secs=$1 i
  shift
  for ((i = 0; i < secs * 5; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  return 1
}

healthy() { api GET /healthz | grep -q '"status":"ok"'; }
mo() { echo "mo $*" >&3; }
requests() { node "$JS" wait "$T/requests.jsonl" "$1" "$2" "${3:-15}"; } # PREFIX N [S]
# sent_to NUMBER TEXT [N]: N (default 1) messages with this text went to NUMBER
sent_to() {
  local n
  n=$(api GET "/v1/messages?to=${1/+/%2B}&limit=100" | grep -o "\"from\":\"[0-9]*\",\"text\":\"$2\"" | wc -l)
  [ "$n" -eq "${3:-1}" ]
}
# hooked TEXT: the account's webhook got a message with this text
hooked() { grep -q "\"url\":\"/hook\".*\"text\":\"$1\"" "$T/requests.jsonl"; }

read -r HTTP SIM RCV <<<"$(free_ports 3)"
[ -n "$RCV" ] || fail "no free ports"
BASE=http://127.0.0.1:$HTTP
R=http://127.0.0.1:$RCV

mkfifo "$T/sim.in"
exec 3<>"$T/sim.in"
"$BIN" sim smsc --port "$SIM" --dlr-delay 50 <"$T/sim.in" >"$T/sim.log" 2>&1 &
PIDS+=($!)
start receiver node "$JS" receiver "$RCV" "$SECRET" "$T/requests.jsonl"

sg_store_for "$T/gw"
cat >"$T/gw.yaml" <<YAML
store: $STORE
http: {listen: 127.0.0.1:$HTTP}
accounts:
  - {name: shop, api_key: $KEY, admin: true, webhook_secret: $SECRET,
     default_region: RU, inbound_url: "$R/hook"}
  - {name: user, api_key: $USER_KEY}
connectors:
  - {name: operator, type: smpp, host: 127.0.0.1, port: $SIM, system_id: smsgate,
     reconnect_min: 200ms, reconnect_max: 500ms}
routes:
  - {prefix: "+", connectors: [operator]}
webhooks: {allow_private_networks: true, retry_min: 300ms, retry_max: 1s}
inbound:
  rules:
    - {keyword: ASK, account: shop}
  catch_all: shop
  reply_limit: 2
  reply_window: 1h
log: {level: info}
YAML
start gw "$BIN" serve -c "$T/gw.yaml"
GW=$LAST_PID
wait_for 30 healthy || fail "gateway not ready"
wait_for 10 grep -q 'receiver listening' "$T/receiver.log" || fail "receiver not ready"

# ---- seeded from the configuration; admin only; bad rules change nothing ----
r=$(api GET /v1/inbound/rules)
[ "$(status <<<"$r")" = 200 ] || fail "list: $r"
[ "$(body <<<"$r" | jx 'j.source + " " + j.rules.length + " " + j.rules[0].id + " " + j.rules[0].keyword + " " + j.rules[0].action')" = \
  "configuration 1 1 ASK webhook" ] || fail "seeded rules: $r"
for m in "GET /v1/inbound/rules" "POST /v1/inbound/rules {}" "DELETE /v1/inbound/rules/1" \
  "PUT /v1/inbound/rules {\"rules\":[]}" "GET /v1/inbound/rules/1"; do
  # shellcheck disable=SC2086
  r=$(api_as "$USER_KEY" $m)
  [ "$(status <<<"$r")" = 403 ] && grep -q admin_required <<<"$r" || fail "non-admin $m: $r"
done
bad() { # expected-field JSON [PATH METHOD]
  local r
  r=$(api "${4:-POST}" "${3:-/v1/inbound/rules}" "$2")
  [ "$(status <<<"$r")" = 422 ] || fail "bad rule $2: $r"
  [ "$(body <<<"$r" | jx 'j.error.field')" = "$1" ] || fail "bad rule $2 field: $r"
  echo "$r"
}
r=$(bad regex '{"keyword":"X","regex":"^(a|b","account":"shop"}')
grep -q 'missing closing parenthesis at offset 5' <<<"$r" || fail "regex offset: $r"
bad account '{"keyword":"X","account":"nobody"}' >/dev/null
bad to '{"to":"12a","account":"shop"}' >/dev/null
bad aliases '{"aliases":["Y"],"to":"1","account":"shop"}' >/dev/null
bad url '{"to":"1","account":"shop","url":"ftp://x/"}' >/dev/null
bad action '{"to":"1","account":"shop","action":"url"}' >/dev/null
bad method '{"to":"1","account":"shop","url":"http://x/","method":"PUT"}' >/dev/null
bad unknown '{"to":"1","account":"shop","unknown":1}' >/dev/null
bad reply '{"to":"1","account":"shop","reply":"yes"}' >/dev/null
bad position '{"to":"1","account":"shop","position":3}' >/dev/null
bad 'rules[1].id' '{"rules":[{"id":1,"to":"1","account":"shop"},{"id":1,"to":"2","account":"shop"}]}' \
  /v1/inbound/rules PUT >/dev/null
bad 'rules[1].keyword' '{"rules":[{"to":"1","account":"shop"},{"keyword":"","account":"shop"}]}' \
  /v1/inbound/rules PUT >/dev/null
[ "$(api GET /v1/inbound/rules | body | jx 'j.rules.length + " " + j.source')" = "1 configuration" ] ||
  fail "a refused rule changed the rules"
r=$(api DELETE /v1/inbound/rules/99)
[ "$(status <<<"$r")" = 404 ] || fail "delete unknown: $r"
echo "ok - seeded rules listed; 403 for a non-admin key; bad rules 422 naming the field, nothing changed"

# ---- a URL action added over the API, used at once ---------------------------
r=$(api POST /v1/inbound/rules "{\"keyword\":\"WX\",\"aliases\":[\"ПОГОДА\"],\"account\":\"shop\",
  \"url\":\"$R/mo?from=%p&to=%P&text=%a&kw=%k&id=%I\",\"position\":1}")
[ "$(status <<<"$r")" = 201 ] || fail "add: $r"
WX=$(body <<<"$r" | jx 'j.id')
[ "$(body <<<"$r" | jx 'j.position + " " + j.action + " " + j.method + " " + j.reply')" = \
  "1 url GET true" ] || fail "added rule: $r"
mo +79001110001 4444 "погода Москва центр"
h=$(requests /mo 1) || fail "no GET of the rule's URL: $h"
url=$(jx 'j[0].url' <<<"$h")
id=$(api GET "/v1/inbound?from=%2B79001110001" | body | jx 'j.data[0].id')
want="/mo?from=%2B79001110001&to=4444&text=%D0%BF%D0%BE%D0%B3%D0%BE%D0%B4%D0%B0+%D0%9C%D0%BE%D1%81%D0%BA%D0%B2%D0%B0+%D1%86%D0%B5%D0%BD%D1%82%D1%80&kw=%D0%BF%D0%BE%D0%B3%D0%BE%D0%B4%D0%B0&id=$id"
[ "$url" = "$want" ] || fail "the URL's query: got $url, want $want"
[ "$(jx 'j[0].method + " " + j[0].signed' <<<"$h")" = "GET false" ] || fail "GET: $h"
wait_for 15 sent_to +79001110001 "Погода: +5 °C" || fail "the text/plain answer was not sent back"
! hooked "погода Москва центр" || fail "action url also called the account's webhook"
echo "ok - rule added over the API; GET with escapes $url; its text/plain answer sent back"

# ---- edited: a failing URL retried, reply: false -----------------------------
r=$(api PUT "/v1/inbound/rules/$WX" "{\"keyword\":\"WX\",\"account\":\"shop\",\"url\":\"$R/fail?t=%a\",
  \"reply\":false}")
[ "$(status <<<"$r")" = 200 ] || fail "edit: $r"
[ "$(body <<<"$r" | jx 'j.id + " " + j.position + " " + j.reply')" = "$WX 1 false" ] || fail "edited: $r"
mo +79001110002 4444 "WX tomorrow"
h=$(requests /fail 3 20) || fail "the failing URL was not retried until taken: $h"
[ "$(jx 'j.map((x) => x.url).join(" ")' <<<"$h")" = \
  "/fail?t=WX+tomorrow /fail?t=WX+tomorrow /fail?t=WX+tomorrow" ] || fail "retries: $h"
grep -q "webhook .*fail.*HTTP 503.*will retry" "$T/gw.log" || fail "no retry logged"
# its answer ("late") must not come back: a later reply to the same number
# (through the ASK rule) goes out, and "late" never does
mo +79001110002 4444 "ASK anyone"
wait_for 15 sent_to +79001110002 "Got it" || fail "the ASK reply was not sent"
sent_to +79001110002 late 0 || fail "an answer was sent back despite reply: false"
echo "ok - rule edited: the failing URL retried (3 attempts) and taken; reply: false kept its answer back"

# ---- a signed POST URL action ------------------------------------------------
r=$(api POST /v1/inbound/rules "{\"to\":\"5555\",\"account\":\"shop\",\"url\":\"$R/post?k=%k\",
  \"method\":\"POST\",\"action\":\"both\"}")
[ "$(status <<<"$r")" = 201 ] || fail "add POST rule: $r"
POST_ID=$(body <<<"$r" | jx 'j.id')
mo +79001110003 5555 "hello there"
h=$(requests /post 1) || fail "no POST: $h"
[ "$(jx 'j[0].method + " " + j[0].verified + " " + j[0].body.text + " " + j[0].body.rule' <<<"$h")" = \
  "POST true hello there $POST_ID" ] || fail "POST action: $h"
wait_for 15 sent_to +79001110003 posted || fail "the POST's {\"reply\"} was not sent back"
wait_for 15 hooked "hello there" || fail "action both did not call the account's webhook too"
echo "ok - POST action signed, its JSON reply sent back; action both also called the webhook"

# ---- deleted: the next message goes to the catch-all -------------------------
r=$(api DELETE "/v1/inbound/rules/$WX")
[ "$(status <<<"$r")" = 200 ] || fail "delete: $r"
mo +79001110004 4444 "WX gone"
wait_for 15 hooked "WX gone" || fail "the catch-all did not get it"
grep -q 'WX+gone' "$T/requests.jsonl" && fail "a deleted rule's URL was called"
echo "ok - rule deleted: the next message went to the catch-all's webhook"

# ---- restart: the rules and the reply counts survive -------------------------
before=$(api GET /v1/inbound/rules | body)
# +79001110002 got one automatic reply ("Got it"); one more is allowed
mo +79001110002 4444 "ASK again"
wait_for 15 sent_to +79001110002 "Got it" 2 || fail "the second reply was not sent"
kill "$GW"
wait "$GW" 2>/dev/null || fail "the gateway did not stop cleanly before the restart"
start gw "$BIN" serve -c "$T/gw.yaml"
GW=$LAST_PID
wait_for 30 healthy || fail "gateway not ready after the restart"
after=$(api GET /v1/inbound/rules | body)
[ "$before" = "$after" ] || fail "rules changed across the restart: $before / $after"
[ "$(jx 'j.source + " " + j.rules.length' <<<"$after")" = "api 2" ] || fail "after restart: $after"
grep -q "reply count(s) restored" "$T/gw.log" || fail "no reply counts restored"
mo +79001110002 4444 "ASK a third time"
wait_for 15 grep -q 'automatic reply from 4444 to +79001110002 dropped' "$T/gw.log" ||
  fail "the reply limit was reset by the restart"
sent_to +79001110002 "Got it" 2 || fail "a third reply was sent"
echo "ok - after a restart: the same rules (source api), the reply limit still counted"

# ---- the CLI -----------------------------------------------------------------
export SMSGATE_URL=$BASE SMSGATE_API_KEY=$KEY
out=$("$BIN" inbound rules add --account shop --keyword INFO --alias ИНФО --action-url "$R/mo?x=%p" \
  --position 1) || fail "cli add: $out"
[[ $out =~ ^added\ rule\ ([0-9]+)\ at\ position\ 1$ ]] || fail "cli add: $out"
CLI_ID=${BASH_REMATCH[1]}
out=$("$BIN" inbound rules list) || fail "cli list"
[ "$(head -n 1 <<<"$out")" = "$CLI_ID	1	shop	keyword=INFO alias=ИНФО	url GET $R/mo?x=%p" ] ||
  fail "cli list: $out"
[ "$(wc -l <<<"$out")" = 3 ] || fail "cli list lines: $out"
"$BIN" inbound rules delete "$CLI_ID" | grep -qx "deleted rule $CLI_ID" || fail "cli delete"
err=$("$BIN" inbound rules delete "$CLI_ID" 2>&1)
[ $? = 1 ] && grep -q 'HTTP 404 not_found' <<<"$err" || fail "cli delete twice: $err"
err=$("$BIN" inbound rules add --account shop --regex '(x' 2>&1)
[ $? = 1 ] && grep -q 'invalid_value (regex): not a valid regular expression' <<<"$err" ||
  fail "cli bad regex: $err"
err=$("$BIN" inbound rules add --keyword X 2>&1)
[ $? = 2 ] && grep -q -- '--account is required' <<<"$err" || fail "cli usage: $err"
err=$(SMSGATE_API_KEY=$USER_KEY "$BIN" inbound rules list 2>&1)
[ $? = 1 ] && grep -q 'HTTP 403 admin_required' <<<"$err" || fail "cli non-admin: $err"
"$BIN" inbound rules --help | grep -q 'smsgate inbound rules delete ID' || fail "cli --help"
[ "$(api GET /v1/inbound/rules | body | jx 'j.rules.length')" = 2 ] || fail "cli left rules behind"
echo "ok - smsgate inbound rules list, add, delete and their errors"

kill "$GW"
wait "$GW" 2>/dev/null || fail "the gateway did not stop cleanly"
echo "PASS"
