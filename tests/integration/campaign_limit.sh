#!/usr/bin/env bash
# The limit of campaigns held at once, through the REST API of the real
# smsgate binary ($1): 1,000 campaigns scheduled for tomorrow are created
# (in parallel, by one node process over kept-alive connections); the
# 1,001st is refused with 429 too_many_campaigns naming the limit and
# nothing is created; once one is cancelled (its cancel done) a new one is
# taken again, and the next is refused again.
#
# Readiness is polled, never slept for; everything started is stopped.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/common.bash"
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
sg_test_init campaign_limit
read -r PORT SIM < <(free_ports 2)
BASE=http://127.0.0.1:$PORT

sg_store_for "$T/gw"
cat >"$T/gw.yaml" <<EOF2
store: $STORE
http: {listen: 127.0.0.1:$PORT}
simulator: {listen: 127.0.0.1:$SIM}
accounts:
  - {name: shop, api_key: shop-key, default_region: GB, senders: [SHOP]}
connectors:
  - {name: operator, type: smpp, host: 127.0.0.1, port: $SIM,
     system_id: smsgate, password: secret}
routes:
  - {prefix: "+", connectors: [operator]}
log: {level: warn}
EOF2
"$BIN" serve -c "$T/gw.yaml" >>"$T/gw.log" 2>&1 &
PIDS+=("$!")
wait_http "$BASE/healthz" . 30 || fail "gateway not ready"

req() { # METHOD PATH [curl args...]: the body in $B, the status in $S
  local m=$1 p=$2
  shift 2
  S=$(curl -s -o "$T/body" -w '%{http_code}' -X "$m" -H "Authorization: Bearer shop-key" "$@" "$BASE$p")
  B=$(cat "$T/body")
}
post() { req POST "$1" -H 'Content-Type: application/json' --data-binary "$2"; }

post /v1/lists '{"name": "few"}'
[ "$S" = 201 ] || fail "list: $S $B"
L=$(jq_ 'o.id')
printf 'number\n+447911100001\n' >"$T/few.csv"
req POST "/v1/contacts/import?list=$L" -H 'Content-Type: text/csv' --data-binary @"$T/few.csv"
[ "$(jq_ 'o.imported')" = 1 ] || fail "import: $B"
TOMORROW=$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)
BODY="{\"name\": \"c\", \"text\": \"Later\", \"from\": \"SHOP\", \"lists\": [$L], \"send_at\": \"$TOMORROW\"}"

# 1,000 creates, 16 at a time: the statuses counted.
N=$(node -e '
const http = require("http");
const [body, port] = [process.argv[1], Number(process.argv[2])];
const agent = new http.Agent({keepAlive: true, maxSockets: 16});
const counts = {};
let sent = 0, done = 0;
function one() {
  if (sent === 1000) return;
  sent++;
  const r = http.request({host: "127.0.0.1", port, path: "/v1/campaigns", method: "POST", agent,
    headers: {Authorization: "Bearer shop-key", "Content-Type": "application/json"}}, (res) => {
    let b = "";
    res.on("data", (d) => { b += d; });
    res.on("end", () => {
      counts[res.statusCode] = (counts[res.statusCode] || 0) + 1;
      if (res.statusCode !== 201) counts["body" + done] = b; /* what refused it */
      if (++done === 1000) { console.log(JSON.stringify(counts)); process.exit(0); }
      one();
    });
  });
  r.on("error", (e) => { console.log("error " + e.message); process.exit(0); });
  r.end(body);
}
for (let i = 0; i < 16; i++) one();' "$BODY" "$PORT")
[ "$N" = '{"201":1000}' ] || fail "1,000 creates: $N"

# The 1,001st: refused, naming the limit; nothing created.
post /v1/campaigns "$BODY"
[ "$S" = 429 ] || fail "the 1,001st: HTTP $S: $B"
[ "$(jq_ 'o.error.code')" = too_many_campaigns ] || fail "the 1,001st: $B"
[[ $(jq_ 'o.error.message') == *"at most 1000 campaigns"* ]] || fail "the limit is not named: $B"
req GET "/v1/campaigns?limit=1000"
[ "$(jq_ 'o.campaigns.length')" = 1000 ] || fail "campaigns listed: $(jq_ 'o.campaigns.length')"
[ "$(jq_ 'o.next_cursor')" = null ] || fail "more than 1,000 campaigns stored"

# One cancelled: once its cancel is done, there is room for one more.
ONE=$(jq_ 'o.campaigns[0].id')
post "/v1/campaigns/$ONE/cancel" '{}'
[ "$S" = 200 ] || fail "cancel: $S $B"
for ((i = 0; i < 100; i++)); do
  post /v1/campaigns "$BODY"
  [ "$S" = 201 ] && break
  [ "$S" = 429 ] || fail "create after the cancel: HTTP $S: $B"
  sleep 0.1
done
[ "$S" = 201 ] || fail "no room after a cancel: $B"
post /v1/campaigns "$BODY"
[ "$S" = 429 ] || fail "the limit after the cancel: HTTP $S: $B"
echo "campaign_limit: ok"
