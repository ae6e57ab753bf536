// http_down.js - the checks of http_down.sh against a running smsgate with
// an HTTP provider connector `acme` (routes: +44 -> acme, then operator):
//   node http_down.js PHASE BASE PROVIDER_PORT
// up:   acme is up and a message to +44 leaves through it (the provider,
//       started here, takes it), then the provider stops.
// down: with the provider gone, messages to +44 still reach the simulator
//       through `operator` (failover); acme reports down in /v1/connectors
//       and /metrics; POST /v1/connectors/acme/reconnect answers 200 and it
//       stays down while nothing listens.
// back: the provider listens again: acme comes up by itself (its probe),
//       and the next message to +44 goes through it again.
'use strict';
const assert = require('node:assert/strict');
const http = require('node:http');

const [, , PHASE, BASE, PPORT] = process.argv;
const KEY = 'hd-key';
const ADMIN = 'admin-key';

async function api(key, method, p, body) {
  const init = { method, headers: { authorization: 'Bearer ' + key } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers['content-type'] = 'application/json';
  }
  const res = await fetch(BASE + p, init);
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch (e) { /* not JSON */ }
  return { status: res.status, text, json };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(what, fn, secs = 30) {
  for (let i = 0; i < secs * 10; i++) {
    const v = await fn();
    if (v) return v;
    await sleep(100);
  }
  throw new Error('timed out waiting for ' + what);
}

// A provider that accepts every message, counting them.
function provider() {
  const got = [];
  const srv = http.createServer((req, res) => {
    let b = '';
    req.on('data', (c) => { b += c; });
    req.on('end', () => {
      got.push(JSON.parse(b));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ messages: [{ id: 'p-' + got.length }] }));
    });
  });
  return new Promise((ok) => srv.listen(Number(PPORT), '127.0.0.1', () => ok({ srv, got })));
}

async function state() {
  const r = await api(ADMIN, 'GET', '/v1/connectors/acme');
  assert.equal(r.status, 200, r.text);
  return r.json.state;
}

async function send(to, text) {
  const r = await api(KEY, 'POST', '/v1/messages', { to, from: 'Test', text });
  assert.equal(r.status, 202, r.text);
  return r.json.messages[0].id;
}

async function sentThrough(id) {
  return until(`message ${id} sent`, async () => {
    const m = (await api(KEY, 'GET', '/v1/messages/' + id)).json;
    return ['sent', 'delivered'].includes(m.status) && m.segments.every((p) => p.connector) ? m : null;
  });
}

async function up() {
  const p = await provider();
  await until('acme up', async () => (await state()) === 'up');
  const m = await sentThrough(await send('+447911123401', 'one'));
  assert.equal(m.segments[0].connector, 'acme');
  assert.equal(p.got.length, 1);
  await new Promise((ok) => p.srv.close(ok));
  p.srv.closeAllConnections();
}

async function metricUp() {
  const r = await fetch(BASE + '/metrics');
  const t = await r.text();
  const m = t.match(/^smsgate_connector_state\{connector="acme",state="down"\} (\d)$/m);
  return m ? Number(m[1]) : -1;
}

async function down() {
  const ids = [];
  for (let i = 0; i < 6; i++) ids.push(await send('+44791112341' + i, 'failover ' + i));
  await until('acme down', async () => (await state()) === 'down');
  assert.equal(await metricUp(), 1, 'the metric says down');
  for (const id of ids) {
    const m = await sentThrough(id);
    assert.equal(m.segments[0].connector, 'operator', `${id} failed over`);
  }
  const rc = await api(ADMIN, 'POST', '/v1/connectors/acme/reconnect');
  assert.equal(rc.status, 200, rc.text);
  await sleep(600); // a probe or two: nothing listens
  assert.equal(await state(), 'down');
  // While down, new messages go the other way at once.
  const m = await sentThrough(await send('+447911123499', 'while down'));
  assert.equal(m.segments[0].connector, 'operator');
}

async function back() {
  const p = await provider();
  await until('acme up again', async () => (await state()) === 'up', 20);
  assert.equal(await metricUp(), 0);
  const m = await sentThrough(await send('+447911123402', 'two'));
  assert.equal(m.segments[0].connector, 'acme');
  assert.equal(p.got.length, 1);
  const c = (await api(ADMIN, 'GET', '/v1/connectors/acme')).json;
  assert.ok(c.reconnects >= 1, JSON.stringify(c));
  // Reconnect of an up HTTP connector: 200, and it stays up.
  const rc = await api(ADMIN, 'POST', '/v1/connectors/acme/reconnect');
  assert.equal(rc.status, 200, rc.text);
  assert.equal(rc.json.state, 'up');
  const m2 = await sentThrough(await send('+447911123403', 'three'));
  assert.equal(m2.segments[0].connector, 'acme');
  await new Promise((ok) => p.srv.close(ok));
  p.srv.closeAllConnections();
}

const phases = { up, down, back };
phases[PHASE]().then(() => console.log(`${PHASE}: ok`), (e) => {
  console.error(e);
  process.exit(1);
});
