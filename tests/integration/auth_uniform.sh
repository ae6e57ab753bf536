#!/usr/bin/env bash
# Refusals that must not tell a caller which accounts exist, against the
# real smsgate binary ($1):
#   SMPP  a bind with an unknown system_id, one with a wrong password and
#         one with a wrong password from an address the account does not
#         allow get the same bind_resp (ESME_RINVPASWD), octet for octet
#         but the sequence_number, and take the same time (the unknown
#         system_id is checked against a dummy argon2id hash): the medians
#         of 8 binds each must be within a factor of 3 (a check skipped
#         answers in about 1 ms, a check made in tens of ms);
#   REST  an unknown API key and a revoked one get the same 401 answer.
set -u
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/common.bash"
sg_test_init auth_uniform

read -r HTTP SMPP SIM <<<"$(free_ports 3)"
[ -n "$SIM" ] || fail "no free ports"
BASE=http://127.0.0.1:$HTTP
sg_store_for "$T/gw"
cat >"$T/gw.yaml" <<EOF
store: $STORE
http: {listen: 127.0.0.1:$HTTP}
smpp_server: {listen: 127.0.0.1:$SMPP, bind_fail_delay: 0, bind_fail_max: 1000}
accounts:
  - {name: admin, api_key: admin-key, admin: true}
  - {name: shop, api_key: shop-key, default_region: DE,
     smpp: {system_id: shop, password: shoppw}}
  - {name: far, api_key: far-key, default_region: DE,
     smpp: {system_id: far, password: farpw, allowed_cidrs: [10.0.0.0/8]}}
connectors:
  - {name: operator, type: smpp, host: 127.0.0.1, port: $SIM, system_id: smsgate}
routes:
  - {prefix: "+", connectors: [operator]}
EOF
"$BIN" sim smsc --port "$SIM" --quiet --stats-interval 0 >"$T/sim.log" 2>&1 &
PIDS+=($!)
"$BIN" serve -c "$T/gw.yaml" >"$T/gw.log" 2>&1 &
PIDS+=($!)
wait_http "$BASE/healthz" '"status":"ok"' 30 || fail "gateway not ready"
# The server listens before the configured passwords are hashed (binds
# meanwhile are checked against the configured passwords at once): the
# timings below are those of argon2id, so wait for the hashes.
for ((i = 0; i < 600; i++)); do
  grep -q 'configured password(s) hashed' "$T/gw.log" && break
  sleep 0.1
done
[ "$i" -lt 600 ] || fail "the configured passwords were not hashed within 60 s"

# ---- SMPP -------------------------------------------------------------------
node - "$SMPP" >"$T/binds.out" 2>&1 <<'EOF' || fail "binds: $(cat "$T/binds.out")"
const net = require('net');
const port = Number(process.argv[2]);
const cstr = (s) => Buffer.concat([Buffer.from(s, 'latin1'), Buffer.from([0])]);
function bind(sid, pw, seq) {
  const body = Buffer.concat([cstr(sid), cstr(pw), cstr(''), Buffer.from([0x34, 0, 0]), cstr('')]);
  const h = Buffer.alloc(16);
  h.writeUInt32BE(16 + body.length, 0); h.writeUInt32BE(0x09, 4); h.writeUInt32BE(seq, 12);
  return Buffer.concat([h, body]);
}
// One bind on a fresh connection: resolves {ms, resp (the bind_resp with
// its sequence_number zeroed, hex)}.
function once(sid, pw, seq) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0), t0 = 0;
    s.setTimeout(20000, () => { s.destroy(); reject(new Error(`no answer to ${sid}`)); });
    s.on('error', reject);
    s.on('connect', () => { t0 = process.hrtime.bigint(); s.write(bind(sid, pw, seq)); });
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length < 16 || buf.length < buf.readUInt32BE(0)) return;
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      const r = Buffer.from(buf.subarray(0, buf.readUInt32BE(0)));
      if (r.readUInt32BE(12) !== seq) return reject(new Error('sequence_number not echoed'));
      r.writeUInt32BE(0, 12);
      s.destroy();
      resolve({ ms, resp: r.toString('hex') });
    });
  });
}
const median = (a) => { const b = [...a].sort((x, y) => x - y); return b[b.length >> 1]; };
(async () => {
  const kinds = { unknown: ['nobody', 'shoppw'], wrong: ['shop', 'nope'], far: ['far', 'nope'] };
  const times = { unknown: [], wrong: [], far: [] };
  const resps = new Set();
  let seq = 1;
  await once('shop', 'nope', seq++); // warm up the thread pool
  for (let round = 0; round < 8; round++) {
    for (const [k, [sid, pw]] of Object.entries(kinds)) {
      const r = await once(sid, pw, seq++);
      times[k].push(r.ms);
      resps.add(r.resp);
    }
  }
  const ok = await once('shop', 'shoppw', seq++);
  const m = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
  console.log(`bind_resp ${[...resps].join(' ')}; good bind ${ok.resp}`);
  console.log(`median ms: unknown system_id ${m.unknown.toFixed(1)}, wrong password ` +
              `${m.wrong.toFixed(1)}, wrong password from a disallowed address ${m.far.toFixed(1)}`);
  if (resps.size !== 1) throw new Error('the refusals differ');
  const st = parseInt([...resps][0].slice(16, 24), 16);
  if (st !== 0x0e) throw new Error(`status 0x${st.toString(16)}, not ESME_RINVPASWD`);
  if (parseInt(ok.resp.slice(16, 24), 16) !== 0) throw new Error('the good bind was refused');
  const v = Object.values(m);
  if (Math.max(...v) > 3 * Math.min(...v)) throw new Error('the refusals take different times');
})().catch((e) => { console.log(e.message); process.exit(1); });
EOF
cat "$T/binds.out"
grep -q "bind as 'nobody' refused (ESME_RINVPASWD): unknown system_id" "$T/gw.log" ||
  fail "the log does not say why the unknown system_id was refused"
grep -q "bind as 'far' refused (ESME_RINVPASWD): wrong password" "$T/gw.log" ||
  fail "the log does not say why far's bind was refused"
echo "ok - unknown system_id, wrong password and disallowed address: one answer, one cost"

# ---- REST -------------------------------------------------------------------
created=$(curl -s -X POST "$BASE/v1/keys" -H 'Authorization: Bearer admin-key' \
  -H 'Content-Type: application/json' -d '{"account": "shop", "name": "soon revoked"}')
kid=$(sed -n 's/.*"id":"\(k_[^"]*\)".*/\1/p' <<<"$created")
key=$(sed -n 's/.*"key":"\(sgk_[^"]*\)".*/\1/p' <<<"$created")
[ -n "$kid" ] && [ -n "$key" ] || fail "key create: $created"
code=$(curl -s -o /dev/null -w '%{http_code}' "$BASE/v1/messages?limit=1" -H "Authorization: Bearer $key")
[ "$code" = 200 ] || fail "the new key was refused: HTTP $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$BASE/v1/keys/$kid" -H 'Authorization: Bearer admin-key')
[[ $code == 2* ]] || fail "key revoke: HTTP $code"
answer() { curl -s -D - "$BASE/v1/messages?limit=1" -H "Authorization: Bearer $1" | tr -d '\r' | grep -vi '^date:'; }
revoked=$(answer "$key")
unknown=$(answer "sgk_${key#sgk_}x")
[ "$revoked" = "$unknown" ] || fail "a revoked and an unknown key are answered differently:
$revoked
---
$unknown"
grep -q '^HTTP/1.1 401' <<<"$revoked" && grep -q '"code":"invalid_api_key"' <<<"$revoked" ||
  fail "a revoked key: $revoked"
echo "ok - a revoked and an unknown API key get the same 401 invalid_api_key answer"
echo "PASS"
