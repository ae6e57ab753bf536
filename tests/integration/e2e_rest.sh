#!/usr/bin/env bash
# End to end through the REST API: the real smsgate binary ($1), its built-in
# SMSC simulator, a webhook receiver, and the checks of e2e_rest.js (send,
# delivery, signed webhooks, a 3-part Cyrillic message, lists with invalid
# numbers, idempotent replays, scheduling, validity, cancel, preview, the
# list API, validation errors, auth, /healthz, /metrics); then
# `smsgate send --wait` and `smsgate status`; then a crash: kill -9 of the
# gateway while a client sends 2,000 messages, a restart, and a check that
# every message answered 202 reached a separate simulator process (its
# --record file).
#
# Readiness is polled, never slept for. Everything started is stopped on
# exit. Needs node (the peers) and nothing else.
set -u
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib/common.bash"
sg_test_init e2e_rest
JS="$HERE/e2e_rest.js"
KEY=e2e-key
SECRET=e2e-webhook-secret

start() { # name, command...: runs it in the background, logs to $T/name.log
  local name=$1
  shift
  "$@" >"$T/$name.log" 2>&1 &
  PIDS+=($!)
  LAST_PID=$!
}

read -r HTTP SIM DEAD HOOK HTTP2 SIM2 <<<"$(free_ports 6)"
[ -n "$SIM2" ] || fail "no free ports"

# ---- gateway with its built-in simulator --------------------------------------

sg_store_for "$T/gw"
cat >"$T/gw.yaml" <<EOF
store: $STORE
http: {listen: 127.0.0.1:$HTTP, max_body: 64KB}
simulator: {listen: 127.0.0.1:$SIM, dlr_delay: 100ms}
accounts:
  - {name: e2e, api_key: $KEY, webhook_secret: $SECRET, default_region: RU,
     callback_url: "http://127.0.0.1:$HOOK/hook"}
  - {name: slow, api_key: slow-key, tps: 2, default_region: RU}
  - {name: off, api_key: off-key, default_region: RU, disabled: true}
connectors:
  - {name: operator, type: smpp, host: 127.0.0.1, port: $SIM,
     system_id: smsgate, password: secret, window: 64}
  - {name: dead, type: smpp, host: 127.0.0.1, port: $DEAD, system_id: gw,
     reconnect_min: 1s, reconnect_max: 1s}
routes:
  - {prefix: "+", connectors: [operator]}
  - {prefix: "+44", connectors: [dead]}
webhooks: {allow_private_networks: true, retry_min: 200ms, retry_max: 1s}
log: {level: warn}
EOF

start receiver node "$JS" receiver "$HOOK" "$SECRET" "$T/hooks.jsonl"
start gw "$BIN" serve -c "$T/gw.yaml"
GW=$LAST_PID
wait_http "http://127.0.0.1:$HTTP/healthz" '"status":"ok"' 30 || fail "gateway not ready"
wait_log receiver 'receiver listening' 10 || fail "webhook receiver not ready"

BASE=http://127.0.0.1:$HTTP
node "$JS" scenarios "$BASE" "$KEY" "$T/hooks.jsonl" || fail "REST scenarios"

# ---- the command line client --------------------------------------------------

out=$("$BIN" send --url "$BASE" --key "$KEY" --to +79001234567 --to 89001234568 \
  --from Test --text "from the CLI" --wait --timeout 20s 2>&1)
rc=$?
[ $rc -eq 0 ] || fail "smsgate send --wait exited $rc: $out"
[ "$(grep -c ' delivered$' <<<"$out")" -eq 2 ] || fail "send --wait output: $out"
id=$(head -n 1 <<<"$out" | cut -d' ' -f1)
"$BIN" status --url "$BASE" --key "$KEY" "$id" >"$T/status.out" 2>&1 || fail "smsgate status: $(cat "$T/status.out")"
grep -q '"status": "delivered"' "$T/status.out" || fail "status output: $(cat "$T/status.out")"
"$BIN" send --url "$BASE" --key wrong --to +79001234567 --text x >"$T/cli.out" 2>&1
[ $? -eq 1 ] && grep -q 'HTTP 401' "$T/cli.out" || fail "send with a wrong key: $(cat "$T/cli.out")"
"$BIN" send --url "$BASE" --key "$KEY" --to +1234 --text x >"$T/cli.out" 2>&1
[ $? -eq 1 ] && grep -q 'HTTP 422' "$T/cli.out" || fail "send to an invalid number: $(cat "$T/cli.out")"
"$BIN" send --text x >/dev/null 2>&1
[ $? -eq 2 ] || fail "send without --to must be a usage error"
# a file of numbers (comments, blanks, one invalid), the text on stdin,
# two recipients a request: three requests and a progress line each
printf '# customers\n+79001234561\n\n  89001234562 \n+1234\n+79001234563\n+79001234564\n' >"$T/numbers.txt"
out=$(printf 'from a file\n' | "$BIN" send --url "$BASE" --key "$KEY" --to-file "$T/numbers.txt" \
  --batch 2 --from Test 2>"$T/progress.txt")
rc=$?
[ $rc -eq 1 ] || fail "send --to-file with one invalid number exited $rc: $out $(cat "$T/progress.txt")"
[ "$(grep -c 'part(s)' <<<"$out")" -eq 4 ] || fail "send --to-file accepted: $out"
grep -q 'refused +1234' "$T/progress.txt" || fail "send --to-file refusal: $(cat "$T/progress.txt")"
[ "$(grep -c '^sent ' "$T/progress.txt")" -eq 3 ] &&
  [ "$(grep '^sent ' "$T/progress.txt" | tail -n 1)" = "sent 5 of 5 recipients, 1 refused" ] ||
  fail "send --to-file progress: $(cat "$T/progress.txt")"
fid=$(grep 'part(s)' <<<"$out" | head -n 1 | cut -d' ' -f1)
curl -s -H "Authorization: Bearer $KEY" "$BASE/v1/messages/$fid" | grep -q '"text":"from a file"' ||
  fail "the text read from stdin: $(curl -s -H "Authorization: Bearer $KEY" "$BASE/v1/messages/$fid")"
"$BIN" send --url "$BASE" --key "$KEY" --to-file - </dev/null >"$T/cli.out" 2>&1
[ $? -eq 2 ] && grep -q 'cannot give both' "$T/cli.out" || fail "--to-file - without --text: $(cat "$T/cli.out")"
"$BIN" send --url "$BASE" --key "$KEY" --to-file "$T/no-such-file" --text x >"$T/cli.out" 2>&1
[ $? -eq 2 ] && grep -q 'cannot read' "$T/cli.out" || fail "--to-file of a missing file: $(cat "$T/cli.out")"
"$BIN" send --url "$BASE" --key "$KEY" --to +79001234567 </dev/null >"$T/cli.out" 2>&1
[ $? -eq 2 ] && grep -q 'empty' "$T/cli.out" || fail "send with an empty text on stdin: $(cat "$T/cli.out")"
"$BIN" send --url "$BASE" --key "$KEY" --to +79001234567 --batch 0 --text x >"$T/cli.out" 2>&1
[ $? -eq 2 ] || fail "--batch 0 must be a usage error"
"$BIN" status --url "$BASE" --key "$KEY" 01ARZ3NDEKTSV4RRFFQ69G5FAV >/dev/null 2>&1
[ $? -eq 1 ] || fail "status of an unknown id must exit 1"
echo "ok - smsgate send --wait, --to-file with a progress line per request, text on stdin, and smsgate status"

kill "$GW" && wait "$GW" || fail "gateway did not stop cleanly on SIGTERM"

# ---- kill -9 under load -------------------------------------------------------

start sim2 "$BIN" sim smsc --port "$SIM2" --record "$T/record.txt" --dlr-delay 50 --quiet \
  --stats-interval 1
SIMP=$LAST_PID
sg_store_for "$T/gw2"
cat >"$T/gw2.yaml" <<EOF
store: $STORE
http: {listen: 127.0.0.1:$HTTP2}
accounts:
  - {name: load, api_key: $KEY, default_region: RU}
connectors:
  - {name: operator, type: smpp, host: 127.0.0.1, port: $SIM2, system_id: smsgate,
     window: 64, reconnect_min: 200ms, reconnect_max: 1s}
routes:
  - {prefix: "+", connectors: [operator]}
log: {level: warn}
EOF
BASE2=http://127.0.0.1:$HTTP2
start gw2 "$BIN" serve -c "$T/gw2.yaml"
GW2=$LAST_PID
wait_http "$BASE2/healthz" '"status":"ok"' 30 || fail "gateway 2 not ready"
: >"$T/accepted.txt"
start load node "$JS" load "$BASE2" "$KEY" 2000 16 "$T/accepted.txt"
LOADP=$LAST_PID
for ((i = 0; i < 600; i++)); do
  [ "$(wc -l <"$T/accepted.txt")" -ge 400 ] && break
  kill -0 "$LOADP" 2>/dev/null || break
  sleep 0.05
done
kill -9 "$GW2"
wait "$GW2" 2>/dev/null
wait "$LOADP"
n_acc=$(wc -l <"$T/accepted.txt")
echo "killed the gateway with $n_acc messages acknowledged; $(cat "$T/load.log")"
[ "$n_acc" -ge 400 ] || fail "the load did not get going"
[ "$n_acc" -lt 2000 ] || fail "the gateway was killed after the load ended"

start gw2b "$BIN" serve -c "$T/gw2.yaml"
wait_http "$BASE2/healthz" '"status":"ok"' 30 || fail "gateway 2 did not restart"
node "$JS" drained "$BASE2" "$KEY" 120 || fail "messages left queued after the restart"
kill "$SIMP" && wait "$SIMP" # the simulator writes its record out on exit
node "$JS" record "$T/record.txt" "$T/accepted.txt" || fail "acknowledged messages lost"
echo "ok - kill -9 under load: every message answered 202 reached the SMSC"
echo "PASS"
