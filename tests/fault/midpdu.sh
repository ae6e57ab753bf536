#!/usr/bin/env bash
# Connections cut in the middle of a PDU, on both of smsgate's SMPP sides
# (smsgate is $1):
#   operator  smsgate's connector reaches the SMSC simulator through a proxy
#             (midpdu.js proxy) that cuts five of its connections, once
#             each: half a submit_sm_resp (the header alone, then half its
#             body) reaches smsgate, half a submit_sm (the same two ways)
#             reaches the SMSC, and a whole submit_sm reaches it but the
#             connection is reset before its answer. Messages flow from the
#             REST client of the harness all the while (N, default 300, at
#             150 a second); fault.js check must find LOST 0, PHANTOM 0,
#             DLR_LOST 0, DLR_MISMATCH 0 and DUP within 5 x the window.
#   customer  an ESME on raw sockets (midpdu.js esme) binds to smsgate's
#             SMPP server and resets its connections after half a bind,
#             half a submit_sm (header alone, half the body), a whole
#             submit_sm before its answer, and a whole PDU followed by half
#             of one. Every answered submit_sm must be delivered once, the
#             cut ones never stored or sent, the one in doubt at most once,
#             and smsgate must take binds and submits after each cut.
#
#   midpdu.sh BIN [N]
# With SG_TEST_STORE_URL set to a postgres:// URL (ctest fault-pg/midpdu)
# the gateway's store is a fresh database on that server, dropped at exit.
set -u
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
N=${2:-300}
HERE=$(cd "$(dirname "$0")" && pwd)
JS=$HERE/fault.js
MJS=$HERE/midpdu.js
. "$HERE/../integration/lib/common.bash"
sg_test_init midpdu
WINDOW=32
KEY=op-key

read -r HTTP SMPP SIM PROXY HOOK <<<"$(free_ports 5)"
[ -n "$HOOK" ] || fail "no free ports"
BASE=http://127.0.0.1:$HTTP
sg_store_for "$T/gw"
cat >"$T/gw.yaml" <<EOF
store: $STORE
http: {listen: 127.0.0.1:$HTTP}
smpp_server: {listen: 127.0.0.1:$SMPP, bind_fail_delay: 0}
accounts:
  - {name: op, api_key: $KEY, default_region: RU,
     callback_url: "http://127.0.0.1:$HOOK/hook",
     webhook_events: [delivered, undeliverable, expired, rejected, failed]}
  - {name: shop, api_key: shop-key, default_region: DE,
     smpp: {system_id: shop, password: shoppw}}
connectors:
  - {name: operator, type: smpp, host: 127.0.0.1, port: $PROXY, system_id: smsgate,
     window: $WINDOW, reconnect_min: 100ms, reconnect_max: 500ms}
routes:
  - {prefix: "+", connectors: [operator]}
webhooks: {allow_private_networks: true, retry_min: 200ms, retry_max: 1s}
log: {level: ${LOG_LEVEL:-info}}
EOF
# The simulator's ids (hex) start at 6600000443331: digits only up to 339,
# letters from 33a to 33f, digits again from 340, around the first cut. The
# connector learns that ids are hex from the first one with a letter, its
# submit_sm_resp side and its receipt side each on its own, so the receipts
# of all-digit ids held back by a cut test both readings every run (with
# time-based ids, a few runs in a hundred had such a prefix).
"$BIN" sim smsc --port "$SIM" --record "$T/record.txt" --dlr-delay 100 \
  --id-start 1794402980999985 --stats-interval 0 >"$T/sim.out" 2>"$T/sim.log" &
SIMP=$!
PIDS+=($SIMP)
node "$MJS" proxy "$PROXY" "$SIM" 20 "$T/cuts.txt" >"$T/proxy.log" 2>&1 &
PIDS+=($!)
node "$JS" receiver "$HOOK" "$T/hooks.txt" >"$T/receiver.log" 2>&1 &
PIDS+=($!)
for ((i = 0; i < 100; i++)); do
  grep -qs "proxy listening" "$T/proxy.log" && grep -qs "receiver listening" "$T/receiver.log" && break
  sleep 0.1
done
"$BIN" serve -c "$T/gw.yaml" >"$T/gw.log" 2>&1 &
GW=$!
PIDS+=($GW)
wait_http "$BASE/healthz" '"status":"ok"' 30 || fail "gateway not ready"

# ---- the operator's side ------------------------------------------------------
node "$JS" rest "$BASE" "$KEY" "$N" 16 "$T/rest.jsonl" 150 >"$T/rest.log" 2>&1 ||
  fail "the REST client failed"
drained() {
  local s
  for s in queued sending scheduled; do
    curl -s -m 2 -H "Authorization: Bearer $KEY" "$BASE/v1/messages?status=$s&limit=1" |
      grep -q '"data":\[\]' || return 1
  done
}
for ((i = 0; i < 600; i++)); do drained && break; sleep 0.2; done
drained || fail "messages left queued 120 s after the load"
ACKED=$(grep -c '"outcome":"ack"' "$T/rest.jsonl")
for ((i = 0; i < 300; i++)); do
  [ "$(awk '$3 == "delivered" && $1 != "-"' "$T/hooks.txt" 2>/dev/null | cut -d' ' -f1 |
    sort -u | wc -l)" -ge "$ACKED" ] && break
  sleep 0.2
done
CUTS=$(wc -l <"$T/cuts.txt" 2>/dev/null || echo 0)
[ "$CUTS" -eq 5 ] || fail "$CUTS of the 5 cuts happened: $(cat "$T/cuts.txt" 2>/dev/null)"

# ---- the customer's side ----------------------------------------------------
node "$MJS" esme "$SMPP" shop shoppw "$T/esme.json" >"$T/esme.log" 2>&1 ||
  fail "the ESME: $(cat "$T/esme.log")"
kill -0 "$GW" 2>/dev/null || fail "the gateway died"
mapfile -t IDS < <(node -e 'for (const id of JSON.parse(require("fs").readFileSync(process.argv[1])).acked) console.log(id)' "$T/esme.json")
[ "${#IDS[@]}" -eq 3 ] || fail "the ESME got ${#IDS[@]} answered submits: $(cat "$T/esme.json")"
for id in "${IDS[@]}"; do
  for ((i = 0; i < 100; i++)); do
    curl -s "$BASE/v1/messages/$id" -H 'Authorization: Bearer shop-key' |
      grep -q '"status":"delivered"' && break
    sleep 0.1
  done
  curl -s "$BASE/v1/messages/$id" -H 'Authorization: Bearer shop-key' |
    grep -q '"status":"delivered"' || fail "ESME message $id was not delivered"
done
stored=$(curl -s "$BASE/v1/messages?limit=100" -H 'Authorization: Bearer shop-key' |
  grep -o '"id":"[0-9A-Z]*"' | sort -u | wc -l)
# Three answered, the one reset before its answer stored or not.
[ "$stored" -ge 3 ] && [ "$stored" -le 4 ] || fail "$stored ESME messages stored; 3 or 4 expected"

kill "$GW" && wait "$GW" 2>/dev/null
kill "$SIMP" && wait "$SIMP" 2>/dev/null # the simulator writes its record out
times() { # how many times the SMSC got TEXT
  local hex
  hex=$(printf '%s' "$1" | od -An -tx1 | tr -d ' \n')
  grep -ci " sm=$hex\b" "$T/record.txt"
}
[ "$(times 'midpdu cut')" -eq 0 ] || fail "a cut PDU reached the SMSC"
for t in 'midpdu answered 1' 'midpdu answered 2' 'midpdu answered 3'; do
  [ "$(times "$t")" -eq 1 ] || fail "'$t' reached the SMSC $(times "$t") times"
done
doubt=$(times 'midpdu in doubt')
[ "$doubt" -le 1 ] || fail "the message in doubt reached the SMSC $doubt times"
echo "ok - customer: 6 cuts, 3 answered submits delivered once, the one in doubt sent $doubt time(s), binds after every cut"

echo "== cuts: $(tr '\n' ' ' <"$T/cuts.txt"); $(cat "$T/rest.log")"
node "$JS" check --record "$T/record.txt" --rest "$T/rest.jsonl" --hooks "$T/hooks.txt" \
  --faults "$CUTS" --window "$WINDOW" >"$T/check.txt"
ok=$?
cat "$T/check.txt"
if [ $ok != 0 ]; then
  # For each message whose report never came: what the gateway logged of
  # it (its sends and their SMSC ids) and of the receipts for those ids.
  for id in $(sed -n 's/^ *DLR_LOST: rest-[0-9]* //p' "$T/check.txt"); do
    echo "--- $id" >&2
    grep -F "$id" "$T/gw.log" >&2
    for s in $(grep -F "$id" "$T/gw.log" | sed -n 's/.*smsc_id=\([^ :]*\).*/\1/p' | sort -u); do
      grep -F "smsc_id=$s" "$T/gw.log" | grep -vF "$id" >&2
    done
  done
  # A receipt keyed apart from its part (the same id read another way)
  # shows as one held that nothing applied: their keys, at most 20.
  if grep -q "DLR_LOST: " "$T/check.txt"; then
    echo "--- receipts held and never applied" >&2
    awk '{
      if (!match($0, /smsc_id=[^ :]*/)) next
      k = substr($0, RSTART + 8, RLENGTH - 8)
      if ($0 ~ /receipt for no known part held/) { if (!(k in held)) held[k] = $0 }
      else if ($0 ~ /receipt, part|held receipt, part/) done[k] = 1
    } END { for (k in held) if (!(k in done)) print held[k] }' "$T/gw.log" |
      sort | head -n 20 >&2
  fi
  fail "the ledgers do not match"
fi
echo "PASS"
