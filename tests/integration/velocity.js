// The checks of velocity.sh against a running smsgate: an account with
// velocity {prefix_digits: 6, per_minute: 3, block_after: 2} floods one
// number range through REST, smsgate's SMPP server (node-smpp) and Kannel
// sendsms; it is slowed (429 velocity_limited with Retry-After,
// ESME_RTHROTTLED, Kannel 503), then blocked (403 velocity_blocked,
// ESME_RINVDSTADR, Kannel 403), other ranges and accounts still go, and the
// block shows in /metrics and GET /v1/velocity/blocks; after a restart it
// is still there, and an administrator lifts it.
//
//   node velocity.js flood BASE SMPP_PORT
//   node velocity.js after-restart BASE
'use strict';
const assert = require('assert');
const http = require('http');
const path = require('path');
const smpp = require(path.join(__dirname, '../interop/node_modules/smpp'));

const ESME_RINVDSTADR = 0x0b;
const ESME_RTHROTTLED = 0x58;

function req(base, method, p, key, body) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? null : JSON.stringify(body);
    const headers = {};
    if (key) headers.Authorization = `Bearer ${key}`;
    if (data !== null) headers['Content-Type'] = 'application/json';
    const r = http.request(base + p, { method, headers }, (res) => {
      let b = '';
      res.on('data', (c) => (b += c));
      res.on('end', () => {
        let json = null;
        try { json = JSON.parse(b); } catch (e) { /* text answers */ }
        resolve({ status: res.statusCode, headers: res.headers, body: b, json });
      });
    });
    r.on('error', reject);
    if (data !== null) r.write(data);
    r.end();
  });
}

const send = (base, key, to) =>
  req(base, 'POST', '/v1/messages', key, { to, from: 'Pump', text: 'hi' });

function expectError(r, status, code, field) {
  assert.equal(r.status, status, `status of ${r.body}`);
  assert.equal(r.json.error.code, code, r.body);
  assert.equal(r.json.error.field, field, r.body);
}

function bind(port, systemId, password) {
  return new Promise((resolve, reject) => {
    const s = smpp.connect({ url: `smpp://127.0.0.1:${port}`,
                             auto_enquire_link_period: 0 });
    s.on('error', reject);
    s.on('deliver_sm', (pdu) => s.send(pdu.response()));
    s.on('connect', () => s.bind_transceiver({ system_id: systemId, password },
      (pdu) => (pdu.command_status ? reject(new Error('bind')) : resolve(s))));
  });
}

function submit(s, dst) {
  return new Promise((resolve) => s.submit_sm({
    source_addr: 'Pump', source_addr_ton: 5, destination_addr: dst,
    dest_addr_ton: 1, dest_addr_npi: 1, short_message: 'hi' },
  (pdu) => resolve(pdu.command_status)));
}

function kannel(base, to) {
  const qs = new URLSearchParams({ username: 'pump', password: 'pumppw',
                                   to, text: 'hi', from: 'Pump' });
  return req(base, 'GET', '/cgi-bin/sendsms?' + qs.toString());
}

async function metric(base, name) {
  const r = await req(base, 'GET', '/metrics');
  const m = r.body.match(new RegExp(`^${name} (\\d+)$`, 'm'));
  assert.ok(m, `${name} in /metrics`);
  return Number(m[1]);
}

async function stored(base, key) {
  const r = await req(base, 'GET', '/v1/messages?limit=100', key);
  assert.equal(r.status, 200, r.body);
  return r.json.data.map((m) => m.to).sort();
}

async function flood(base, smppPort) {
  const K = 'pump-key';
  // REST: three a minute to +491511..., then slowed, then blocked.
  for (let i = 0; i < 3; i++)
    assert.equal((await send(base, K, `+49151123456${60 + i}`)).status, 202);
  let r = await send(base, K, '+4915112345699');
  expectError(r, 429, 'velocity_limited', 'to');
  const ra = Number(r.headers['retry-after']);
  assert.ok(ra >= 1 && ra <= 60, `Retry-After ${r.headers['retry-after']}`);
  // Another range of the same account and the same range of another
  // account are not affected.
  assert.equal((await send(base, K, '+4917612345678')).status, 202);
  assert.equal((await send(base, 'calm-key', '+4915112345600')).status, 202);
  // The second refusal within a minute blocks the range.
  r = await send(base, K, '+4915112345698');
  expectError(r, 403, 'velocity_blocked', 'to');
  r = await send(base, K, '+4915110000000');
  expectError(r, 403, 'velocity_blocked', 'to');
  // A list: the blocked recipient is refused alone, the other goes.
  r = await send(base, K, ['+4915111111111', '+4917612345679']);
  assert.equal(r.status, 202, r.body);
  assert.deepEqual(r.json.messages.map((m) => m.status === 'rejected' ? m.error.code : 'ok'),
                   ['velocity_blocked', 'ok'], r.body);
  console.log('ok - REST: 3 a minute, then 429 velocity_limited, then 403 velocity_blocked');

  // SMPP: the blocked range is ESME_RINVDSTADR; a fresh range is slowed.
  const s = await bind(smppPort, 'pump', 'pumppw');
  assert.equal(await submit(s, '+4915112222222'), ESME_RINVDSTADR);
  for (let i = 0; i < 3; i++) assert.equal(await submit(s, `+49152123456${60 + i}`), 0);
  assert.equal(await submit(s, '+4915212345699'), ESME_RTHROTTLED);
  await new Promise((resolve) => s.unbind(() => { s.close(); resolve(); }));
  console.log('ok - SMPP: ESME_RTHROTTLED when slowed, ESME_RINVDSTADR when blocked');

  // Kannel sendsms: 403 when blocked, 503 when slowed.
  r = await kannel(base, '+4915113333333');
  assert.equal(r.status, 403, r.body);
  // +491761 has 2 this minute (REST above): one more goes, then 503.
  r = await kannel(base, '+4917612345670');
  assert.equal(r.status, 202, r.body);
  r = await kannel(base, '+4917612345671');
  assert.equal(r.status, 503, r.body);
  console.log('ok - Kannel sendsms: 503 when slowed, 403 when blocked');

  assert.equal(await metric(base, 'smsgate_velocity_blocks_total'), 1);
  assert.equal(await metric(base, 'smsgate_velocity_blocked'), 1);
  assert.equal(await metric(base, 'smsgate_velocity_refused_total'), 5);
  assert.ok(await metric(base, 'smsgate_velocity_limited_total') >= 3);
  r = await req(base, 'GET', '/v1/velocity/blocks', 'admin-key');
  assert.equal(r.status, 200, r.body);
  assert.equal(r.json.total, 1, r.body);
  assert.equal(r.json.blocks[0].account, 'pump');
  assert.equal(r.json.blocks[0].prefix, '+491511');
  assert.equal(r.json.blocks[0].until, null);
  assert.equal(r.json.blocks[0].strikes, 2);
  expectError(await req(base, 'GET', '/v1/velocity/blocks', K), 403,
              'admin_required', null);
  // Only what was accepted is stored: 3 + 1 + 1 (the list) + 3 by SMPP
  // + 1 by Kannel.
  const to = await stored(base, K);
  assert.equal(to.length, 9, JSON.stringify(to));
  assert.equal(to.filter((n) => n.startsWith('+491511')).length, 3);
  console.log('ok - metrics, the admin list, and only accepted messages stored');
}

async function afterRestart(base) {
  const K = 'pump-key';
  let r = await req(base, 'GET', '/v1/velocity/blocks', 'admin-key');
  assert.equal(r.json.total, 1, r.body);
  expectError(await send(base, K, '+4915114444444'), 403, 'velocity_blocked', 'to');
  expectError(await req(base, 'DELETE', '/v1/velocity/blocks/pump/491511', K),
              403, 'admin_required', null);
  expectError(await req(base, 'DELETE', '/v1/velocity/blocks/pump/49x', 'admin-key'),
              422, 'invalid_prefix', 'prefix');
  expectError(await req(base, 'DELETE', '/v1/velocity/blocks/nobody/491511', 'admin-key'),
              404, 'not_found', 'account');
  expectError(await req(base, 'DELETE', '/v1/velocity/blocks/pump/491512', 'admin-key'),
              404, 'not_found', 'prefix');
  r = await req(base, 'DELETE', '/v1/velocity/blocks/pump/%2B491511', 'admin-key');
  assert.equal(r.status, 200, r.body);
  assert.deepEqual(r.json, { account: 'pump', prefix: '+491511', lifted: true });
  r = await req(base, 'GET', '/v1/velocity/blocks', 'admin-key');
  assert.equal(r.json.total, 0, r.body);
  assert.equal((await send(base, K, '+4915114444444')).status, 202);
  assert.equal(await metric(base, 'smsgate_velocity_blocked'), 0);
  console.log('ok - the block survived the restart; an administrator lifted it');
}

const [cmd, base, port] = process.argv.slice(2);
(cmd === 'flood' ? flood(base, port) : afterRestart(base)).then(
  () => process.exit(0),
  (e) => { console.error(e); process.exit(1); });
