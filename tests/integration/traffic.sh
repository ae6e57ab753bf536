#!/usr/bin/env bash
# GET /v1/stats/traffic against the real smsgate binary ($1) and its
# simulated operator: messages delivered, scheduled and cancelled are
# counted in the minute they were created, by their current status, with
# the delivery rate; an account sees its own traffic, an admin every
# account's or one's; every bad argument is a 400 naming it. The counts
# come from the store's per-minute counters, so a restart keeps them.
#
# Readiness is polled, never slept for; everything started is stopped.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/common.bash"
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
sg_test_init traffic
read -r PORT SIM < <(free_ports 2)
BASE=http://127.0.0.1:$PORT

sg_store_for "$T/gw"
cat >"$T/gw.yaml" <<EOF
store: $STORE
http: {listen: 127.0.0.1:$PORT}
simulator: {listen: 127.0.0.1:$SIM, dlr_delay: 0}
accounts:
  - {name: admin, api_key: admin-key, admin: true}
  - {name: shop, api_key: shop-key, default_region: GB}
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
  [ "$(jq_ 'o.error.code + " " + o.error.field')" = "$2 $3" ] || fail "$4: wanted $2 naming $3: $B"
}
iso() { node -e 'console.log(new Date(Date.now() + Number(process.argv[1]) * 1000).toISOString())' -- "$1"; }

# ---- traffic: 5 delivered, 1 scheduled, 1 cancelled for shop; 2 for other ----
post /v1/messages shop-key '{"to": ["+447911100001", "+447911100002", "+447911100003", "+447911100004", "+447911100005"], "from": "Shop", "text": "hello"}'
expect 202 "send"
post /v1/messages shop-key "{\"to\": [\"+447911100006\", \"+447911100007\"], \"from\": \"Shop\", \"text\": \"later\", \"send_at\": \"$(iso 3600)\"}"
expect 202 "send later"
CANCEL=$(jq_ 'o.messages[1].id')
req DELETE "/v1/messages/$CANCEL" shop-key
expect 200 "cancel"
post /v1/messages other-key '{"to": ["+4915112345601", "+4915112345602"], "from": "Other", "text": "hallo"}'
expect 202 "send other"

FROM=$(iso -600)
TO=$(iso 120)
Q="from=$FROM&to=$TO&step=60"
# wait_totals KEY QUERY JS-CONDITION (o.totals)
wait_totals() {
  local end=$((SECONDS + 20))
  while [ "$SECONDS" -lt "$end" ]; do
    req GET "/v1/stats/traffic?$2" "$1"
    [ "$S" = 200 ] && [ "$(jq_ "$3")" = true ] && return 0
    sleep 0.1
  done
  fail "traffic $2 ($1): never $3: $S $B"
}
wait_totals shop-key "$Q" 'o.totals.delivered === 5'
# 13 buckets (12 when the range began on a whole minute), the totals, the
# buckets holding the totals each at its minute, the earlier ones empty.
[ "$(jq_ '[o.account, o.step, o.buckets.length >= 12 && o.buckets.length <= 13,
  o.totals, o.buckets.reduce((a, b) => a + b.submitted, 0),
  o.buckets[0].submitted === 0 && o.buckets[0].delivery_rate === null,
  o.buckets.every((b, i) => Date.parse(b.start) === Date.parse(o.from) + 60000 * i),
  o.from.endsWith(":00.000Z")]')" = '["shop",60,true,{"submitted":7,"queued":1,"sent":0,"delivered":5,"failed":0,"expired":0,"canceled":1,"inbound":0,"delivery_rate":1},7,true,true,true]' ] ||
  fail "shop traffic: $B"

wait_totals admin-key "$Q" 'o.totals.delivered === 7'
[ "$(jq_ '[o.account, o.totals.submitted, o.totals.canceled]')" = '[null,9,1]' ] || fail "admin totals: $B"
wait_totals admin-key "$Q&account=other" 'o.totals.delivered === 2'
[ "$(jq_ '[o.account, o.totals.submitted]')" = '["other",2]' ] || fail "admin other: $B"
req GET "/v1/stats/traffic?$Q" other-key
[ "$(jq_ '[o.account, o.totals.submitted]')" = '["other",2]' ] || fail "other: $B"
# A wider step puts everything in one bucket; the default range holds it too.
req GET "/v1/stats/traffic?from=$FROM&to=$TO&step=3600" shop-key
expect 200 "one bucket"
[ "$(jq_ '[o.buckets.length, o.buckets[0].submitted, o.buckets[0].delivered]')" = '[1,7,5]' ] || fail "one bucket: $B"
req GET "/v1/stats/traffic" shop-key
expect 200 "defaults"
[ "$(jq_ '[o.step, o.buckets.length, o.totals.submitted]')" = '[1440,60,7]' ] || fail "defaults: $B"

# ---- bad arguments: 400 naming the field -------------------------------------
req GET "/v1/stats/traffic?step=90" shop-key
expect_err 400 invalid_value step "a step not a whole minute"
req GET "/v1/stats/traffic?step=abc" shop-key
expect_err 400 invalid_value step "a step not a number"
req GET "/v1/stats/traffic?step=0" shop-key
expect_err 400 invalid_value step "a zero step"
req GET "/v1/stats/traffic?from=yesterday" shop-key
expect_err 400 invalid_value from "a bad from"
req GET "/v1/stats/traffic?from=$TO&to=$FROM" shop-key
expect_err 400 invalid_value to "to before from"
req GET "/v1/stats/traffic?from=$(iso -3456000)" shop-key
expect_err 400 invalid_value from "40 days"
req GET "/v1/stats/traffic?from=$(iso -172800)&step=60" shop-key
expect_err 400 invalid_value step "2,880 buckets"
req GET "/v1/stats/traffic?bucket=60" shop-key
expect_err 400 unknown_field bucket "an unknown argument"
req GET "/v1/stats/traffic?step=60&step=120" shop-key
expect_err 400 invalid_value step "step twice"
req GET "/v1/stats/traffic?account=other" shop-key
expect_err 403 admin_required account "another account without admin"
req GET "/v1/stats/traffic?account=nobody" admin-key
expect_err 404 not_found account "an unknown account"
req GET "/v1/stats/traffic" wrong-key
expect 401 "a wrong key"

# ---- the counters are stored: a restart keeps them -----------------------------
kill -9 "$GW"
wait "$GW" 2>/dev/null
start_gw
req GET "/v1/stats/traffic?$Q" shop-key
expect 200 "after restart"
[ "$(jq_ '[o.totals.submitted, o.totals.delivered, o.totals.queued, o.totals.canceled]')" = '[7,5,1,1]' ] ||
  fail "after restart: $B"

echo "traffic: ok"
