// ops_admin.js - the checks of ops_admin.sh against a running smsgate:
//   node ops_admin.js BASE SINK_PORT OPENAPI_FILE
// Queues inspected and purged (with the confirmation; a wrong one changes
// nothing), the purged messages failed with the reason and their webhooks
// received, a failed message retried until delivered, any account's
// message canceled by an admin, a connector reconnected, /v1/openapi.json
// served as docs/openapi.json holds it, and every refusal (401, 403, 404,
// 409, 422) with the error object.
'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');

const [, , BASE, SINK_PORT, OPENAPI] = process.argv;
const ADMIN = 'admin-key';
const USER = 'user-key';

async function api(key, method, p, body) {
  const headers = key ? { authorization: 'Bearer ' + key } : {};
  const init = { method, headers };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(BASE + p, init);
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch (e) { /* not JSON */ }
  return { status: res.status, text, json };
}

function expect(r, status, what) {
  assert.equal(r.status, status, `${what}: ${r.text}`);
  return r.json;
}

function expectError(r, status, code, field, what) {
  expect(r, status, what);
  assert.equal(r.json.error.code, code, `${what}: ${r.text}`);
  if (field !== undefined) assert.equal(r.json.error.field, field, `${what}: ${r.text}`);
  assert.equal(typeof r.json.error.message, 'string');
}

async function until(what, fn, ms = 20000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting for ' + what);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// The webhook sink: every POST body, by message id.
const hooks = [];
const sink = http.createServer((req, res) => {
  let b = '';
  req.on('data', (c) => b += c);
  req.on('end', () => { try { hooks.push(JSON.parse(b)); } catch (e) { /* ignore */ } res.end('ok'); });
});

async function send(n, text) {
  const to = Array.from({ length: n }, (_, i) => '+4915112345' + String(600 + i));
  const r = await api(USER, 'POST', '/v1/messages', { to, text, from: 'Shop',
    callback_url: `http://127.0.0.1:${SINK_PORT}/hook` });
  return expect(r, 202, 'send').messages.map((m) => m.id);
}

// GET /v1/messages/{id} shows the caller's own messages: the user's key.
const status = async (id) => expect(await api(USER, 'GET', '/v1/messages/' + id), 200, 'get').status;

async function main() {
  await new Promise((r) => sink.listen(Number(SINK_PORT), '127.0.0.1', r));

  // The document served is the one in docs/.
  const doc = await api(null, 'GET', '/v1/openapi.json');
  assert.equal(doc.status, 200);
  assert.equal(doc.text, fs.readFileSync(OPENAPI, 'utf8'), 'served document differs from docs/openapi.json');
  assert.equal(doc.json.openapi, '3.1.0');

  // Refusals: no key, a user key, unknown names and ids.
  expectError(await api(null, 'GET', '/v1/queues'), 401, 'unauthorized', null, 'no key');
  for (const [m, p] of [['GET', '/v1/queues'], ['GET', '/v1/queues/op'], ['POST', '/v1/queues/op/purge'],
    ['POST', '/v1/connectors/op/reconnect'], ['POST', '/v1/messages/01M8A9K8YTV792CRDWQKTBSDB2/retry'],
    ['POST', '/v1/messages/01M8A9K8YTV792CRDWQKTBSDB2/cancel']]) {
    expectError(await api(USER, m, p, m === 'POST' ? { confirm: 'op' } : undefined), 403, 'admin_required', null, `${m} ${p} as user`);
  }
  expectError(await api(ADMIN, 'GET', '/v1/queues/nope'), 404, 'not_found', null, 'unknown queue');
  expectError(await api(ADMIN, 'POST', '/v1/queues/nope/purge', { confirm: 'nope' }), 404, 'not_found', null, 'purge unknown');
  expectError(await api(ADMIN, 'POST', '/v1/connectors/nope/reconnect'), 404, 'not_found', null, 'reconnect unknown');
  expectError(await api(ADMIN, 'POST', '/v1/messages/not-an-id/retry'), 404, 'not_found', null, 'retry bad id');
  expectError(await api(ADMIN, 'POST', '/v1/messages/01M8A9K8YTV792CRDWQKTBSDB2/retry'), 404, 'not_found', null, 'retry unknown');
  expectError(await api(ADMIN, 'POST', '/v1/messages/01M8A9K8YTV792CRDWQKTBSDB2/cancel'), 404, 'not_found', null, 'cancel unknown');

  // A delivered message is not retried.
  const [done] = await send(1, 'first');
  await until('delivered', async () => (await status(done)) === 'delivered');
  expectError(await api(ADMIN, 'POST', `/v1/messages/${done}/retry`), 409, 'not_retryable', null, 'retry delivered');

  // Paused, the connector keeps its queue: 5 queued parts, one of them 2 parts.
  expect(await api(ADMIN, 'POST', '/v1/connectors/op/pause'), 200, 'pause');
  const ids = await send(4, 'queued');
  const [long] = await send(1, 'x'.repeat(200));
  ids.push(long);
  const q = await until('queued', async () => {
    const j = expect(await api(ADMIN, 'GET', '/v1/queues/op'), 200, 'queue');
    return j.depth === 6 ? j : null;
  });
  assert.equal(q.connector, 'op');
  assert.equal(q.configured, true);
  assert.equal(q.by_status.queued, 6);
  assert.ok(q.oldest_queued_age_s >= 0 && q.oldest_queued_age_s < 60, JSON.stringify(q));
  assert.match(q.oldest_queued_at, /^\d{4}-\d\d-\d\dT/);
  const all = expect(await api(ADMIN, 'GET', '/v1/queues'), 200, 'queues');
  assert.deepEqual(all.queues.map((x) => x.connector), ['op', 'spare']);
  assert.equal(all.queues[1].depth, 0);
  assert.equal(all.queues[1].oldest_queued_at, null);

  // Bad purges change nothing.
  expectError(await api(ADMIN, 'POST', '/v1/queues/op/purge', '{'), 400, 'invalid_json', null, 'purge not JSON');
  expectError(await api(ADMIN, 'POST', '/v1/queues/op/purge', {}), 422, 'missing_field', 'confirm', 'purge unconfirmed');
  expectError(await api(ADMIN, 'POST', '/v1/queues/op/purge', { confirm: 'spare' }), 422, 'invalid_value', 'confirm', 'purge other name');
  expectError(await api(ADMIN, 'POST', '/v1/queues/op/purge', { confirm: 'op', force: true }), 422, 'unknown_field', 'force', 'purge extra field');
  expectError(await api(ADMIN, 'POST', '/v1/queues/op/purge', { confirm: 'op', reason: 7 }), 422, 'invalid_type', 'reason', 'purge reason type');
  expectError(await api(ADMIN, 'POST', '/v1/queues/op/purge', { confirm: 'op', reason: 'r'.repeat(201) }), 422, 'invalid_value', 'reason', 'purge reason long');
  assert.equal(expect(await api(ADMIN, 'GET', '/v1/queues/op'), 200, 'queue').depth, 6);

  // Cancel one of them as the admin (it is the user's message).
  const c = expect(await api(ADMIN, 'POST', `/v1/messages/${ids[0]}/cancel`), 200, 'cancel');
  assert.equal(c.status, 'canceled');
  expectError(await api(ADMIN, 'POST', `/v1/messages/${ids[0]}/cancel`), 409, 'not_cancelable', null, 'cancel twice');
  assert.equal(expect(await api(ADMIN, 'GET', '/v1/queues/op'), 200, 'queue').depth, 5);

  // Purge the rest.
  const p = expect(await api(ADMIN, 'POST', '/v1/queues/op/purge', { confirm: 'op', reason: 'operator outage' }), 200, 'purge');
  assert.deepEqual(p, { connector: 'op', purged_parts: 5, messages: 4, complete: true });
  assert.equal(expect(await api(ADMIN, 'GET', '/v1/queues/op'), 200, 'queue').depth, 0);
  for (const id of ids.slice(1)) {
    const m = expect(await api(USER, 'GET', '/v1/messages/' + id), 200, 'get purged');
    assert.equal(m.status, 'failed', JSON.stringify(m));
    assert.ok(m.segments.every((s) => s.status === 'failed' && s.error === 'operator outage'), JSON.stringify(m.segments));
    assert.ok(m.events.some((e) => e.part === null && e.status === 'failed' && e.detail === 'operator outage'), JSON.stringify(m.events));
  }
  await until('failed webhooks', () => ids.slice(1).every((id) =>
    hooks.some((h) => h.message_id === id && h.status === 'failed' && h.detail === 'operator outage')));
  assert.ok(!hooks.some((h) => h.message_id === ids[0] && h.status === 'failed'), 'the canceled message was purged');

  // Retry the two-part one: queued again, then delivered once resumed.
  const r = expect(await api(ADMIN, 'POST', `/v1/messages/${long}/retry`), 200, 'retry');
  assert.equal(r.status, 'queued');
  assert.ok(r.segments.every((s) => s.status === 'queued' && s.attempts === 0 && s.error === null), JSON.stringify(r.segments));
  expectError(await api(ADMIN, 'POST', `/v1/messages/${long}/retry`), 409, 'not_retryable', null, 'retry queued');
  assert.equal(expect(await api(ADMIN, 'GET', '/v1/queues/op'), 200, 'queue').depth, 2);
  expect(await api(ADMIN, 'POST', '/v1/connectors/op/resume'), 200, 'resume');
  await until('retried message delivered', async () => (await status(long)) === 'delivered');
  await until('delivered webhook', () => hooks.some((h) => h.message_id === long && h.status === 'delivered'));

  // Reconnect: the binds drop and come back.
  const before = expect(await api(ADMIN, 'GET', '/v1/connectors/op'), 200, 'connector');
  assert.equal(before.state, 'up');
  expect(await api(ADMIN, 'POST', '/v1/connectors/op/reconnect'), 200, 'reconnect');
  await until('reconnected', async () => {
    const j = expect(await api(ADMIN, 'GET', '/v1/connectors/op'), 200, 'connector');
    return j.state === 'up' && j.reconnects > before.reconnects;
  });
  const [after] = await send(1, 'after reconnect');
  await until('delivered after reconnect', async () => (await status(after)) === 'delivered');

  fs.writeFileSync(process.env.OPS_STATE, JSON.stringify({ failed: ids[1], delivered: done }));
  sink.close();
  console.log('ok - queues, purge, retry, cancel, reconnect, openapi');
}

main().catch((e) => { console.error(e); process.exit(1); });
