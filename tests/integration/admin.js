// admin.js - the checks of admin.sh against a running smsgate:
//   node admin.js first BASE SMPP_PORT STATE_FILE
//   node admin.js restart BASE SMPP_PORT STATE_FILE
// "first" creates an account and keys over the REST API and uses them
// (REST, an SMPP bind with node-smpp), with every refusal the API owes
// (401, 403 on every admin path, 422 and 409 that change nothing), and
// writes what the restart must still find into STATE_FILE; "restart"
// checks it after the gateway was started again.
'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const smpp = require(path.join(__dirname, '../interop/node_modules/smpp'));

const [, , phase, BASE, SMPP_PORT, STATE] = process.argv;
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

async function send(key) {
  return api(key, 'POST', '/v1/messages',
    { to: '+4915112345678', text: 'admin test', from: 'Shop' });
}

// Binds as a transceiver; resolves with the bind's command_status and the
// session (closed unless the bind succeeded).
function bind(systemId, password) {
  return new Promise((resolve, reject) => {
    const s = smpp.connect({ url: `smpp://127.0.0.1:${SMPP_PORT}`,
      auto_enquire_link_period: 0 });
    s.on('error', reject);
    s.on('connect', () => {
      s.bind_transceiver({ system_id: systemId, password }, (pdu) => {
        if (pdu.command_status !== 0) s.close();
        resolve({ status: pdu.command_status, s });
      });
    });
  });
}

function submit(s) {
  return new Promise((resolve) => {
    s.submit_sm({ destination_addr: '+4915112345678', source_addr: 'Shop',
      short_message: 'via smpp' }, (pdu) => resolve(pdu));
  });
}

async function bindAndSubmit(systemId, password) {
  const b = await bind(systemId, password);
  assert.equal(b.status, 0, `bind as ${systemId}`);
  const r = await submit(b.s);
  assert.equal(r.command_status, 0, 'submit_sm over the API account');
  assert.match(r.message_id, /^[0-9A-HJKMNP-TV-Z]{26}$/);
  await new Promise((resolve) => { b.s.unbind(() => { b.s.close(); resolve(); }); });
}

async function accountsText() {
  return expect(await api(ADMIN, 'GET', '/v1/accounts'), 200, 'list').data
    .map((a) => JSON.stringify(a)).join('\n');
}

const ADMIN_PATHS = [
  ['GET', '/v1/accounts'], ['POST', '/v1/accounts', { name: 'x' }],
  ['GET', '/v1/accounts/user'], ['PATCH', '/v1/accounts/user', { tps: 1 }],
  ['DELETE', '/v1/accounts/user'], ['GET', '/v1/keys'],
  ['POST', '/v1/keys', { account: 'user' }], ['DELETE', '/v1/keys/k_0'],
  ['POST', '/v1/keys/k_0/rotate', {}],
];

async function refusals() {
  for (const [m, p, b] of ADMIN_PATHS) {
    const r = await api(USER, m, p, b);
    assert.equal(r.status, 403, `${m} ${p} with a non-admin key: ${r.text}`);
    assert.equal(r.json.error.code, 'admin_required');
    assert.equal((await api(null, m, p, b)).status, 401, `${m} ${p}, no key`);
  }
  const before = await accountsText();
  const bad = [
    [{ name: 'shop', tps: 'abc' }, 'tps'],
    [{ name: 'shop', tpz: 1 }, 'tpz'],
    [{ name: 'shop', api_key: 'mine' }, 'api_key'],
    [{ name: 'shop', default_region: 'XX' }, 'default_region'],
    [{ name: 'shop', smpp: { system_id: 'shopsmpp', password: '123456789' } },
      'smpp.password'],
    [{ name: 'shop', senders: ['A'], default_sender: 'B' }, 'default_sender'],
    [{ name: 'bad name!' }, 'name'],
    [{ tps: 1 }, 'name'],
  ];
  for (const [body, field] of bad) {
    const r = await api(ADMIN, 'POST', '/v1/accounts', body);
    assert.equal(r.status, 422, `${JSON.stringify(body)}: ${r.text}`);
    assert.equal(r.json.error.field, field, r.text);
  }
  expect(await api(ADMIN, 'POST', '/v1/accounts', '{"name": '), 422,
    'broken JSON');
  // Taken names and system_ids, and the configuration's accounts.
  const dup = await api(ADMIN, 'POST', '/v1/accounts', { name: 'user' });
  assert.equal(dup.status, 409, dup.text);
  const sid = await api(ADMIN, 'POST', '/v1/accounts',
    { name: 'other', smpp: { system_id: 'usersmpp', password: 'pw' } });
  assert.equal(sid.status, 409, sid.text);
  assert.equal(sid.json.error.field, 'smpp.system_id');
  const cfg = await api(ADMIN, 'PATCH', '/v1/accounts/user', { tps: 3 });
  assert.equal(cfg.status, 409, cfg.text);
  assert.equal(cfg.json.error.code, 'managed_by_config');
  expect(await api(ADMIN, 'DELETE', '/v1/accounts/admin'), 409, 'delete config');
  expect(await api(ADMIN, 'GET', '/v1/accounts/nobody'), 404, 'unknown');
  expect(await api(ADMIN, 'POST', '/v1/keys', { account: 'nobody' }), 404,
    'key of an unknown account');
  expect(await api(ADMIN, 'POST', '/v1/keys', { account: 'user', x: 1 }), 422,
    'unknown key field');
  assert.equal(await accountsText(), before, '4xx must change nothing');
}

async function first() {
  await refusals();
  const created = expect(await api(ADMIN, 'POST', '/v1/accounts', {
    name: 'shop', default_region: 'DE', senders: ['Shop'],
    password: 'kannel-pw',
    smpp: { system_id: 'shopsmpp', password: 'pw123' },
  }), 201, 'create');
  assert.equal(created.source, 'api');
  assert.match(created.webhook_secret, /^whsec_/);
  assert.equal(created.password_set, true);
  assert.equal(created.smpp.system_id, 'shopsmpp');
  const shown = await api(ADMIN, 'GET', '/v1/accounts/shop');
  assert.equal(shown.status, 200);
  for (const secret of [created.webhook_secret, 'kannel-pw', 'pw123']) {
    assert.ok(!shown.text.includes(secret), 'a secret in GET: ' + shown.text);
  }
  assert.ok(!('webhook_secret' in shown.json));

  const k1 = expect(await api(ADMIN, 'POST', '/v1/keys',
    { account: 'shop', name: 'ci' }), 201, 'key');
  assert.match(k1.key, /^sgk_/);
  assert.match(k1.id, /^k_[0-9a-f]{12}$/);
  expect(await send(k1.key), 202, 'send with the new key');
  const k2 = expect(await api(ADMIN, 'POST', '/v1/keys', { account: 'shop' }),
    201, 'second key');
  expect(await send(k2.key), 202, 'a second key of the account');
  const listed = await api(ADMIN, 'GET', '/v1/keys?account=shop');
  assert.equal(listed.json.data.length, 2);
  assert.ok(!listed.text.includes(k1.key) && !listed.text.includes(k2.key));
  assert.ok(listed.json.data[0].last_used_at, 'last_used_at of a used key');

  // SMPP with the credentials made over the API, then a new password.
  await bindAndSubmit('shopsmpp', 'pw123');
  assert.equal((await bind('shopsmpp', 'wrong')).status, 0x0e);
  expect(await api(ADMIN, 'PATCH', '/v1/accounts/shop',
    { smpp: { password: 'pw456' }, tps: 50 }), 200, 'new smpp password');
  assert.equal((await bind('shopsmpp', 'pw123')).status, 0x0e);
  await bindAndSubmit('shopsmpp', 'pw456');

  // Revocation, rotation at once and with a grace period.
  expect(await api(ADMIN, 'DELETE', '/v1/keys/' + k2.id), 200, 'revoke');
  expect(await send(k2.key), 401, 'revoked key');
  expect(await api(ADMIN, 'DELETE', '/v1/keys/' + k2.id), 409, 'revoke twice');
  const k3 = expect(await api(ADMIN, 'POST', `/v1/keys/${k1.id}/rotate`),
    201, 'rotate');
  assert.equal(k3.name, 'ci');
  expect(await send(k1.key), 401, 'rotated-out key');
  expect(await send(k3.key), 202, 'rotated-in key');
  expect(await api(ADMIN, 'POST', `/v1/keys/${k3.id}/rotate`,
    { grace_period: 'soon' }), 422, 'bad grace period');
  const k4 = expect(await api(ADMIN, 'POST', `/v1/keys/${k3.id}/rotate`,
    { grace_period: '1h' }), 201, 'rotate with grace');
  expect(await send(k3.key), 202, 'old key within its grace period');
  expect(await send(k4.key), 202, 'new key');

  // Disabling keeps the account and refuses its credentials at once.
  const off = expect(await api(ADMIN, 'DELETE', '/v1/accounts/shop'), 200,
    'disable');
  assert.equal(off.disabled, true);
  const refused = await send(k4.key);
  assert.equal(refused.status, 403, refused.text);
  assert.equal(refused.json.error.code, 'account_disabled');
  assert.notEqual((await bind('shopsmpp', 'pw456')).status, 0);
  const kan = await fetch(BASE + '/cgi-bin/sendsms?username=shop&password=' +
    'kannel-pw&to=%2B4915112345678&text=x&from=Shop');
  assert.notEqual(kan.status, 202, 'Kannel sendsms of a disabled account');
  expect(await api(ADMIN, 'PATCH', '/v1/accounts/shop', { disabled: false }),
    200, 'enable');
  expect(await send(k4.key), 202, 'enabled again');
  const kan2 = await fetch(BASE + '/cgi-bin/sendsms?username=shop&password=' +
    'kannel-pw&to=%2B4915112345678&text=x&from=Shop');
  assert.equal(kan2.status, 202, 'Kannel sendsms: ' + await kan2.text());

  fs.writeFileSync(STATE, JSON.stringify({
    live: [k3.key, k4.key], dead: [k1.key, k2.key],
    all: [k1.key, k2.key, k3.key, k4.key],
  }));
}

async function restart() {
  const st = JSON.parse(fs.readFileSync(STATE, 'utf8'));
  const a = expect(await api(ADMIN, 'GET', '/v1/accounts/shop'), 200, 'kept');
  assert.equal(a.source, 'api');
  assert.equal(a.tps, 50);
  for (const k of st.live) expect(await send(k), 202, 'live key after restart');
  for (const k of st.dead) expect(await send(k), 401, 'dead key after restart');
  const keys = await api(ADMIN, 'GET', '/v1/keys?account=shop');
  assert.equal(keys.json.data.length, 4);
  assert.equal(keys.json.data.filter((k) => k.active).length, 2);
  await bindAndSubmit('shopsmpp', 'pw456');
}

(phase === 'first' ? first() : restart()).then(() => {
  console.log(`ok - admin ${phase}`);
}, (err) => {
  console.error(err);
  process.exit(1);
});
