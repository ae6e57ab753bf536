#!/usr/bin/env bash
# Configuration reload, end to end: the real smsgate binary ($1) with two
# SMSC simulator processes (opa, opb) while a client sends without pause.
# Reloads several times: SIGHUP adding a connector and a route; POST
# /v1/admin/reload changing an account's limit, a route and a connector's
# rate (in place), with a key that needs a restart reported; `smsgate
# reload` with a file that has errors (refused whole, each error as
# file:line:column, nothing changed); `smsgate reload` re-binding one
# connector; and removing a connector. Checks that every accepted message
# is delivered, that binds of connectors that did not change stayed up (the
# simulator counts no new bind), and the reports.
#
# Readiness is polled, never slept for. Everything started is stopped on
# exit (KEEP_LOGS=DIR keeps the logs). Needs node and curl.
set -u
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/common.bash" # fail, free_ports, wait_http, wait_log
T=$(mktemp -d "${TMPDIR:-/tmp}/reload.XXXXXX")
PIDS=()
ADMIN=admin-key
CUST=cust-key

cleanup() {
  local p
  exec 3>&- 4>&- 2>/dev/null
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  [ -n "${KEEP_LOGS:-}" ] && cp "$T"/*.log "$KEEP_LOGS"/ 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# api METHOD PATH KEY [BODY]: sets CODE, BODY and SECS (the time taken).
api() {
  local out
  out=$(curl -s -o "$T/body" -w '%{http_code} %{time_total}' -X "$1" \
    -H "Authorization: Bearer $3" -H 'Content-Type: application/json' \
    ${4:+--data "$4"} "$BASE$2") || out="000 0" # not listening (yet)
  CODE=${out%% *}
  SECS=${out#* }
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

# A simulator whose stdin is a FIFO kept open on descriptor FD, so that
# `stats` can be asked at any time. Its ids (hex) start at 6600000443331:
# ten of digits only, then six with a letter, again and again, so that the
# receipts of parts answered before a reload, under the hex key the old
# connector had learned, reach a new connector that has learned nothing.
start_sim() { # name port fd
  mkfifo "$T/$1.ctl"
  "$BIN" sim smsc --port "$2" --dlr-delay 20 --stats-interval 0 \
    --id-start 1794402980999985 <"$T/$1.ctl" >"$T/$1.log" 2>&1 &
  PIDS+=($!)
  eval "exec $3>\"$T/$1.ctl\""
}

# sim_stat NAME FD FIELD: asks the simulator for its counters, waits for
# the answer and prints FIELD of it.
sim_stat() {
  local before i
  before=$(grep -c '"type":"stats"' "$T/$1.log")
  echo stats >&"$2"
  for ((i = 0; i < 100; i++)); do
    [ "$(grep -c '"type":"stats"' "$T/$1.log")" -gt "$before" ] && break
    sleep 0.05
  done
  grep '"type":"stats"' "$T/$1.log" | tail -n 1 |
    node -e 'let s = ""; process.stdin.on("data", (c) => (s += c));
      process.stdin.on("end", () => console.log(JSON.parse(s)[process.argv[1]]));' "$3"
}

accepted() { wc -l <"$T/ids" | tr -d ' '; }

wait_accepted() { # more than N accepted
  local i
  for ((i = 0; i < 300; i++)); do
    [ "$(accepted)" -gt "$1" ] && return 0
    sleep 0.1
  done
  fail "the client got no more than $1 messages accepted"
}

read -r HTTP SIMA SIMB < <(free_ports 3)
[ -n "$SIMB" ] || fail "no free ports"
BASE=http://127.0.0.1:$HTTP
: >"$T/body"
start_sim sima "$SIMA" 3
start_sim simb "$SIMB" 4

sg_store_for "$T/gw" # one store for every configuration written below
# conf FILE OPB ROUTES MAXPARTS OPA_TPS MAXBODY OPB_WINDOW [LATE]: a
# configuration; LATE=yes adds the account "late".
conf() {
  cat >"$1" <<EOF
store: $STORE
http: {listen: 127.0.0.1:$HTTP, max_body: $6}
accounts:
  - {name: ops, api_key: $ADMIN, admin: true}
  - {name: shop, api_key: $CUST, default_region: RU, max_parts: $4,
     default_sender: Shop}
EOF
  [ "${8:-no}" = yes ] && cat >>"$1" <<EOF
  - {name: late, api_key: late-key, default_region: RU, default_sender: Late}
EOF
  cat >>"$1" <<EOF
connectors:
  - {name: opa, type: smpp, host: 127.0.0.1, port: $SIMA, system_id: gw,
     binds: 2, reconnect_min: 200ms, reconnect_max: 1s, tps: $5}
EOF
  [ "$2" = yes ] && cat >>"$1" <<EOF
  - {name: opb, type: smpp, host: 127.0.0.1, port: $SIMB, system_id: gw,
     reconnect_min: 200ms, reconnect_max: 1s, window: $7}
EOF
  printf 'routes:\n%s\nlog: {level: info}\n' "$3" >>"$1"
}

R1='  - {prefix: "+", connectors: [opa]}'
R2="$R1"$'\n''  - {prefix: "+7910", connectors: [opb]}'
R3="$R2"$'\n''  - {prefix: "+7916", connectors: [opb, opa]}'

conf "$T/gw.yaml" no "$R1" 10 0 1MB 10
"$BIN" serve -c "$T/gw.yaml" >"$T/gw.log" 2>&1 &
GW=$!
PIDS+=($GW)
wait_until 'd.connectors.length === 1 && d.connectors[0].state === "up" &&
  d.connectors[0].binds_up === 2' GET /v1/connectors || fail "opa not up"
expect "opa binds at the simulator" "$(sim_stat sima 3 binds)" 2
echo "ok - gateway up, opa with 2 binds"

: >"$T/ids"
node "$HERE/reload.js" send "$BASE" "$CUST" "$T/ids" "$T/stop" >"$T/client.log" 2>&1 &
CLIENT=$!
PIDS+=($CLIENT)
wait_accepted 20

# ---- 1. SIGHUP: a connector and a route added --------------------------------
conf "$T/gw.yaml" yes "$R2" 10 0 1MB 10
kill -HUP "$GW"
wait_until 'd.connectors.length === 2 && d.connectors.every((c) =>
  c.state === "up")' GET /v1/connectors || fail "opb not up after SIGHUP"
grep -q 'reload: {"changed":true,"connectors":{"added":\["opb"\],"removed":\[\],"rebound":\[\],"changed":\[\],"unchanged":\["opa"\]},"routes":"replaced"' "$T/gw.log" ||
  fail "SIGHUP report not logged"
N=$(accepted)
for ((i = 0; i < 300; i++)); do
  [ "$(sim_stat simb 4 submits)" -gt 0 ] && break
  sleep 0.1
done
[ "$(sim_stat simb 4 submits)" -gt 0 ] || fail "no message went to opb"
expect "opa binds after SIGHUP" "$(sim_stat sima 3 binds)" 2
expect "opb binds after SIGHUP" "$(sim_stat simb 4 binds)" 1
echo "ok - SIGHUP added opb and its route; opa kept its 2 binds"

# ---- 2. POST /v1/admin/reload: a limit, a route, a rate -------------------------
conf "$T/gw.yaml" yes "$R3" 1 500 2MB 10 yes
LONG=$(printf 'x%.0s' $(seq 1 200))
api POST /v1/admin/reload "$CUST"
expect "reload as a customer" "$CODE" 403
expect "reload as a customer: code" "$(jget d.error.code)" admin_required
api POST /v1/admin/reload "$ADMIN"
expect "reload through the API" "$CODE" 200
echo "# POST /v1/admin/reload answered in $SECS s while sending"
expect "accounts changed" "$(jget 'd.accounts.changed')" '[{"name":"shop","keys":"max_parts"}]'
expect "accounts added" "$(jget 'd.accounts.added')" '["late"]'
expect "connectors changed in place" "$(jget 'd.connectors.changed')" '[{"name":"opa","keys":"tps"}]'
expect "connectors unchanged" "$(jget 'd.connectors.unchanged')" '["opb"]'
expect "routes" "$(jget d.routes)" replaced
expect "restart required" "$(jget d.restart_required)" '["http"]'
api POST /v1/messages "$CUST" "{\"to\": \"+79001234567\", \"text\": \"$LONG\"}"
expect "a 2-part message after max_parts: 1" "$CODE" 422
expect "its error" "$(jget d.error.code)" too_many_parts
api POST /v1/messages late-key '{"to": "+79001234567", "text": "late"}'
expect "a message of the account added by the reload" "$CODE" 202
jget 'd.messages[0].id' >"$T/late_id"
api GET /v1/connectors "$ADMIN"
expect "opa binds_up after its tps changed" "$(jget 'd.connectors.find((c) => c.name === "opa").binds_up')" 2
expect "opa binds after the API reload" "$(sim_stat sima 3 binds)" 2
expect "opb binds after the API reload" "$(sim_stat simb 4 binds)" 1
echo "ok - POST /v1/admin/reload: max_parts, an account, a route and opa's tps applied, binds kept"

# ---- 3. a file with errors: refused whole --------------------------------------
cp "$T/gw.yaml" "$T/good.yaml"
sed -i 's/port: '"$SIMA"', system_id: gw,/port: abc, system_id: gw,/' "$T/gw.yaml"
sed -i 's/^  - {name: shop, /  - {name: shop, prot: 1, /' "$T/gw.yaml"
sed -i 's/{prefix: "+7916", connectors: \[opb, opa\]}/{prefix: "+7916", connectors: [opc]}/' "$T/gw.yaml"
LINE_SHOP=$(grep -n 'name: shop' "$T/gw.yaml" | cut -d: -f1)
LINE_OPA=$(grep -n 'port: abc' "$T/gw.yaml" | cut -d: -f1)
LINE_R=$(grep -n 'opc' "$T/gw.yaml" | cut -d: -f1)
"$BIN" reload --url "$BASE" --key "$ADMIN" >"$T/cli.out" 2>"$T/cli.err"
expect "smsgate reload of a bad file: exit status" "$?" 1
grep -q "HTTP 422 invalid_config: the configuration has 3 error(s); nothing was changed" "$T/cli.err" ||
  fail "no summary: $(cat "$T/cli.err")"
grep -q "^$T/gw.yaml:$LINE_SHOP:[0-9]*: accounts\[1\].prot: unknown key" "$T/cli.err" ||
  fail "no unknown-key error at line $LINE_SHOP: $(cat "$T/cli.err")"
grep -q "^$T/gw.yaml:$LINE_OPA:[0-9]*: connectors\[0\].port: expected an integer 1-65535, got \"abc\"" "$T/cli.err" ||
  fail "no port error at line $LINE_OPA: $(cat "$T/cli.err")"
grep -q "^$T/gw.yaml:$LINE_R:[0-9]*: routes\[2\].connectors\[0\]: no connector named \"opc\"" "$T/cli.err" ||
  fail "no route error at line $LINE_R: $(cat "$T/cli.err")"
grep -q "reload refused: the configuration has 3 error(s)" "$T/gw.log" || fail "refusal not logged"
api POST /v1/messages "$CUST" "{\"to\": \"+79001234567\", \"text\": \"$LONG\"}"
expect "max_parts still 1 after the refused file" "$CODE" 422
wait_until 'd.connectors.length === 2 && d.connectors.every((c) =>
  c.state === "up")' GET /v1/connectors || fail "connectors not up after the refused file"
expect "opa binds after the refused file" "$(sim_stat sima 3 binds)" 2
expect "opb binds after the refused file" "$(sim_stat simb 4 binds)" 1
echo "ok - a file with 3 errors is refused whole with file:line:column, nothing changed"

# ---- 4. smsgate reload: opb re-bound ------------------------------------------
conf "$T/gw.yaml" yes "$R3" 1 500 2MB 20 yes
"$BIN" reload --url "$BASE" --key "$ADMIN" >"$T/cli.out" 2>"$T/cli.err" ||
  fail "smsgate reload: $(cat "$T/cli.err")"
grep -q "rebound   opb (window)" "$T/cli.out" || fail "CLI report: $(cat "$T/cli.out")"
grep -q "unchanged opa" "$T/cli.out" || fail "CLI report: $(cat "$T/cli.out")"
for ((i = 0; i < 300; i++)); do
  [ "$(sim_stat simb 4 binds)" = 2 ] && break
  sleep 0.1
done
expect "opb bound again" "$(sim_stat simb 4 binds)" 2
wait_until 'd.connectors.length === 2 && d.connectors.every((c) =>
  c.state === "up")' GET /v1/connectors || fail "opb not up after its re-bind"
expect "opa binds after opb's re-bind" "$(sim_stat sima 3 binds)" 2
N=$(accepted)
wait_accepted $((N + 20))
echo "ok - smsgate reload re-bound opb (window), opa untouched"

# ---- every accepted message delivered ---------------------------------------
touch "$T/stop"
wait "$CLIENT" || fail "the client failed: $(cat "$T/client.log")"
node "$HERE/reload.js" check "$BASE" "$CUST" "$T/ids" 60 >"$T/check.log" 2>&1 ||
  fail "messages lost: $(cat "$T/check.log")"
node "$HERE/reload.js" check "$BASE" late-key "$T/late_id" 30 >/dev/null 2>&1 ||
  fail "the message of the added account was not delivered"
echo "ok - every accepted message delivered: $(cat "$T/check.log") $(cat "$T/client.log")"

# ---- 5. opb removed ----------------------------------------------------------
# While a routing table saved through the API names opb, removing opb is
# refused whole; after a reset of the saved table it goes through.
api PUT /v1/routes "$ADMIN" '{"routes": [{"prefix": "+", "connectors": ["opb", "opa"]}]}'
expect "a saved routing table" "$CODE" 200
conf "$T/gw.yaml" no "$R1" 1 500 2MB 20
api POST /v1/admin/reload "$ADMIN"
expect "remove opb named by the saved table" "$CODE" 422
expect "its error" "$(jget d.error.code)" reload_refused
expect "its field" "$(jget d.error.field)" "routes[0].connectors[0]"
api GET /v1/connectors "$ADMIN"
expect "opb still there after the refusal" "$(jget 'd.connectors.map((c) => c.name).join()')" opa,opb
api POST /v1/routes/reset "$ADMIN"
expect "reset the saved table" "$CODE" 200
api POST /v1/admin/reload "$ADMIN"
expect "remove opb" "$CODE" 200
expect "connectors removed" "$(jget 'd.connectors.removed')" '["opb"]'
expect "accounts removed" "$(jget 'd.accounts.removed')" '["late"]'
api POST /v1/messages late-key '{"to": "+79001234567", "text": "late"}'
expect "a removed account's key" "$CODE" 403
expect "its error" "$(jget d.error.code)" account_disabled
wait_until 'd.connectors.length === 1 && d.connectors[0].name === "opa"' \
  GET /v1/connectors || fail "opb still listed"
for ((i = 0; i < 300; i++)); do
  [ "$(sim_stat simb 4 binds_active)" = 0 ] && break
  sleep 0.1
done
expect "opb unbound" "$(sim_stat simb 4 binds_active)" 0
expect "opa binds at the end" "$(sim_stat sima 3 binds)" 2
api POST /v1/admin/reload "$ADMIN"
expect "the same file again: nothing changed" "$(jget d.changed)" false
echo "ok - removing opb refused while the saved table named it; opb and the account late removed after the reset; the same file again changes nothing"

kill -TERM "$GW"
wait "$GW"
expect "gateway exit status" "$?" 0
echo "ok - stopped"
