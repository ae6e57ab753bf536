// e2e_rest.js - the node side of tests/integration/e2e_rest.sh: a webhook
// receiver that checks signatures, the REST API scenarios with their
// assertions, a keep-alive load client, and the checks after a crash.
//
//   node e2e_rest.js receiver PORT SECRET OUT          webhooks -> OUT (JSON lines)
//   node e2e_rest.js scenarios BASE KEY HOOKS          every API scenario
//   node e2e_rest.js load BASE KEY N C OUT             N sends, C at a time;
//                                                      "seq id" per 202 -> OUT
//   node e2e_rest.js drained BASE KEY SECONDS          waits: nothing queued/sending
//   node e2e_rest.js record RECORD ACCEPTED            every accepted text reached
//                                                      the simulator (its record)
// Exit status 0 when every check passed; failures are printed.
'use strict';
const http = require('http');
const crypto = require('crypto');
const fs = require('fs');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function fail(msg) {
  console.error('FAIL: ' + msg);
  process.exit(1);
}
function check(cond, msg) {
  if (!cond) fail(msg);
}
function eq(a, b, msg) {
  if (JSON.stringify(a) !== JSON.stringify(b))
    fail(`${msg}: expected ${JSON.stringify(b)}, got ${JSON.stringify(a)}`);
}

// One request; resolves {status, headers, text, json}.
function req(base, method, path, { key, body, headers = {}, raw } = {}) {
  const u = new URL(path, base);
  const h = { ...headers };
  if (key !== undefined) h.authorization = 'Bearer ' + key;
  let data = null;
  if (raw !== undefined) data = Buffer.from(raw);
  else if (body !== undefined) data = Buffer.from(JSON.stringify(body));
  if (data) {
    h['content-type'] = h['content-type'] || 'application/json';
    h['content-length'] = data.length;
  }
  return new Promise((resolve, reject) => {
    const r = http.request(
      { host: u.hostname, port: u.port, path: u.pathname + u.search, method, headers: h, agent },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json = null;
          try { json = JSON.parse(text); } catch (e) { /* not JSON */ }
          resolve({ status: res.statusCode, headers: res.headers, text, json });
        });
      });
    r.on('error', reject);
    if (data) r.write(data);
    r.end();
  });
}

// ---- webhook receiver -------------------------------------------------------

function receiver(port, secret, out) {
  const srv = http.createServer((rq, rs) => {
    const chunks = [];
    rq.on('data', (c) => chunks.push(c));
    rq.on('end', () => {
      const body = Buffer.concat(chunks);
      const want = 'sha256=' + crypto.createHmac('sha256', secret).update(body).digest('hex');
      const got = String(rq.headers['x-smsgate-signature'] || '');
      const ok = got.length === want.length &&
        crypto.timingSafeEqual(Buffer.from(got), Buffer.from(want));
      let j = {};
      try { j = JSON.parse(body.toString('utf8')); } catch (e) { j = { unparsed: true }; }
      fs.appendFileSync(out, JSON.stringify({ sig_ok: ok, path: rq.url, body: j }) + '\n');
      rs.writeHead(ok ? 200 : 401).end();
    });
  });
  srv.listen(port, '127.0.0.1', () => console.log(`receiver listening on ${port}`));
  process.on('SIGTERM', () => srv.close(() => process.exit(0)));
}

// ---- helpers over the API ----------------------------------------------------

async function waitFor(what, fn, timeoutMs = 20000, everyMs = 100) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) fail(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

const FINAL = ['delivered', 'undeliverable', 'expired', 'rejected', 'failed', 'canceled'];

async function waitStatus(base, key, id, want, timeoutMs = 20000) {
  let last = null;
  await waitFor(`${id} to become ${want} (last ${last && last.status})`, async () => {
    const r = await req(base, 'GET', `/v1/messages/${id}`, { key });
    eq(r.status, 200, `GET /v1/messages/${id}`);
    last = r.json;
    if (FINAL.includes(last.status) && last.status !== want)
      fail(`${id} ended ${last.status}, wanted ${want}: ${r.text}`);
    return last.status === want;
  }, timeoutMs);
  return last;
}

async function countMessages(base, key) {
  let n = 0, cursor = null;
  for (;;) {
    const q = '/v1/messages?limit=1000' + (cursor ? `&cursor=${cursor}` : '');
    const r = await req(base, 'GET', q, { key });
    eq(r.status, 200, 'list for counting');
    n += r.json.data.length;
    cursor = r.json.next_cursor;
    if (!cursor) return n;
  }
}

async function metric(base, line) {
  const r = await req(base, 'GET', '/metrics');
  const m = r.text.split('\n').find((l) => l.startsWith(line + ' '));
  return m === undefined ? null : Number(m.slice(line.length + 1));
}

function hooksFor(file, id) {
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))
    .filter((h) => h.body.message_id === id);
}

function errorOf(r, status, code, field) {
  eq(r.status, status, `HTTP status of ${r.text}`);
  check(r.json && r.json.error, `an error body: ${r.text}`);
  if (code !== undefined) eq(r.json.error.code, code, `error code of ${r.text}`);
  if (field !== undefined) eq(r.json.error.field, field, `error field of ${r.text}`);
  check(typeof r.json.error.message === 'string' && r.json.error.message.length > 0,
    `an error message in ${r.text}`);
}

// ---- scenarios ------------------------------------------------------------------

async function sHealthAndMetrics(base) {
  const h = await req(base, 'GET', '/healthz');
  eq(h.status, 200, '/healthz');
  eq(h.json.status, 'ok', '/healthz status');
  const r = await req(base, 'GET', '/readyz');
  eq([r.status, r.json.status], [200, 'ready'], '/readyz');
  const m = await req(base, 'GET', '/metrics');
  eq(m.status, 200, '/metrics');
  check(/^text\/plain/.test(m.headers['content-type']), 'metrics content type');
  for (const name of ['smsgate_messages', 'smsgate_requests_total',
    'smsgate_connector_up', 'smsgate_submit_latency_seconds', 'smsgate_store_queue_depth'])
    check(m.text.includes(`# HELP ${name} `) && m.text.includes(`# TYPE ${name} `),
      `HELP and TYPE of ${name}`);
  check(/^smsgate_messages\{status="delivered"\} \d+$/m.test(m.text), 'messages by status');
  check(/^smsgate_connector_up\{connector="operator"\} 1$/m.test(m.text), 'connector up');
  check(/^smsgate_submit_latency_seconds_bucket\{le="\+Inf"\} \d+$/m.test(m.text), 'histogram');
  for (const l of m.text.split('\n'))
    check(l === '' || l.startsWith('# ') || l.startsWith('smsgate_'), `metric name: ${l}`);
}

async function sAuth(base, key) {
  const routes = [['POST', '/v1/messages'], ['GET', '/v1/messages'],
    ['POST', '/v1/messages/preview'], ['GET', '/v1/messages/01ARZ3NDEKTSV4RRFFQ69G5FAV'],
    ['DELETE', '/v1/messages/01ARZ3NDEKTSV4RRFFQ69G5FAV']];
  for (const [m, p] of routes) {
    const none = await req(base, m, p, { body: { to: '+79001234567', text: 'x' } });
    errorOf(none, 401, 'unauthorized');
    check(/^Bearer/.test(none.headers['www-authenticate'] || ''), 'WWW-Authenticate');
    errorOf(await req(base, m, p, { key: 'wrong-key', body: {} }), 401, 'invalid_api_key');
    errorOf(await req(base, m, p, { key: 'off-key', body: { to: '+79001234567', text: 'x' } }),
      403, 'account_disabled');
    errorOf(await req(base, m, p, { headers: { authorization: 'Basic ZGVtbzpkZW1v' } }),
      401, 'unauthorized');
  }
}

async function sValidation(base, key) {
  const before = await countMessages(base, key);
  const post = (b) => req(base, 'POST', '/v1/messages', { key, raw: b });
  errorOf(await post('{"to": "+79001234567", "text": '), 400, 'invalid_json', null);
  errorOf(await post(''), 400, 'invalid_json', null);
  errorOf(await post('[1]'), 400, 'invalid_json', null);
  errorOf(await post('{"to":"+79001234567","text":"a","colour":"red"}'), 422,
    'unknown_field', 'colour');
  errorOf(await post('{"to":"+79001234567","text":"a","priority":"high"}'), 422,
    'invalid_type', 'priority');
  errorOf(await post('{"to":"+79001234567"}'), 422, 'missing_field', 'text');
  errorOf(await post('{"to":["+79001234567",7],"text":"a"}'), 422, 'invalid_type', 'to[1]');
  errorOf(await post('{"to":"+79001234567","text":"a","send_at":"soon"}'), 422,
    'invalid_value', 'send_at');
  const long = await post(JSON.stringify({ to: '+79001234567', from: 'Test', text: 'a'.repeat(1600) }));
  errorOf(long, 422, 'too_many_parts', 'text');
  check(long.json.error.message.includes('11'), `the part count in "${long.json.error.message}"`);
  const big = await post(JSON.stringify({ to: '+79001234567', text: 'b'.repeat(100 * 1024) }));
  errorOf(big, 413);
  errorOf(await req(base, 'POST', '/v1/messages', { key, body: { to: '+79001234567', text: 'a' },
    headers: { 'idempotency-key': '' } }), 400, 'invalid_idempotency_key');
  eq(await countMessages(base, key), before, 'messages stored by refused requests');
  console.log('ok - validation: 400/413/422 with the field named, nothing stored');
}

// The events of a message delivered at its first try, as the API lists
// them: the message's queued and sending; each part's sent (detail: its
// operator id) and delivered (detail: the receipt); the message's sent and
// delivered, each right after the part event that caused it, at the same
// time or later, the delivered one with that receipt. The same list with
// the SQLite store writing a part's event in its message event's row.
function checkDeliveredEvents(msg) {
  const ev = msg.events;
  const what = (e) => [e.status, e.part, e.error_code];
  eq(ev.filter((e) => e.part === null).map((e) => [...what(e), e.detail === null]),
    [['queued', null, null, true], ['sending', null, null, true], ['sent', null, null, true],
      ['delivered', null, null, false]], 'message events');
  eq(ev.slice(0, 2).map(what), [['queued', null, null], ['sending', null, null]], 'first events');
  eq(ev.length, 4 + 2 * msg.segments.length, `no other event: ${JSON.stringify(ev)}`);
  for (const s of msg.segments) {
    const mine = ev.filter((e) => e.part === s.seq);
    eq(mine.map(what), [['sent', s.seq, null], ['delivered', s.seq, null]], `part ${s.seq} events`);
    eq(mine[0].detail, s.smsc_id, `part ${s.seq} sent: its operator id`);
    check(mine[1].detail.startsWith(`id:${s.smsc_id} `) && mine[1].detail.includes('stat:DELIVRD'),
      `part ${s.seq} delivered: the receipt, ${mine[1].detail}`);
  }
  for (const st of ['sent', 'delivered']) {
    const i = ev.findIndex((e) => e.part === null && e.status === st);
    const p = ev[i - 1];
    check(p.part !== null && p.status === st, `the part's ${st} right before the message's`);
    check(Date.parse(ev[i].timestamp) >= Date.parse(p.timestamp), `${st}: time order`);
    if (st === 'delivered')
      eq(ev[i].detail, p.detail, 'the message delivered with its last receipt');
  }
  for (let i = 1; i < ev.length; i++)
    check(Date.parse(ev[i].timestamp) >= Date.parse(ev[i - 1].timestamp) ||
      (ev[i].part !== null && ev[i].status === 'delivered'), 'events in time order');
}

async function sSendDelivered(base, key, hooks) {
  const r = await req(base, 'POST', '/v1/messages', { key,
    body: { to: '+79001234567', from: 'Test', text: 'Hello from the e2e test', client_ref: 'e2e-1' } });
  eq(r.status, 202, `202 for a send: ${r.text}`);
  check(/^[0-9A-Z]{26}$/.test(r.json.batch_id), 'batch_id');
  eq(r.json.messages.length, 1, 'one entry per recipient');
  const m = r.json.messages[0];
  eq([m.to, m.parts, m.encoding, m.status], ['+79001234567', 1, 'gsm7', 'queued'], 'entry');
  const msg = await waitStatus(base, key, m.id, 'delivered');
  eq([msg.id, msg.batch_id, msg.to, msg.from, msg.text, msg.client_ref],
    [m.id, r.json.batch_id, '+79001234567', 'Test', 'Hello from the e2e test', 'e2e-1'], 'GET fields');
  eq(msg.segments.length, 1, 'one part');
  check(msg.segments[0].smsc_id && msg.segments[0].status === 'delivered', 'part state and smsc id');
  const seen = msg.events.map((e) => e.status);
  for (const s of ['queued', 'sent', 'delivered'])
    check(seen.includes(s), `event ${s} in ${seen}`);
  for (const e of msg.events) check(!isNaN(Date.parse(e.timestamp)), 'event timestamp');
  checkDeliveredEvents(msg);
  const hook = await waitFor(`a delivered webhook for ${m.id}`, () =>
    hooksFor(hooks, m.id).find((h) => h.body.status === 'delivered'), 20000);
  check(hook.sig_ok, 'the webhook signature (HMAC-SHA256 of the body) verifies');
  eq([hook.body.event, hook.body.batch_id, hook.body.to, hook.body.client_ref],
    ['message.status', r.json.batch_id, '+79001234567', 'e2e-1'], 'webhook body');
  check(hooksFor(hooks, m.id).every((h) => h.sig_ok), 'every webhook signed');
  console.log('ok - send: 202, delivered, parts and events, signed webhook');
  return m.id;
}

async function sCyrillic(base, key) {
  const text = 'Привет! Это сообщение на русском языке, достаточно длинное, чтобы ' +
    'занять три части в кодировке UCS-2: по 67 символов в каждой части. ' +
    'Спасибо за внимание!';
  check([...text].length > 134 && [...text].length <= 201, 'text needs 3 parts');
  const r = await req(base, 'POST', '/v1/messages', { key, body: { to: '+79001234567', from: 'Test', text } });
  eq(r.status, 202, '202');
  eq([r.json.messages[0].parts, r.json.messages[0].encoding], [3, 'ucs2'], 'three UCS-2 parts');
  const msg = await waitStatus(base, key, r.json.messages[0].id, 'delivered');
  eq(msg.segments.map((s) => s.seq), [1, 2, 3], 'three parts');
  check(msg.segments.every((s) => s.status === 'delivered' && s.smsc_id), 'each part delivered');
  eq(msg.text, text, 'text kept');
  checkDeliveredEvents(msg);
  console.log('ok - a 3-part Cyrillic message is delivered');
}

async function sPartialList(base, key) {
  const r = await req(base, 'POST', '/v1/messages', { key,
    body: { to: ['+79001234567', '+1234', 'hello', '8 900 123-45-68'], from: 'Test', text: 'list' } });
  eq(r.status, 202, `202 for a list with some invalid numbers: ${r.text}`);
  const ms = r.json.messages;
  eq(ms.length, 4, 'one entry per recipient');
  check(ms[0].id && ms[3].id && ms[3].to === '+79001234568', 'valid ones accepted (national form normalised)');
  for (const i of [1, 2])
    check(!ms[i].id && ms[i].status === 'rejected' && ms[i].error && ms[i].error.code &&
      ms[i].error.message, `invalid entry ${i} named with a reason: ${JSON.stringify(ms[i])}`);
  eq([ms[1].to, ms[2].to], ['+1234', 'hello'], 'rejected entries name their input as "to"');
  const all = await req(base, 'POST', '/v1/messages', { key,
    body: { to: ['+1234', 'nope'], from: 'Test', text: 'x' } });
  errorOf(all, 422, undefined, 'to');
  for (const i of [0, 3]) await waitStatus(base, key, ms[i].id, 'delivered');
  const l = await req(base, 'GET', `/v1/messages?batch_id=${r.json.batch_id}`, { key });
  eq(l.status, 200, 'list by batch');
  eq(l.json.data.map((m) => m.id).sort(), [ms[0].id, ms[3].id].sort(), 'the batch holds the accepted');
  console.log('ok - a list with invalid numbers: valid accepted, invalid named; all invalid 422');
  return r.json.batch_id;
}

async function sIdempotency(base, key) {
  const body = { to: ['+79001234567', '+79001234568'], from: 'Test', text: 'idempotent' };
  const idem = 'e2e-' + crypto.randomBytes(6).toString('hex');
  const sub = 'smsgate_connector_submitted_total{connector="operator"}';
  const first = await req(base, 'POST', '/v1/messages', { key, body, headers: { 'idempotency-key': idem } });
  eq(first.status, 202, 'first');
  for (const m of first.json.messages) await waitStatus(base, key, m.id, 'delivered');
  const s0 = await metric(base, sub);
  check(s0 !== null, 'submitted counter');
  const again = await req(base, 'POST', '/v1/messages', { key, raw: JSON.stringify(body, null, 2),
    headers: { 'idempotency-key': idem } });
  eq(again.status, 202, 'replay');
  eq(again.json, first.json, 'the replay answers the same ids');
  eq(again.headers['idempotent-replayed'], 'true', 'replay header');
  const other = await req(base, 'POST', '/v1/messages', { key, body: { ...body, text: 'other' },
    headers: { 'idempotency-key': idem } });
  errorOf(other, 409);
  // A barrier: a fresh message sent after the replay. When it is delivered,
  // the replay had its chance to reach the SMSC; it must not have.
  const fresh = await req(base, 'POST', '/v1/messages', { key, body: { to: '+79001234567', from: 'Test', text: 'fresh' } });
  await waitStatus(base, key, fresh.json.messages[0].id, 'delivered');
  eq(await metric(base, sub), s0 + 1, 'submit_sm count: the replay sent nothing');
  console.log('ok - Idempotency-Key: replay answers the same ids, the SMSC saw one submit; 409 on another body');
}

async function sScheduled(base, key) {
  const at = new Date(Date.now() + 3000);
  const r = await req(base, 'POST', '/v1/messages', { key,
    body: { to: '+79001234567', from: 'Test', text: 'later', send_at: at.toISOString() } });
  eq(r.status, 202, '202');
  eq(r.json.messages[0].status, 'scheduled', 'scheduled');
  const id = r.json.messages[0].id;
  const early = await req(base, 'GET', `/v1/messages/${id}`, { key });
  check(Date.now() < at.getTime(), 'read before send_at');
  eq(early.json.status, 'scheduled', 'still scheduled before send_at');
  eq(early.json.send_at, at.toISOString(), 'send_at shown');
  const msg = await waitStatus(base, key, id, 'delivered', 20000);
  const sent = msg.events.filter((e) => ['sending', 'sent'].includes(e.status));
  check(sent.length > 0, 'sending events');
  for (const e of sent)
    check(Date.parse(e.timestamp) >= at.getTime(), `${e.status} at ${e.timestamp}, not before ${at.toISOString()}`);
  console.log('ok - scheduled: not sent before send_at, delivered after');
}

async function sCancel(base, key, deliveredId) {
  const at = new Date(Date.now() + 60000).toISOString();
  const r = await req(base, 'POST', '/v1/messages', { key,
    body: { to: '+79001234567', from: 'Test', text: 'cancel me', send_at: at } });
  const id = r.json.messages[0].id;
  const d = await req(base, 'DELETE', `/v1/messages/${id}`, { key });
  eq(d.status, 200, `cancel: ${d.text}`);
  eq([d.json.id, d.json.status], [id, 'canceled'], 'canceled message');
  eq((await req(base, 'GET', `/v1/messages/${id}`, { key })).json.status, 'canceled', 'GET after cancel');
  errorOf(await req(base, 'DELETE', `/v1/messages/${id}`, { key }), 409);
  errorOf(await req(base, 'DELETE', `/v1/messages/${deliveredId}`, { key }), 409);
  errorOf(await req(base, 'DELETE', '/v1/messages/01ARZ3NDEKTSV4RRFFQ69G5FAV', { key }), 404, 'not_found');
  errorOf(await req(base, 'DELETE', '/v1/messages/not-an-id', { key }), 404, 'not_found');
  errorOf(await req(base, 'GET', '/v1/messages/01ARZ3NDEKTSV4RRFFQ69G5FAV', { key }), 404, 'not_found');
  console.log('ok - cancel: 200 with the message, 409 once sent or ended, 404 unknown');
}

async function sExpired(base, key) {
  // +44 is routed to a connector whose SMSC is down: the message waits in
  // the queue until its validity runs out.
  const r = await req(base, 'POST', '/v1/messages', { key,
    body: { to: '+447911123456', from: 'Test', text: 'too late', validity: 1 } });
  eq(r.status, 202, `202: ${r.text}`);
  const msg = await waitStatus(base, key, r.json.messages[0].id, 'expired', 20000);
  check(msg.expires_at !== null, 'expires_at shown');
  check(msg.events.some((e) => e.status === 'expired'), 'expired event');
  console.log('ok - validity 1 s on a connector that is down: expired');
}

async function sPreview(base, key) {
  const before = await countMessages(base, key);
  const p = await req(base, 'POST', '/v1/messages/preview', { key, body: { text: 'Hello' } });
  eq(p.status, 200, 'preview');
  eq([p.json.encoding, p.json.parts, p.json.characters, p.json.segments[0].user_data],
    ['gsm7', 1, 5, '48656c6c6f'], 'preview of Hello');
  const c = await req(base, 'POST', '/v1/messages/preview', { key, body: { text: 'Привет'.repeat(20) } });
  eq([c.json.encoding, c.json.parts], ['ucs2', 2], 'preview of 120 Cyrillic letters');
  eq(c.json.segments[0].udh.length, 12, 'a concatenation UDH (6 octets)');
  const g = await req(base, 'POST', '/v1/messages/preview', { key, body: { text: 'Привет', encoding: 'gsm7' } });
  errorOf(g, 422, undefined, 'text');
  const t = await req(base, 'POST', '/v1/messages/preview', { key, body: { text: 'x'.repeat(2000) } });
  errorOf(t, 422, 'too_many_parts', 'text');
  eq(await countMessages(base, key), before, 'a preview stores nothing');
  console.log('ok - preview: encoding and parts, nothing stored');
}

// The account "slow" may send 2 messages a second (tps: 2 in the
// configuration): the third of a quick burst is answered 429 with
// Retry-After, and stores nothing.
async function sRateLimit(base) {
  const key = 'slow-key';
  const before = await countMessages(base, key);
  const rs = [];
  for (let i = 0; i < 4; i++)
    rs.push(await req(base, 'POST', '/v1/messages', { key,
      body: { to: '+79001234567', from: 'Test', text: `burst ${i}` } }));
  const ok = rs.filter((r) => r.status === 202).length;
  const busy = rs.filter((r) => r.status === 429);
  check(ok >= 1 && busy.length >= 1, `a burst over tps gets 202s then 429s: ${rs.map((r) => r.status)}`);
  for (const r of busy) {
    errorOf(r, 429, 'rate_limited');
    check(Number(r.headers['retry-after']) >= 1, `Retry-After: ${r.headers['retry-after']}`);
  }
  eq(await countMessages(base, key), before + ok, 'only the 202s are stored');
  console.log('ok - over the account rate: 429 with Retry-After, nothing stored');
}

async function sList(base, key) {
  const p1 = await req(base, 'GET', '/v1/messages?status=delivered&limit=2', { key });
  eq(p1.status, 200, 'list');
  eq(p1.json.data.length, 2, 'page of 2');
  check(p1.json.data.every((m) => m.status === 'delivered'), 'status filter');
  check(typeof p1.json.next_cursor === 'string', 'next_cursor');
  const p2 = await req(base, 'GET', `/v1/messages?status=delivered&limit=2&cursor=${p1.json.next_cursor}`, { key });
  check(p2.json.data.length >= 1, 'second page');
  check(p2.json.data.every((m) => m.id < p1.json.data[1].id), 'pages go back in time without overlap');
  const to = await req(base, 'GET', '/v1/messages?to=%2B79001234568&limit=1000', { key });
  check(to.json.data.length >= 1 && to.json.data.every((m) => m.to === '+79001234568'), 'to filter');
  const future = await req(base, 'GET', '/v1/messages?since=2100-01-01T00:00:00Z', { key });
  eq(future.json, { data: [], next_cursor: null }, 'since in the future');
  errorOf(await req(base, 'GET', '/v1/messages?staus=queued', { key }), 422, 'unknown_field', 'staus');
  errorOf(await req(base, 'GET', '/v1/messages?limit=0', { key }), 422, 'invalid_value', 'limit');
  console.log('ok - list: filters, cursor pages, strict query');
}

async function scenarios(base, key, hooks) {
  await sHealthAndMetrics(base);
  console.log('ok - /healthz and /metrics');
  await sAuth(base, key);
  console.log('ok - 401 without a valid bearer key, 403 for a disabled account, on every /v1 route');
  await sValidation(base, key);
  const delivered = await sSendDelivered(base, key, hooks);
  await sCyrillic(base, key);
  await sPartialList(base, key);
  await sIdempotency(base, key);
  await sPreview(base, key);
  await sCancel(base, key, delivered);
  await sScheduled(base, key);
  await sExpired(base, key);
  await sRateLimit(base);
  await sList(base, key);
}

// ---- load and crash checks ------------------------------------------------------

async function load(base, key, n, c, out) {
  const fd = fs.openSync(out, 'a');
  let next = 0, accepted = 0, failed = 0;
  async function worker() {
    while (next < n) {
      const seq = next++;
      try {
        const r = await req(base, 'POST', '/v1/messages', { key,
          body: { to: '+79001234567', from: 'Load', text: `kill-${seq}` } });
        if (r.status === 202) {
          fs.writeSync(fd, `${seq} ${r.json.messages[0].id}\n`);
          accepted++;
        } else failed++;
      } catch (e) {
        failed++;
      }
    }
  }
  await Promise.all(Array.from({ length: c }, worker));
  fs.closeSync(fd);
  console.log(`load: ${accepted} accepted, ${failed} failed of ${n}`);
  agent.destroy();
}

async function drained(base, key, seconds) {
  await waitFor('the queue to drain', async () => {
    for (const s of ['scheduled', 'queued', 'sending']) {
      const r = await req(base, 'GET', `/v1/messages?status=${s}&limit=1`, { key });
      if (r.status !== 200 || r.json.data.length > 0) return false;
    }
    return true;
  }, seconds * 1000, 250);
  agent.destroy();
}

// The simulator's record holds the short_message of every submit, hex:
// the GSM 7-bit septets of "kill-N" are the ASCII octets of those characters.
function record(recordFile, acceptedFile) {
  const seen = new Map();
  for (const line of fs.readFileSync(recordFile, 'utf8').split('\n')) {
    const m = / sm=([0-9a-fA-F]*)/.exec(line);
    if (!m) continue;
    const text = Buffer.from(m[1], 'hex').toString('latin1');
    seen.set(text, (seen.get(text) || 0) + 1);
  }
  const accepted = fs.readFileSync(acceptedFile, 'utf8').split('\n').filter(Boolean)
    .map((l) => Number(l.split(' ')[0]));
  const missing = accepted.filter((s) => !seen.has(`kill-${s}`));
  const dups = [...seen.values()].filter((v) => v > 1).length;
  console.log(`record: ${accepted.length} accepted, ${seen.size} distinct texts at the SMSC, ` +
    `${dups} sent more than once, ${missing.length} missing`);
  if (missing.length) fail(`accepted but never submitted: kill-${missing.slice(0, 10).join(', kill-')}`);
}

const [cmd, ...a] = process.argv.slice(2);
const run = {
  receiver: () => receiver(Number(a[0]), a[1], a[2]),
  scenarios: () => scenarios(a[0], a[1], a[2]).then(() => agent.destroy()),
  load: () => load(a[0], a[1], Number(a[2]), Number(a[3]), a[4]),
  drained: () => drained(a[0], a[1], Number(a[2])),
  record: () => record(a[0], a[1]),
}[cmd];
if (!run) fail(`unknown command ${cmd}`);
Promise.resolve(run()).catch((e) => fail(e.stack || String(e)));
