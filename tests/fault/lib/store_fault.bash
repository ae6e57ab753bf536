# store_fault.bash - the run the store-fault scripts share (sourced, bash):
# a gateway whose disk fails while a control file exists, through an
# LD_PRELOAD shim. The sourcing script sets, before it sources this:
#   FAULT        the scenario's name (scratch folder, message texts)
#   FAULT_SHIM   the shim's path
#   FAULT_ENV    an array of VAR=value the shim reads, where the text $T
#                (single-quoted) stands for the scratch folder: $T/failing
#                is the control file, $T/gw the store's directory
#   FAULT_WHILE  how the failure reads in messages ("the disk is full")
# Checks: before the fault every POST is taken; during it every POST is
# refused with 503 store_failed (nothing acknowledged that is not stored)
# and /healthz says the store fails; after it the gateway takes messages
# again by itself, without a request or a restart; after a kill -9 and a
# restart every acknowledged message reaches the SMSC once and none of the
# refused ones does. Lives in lib/ so that CTest does not run it.
set -u
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/gateway.bash" # wait_for, and common.bash: sg_test_init, fail, free_ports
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
SHIM=$FAULT_SHIM
TAG=${FAULT//_/-} # the texts' prefix: GSM 7-bit codes "_" as 0x11, not its Latin-1 octet
GW=
KEY=fault-key
sg_test_init "$FAULT"
trap '[ -n "$GW" ] && kill -9 "$GW" 2>/dev/null; sg_test_cleanup' EXIT

[ -f "$SHIM" ] || fail "the shim $SHIM is not built"

read -r HTTP SIM <<<"$(free_ports 2)"
BASE=http://127.0.0.1:$HTTP

healthy() { curl -s -m 1 "$BASE/healthz" 2>/dev/null | grep -q '"status":"ok"'; }

cat >"$T/gw.yaml" <<EOF
store: {path: $T/gw/smsgate.db}
http: {listen: 127.0.0.1:$HTTP}
accounts:
  - {name: fault, api_key: $KEY, default_region: RU}
connectors:
  - {name: operator, type: smpp, host: 127.0.0.1, port: $SIM, system_id: smsgate,
     reconnect_min: 100ms, reconnect_max: 500ms}
routes:
  - {prefix: "+", connectors: [operator]}
log: {level: info}
EOF

"$BIN" sim smsc --port "$SIM" --record "$T/record.txt" --dlr-delay 50 --quiet >"$T/sim.log" 2>&1 &
SIMP=$!
PIDS+=($SIMP)
mkdir -p "$T/gw"
env "${FAULT_ENV[@]//\$T/$T}" LD_PRELOAD="$SHIM" "$BIN" serve -c "$T/gw.yaml" >"$T/gw.log" 2>&1 &
GW=$!
wait_for 30 healthy || fail "gateway not ready"

# send FROM TO: one POST per message "$TAG-N"; "N STATUS" lines to stdout
send() {
  local i code
  for ((i = $1; i < $2; i++)); do
    code=$(curl -s -o /dev/null -w '%{http_code}' -m 10 "$BASE/v1/messages" \
      -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
      -d "{\"to\": \"+79001234567\", \"from\": \"Fault\", \"text\": \"$TAG-$i\"}")
    echo "$i $code"
  done
}

send 0 20 >"$T/before.txt"
[ "$(grep -c ' 202$' "$T/before.txt")" -eq 20 ] || fail "before the fault: $(sort -k2 "$T/before.txt" | uniq -c -f1)"
echo "ok - 20 messages accepted before the fault"

touch "$T/failing"
send 20 40 >"$T/during.txt"
n202=$(grep -c ' 202$' "$T/during.txt")
n503=$(grep -c ' 503$' "$T/during.txt")
code=$(curl -s -m 10 "$BASE/v1/messages" -H "Authorization: Bearer $KEY" \
  -H 'Content-Type: application/json' -d '{"to": "+79001234567", "from": "Full", "text": "not stored"}')
grep -q '"code":"store_failed"' <<<"$code" || fail "the 503 body: $code"
[ "$n202" -eq 0 ] || fail "$n202 messages acknowledged while $FAULT_WHILE"
[ "$n503" -eq 20 ] || fail "during the fault: $(cut -d' ' -f2 "$T/during.txt" | sort | uniq -c)"
h=$(curl -s -m 2 "$BASE/healthz")
grep -q '"store_ok":false' <<<"$h" || fail "healthz during the fault: $h"
echo "ok - while $FAULT_WHILE: 20 of 20 refused with 503 store_failed, healthz says the store fails"

rm -f "$T/failing"
# No request comes: the gateway must find out by itself that it can write.
wait_for 30 healthy || fail "healthz did not say ok again after the fault"
echo "ok - with no traffic, healthz says ok again once the disk recovers"
ok_again() { send 40 41 | grep -q ' 202$'; }
wait_for 30 ok_again || fail "the gateway did not take messages again after the fault"
send 41 60 >"$T/after.txt"
[ "$(grep -c ' 202$' "$T/after.txt")" -eq 19 ] || fail "after the fault: $(cut -d' ' -f2 "$T/after.txt" | sort | uniq -c)"
echo "ok - the gateway takes messages again once the disk recovers, without a restart"

# A crash, then a restart on a healthy disk: the WAL is replayed. The
# crash comes once every accepted message is sent and its result committed:
# a part still in flight would be sent again after the restart, a duplicate
# the kill -9 suites count against their bound, while this one checks that
# the WAL brings back exactly what was committed (no refused message, no
# result lost).
drained() {
  local s
  for s in queued sending; do
    curl -s -m 2 -H "Authorization: Bearer $KEY" "$BASE/v1/messages?status=$s&limit=1" |
      grep -q '"data":\[\]' || return 1
  done
}
wait_for 60 drained || fail "messages left queued before the crash"
kill -9 "$GW"
wait "$GW" 2>/dev/null
"$BIN" serve -c "$T/gw.yaml" >>"$T/gw.log" 2>&1 &
GW=$!
wait_for 30 healthy || fail "gateway did not restart"
wait_for 60 drained || fail "messages left queued after the restart"
kill "$GW" && wait "$GW"
GW=
kill "$SIMP" && wait "$SIMP" # writes the record out

node -e '
  const fs = require("fs");
  const seen = new Map();
  for (const l of fs.readFileSync(process.argv[1], "utf8").split("\n")) {
    const m = / sm=([0-9a-fA-F]*)/.exec(l);
    if (m) { const t = Buffer.from(m[1], "hex").toString("latin1"); seen.set(t, (seen.get(t) || 0) + 1); }
  }
  let lost = 0, phantom = 0, dup = 0;
  for (let i = 0; i < 60; i++) {
    const n = seen.get(process.argv[2] + "-" + i) || 0;
    const acked = i < 20 || i >= 40;
    if (acked && n === 0) { lost++; console.error("LOST " + process.argv[2] + "-" + i); }
    if (!acked && n > 0) { phantom++; console.error("PHANTOM " + process.argv[2] + "-" + i); }
    if (n > 1) dup++;
  }
  console.log(`LOST ${lost}  PHANTOM ${phantom}  DUP ${dup}`);
  process.exit(lost || phantom || dup ? 1 : 0);'  "$T/record.txt" "$TAG" || fail "the record does not match the answers"
echo "ok - after a crash and a restart: every acknowledged message sent once, no refused one sent"
echo "PASS"
