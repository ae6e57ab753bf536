#!/usr/bin/env bash
# The bad-input corpus (tests/badinput/*.jsonl) against the real smsgate
# binary ($1): every bad REST request, Kannel sendsms request and SMPP PDU
# must get its documented error (badinput.js compares status, JSON error
# code and field, command_status), and the database must be unchanged
# afterwards: a digest of every table (sqlite3, or psql with the gateway
# on PostgreSQL: SG_TEST_STORE_URL) before and after the corpus must be
# equal. Then slow clients: connections that send one byte
# a second must not keep their slots past http.timeout.
set -u
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CORPUS=$(cd "$HERE/../badinput" && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/badinput.XXXXXX")
. "$CORPUS/lib.sh"
trap sec_cleanup EXIT
trap 'exit 130' INT TERM
command -v sqlite3 >/dev/null || fail "needs the sqlite3 CLI"
sg_store_for "$T/gw"

read -r HTTP SMPP SIM <<<"$(free_ports 3)"
[ -n "$SIM" ] || fail "no free ports"
start sim "$BIN" sim smsc --port "$SIM" --dlr-delay 20 --quiet --stats-interval 0
wait_log sim 'listening on' 10 || fail "simulator not ready"

cat >"$T/gw.yaml" <<EOF2
store: $STORE
http: {listen: 127.0.0.1:$HTTP, max_body: 256KB, max_connections: 8, timeout: 3s}
smpp_server: {listen: 127.0.0.1:$SMPP, bind_fail_delay: 0, bind_fail_max: 1000}
accounts:
  - {name: admin, api_key: admin-key, admin: true}
  - {name: shop, api_key: bad-key-1, password: kannelpw, default_region: DE,
     smpp: {system_id: shop, password: shoppw}, senders: ["Shop*"],
     destinations: [DE]}
connectors:
  - {name: operator, type: smpp, host: 127.0.0.1, port: $SIM, system_id: smsgate}
routes:
  - {prefix: "+", connectors: [operator]}
EOF2

BASE=http://127.0.0.1:$HTTP
start gw "$BIN" serve -c "$T/gw.yaml"
GW=$LAST_PID
wait_http "$BASE/healthz" '"status":"ok"' 30 || fail "gateway not ready"
wait_log gw 'SMPP server listening' 10 || fail "SMPP server not ready"

# One good message with the idempotency key the corpus replays, delivered
# before the first digest (so nothing of it changes any more).
code=$(curl -s -o "$T/first.json" -w '%{http_code}' "$BASE/v1/messages" \
  -H 'Authorization: Bearer bad-key-1' -H 'Idempotency-Key: badinput-k1' \
  -H 'Content-Type: application/json' \
  -d '{"to": "+4915112345678", "from": "Shop", "text": "the first body"}')
[ "$code" = 202 ] || fail "the good message: HTTP $code $(cat "$T/first.json")"
id=$(sed 's/.*"messages":\[{"id":"\([0-9A-Z]*\)".*/\1/' "$T/first.json")
for ((i = 0; i < 100; i++)); do
  curl -s "$BASE/v1/messages/$id" -H 'Authorization: Bearer bad-key-1' |
    grep -q '"status":"delivered"' && break
  sleep 0.1
done
sleep 0.5 # the delivered webhook row (no callback_url: none) and counts settle
before=$(sg_store_digest) || fail "cannot read the store for its digest"

node "$HERE/badinput.js" "$BASE" "$SMPP" "$CORPUS" || fail "some cases were not answered as documented"
sleep 0.5
after=$(sg_store_digest) || fail "cannot read the store for its digest"
[ "$before" = "$after" ] || fail "the database changed: $before -> $after"
echo "ok - every table of the database is unchanged (digest $before)"
n=$(sg_store_sql 'SELECT count(*) FROM messages')
[ "$n" = 1 ] || fail "$n messages stored; 1 expected"
kill -0 "$GW" || fail "the gateway died"

# ---- slow clients -----------------------------------------------------------
# http.max_connections is 8 and http.timeout 3s: eight clients that each
# send one byte of a request line a second take every slot; within
# timeout + a few seconds they must be closed, and a normal request must
# be answered again.
node -e '
  const net = require("net"); const [port, n, secs] = process.argv.slice(1).map(Number);
  const text = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + "a".repeat(100);
  let closed = 0; const t0 = Date.now(); const times = [];
  for (let i = 0; i < n; i++) {
    const s = net.connect(port, "127.0.0.1"); let k = 0;
    const iv = setInterval(() => { if (k < text.length) s.write(text[k++]); }, 1000);
    s.on("error", () => {});
    s.on("close", () => { clearInterval(iv); times.push((Date.now() - t0) / 1000);
      if (++closed === n) { console.log("slow clients closed after " + times.map((x) => x.toFixed(1)).join(" ") + " s"); process.exit(0); } });
  }
  setTimeout(() => { console.log(`only ${closed} of ${n} slow clients closed after ${secs} s`); process.exit(1); }, secs * 1000);
' "$HTTP" 8 20 >"$T/slow.out" 2>&1 &
SLOW=$!
PIDS+=($SLOW)
sleep 1.5
# While they hold every slot a new request waits or is refused...
held=$(curl -s -o /dev/null -m 1 -w '%{http_code}' "$BASE/healthz")
wait "$SLOW" || fail "slow clients kept their connections: $(cat "$T/slow.out")"
cat "$T/slow.out"
code=$(curl -s -o /dev/null -m 5 -w '%{http_code}' "$BASE/healthz")
[ "$code" = 200 ] || fail "after the slow clients /healthz answered $code"
echo "ok - 8 slow clients (1 byte/s) held every slot (a request meanwhile: HTTP $held), were closed, and the next request was answered"
stop "$GW"
echo "PASS"
