#!/usr/bin/env bash
# Routing at run time, end to end: the real smsgate binary ($1) with two
# SMSC simulator processes (opa, opb). Checks that the admin endpoints
# refuse a customer's key (403); that /v1/routes shows the configuration's
# table and /v1/routes/test explains a choice; that bad edits (unknown
# connector, a pattern that does not compile) are 422 naming the field and
# change nothing; that a route added over the API takes traffic at once
# and is still there after a restart; that pausing a connector moves new
# messages to the route's next connector and resuming brings them back; that
# a reset goes back to the configuration; and the CLI's `routes` and
# `connectors` commands.
#
# Readiness is polled, never slept for. Everything started is stopped on
# exit (KEEP_LOGS=DIR keeps the gateways' logs there, e.g. to read what a
# sanitizer build reported at exit). Needs node and curl.
set -u
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib/common.bash" # fail, free_ports, wait_http, wait_log
T=$(mktemp -d "${TMPDIR:-/tmp}/routes.XXXXXX")
PIDS=()
ADMIN=admin-key
CUST=cust-key

cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  [ -n "${KEEP_LOGS:-}" ] && cp "$T"/gw*.log "$KEEP_LOGS"/ 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start() { # name, command...
  local name=$1
  shift
  "$@" >"$T/$name.log" 2>&1 &
  PIDS+=($!)
  LAST_PID=$!
}

# api METHOD PATH KEY [BODY]: sets CODE and BODY.
api() {
  local out
  out=$(curl -s -o "$T/body" -w '%{http_code}' -X "$1" \
    -H "Authorization: Bearer $3" -H 'Content-Type: application/json' \
    ${4:+--data "$4"} "$BASE$2") || out=000 # not listening (yet)
  CODE=$out
  BODY=$(cat "$T/body")
}

# jget EXPR: evaluates a JavaScript expression on d = the last BODY.
jget() {
  node -e 'const d = JSON.parse(process.argv[1]); const v = eval(process.argv[2]);
    console.log(typeof v === "string" ? v : JSON.stringify(v));' "$BODY" "$1"
}

expect() { # what, got, want
  [ "$2" = "$3" ] || fail "$1: got '$2', want '$3' (HTTP $CODE: $BODY)"
}

# wait_until EXPR METHOD PATH [KEY]: polls until jget EXPR prints true.
wait_until() {
  local i
  for ((i = 0; i < 300; i++)); do
    api "$2" "$3" "${4:-$ADMIN}"
    [ "$CODE" = 200 ] && [ "$(jget "$1")" = true ] && return 0
    sleep 0.1
  done
  return 1
}

# send TO: sends one message as the customer, sets MSG to its id.
send() {
  api POST /v1/messages "$CUST" "{\"to\": \"$1\", \"text\": \"hello\"}"
  expect "send to $1" "$CODE" 202
  MSG=$(jget 'd.messages[0].id')
}

# sent_on ID CONNECTOR: waits until the message was sent on that connector.
sent_on() {
  wait_until "['sent','delivered'].includes(d.status) &&
    d.segments[0].connector === '$2'" GET "/v1/messages/$1" "$CUST" ||
    fail "message $1 not sent on $2: $BODY"
}

read -r HTTP SIMA SIMB < <(free_ports 3)
BASE=http://127.0.0.1:$HTTP
start sima "$BIN" sim smsc --port "$SIMA" --dlr-delay 20 --quiet
start simb "$BIN" sim smsc --port "$SIMB" --dlr-delay 20 --quiet
sg_store_for "$T/gw"
cat >"$T/gw.yaml" <<EOF
store: $STORE
http: {listen: 127.0.0.1:$HTTP}
accounts:
  - {name: ops, api_key: $ADMIN, admin: true}
  - {name: shop, api_key: $CUST, default_region: RU, default_sender: Shop}
connectors:
  - {name: opa, type: smpp, host: 127.0.0.1, port: $SIMA, system_id: gw,
     reconnect_min: 200ms, reconnect_max: 1s, prices: {"+7": 0.03}}
  - {name: opb, type: smpp, host: 127.0.0.1, port: $SIMB, system_id: gw,
     reconnect_min: 200ms, reconnect_max: 1s, prices: {"+7": 0.02}}
routes:
  - {prefix: "+", connectors: [opa]}
log: {level: info}
EOF
start gw "$BIN" serve -c "$T/gw.yaml"
GW=$LAST_PID
UP='d.connectors.every((c) => c.state === "up")'
wait_until "$UP" GET /v1/connectors || fail "connectors not up"
echo "ok - gateway up with two connectors"

# ---- admin only ----
for p in "GET /v1/routes" "GET /v1/connectors" "POST /v1/connectors/opa/pause" \
  "POST /v1/routes/test" "PUT /v1/routes"; do
  api $p "$CUST" '{}'
  expect "$p as a customer" "$CODE" 403
  expect "$p error code" "$(jget d.error.code)" admin_required
done
api GET /v1/routes wrong-key
expect "unknown key" "$CODE" 401
echo "ok - 403 admin_required for a customer's key, 401 for an unknown one"

# ---- the configuration's table, and a dry run ----
api GET /v1/routes "$ADMIN"
expect "GET /v1/routes" "$CODE" 200
expect "source" "$(jget d.source)" configuration
expect "table" "$(jget 'd.routes.map((r) => r.id + r.prefix + r.connectors)')" '["1+opa"]'
api POST /v1/routes/test "$ADMIN" '{"to": "8 916 123-45-67", "account": "shop"}'
expect "test" "$CODE" 200
expect "test to" "$(jget d.to)" +79161234567
expect "test connector" "$(jget d.connector)" opa
expect "test tried" "$(jget 'd.tried[0].matched')" true
api POST /v1/routes/test "$ADMIN" '{"to": "12"}'
expect "test bad number" "$CODE" 422
expect "test bad number field" "$(jget d.error.field)" to
echo "ok - GET /v1/routes and /v1/routes/test"

# ---- bad edits change nothing ----
api PUT /v1/routes "$ADMIN" '{"routes": [{"prefix": "+", "connectors": ["opa", "nope"]}]}'
expect "unknown connector" "$CODE" 422
expect "unknown connector code" "$(jget d.error.code)" unknown_connector
expect "unknown connector field" "$(jget d.error.field)" 'routes[0].connectors[1]'
api POST /v1/routes "$ADMIN" '{"pattern": "^\\+7(9", "connectors": ["opb"]}'
expect "bad pattern" "$CODE" 422
expect "bad pattern field" "$(jget d.error.field)" pattern
expect "bad pattern offset" "$(jget '/at offset 6$/.test(d.error.message)')" true
api POST /v1/routes "$ADMIN" '{"prefix": "+7", "connectors": ["opb"], "colour": 1}'
expect "unknown field" "$(jget d.error.code)" unknown_field
api POST /v1/routes "$ADMIN" '{"prefix": "+7", "connectors": ["opb"], "position": 5}'
expect "bad position" "$(jget d.error.field)" position
api GET /v1/routes "$ADMIN"
expect "table unchanged" "$(jget 'd.source + d.routes.length')" configuration1
echo "ok - bad edits are 422 naming the field and change nothing"

# ---- an edit takes effect at once ----
send +79161234567
sent_on "$MSG" opa
api POST /v1/routes "$ADMIN" '{"prefix": "+7", "pattern": "^\\+79[0-9]{9}$", "connectors": ["opa", "opb"], "strategy": "least-cost", "position": 0}'
expect "add route" "$CODE" 201
expect "new id" "$(jget d.id)" 2
api GET /v1/routes "$ADMIN"
expect "table after add" "$(jget 'd.source + JSON.stringify(d.routes.map((r) => r.id))')" 'saved[2,1]'
api POST /v1/routes/test "$ADMIN" '{"to": "+79161234567"}'
expect "least-cost choice" "$(jget 'd.route.id + d.connector')" 2opb
expect "least-cost order" "$(jget 'd.connectors.map((c) => c.name + c.price)')" '["opb0.02","opa0.03"]'
send +79161234567
sent_on "$MSG" opb
send +4915112345678
sent_on "$MSG" opa
echo "ok - a route added over the API takes traffic without a restart"

# ---- pause and resume ----
api POST /v1/connectors/opb/pause "$ADMIN"
expect "pause" "$CODE" 200
expect "paused state" "$(jget d.state)" paused
api POST /v1/routes/test "$ADMIN" '{"to": "+79161234567"}'
expect "test while paused" "$(jget 'd.connector + d.connectors[0].usable')" opafalse
send +79161234567
sent_on "$MSG" opa
api POST /v1/connectors/nope/pause "$ADMIN"
expect "pause unknown" "$CODE" 404
api POST /v1/connectors/opb/resume "$ADMIN"
expect "resume" "$(jget d.state)" up
send +79161234567
sent_on "$MSG" opb
echo "ok - pause moves traffic to the route's other connector, resume brings it back"

# ---- edits by id ----
api PUT /v1/routes/2 "$ADMIN" '{"prefix": "+7", "connectors": ["opb"], "type": "unicode"}'
expect "PUT by id" "$(jget 'd.id + d.type')" 2unicode
api GET /v1/routes/2 "$ADMIN"
expect "GET by id" "$(jget 'd.connectors')" '["opb"]'
api POST /v1/routes/test "$ADMIN" '{"to": "+79161234567", "type": "text"}'
expect "type text skips it" "$(jget 'd.route.id')" 1
api GET /v1/routes/99 "$ADMIN"
expect "unknown id" "$CODE" 404
api DELETE /v1/routes/2 "$ADMIN"
expect "DELETE" "$(jget 'd.routes.map((r) => r.id)')" '[1]'
api PUT /v1/routes "$ADMIN" '{"routes": [{"prefix": "+7", "connectors": ["opb", "opa"]}, {"id": 1, "prefix": "+", "connectors": ["opa"]}]}'
expect "PUT table" "$(jget 'd.routes.map((r) => r.id + r.prefix)')" '["3+7","1+"]'
echo "ok - GET/PUT/DELETE /v1/routes/{id} and PUT /v1/routes"

# ---- the table and a pause survive a restart ----
api POST /v1/connectors/opa/pause "$ADMIN"
expect "pause opa" "$(jget d.paused)" true
kill "$GW"
wait "$GW" 2>/dev/null
start gw2 "$BIN" serve -c "$T/gw.yaml"
wait_until 'd.connectors.every((c) => c.link === "up")' GET /v1/connectors ||
  fail "no restart"
api GET /v1/routes "$ADMIN"
expect "after restart" "$(jget 'd.source + JSON.stringify(d.routes.map((r) => r.id + r.prefix))')" 'saved["3+7","1+"]'
api GET /v1/connectors/opa "$ADMIN"
expect "pause after restart" "$(jget d.state)" paused
send +79161234567
sent_on "$MSG" opb
echo "ok - the saved table and the pause survive a restart"

# ---- the CLI ----
export SMSGATE_URL=$BASE SMSGATE_API_KEY=$ADMIN
"$BIN" routes list >"$T/cli.txt" || fail "routes list"
grep -q '^3 *+7 .*opb,opa' "$T/cli.txt" || fail "routes list: $(cat "$T/cli.txt")"
"$BIN" routes test --to +79161234567 >"$T/cli.txt" || fail "routes test"
grep -q 'route 3, connector opb' "$T/cli.txt" || fail "routes test: $(cat "$T/cli.txt")"
"$BIN" connectors resume opa >/dev/null || fail "connectors resume"
"$BIN" connectors list >"$T/cli.txt" || fail "connectors list"
grep -q '^opa  *up' "$T/cli.txt" || fail "connectors list: $(cat "$T/cli.txt")"
"$BIN" connectors pause nope 2>"$T/cli.txt" && fail "pause of an unknown connector"
grep -q 'HTTP 404' "$T/cli.txt" || fail "pause nope: $(cat "$T/cli.txt")"
SMSGATE_API_KEY=$CUST "$BIN" routes list 2>"$T/cli.txt" && fail "customer key"
grep -q 'HTTP 403 admin_required' "$T/cli.txt" || fail "cli 403: $(cat "$T/cli.txt")"
echo "ok - smsgate routes list|test, connectors list|pause|resume"

# ---- reset ----
api POST /v1/routes/reset "$ADMIN"
expect "reset" "$(jget 'd.source + d.routes.length')" configuration1
api POST /v1/routes/test "$ADMIN" '{"to": "+79161234567"}'
expect "after reset" "$(jget d.connector)" opa
echo "ok - reset goes back to the configuration"
echo "PASS"
