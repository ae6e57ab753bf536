#!/usr/bin/env bash
# The admin API's lists, retries and concurrency on the real smsgate binary
# ($1): admin lists a page at a time with the command line following their
# cursors (admin_more.js pages); Idempotency-Key on account, key and credit
# creation, also across a restart (idem, idem2); changes queued one at a
# time: concurrent curl scripts all succeed, over the bound 429 with
# Retry-After (queue).
#
# Readiness is polled, never slept for. Everything started is stopped on
# exit. Needs node.
set -u
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
JS="$HERE/admin_more.js"
. "$HERE/lib/common.bash"
sg_test_init admin_more

read -r HTTP SIM <<<"$(free_ports 2)"
[ -n "$SIM" ] || fail "no free ports"
sg_store_for "$T/gw"
cat >"$T/gw.yaml" <<EOF2
store: $STORE
http: {listen: 127.0.0.1:$HTTP}
simulator: {listen: 127.0.0.1:$SIM}
accounts:
  - {name: admin, api_key: admin-key, admin: true}
  - {name: user, api_key: user-key}
  - {name: payer, api_key: payer-key, billing: {prices: {"+": 0.05}}}
  - {name: other, api_key: other-key, billing: {prices: {"+": 0.05}}}
connectors:
  - {name: op1, type: smpp, host: 127.0.0.1, port: $SIM, system_id: a, password: b}
  - {name: op2, type: smpp, host: 127.0.0.1, port: $SIM, system_id: a, password: b}
  - {name: op3, type: smpp, host: 127.0.0.1, port: $SIM, system_id: a, password: b}
routes:
  - {prefix: "+", connectors: [op1, op2, op3]}
log: {level: info}
EOF2
BASE=http://127.0.0.1:$HTTP

start_gw() {
  "$BIN" serve -c "$T/gw.yaml" >>"$T/gw.log" 2>&1 &
  PIDS+=($!)
  GW=$!
  wait_http "$BASE/healthz" '"status":"ok"' 30 || fail "gateway not ready"
}
phase() { node "$JS" "$1" "$BASE" "$T/flood.made" 2>"$T/js.err" || fail "$1: $(cat "$T/js.err")"; }

start_gw
phase pages
phase idem

# Changes one at a time, queued: two scripts creating accounts at once with
# curl both succeed (each answer 201), as do patches of one account sent
# together (none lost).
script() { # prefix: creates 3 accounts, one after the other, with passwords
  local i code
  for i in 1 2 3; do
    code=$(curl -s -o "$T/$1$i.json" -w '%{http_code}' "$BASE/v1/accounts" \
      -H 'Authorization: Bearer admin-key' -H 'Content-Type: application/json' \
      -d "{\"name\": \"$1$i\", \"password\": \"pw-$1-$i\"}")
    echo "$code" >>"$T/$1.codes"
  done
}
script qa & QA=$!
script qb & QB=$!
script qc & QC=$!
wait $QA $QB $QC
for p in qa qb qc; do
  [ "$(grep -c '^201$' "$T/$p.codes")" -eq 3 ] || fail "script $p: $(tr '\n' ' ' <"$T/$p.codes") $(cat "$T/${p}1.json")"
done
PATCHES=()
for i in $(seq 1 12); do
  curl -s -o /dev/null -w '%{http_code}\n' -X PATCH "$BASE/v1/accounts/qa1" \
    -H 'Authorization: Bearer admin-key' -H 'Content-Type: application/json' \
    -d "{\"senders\": [\"S$i\"], \"tps\": $i}" >"$T/patch$i.code" &
  PATCHES+=($!)
done
wait "${PATCHES[@]}"
[ "$(cat "$T"/patch*.code | grep -c '^200$')" -eq 12 ] || fail "patches: $(cat "$T"/patch*.code | tr '\n' ' ')"
phase queue

kill "$GW" && wait "$GW" || fail "gateway did not stop cleanly on SIGTERM"
start_gw
phase idem2

# The command line follows the cursors: 4 + 3 + 20 + 2 + 9 accounts and
# the flood's (at least 65), over two pages.
export SMSGATE_URL=$BASE SMSGATE_KEY=admin-key SMSGATE_API_KEY=admin-key
"$BIN" account list >"$T/cli.out" 2>&1 || fail "account list: $(cat "$T/cli.out")"
[ "$(grep -cE '^(admin|user|payer|other|pa|pb|pc|idem[14]|bulk[0-9]{3}|q[abc][1-3]|flood[0-9]+) ' "$T/cli.out")" -eq "$(node -e 'console.log(38 + Number(require("fs").readFileSync(process.argv[1], "utf8")))' "$T/flood.made")" ] ||
  fail "account list: $(wc -l <"$T/cli.out") lines: $(tail -3 "$T/cli.out")"
[ "$(wc -l <"$T/cli.out")" -gt 101 ] || fail "account list: one page only"
"$BIN" account list --json >"$T/cli.json" 2>&1 || fail "account list --json"
node -e 'const d = JSON.parse(require("fs").readFileSync(process.argv[1]));
  if (d.data.length < 101 || d.next_cursor !== null) process.exit(1)' "$T/cli.json" ||
  fail "account list --json: $(head -c 300 "$T/cli.json")"
[ "$("$BIN" key list --account pa | grep -c '^k_')" -eq 3 ] || fail "key list"
[ "$("$BIN" connectors list | grep -cE '^op[123] ')" -eq 3 ] ||
  fail "connectors list: $("$BIN" connectors list 2>&1)"
[ "$("$BIN" queues list | grep -cE '^op[123] ')" -eq 3 ] ||
  fail "queues list: $("$BIN" queues list 2>&1)"
echo "admin_more: ok"
