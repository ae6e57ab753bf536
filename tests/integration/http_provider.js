// http_provider.js - the node side of tests/integration/http_provider.sh:
// a small HTTP provider that speaks the generic JSON template
// (packaging/providers/generic-json.yaml), a webhook receiver, and the
// scenarios run against the real smsgate.
//
//   node http_provider.js run SMSGATE_URL PROVIDER_PORT HOOK_PORT KEY HMAC
//
// The provider answers by recipient: ...01 accepts and posts a signed
// receipt back to smsgate; ...02 answers 503 once, then accepts; ...03
// refuses with 400 and an error message; ...04 does not answer its first
// request (smsgate's timeout), then accepts; ...05 is a 3-part UCS-2
// message. Every request is recorded and checked.
'use strict';
const http = require('http');
const crypto = require('crypto');

const [, , mode, BASE, PPORT, HPORT, KEY, HMAC] = process.argv;
const reqs = [];
const hooks = [];
let seq = 0;
const seen = {};

function check(ok, what) {
  if (!ok) {
    console.error(`not ok - ${what}`);
    process.exit(1);
  }
}

function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

async function waitFor(what, fn, secs = 20) {
  for (let i = 0; i < secs * 10; i++) {
    const v = await fn();
    if (v) return v;
    await sleep(100);
  }
  check(false, `timed out waiting for ${what}`);
}

function call(method, url, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const data = body === undefined ? undefined
      : typeof body === 'string' ? body : JSON.stringify(body);
    const r = http.request({ method, hostname: u.hostname, port: u.port,
      path: u.pathname + u.search,
      headers: Object.assign(data !== undefined && typeof body !== 'string'
        ? { 'Content-Type': 'application/json' } : {}, headers) }, (res) => {
      let b = '';
      res.on('data', (c) => (b += c));
      res.on('end', () => {
        let json = null;
        try { json = JSON.parse(b); } catch (e) { /* not JSON */ }
        resolve({ status: res.statusCode, body: b, json });
      });
    });
    r.on('error', reject);
    if (data !== undefined) r.write(data);
    r.end();
  });
}

function sign(body) {
  return 'sha256=' + crypto.createHmac('sha256', HMAC).update(body).digest('hex');
}

async function postReceipt(id, status, extra = {}) {
  const body = JSON.stringify(Object.assign({ id, status, error_code: 0 }, extra));
  return call('POST', `${BASE}/v1/hooks/provider/acme`, body,
    { 'Content-Type': 'application/json', 'X-Signature': sign(body) });
}

function provider() {
  return http.createServer((req, res) => {
    let b = '';
    req.on('data', (c) => (b += c));
    req.on('end', () => {
      let j = null;
      try { j = JSON.parse(b); } catch (e) { /* recorded as is */ }
      const r = { method: req.method, url: req.url, headers: req.headers, body: b, json: j };
      reqs.push(r);
      const to = j ? j.to : '';
      seen[to] = (seen[to] || 0) + 1;
      const ok = () => {
        const id = `prov-${++seq}`;
        r.id = id;
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ messages: [{ id, status: 'queued' }] }));
      };
      if (to.endsWith('02') && seen[to] === 1) {
        res.writeHead(503, { 'Content-Type': 'application/json' });
        res.end('{"error":{"message":"busy, try later"}}');
      } else if (to.endsWith('03')) {
        res.writeHead(400, { 'Content-Type': 'application/json' });
        res.end('{"error":{"message":"bad number"}}');
      } else if (to.endsWith('04') && seen[to] === 1) {
        /* no answer: smsgate times out */
      } else {
        ok();
      }
    });
  }).listen(Number(PPORT), '127.0.0.1');
}

function receiver() {
  return http.createServer((req, res) => {
    let b = '';
    req.on('data', (c) => (b += c));
    req.on('end', () => {
      try { hooks.push(JSON.parse(b)); } catch (e) { /* ignore */ }
      res.writeHead(200);
      res.end('ok');
    });
  }).listen(Number(HPORT), '127.0.0.1');
}

async function send(to, text) {
  const r = await call('POST', `${BASE}/v1/messages`, { to, from: 'Shop', text },
    { Authorization: `Bearer ${KEY}` });
  check(r.status === 202, `202 for ${to}: ${r.status} ${r.body}`);
  return r.json.messages[0];
}

async function message(id) {
  const r = await call('GET', `${BASE}/v1/messages/${id}`, undefined,
    { Authorization: `Bearer ${KEY}` });
  check(r.status === 200, `GET message ${id}: ${r.status}`);
  return r.json;
}

async function waitStatus(id, want, secs = 20) {
  return waitFor(`message ${id} ${want}`, async () => {
    const m = await message(id);
    return m.status === want ? m : null;
  }, secs);
}

function reqsTo(to) { return reqs.filter((r) => r.json && r.json.to === to); }

async function accepted() {
  const m = await send('+447911123401', 'Hello "Zoé" & co\nline 2');
  const sent = await waitStatus(m.id, 'sent');
  const rs = reqsTo('+447911123401');
  check(rs.length === 1, 'one request');
  const r = rs[0];
  check(r.method === 'POST' && r.url === '/v1/messages', `request line ${r.method} ${r.url}`);
  check(r.headers.authorization === 'Bearer tok-123', 'Authorization from the token');
  check(r.headers['content-type'] === 'application/json', 'JSON content type');
  check(r.json.from === 'Shop' && r.json.text === 'Hello "Zoé" & co\nline 2',
    `text and sender escaped into JSON: ${r.body}`);
  check(r.json.coding === 0 && r.json.udh === '', 'coding 0, no UDH');
  check(r.json.reference === `${m.id}.1`, 'reference is message id and part');
  check(r.json.callback_url === `${BASE}/v1/hooks/provider/acme`, 'callback_url');
  check(sent.segments[0].smsc_id === r.id && sent.segments[0].connector === "acme", `provider id recorded: ${JSON.stringify(sent.segments[0])}`);
  // the provider's receipt, signed, comes back and is stored
  const ans = await postReceipt(r.id, 'delivered');
  check(ans.status === 200 && ans.json.status === 'stored', `receipt stored: ${ans.status} ${ans.body}`);
  await waitStatus(m.id, 'delivered');
  await waitFor('the delivered webhook', () =>
    hooks.find((h) => h.message_id === m.id && h.status === 'delivered'));
  console.log('ok - accepted, provider id kept, signed receipt delivered, webhook fired');
}

async function retried() {
  const m = await send('+447911123402', 'retry me');
  await waitStatus(m.id, 'sent');
  check(reqsTo('+447911123402').length === 2, '503 then accepted: two requests');
  console.log('ok - 503 retried with back-off, then sent');
}

async function refused() {
  const m = await send('+447911123403', 'refuse me');
  const f = await waitFor('a final failure', async () => {
    const x = await message(m.id);
    return ['rejected', 'failed'].includes(x.status) ? x : null;
  });
  check(reqsTo('+447911123403').length === 1, '400 is not retried');
  check(JSON.stringify(f).includes('bad number'), `the provider's error kept: ${JSON.stringify(f)}`);
  console.log(`ok - 400 is a permanent failure (${f.status}) with the provider's error`);
}

async function timedOut() {
  const m = await send('+447911123404', 'slow provider');
  await waitStatus(m.id, 'sent', 30);
  check(reqsTo('+447911123404').length === 2, 'timed out once, sent again (at least once)');
  console.log('ok - a request without an answer times out and is sent again');
}

async function longUcs2() {
  const text = 'Привет! '.repeat(20); // 160 characters: 3 UCS-2 parts
  const m = await send('+447911123405', text);
  await waitStatus(m.id, 'sent', 20);
  const rs = reqsTo('+447911123405');
  check(rs.length === 3, `three parts: ${rs.length}`);
  check(rs.every((r) => r.json.coding === 2), 'coding 2 (UCS-2)');
  const udhs = rs.map((r) => r.json.udh);
  check(udhs.every((u) => /^050003[0-9A-F]{2}03/.test(u)), `concatenation UDH: ${udhs}`);
  check(rs.map((r) => r.json.udh.slice(10)).join(',') === '01,02,03', 'parts in order');
  check(rs.map((r) => r.json.text).join('') === text, 'the parts\' texts make the message');
  check(rs.map((r) => r.json.reference).join(',') ===
    `${m.id}.1,${m.id}.2,${m.id}.3`, 'references per part');
  console.log('ok - a 3-part UCS-2 message: three requests in order, UDH and text per part');
}

async function badReceipts() {
  const hook = `${BASE}/v1/hooks/provider/acme`;
  let body = JSON.stringify({ id: 'prov-1', status: 'delivered' });
  let r = await call('POST', hook, body, { 'Content-Type': 'application/json', 'X-Signature': 'sha256=00' });
  check(r.status === 401 && r.json.error.code === 'unauthorized' &&
    r.json.error.field === 'X-Signature', `bad signature: ${r.status} ${r.body}`);
  r = await call('POST', hook, body, { 'Content-Type': 'application/json' });
  check(r.status === 401, 'no signature: 401');
  body = JSON.stringify({ status: 'delivered' });
  r = await call('POST', hook, body, { 'Content-Type': 'application/json', 'X-Signature': sign(body) });
  check(r.status === 400 && r.json.error.field === '$.id', `missing id: ${r.status} ${r.body}`);
  body = JSON.stringify({ id: 'prov-1', status: 'teleported' });
  r = await call('POST', hook, body, { 'Content-Type': 'application/json', 'X-Signature': sign(body) });
  check(r.status === 422 && r.json.error.code === 'unknown_status' &&
    r.json.error.field === '$.status', `unknown status: ${r.status} ${r.body}`);
  body = '{"id": ';
  r = await call('POST', hook, body, { 'Content-Type': 'application/json', 'X-Signature': sign(body) });
  check(r.status === 400 && r.json.error.code === 'invalid_json', `bad JSON: ${r.status} ${r.body}`);
  r = await call('POST', `${BASE}/v1/hooks/provider/nope`, '{}', { 'Content-Type': 'application/json' });
  check(r.status === 404 && r.json.error.field === 'connector', `unknown connector: ${r.status}`);
  r = await call('GET', `${BASE}/v1/hooks/provider/operator?id=1&status=delivered`);
  check(r.status === 404, `an SMPP connector takes no HTTP receipts: ${r.status}`);
  // a receipt for an id no part has is taken (and dropped with a warning)
  body = JSON.stringify({ id: 'prov-unknown', status: 'delivered' });
  r = await call('POST', hook, body, { 'Content-Type': 'application/json', 'X-Signature': sign(body) });
  check(r.status === 200, `unmatched receipt answered after the store: ${r.status} ${r.body}`);
  console.log('ok - bad receipts: 401 signature, 400 missing id and bad JSON, 422 status, 404 connector');
}

async function run() {
  provider();
  receiver();
  await sleep(100);
  await accepted();
  await retried();
  await refused();
  await longUcs2();
  await badReceipts();
  await timedOut();
  process.exit(0);
}

if (mode === 'run') run().catch((e) => { console.error(e); process.exit(1); });
