#!/usr/bin/env bash
# Campaigns through the REST API of the real smsgate binary ($1), to the
# built-in simulated operator: lists and contacts made through the API, a
# campaign to two overlapping lists whose counts reach delivered =
# recipients - skipped (duplicates, opt-outs) and whose messages go to each
# number once; a template campaign where a contact without the field is
# counted invalid; bad input answered 4xx naming the field and changing
# nothing; isolation between accounts; pause and resume of a rated
# campaign (nothing released while paused); cancel with the queued
# messages cancelled and counted; a window outside the recipients' hours
# (nothing sent); kill -9 in the middle of a big campaign's expansion,
# after which every recipient gets exactly one message; and kill -9 right
# after a cancel, after which the cancel finishes (nothing pending or
# queued, the unsent recipients counted as cancelled). The big campaign
# has CAMPAIGNS_BIG recipients: 20,000 by default (four chunks of 5,000, so
# the expansion lasts several writer transactions; a poller kills the
# gateway the moment an answer shows it between its first and last chunk);
# `make soak` runs 50,000.
#
# Readiness is polled, never slept for; everything started is stopped.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/common.bash"
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
sg_test_init campaigns
read -r PORT SIM < <(free_ports 2)
BASE=http://127.0.0.1:$PORT

sg_store_for "$T/gw"
cat >"$T/gw.yaml" <<EOF
store: $STORE
http: {listen: 127.0.0.1:$PORT}
simulator: {listen: 127.0.0.1:$SIM}
accounts:
  - {name: admin, api_key: admin-key, admin: true}
  - {name: shop, api_key: shop-key, default_region: GB, senders: [SHOP, "Shop*"]}
  - {name: other, api_key: other-key, default_region: DE}
connectors:
  - {name: operator, type: smpp, host: 127.0.0.1, port: $SIM,
     system_id: smsgate, password: secret}
routes:
  - {prefix: "+", connectors: [operator]}
log: {level: info}
EOF

GW=""
start_gw() {
  "$BIN" serve -c "$T/gw.yaml" >>"$T/gw.log" 2>&1 &
  GW=$!
  PIDS+=("$GW")
  wait_http "$BASE/healthz" . 30 || fail "gateway not ready"
}
start_gw

# req METHOD PATH KEY [curl args...]: the body in $B, the status in $S
req() {
  local m=$1 p=$2 k=$3
  shift 3
  S=$(curl -s -o "$T/body" -w '%{http_code}' -X "$m" -H "Authorization: Bearer $k" "$@" "$BASE$p")
  B=$(cat "$T/body")
}
post() { req POST "$1" "$2" -H 'Content-Type: application/json' --data-binary "$3"; }
expect() { [ "$S" = "$1" ] || fail "$2: HTTP $S, wanted $1: $B"; }
expect_err() { # status code field what
  expect "$1" "$4"
  [ "$(jq_ 'o.error.code')" = "$2" ] || fail "$4: code $(jq_ 'o.error.code'), wanted $2"
  [ "$(jq_ 'o.error.field')" = "$3" ] || fail "$4: field $(jq_ 'o.error.field'), wanted $3"
}
# wait_campaign ID JS-CONDITION SECONDS (o is the campaign)
wait_campaign() {
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    req GET "/v1/campaigns/$1" shop-key
    [ "$S" = 200 ] && [ "$(jq_ "$2")" = true ] && return 0
    sleep 0.1
  done
  fail "campaign $1: never $2: $B"
}

# ---- lists and contacts -------------------------------------------------------
post /v1/lists shop-key '{"name": "customers"}'
expect 201 "list"
LA=$(jq_ 'o.id')
post /v1/lists shop-key '{"name": "newsletter"}'
expect 201 "list"
LB=$(jq_ 'o.id')
post /v1/lists other-key '{"name": "theirs"}'
expect 201 "list"
LO=$(jq_ 'o.id')
{
  echo "number,name,city"
  for i in $(seq 100 129); do echo "+4479111$(printf %05d "$i"),N$i,Leeds"; done
} >"$T/a.csv"
{
  echo "number,name"
  for i in $(seq 120 134); do echo "+4479111$(printf %05d "$i"),N$i"; done
} >"$T/b.csv"
req POST "/v1/contacts/import?list=$LA" shop-key -H 'Content-Type: text/csv' --data-binary @"$T/a.csv"
[ "$S" = 200 ] || [ "$S" = 201 ] || fail "import a: $S $B"
req POST "/v1/contacts/import?list=$LB" shop-key -H 'Content-Type: text/csv' --data-binary @"$T/b.csv"
[ "$S" = 200 ] || [ "$S" = 201 ] || fail "import b: $S $B"
for n in +447911100101 +447911100125; do
  post /v1/optouts shop-key "{\"number\": \"$n\"}"
  [ "${S:0:1}" = 2 ] || fail "optout $n: $S $B"
done

# ---- bad input: 4xx naming the field, nothing created ------------------------
post /v1/campaigns shop-key "{\"name\": \"x\", \"from\": \"SHOP\", \"text\": \"hi\", \"lists\": [$LA, 999999]}"
expect_err 422 unknown_list lists "unknown list"
post /v1/campaigns shop-key "{\"name\": \"x\", \"from\": \"SHOP\", \"text\": \"hi\", \"lists\": [$LO]}"
expect_err 422 unknown_list lists "another account's list"
post /v1/campaigns shop-key "{\"name\": \"x\", \"from\": \"SHOP\", \"text\": \"\", \"lists\": [$LA]}"
expect_err 422 empty_text text "empty text"
post /v1/campaigns shop-key "{\"name\": \"x\", \"from\": \"SHOP\", \"lists\": [$LA]}"
expect_err 422 missing_text text "no text"
post /v1/campaigns shop-key "{\"name\": \"x\", \"from\": \"SHOP\", \"text\": \"a\", \"template_id\": 1, \"lists\": [$LA]}"
expect_err 422 invalid_request template_id "text and template"
post /v1/campaigns shop-key "{\"name\": \"x\", \"from\": \"SHOP\", \"template_id\": 99999, \"lists\": [$LA]}"
expect_err 422 unknown_template template_id "unknown template"
post /v1/campaigns shop-key "{\"name\": \"x\", \"from\": \"SHOP\", \"text\": \"a\", \"lists\": []}"
expect_err 422 invalid_lists lists "no lists"
post /v1/campaigns shop-key "{\"name\": \"x\", \"from\": \"SHOP\", \"text\": \"a\", \"lists\": [$LA, $LA]}"
expect_err 422 invalid_lists lists "a list twice"
post /v1/campaigns shop-key "{\"name\": \"x\", \"from\": \"SHOP\", \"text\": \"a\", \"lists\": [$LA], \"window\": {\"start\": \"25:00\", \"end\": \"20:00\"}}"
expect_err 422 invalid_window window.start "bad window start"
post /v1/campaigns shop-key "{\"name\": \"x\", \"from\": \"SHOP\", \"text\": \"a\", \"lists\": [$LA], \"window\": {\"start\": \"09:00\", \"end\": \"09:00\"}}"
expect_err 422 invalid_window window.end "empty window"
post /v1/campaigns shop-key "{\"name\": \"x\", \"from\": \"SHOP\", \"text\": \"a\", \"lists\": [$LA], \"send_at\": \"2020-01-01T00:00:00Z\"}"
expect_err 422 send_at_in_past send_at "send_at in the past"
post /v1/campaigns shop-key "{\"name\": \"x\", \"from\": \"SHOP\", \"text\": \"a\", \"lists\": [$LA], \"send_at\": \"tomorrow\"}"
expect_err 422 invalid_send_at send_at "send_at not a time"
post /v1/campaigns shop-key "{\"name\": \"x\", \"from\": \"SHOP\", \"text\": \"a\", \"lists\": [$LA], \"rate_per_minute\": 0}"
expect_err 422 invalid_rate rate_per_minute "rate 0"
post /v1/campaigns shop-key "{\"name\": \"x\", \"from\": \"SHOP\", \"text\": \"a\", \"lists\": [$LA], \"callback_url\": \"ftp://x\"}"
expect_err 422 invalid_url callback_url "callback_url"
post /v1/campaigns shop-key "{\"name\": \"x\", \"from\": \"SHOP\", \"text\": \"a\", \"lists\": [$LA], \"colour\": 1}"
expect_err 422 unknown_field colour "unknown field"
post /v1/campaigns shop-key "{\"name\": \"\", \"text\": \"a\", \"lists\": [$LA]}"
expect_err 422 invalid_name name "empty name"
post /v1/campaigns shop-key 'not json'
expect_err 422 invalid_json null "not JSON"
post /v1/campaigns nobody-key "{\"name\": \"x\", \"text\": \"a\", \"lists\": [$LA]}"
expect 401 "unknown key"
req GET /v1/campaigns shop-key
expect 200 "list campaigns"
[ "$(jq_ 'o.campaigns.length')" = 0 ] || fail "bad input created a campaign: $B"

# ---- a campaign to two overlapping lists ------------------------------------------
post /v1/campaigns shop-key "{\"name\": \"spring\", \"text\": \"Spring sale\", \"lists\": [$LA, $LB], \"from\": \"SHOP\"}"
expect 201 "create"
C1=$(jq_ 'o.id')
[ "$(jq_ 'o.status')" = scheduled ] || [ "$(jq_ 'o.status')" = running ] || fail "status: $B"
# 30 + 15 members, 10 in both, 2 opted out: 45 recipients, 10 duplicates,
# 2 opt-outs, 33 messages.
wait_campaign "$C1" 'o.status === "completed" && o.counts.delivered === 33' 60
[ "$(jq_ 'o.counts.recipients')" = 45 ] || fail "recipients: $B"
[ "$(jq_ 'o.counts.skipped_duplicate')" = 10 ] || fail "duplicates: $B"
[ "$(jq_ 'o.counts.skipped_optout')" = 2 ] || fail "opt-outs: $B"
[ "$(jq_ 'o.counts.skipped_invalid')" = 0 ] || fail "invalid: $B"
[ "$(jq_ 'o.delivery_rate')" = 1 ] || fail "delivery_rate: $B"
[ "$(jq_ 'o.started_at !== null && o.completed_at !== null')" = true ] || fail "times: $B"
req GET "/v1/campaigns/$C1/messages?limit=1000" shop-key
expect 200 "messages"
[ "$(jq_ 'o.messages.length')" = 33 ] || fail "messages: $B"
[ "$(jq_ 'new Set(o.messages.map((m) => m.to)).size')" = 33 ] || fail "a number twice: $B"
[ "$(jq_ 'o.messages.every((m) => m.status === "delivered")')" = true ] || fail "statuses: $B"
[ "$(jq_ 'o.messages.some((m) => m.to === "+447911100101")')" = false ] || fail "opted-out number sent"
req GET "/v1/campaigns/$C1/messages?limit=10" shop-key
[ "$(jq_ 'o.messages.length')" = 10 ] && [ "$(jq_ 'o.next_cursor !== null')" = true ] || fail "paging: $B"

# Isolation: another account sees nothing of it; the admin sees it.
req GET "/v1/campaigns/$C1" other-key
expect_err 404 not_found null "other account's campaign"
post "/v1/campaigns/$C1/pause" other-key '{}'
expect 404 "other account pauses"
req GET /v1/campaigns other-key
[ "$(jq_ 'o.campaigns.length')" = 0 ] || fail "other account lists: $B"
req GET "/v1/campaigns/$C1" admin-key
expect 200 "admin reads"
req GET /v1/campaigns/NOTANID shop-key
expect 404 "bad id"
post "/v1/campaigns/$C1/pause" shop-key '{}'
expect_err 409 invalid_state status "pause a completed campaign"

# ---- a template; a contact without the field is invalid ---------------------------
post /v1/templates shop-key '{"name": "city", "text": "Hello {{name}} in {{fields.city}}"}'
expect 201 "template"
TPL=$(jq_ 'o.id')
# The sender is checked when the campaign is created, by the rules of
# POST /v1/messages: none (the account has no default_sender), one no
# connector can send, one the account's senders do not list. Nothing is
# created.
req GET /v1/campaigns shop-key
NCAMP=$(jq_ 'o.campaigns.length')
post /v1/campaigns shop-key "{\"name\": \"nosender\", \"text\": \"x\", \"lists\": [$LB]}"
expect_err 422 missing_sender from "a campaign without a sender"
post /v1/campaigns shop-key "{\"name\": \"longsender\", \"text\": \"x\", \"lists\": [$LB], \"from\": \"ABCDEFGHIJKLM\"}"
expect_err 422 invalid_sender from "a sender of 13 characters"
post /v1/campaigns shop-key "{\"name\": \"othersender\", \"text\": \"x\", \"lists\": [$LB], \"from\": \"BANK\"}"
expect_err 422 sender_not_allowed from "a sender the account may not use"
req GET /v1/campaigns shop-key
[ "$(jq_ 'o.campaigns.length')" = "$NCAMP" ] || fail "a campaign was created with a bad sender: $B"
post /v1/campaigns shop-key "{\"name\": \"tpl\", \"template_id\": $TPL, \"lists\": [$LB], \"from\": \"SHOP\"}"
expect 201 "template campaign"
C2=$(jq_ 'o.id')
# list B: 15 members, 125 opted out, 130..134 have no city: 9 messages.
wait_campaign "$C2" 'o.status === "completed" && o.counts.delivered === 9' 60
[ "$(jq_ 'o.counts.skipped_invalid')" = 5 ] || fail "template invalid: $B"
[ "$(jq_ 'o.counts.skipped_optout')" = 1 ] || fail "template opt-outs: $B"
[ "$(jq_ 'o.text')" = "Hello {{name}} in {{fields.city}}" ] || fail "template text: $B"
req GET "/v1/campaigns/$C2/messages" shop-key
MID=$(jq_ 'o.messages.find((m) => m.to === "+447911100120").id')
req GET "/v1/messages/$MID" shop-key
[ "$(jq_ 'o.text')" = "Hello N120 in Leeds" ] || fail "filled text: $B"

# ---- pause and resume ---------------------------------------------------------------
post /v1/campaigns shop-key "{\"name\": \"slow\", \"text\": \"Slow\", \"lists\": [$LA], \"rate_per_minute\": 120, \"from\": \"SHOP\"}"
expect 201 "rated campaign"
C3=$(jq_ 'o.id')
wait_campaign "$C3" 'o.counts.recipients === 30 && o.counts.pending < 28' 30
post "/v1/campaigns/$C3/pause" shop-key '{}'
expect 200 "pause"
[ "$(jq_ 'o.status')" = paused ] || fail "paused: $B"
sleep 0.5 # a release in flight when paused finishes
req GET "/v1/campaigns/$C3" shop-key
P1=$(jq_ 'o.counts.pending')
sleep 2.5
req GET "/v1/campaigns/$C3" shop-key
[ "$(jq_ 'o.counts.pending')" = "$P1" ] || fail "released while paused: $P1 then $B"
[ "$P1" -gt 0 ] || fail "finished before the pause: $B"
post "/v1/campaigns/$C3/resume" shop-key '{}'
expect 200 "resume"
[ "$(jq_ 'o.status')" = running ] || fail "resumed: $B"
wait_campaign "$C3" 'o.status === "completed" && o.counts.delivered === 28' 60

# ---- cancel: the connector is paused, so the messages wait queued ---------------
post /v1/connectors/operator/pause admin-key '{}'
[ "${S:0:1}" = 2 ] || fail "connector pause: $S $B"
post /v1/campaigns shop-key "{\"name\": \"stop\", \"text\": \"Stop\", \"lists\": [$LA], \"from\": \"SHOP\"}"
C4=$(jq_ 'o.id')
wait_campaign "$C4" 'o.counts.pending === 0 && o.counts.queued === 28' 30
post "/v1/campaigns/$C4/cancel" shop-key '{}'
expect 200 "cancel"
[ "$(jq_ 'o.status')" = cancelled ] || fail "cancelled: $B"
wait_campaign "$C4" 'o.counts.cancelled === 28 && o.counts.queued === 0' 30
post "/v1/campaigns/$C4/resume" shop-key '{}'
expect_err 409 invalid_state status "resume a cancelled campaign"
post /v1/connectors/operator/resume admin-key '{}'
[ "${S:0:1}" = 2 ] || fail "connector resume: $S $B"

# ---- a window outside the recipients' hours: nothing is sent ----------------------
# The numbers are British: in November local time is UTC. A one-hour window
# starting three hours from now.
NOW_H=$(date -u +%H)
WS=$(printf %02d:00 $(((10#$NOW_H + 3) % 24)))
WE=$(printf %02d:00 $(((10#$NOW_H + 4) % 24)))
WIN_ZONE_OFFSET=$(TZ=Europe/London date +%z)
post /v1/campaigns shop-key "{\"name\": \"night\", \"text\": \"Later\", \"from\": \"SHOP\", \"lists\": [$LA], \"window\": {\"start\": \"$WS\", \"end\": \"$WE\"}}"
expect 201 "window campaign"
C5=$(jq_ 'o.id')
[ "$(jq_ 'o.window.start')" = "$WS" ] || fail "window: $B"
wait_campaign "$C5" 'o.counts.recipients === 30' 30
sleep 2
req GET "/v1/campaigns/$C5" shop-key
if [ "$WIN_ZONE_OFFSET" = "+0000" ]; then
  [ "$(jq_ 'o.counts.pending')" = 28 ] || fail "sent outside the window: $B"
  [ "$(jq_ 'o.status')" = running ] || fail "window campaign status: $B"
fi
# The same lists with a window around now are sent.
WS=$(printf %02d:00 "$((10#$NOW_H))")
WE=$(printf %02d:00 $(((10#$NOW_H + 2) % 24)))
post /v1/campaigns shop-key "{\"name\": \"day\", \"text\": \"Now\", \"from\": \"SHOP\", \"lists\": [$LA], \"window\": {\"start\": \"$WS\", \"end\": \"$WE\"}}"
C6=$(jq_ 'o.id')
wait_campaign "$C6" 'o.status === "completed" && o.counts.delivered === 28' 60
post "/v1/campaigns/$C5/cancel" shop-key '{}'
expect 200 "cancel the window campaign"

# ---- kill -9 in the middle of a big campaign ---------------------------------------
# (CAMPAIGNS_BIG recipients, 50,000 in make soak; SG_TEST_CAMPAIGN_BIG where the
# store is slower)
BIG=${SG_TEST_CAMPAIGN_BIG:-${CAMPAIGNS_BIG:-20000}}
post /v1/lists shop-key '{"name": "big"}'
LBIG=$(jq_ 'o.id')
node -e 'let s = "number\n"; for (let i = 0; i < Number(process.argv[1]); i++) s += "+4479112" + String(i).padStart(5, "0") + "\n";
  process.stdout.write(s);' -- "$BIG" >"$T/big.csv"
req POST "/v1/contacts/import?list=$LBIG" shop-key -H 'Content-Type: text/csv' --data-binary @"$T/big.csv"
[ "$(jq_ 'o.imported')" = "$BIG" ] || fail "big import: $B"
# One node process creates the campaign and polls it over a kept-alive
# connection, a request at a time with no pause, and kills the gateway
# itself the moment an answer shows the expansion (5,000 members a chunk,
# one writer transaction each) between its first and last chunk: some
# recipients, not all, and not expanded. An expansion that ends unseen
# fails the test, unless it is one chunk (SG_TEST_CAMPAIGN_BIG of 5,000 or
# fewer, as on PostgreSQL): then the kill lands in the release.
OUT=$(node -e '
const http = require("http");
const [port, pid, big] = process.argv.slice(2, 5).map(Number);
const body = process.argv[1];
const agent = new http.Agent({keepAlive: true, maxSockets: 1});
const end = Date.now() + 60000;
function call(method, path, data, cb) {
  const r = http.request({host: "127.0.0.1", port, path, method, agent,
    headers: {Authorization: "Bearer shop-key", "Content-Type": "application/json"}},
    (res) => {
      let b = "";
      res.on("data", (d) => (b += d));
      res.on("end", () => { let o = null; try { o = JSON.parse(b); } catch (e) {} cb(res.statusCode, o, b); });
    });
  r.on("error", (e) => { console.log("error " + e.message); process.exit(0); });
  r.end(data);
}
call("POST", "/v1/campaigns", body, (st, c, b) => {
  if (st !== 201) { console.log("- create " + st + " " + b); process.exit(0); }
  const poll = () => call("GET", "/v1/campaigns/" + c.id, undefined, (s2, o, b2) => {
    const n = o && o.counts ? o.counts.recipients : 0;
    if (o && !o.expanded && n > 0 && n < big) {
      process.kill(pid, "SIGKILL");
      console.log(c.id + " expansion " + n);
      process.exit(0);
    }
    if (o && o.expanded && big <= 5000 && o.counts.pending > 0) {
      process.kill(pid, "SIGKILL"); /* one chunk: no middle to catch */
      console.log(c.id + " release " + o.counts.pending);
      process.exit(0);
    }
    if ((o && o.expanded) || Date.now() > end) { console.log(c.id + " missed " + b2); process.exit(0); }
    poll();
  });
  poll();
});' "{\"name\": \"big\", \"text\": \"Big\", \"from\": \"SHOP\", \"lists\": [$LBIG]}" "$PORT" "$GW" "$BIG")
read -r C7 PHASE <<<"$OUT"
[[ $PHASE == expansion* ]] || { ((BIG <= 5000)) && [[ $PHASE == release* ]]; } ||
  fail "big campaign: the kill missed the expansion: $PHASE"
wait "$GW" 2>/dev/null
echo "kill -9 during the $PHASE of $BIG recipients"
start_gw
# Every recipient released (stored as a message); delivery goes on.
wait_campaign "$C7" 'o.expanded && o.counts.pending === 0' 150
[ "$(jq_ 'o.counts.recipients')" = "$BIG" ] || fail "big recipients: $B"
SENT=$(jq_ 'o.counts.queued + o.counts.sent + o.counts.delivered + o.counts.failed')
[ "$SENT" = "$BIG" ] || fail "big: $SENT messages counted: $B"
Q="SELECT count(*) || ' ' || count(DISTINCT recipient) FROM messages WHERE batch_id = '$C7'"
R=
if [[ $STORE == *postgres* ]]; then
  R=$(psql -At "$(sed -n 's/.*url: "\(.*\)"}/\1/p' <<<"$STORE")" -c "$Q")
elif command -v sqlite3 >/dev/null; then
  R=$(sqlite3 "$T/gw/smsgate.db" "$Q")
fi
[ -z "$R" ] || [ "$R" = "$BIG $BIG" ] || fail "big: messages stored (all, distinct): $R"

# ---- a cancel interrupted by kill -9 finishes after the restart ---------------
# A slow campaign to the big list: nearly every recipient still pending when
# it is cancelled. The cancel's steps (queued messages, then the unsent
# recipients 5,000 a step) run after the 200; the gateway is killed at once,
# and after the restart the campaign's open cancel is finished: nothing
# pending or queued, every unsent recipient counted as cancelled.
post /v1/campaigns shop-key "{\"name\": \"halt\", \"text\": \"Halt\", \"from\": \"SHOP\", \"lists\": [$LBIG], \"rate_per_minute\": 60}"
expect 201 "slow big campaign"
C8=$(jq_ 'o.id')
wait_campaign "$C8" "o.expanded && o.counts.recipients === $BIG" 60
post "/v1/campaigns/$C8/cancel" shop-key '{}'
kill -9 "$GW"
wait "$GW" 2>/dev/null
expect 200 "cancel the slow campaign"
[ "$(jq_ 'o.status')" = cancelled ] || fail "halt: $B"
start_gw
wait_campaign "$C8" 'o.counts.pending === 0 && o.counts.queued === 0' 30
[ "$(jq_ 'o.status')" = cancelled ] || fail "halt after the restart: $B"
DONE=$(jq_ 'o.counts.cancelled + o.counts.sent + o.counts.delivered + o.counts.failed + o.counts.skipped_optout + o.counts.skipped_duplicate + o.counts.skipped_invalid')
[ "$DONE" = "$BIG" ] || fail "halt: counts do not add up to $BIG: $B"
[ "$(jq_ "o.counts.cancelled > $BIG - 100")" = true ] || fail "halt: unsent not cancelled: $B"
echo "cancel across kill -9: $(jq_ 'o.counts')"
echo "campaigns: ok"
