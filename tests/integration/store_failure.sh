#!/usr/bin/env bash
# The store failing under a running gateway: smsgate ($1) runs with a small
# soft file-size limit (ulimit -S -f), so that its SQLite WAL soon cannot
# grow and every commit fails with EFBIG, as on a full disk. Checks:
#   - each POST answers 202 until the store fails, then 503 store_failed
#     with Retry-After, and /healthz answers 503 "unavailable";
#   - the refused message is not stored; every accepted one is;
#   - the log says once that the store fails, and once that it recovered;
#   - after the limit is lifted (prlimit on the running process) the gateway
#     takes messages again without a restart, every message it ever
#     accepted reaches the SMSC, and every receipt refused while the store
#     failed comes again (the simulator retries) and is matched.
set -u
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
T=$(mktemp -d "${TMPDIR:-/tmp}/store_failure.XXXXXX")
PIDS=()
KEY=sf-key

cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
  echo "FAIL: $*" >&2
  [ -f "$T/gw.err" ] && { echo "--- gw.err" >&2; tail -n 30 "$T/gw.err" >&2; }
  exit 1
}

command -v prlimit >/dev/null || fail "prlimit (util-linux) is needed"

read -r HTTP SIM <<<"$(node -e '
  const net = require("net"); const s = [];
  (function next() {
    if (s.length === 2) { console.log(s.map((x) => x.address().port).join(" "));
      s.forEach((x) => x.close()); return; }
    const x = net.createServer(); x.listen(0, "127.0.0.1", () => { s.push(x); next(); });
  })();')"
[ -n "$SIM" ] || fail "no free ports"

cat >"$T/gw.yaml" <<EOF
store: {path: $T/data/smsgate.db}
http: {listen: 127.0.0.1:$HTTP}
simulator: {listen: 127.0.0.1:$SIM, dlr_delay: 50ms}
accounts:
  - {name: sf, api_key: $KEY, default_region: RU, default_sender: Test}
connectors:
  - {name: operator, type: smpp, host: 127.0.0.1, port: $SIM, system_id: smsgate,
     password: secret}
routes:
  - {prefix: "+", connectors: [operator]}
log: {level: warn}
EOF

# 1,200 KB: the schema and a few ten-part messages fit, then the WAL is full.
(ulimit -S -f 1200 && exec "$BIN" serve -c "$T/gw.yaml" --log-format json) >"$T/gw.log" 2>"$T/gw.err" &
GW=$!
PIDS+=($GW)

# The checks, in node (the only peer this test needs).
BASE="http://127.0.0.1:$HTTP" KEY=$KEY GW=$GW LOG="$T/gw.err" node - <<'EOF' || fail "checks failed"
const http = require('http');
const { execFileSync } = require('child_process');
const fs = require('fs');
const { BASE, KEY, GW, LOG } = process.env;

function req(method, path, body) {
  return new Promise((resolve, reject) => {
    const data = body ? JSON.stringify(body) : null;
    const r = http.request(BASE + path, { method, headers: {
      authorization: `Bearer ${KEY}`, 'content-type': 'application/json' } }, (res) => {
      let b = '';
      res.on('data', (c) => b += c);
      res.on('end', () => {
        let json = null;
        try { json = JSON.parse(b); } catch (e) { /* not JSON */ }
        resolve({ status: res.statusCode, headers: res.headers, json, text: b });
      });
    });
    r.on('error', reject);
    if (data) r.write(data);
    r.end();
  });
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function check(ok, what) {
  if (!ok) { console.error(`not ok - ${what}`); process.exit(1); }
}
async function until(what, fn, ms = 20000) {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(100))
    if (await fn()) return;
  check(false, `timed out waiting for ${what}`);
}
async function all() {
  const out = [];
  for (let cursor = null; ;) {
    const r = await req('GET', `/v1/messages?limit=100${cursor ? `&cursor=${cursor}` : ''}`);
    check(r.status === 200, `list: ${r.text}`);
    out.push(...r.json.data);
    cursor = r.json.next_cursor;
    if (!cursor) return out;
  }
}

(async () => {
  await until('the gateway', async () => {
    try { return (await req('GET', '/healthz')).json.status === 'ok'; } catch (e) { return false; }
  });
  // Ten parts a message: the WAL fills in a few. A checkpoint may let a
  // write or two through again (the WAL restarts at its beginning) until
  // the database file itself is at the limit: send until a 503 comes and
  // /healthz and /readyz both say the store is failing.
  const text = 'x'.repeat(1500);
  const accepted = [];
  const refused = [];
  let down = false;
  for (let i = 0; i < 400 && !down; i++) {
    const to = `+7900123${String(i).padStart(4, '0')}`;
    const r = await req('POST', '/v1/messages', { to, text });
    if (r.status === 202) {
      accepted.push(r.json.messages[0].id);
      continue;
    }
    refused.push(to);
    check(r.status === 503, `503 when the store fails, got ${r.status}: ${r.text}`);
    check(r.json && r.json.error && r.json.error.code === 'store_failed',
      `error code store_failed: ${r.text}`);
    check(Number(r.headers['retry-after']) >= 1, 'Retry-After on the 503');
    const h = await req('GET', '/healthz');
    const rz = await req('GET', '/readyz');
    if (h.status === 503) {
      check(h.json.status === 'unavailable', `healthz while failing: ${h.text}`);
      if (rz.status === 503) {
        check(rz.json.status === 'not_ready' && /store/.test(rz.json.reason),
          `readyz while failing: ${rz.text}`);
        down = true;
      }
    }
  }
  check(down, `the store never stayed failing (${refused.length} refused): the file-size limit had no effect`);
  check(accepted.length > 0, 'no message was accepted before the store failed');
  console.log(`ok - ${accepted.length} accepted, ${refused.length} refused with 503 store_failed ` +
    'and Retry-After; healthz and readyz 503');

  const listed = await all();
  check(listed.length === accepted.length, `stored ${listed.length}, accepted ${accepted.length}`);
  check(!listed.some((m) => refused.includes(m.to)), 'a refused message is stored');
  await until('the log line', () => /the store fails to commit/.test(fs.readFileSync(LOG, 'utf8')));
  console.log('ok - the refused message changed nothing; the failure is logged');

  execFileSync('prlimit', ['--pid', GW, '--fsize=unlimited:']);
  await until('recovery', async () => (await req('GET', '/healthz')).json.status === 'ok');
  check((await req('GET', '/readyz')).status === 200, 'readyz 200 after recovery');
  const again = await req('POST', '/v1/messages', { to: '+79009999999', text: 'after' });
  check(again.status === 202, `202 after recovery: ${again.text}`);
  await until('the recovered message delivered', async () =>
    (await req('GET', `/v1/messages/${again.json.messages[0].id}`)).json.status === 'delivered');
  // Every accepted message reaches the SMSC, and every receipt arrives: one
  // that the store could not take was refused to the operator, which sends
  // it again (the simulator retries after 1, 2, 4 ... s).
  await until('every accepted message delivered', async () => {
    const ms = await all();
    return ms.length === accepted.length + 1 && ms.every((m) => m.status === 'delivered');
  }, 45000);
  await until('the recovery log line', () => /the store commits again/.test(fs.readFileSync(LOG, 'utf8')));
  console.log('ok - recovered without a restart; every accepted message delivered, receipts refused meanwhile sent again');
  // --log-format json: every line one JSON object, with level and subsystem.
  const lines = fs.readFileSync(LOG, 'utf8').split('\n').filter((l) => l);
  const events = lines.map((l) => { try { return JSON.parse(l); } catch (e) { check(false, `not JSON: ${l}`); } });
  const failing = events.find((e) => /the store fails to commit/.test(e.msg));
  check(failing.level === 'error' && failing.subsystem === 'engine' && /Z$/.test(failing.time),
    `the failure event: ${JSON.stringify(failing)}`);
  check(events.find((e) => /commits again/.test(e.msg)).level === 'warn', 'the recovery event is a warning');
  console.log(`ok - ${events.length} log lines, each a JSON object`);
})().catch((e) => { console.error(e); process.exit(1); });
EOF

kill "$GW" && wait "$GW" || fail "gateway did not stop cleanly on SIGTERM"
PIDS=()
echo "ok - store failure"
