// The checks of limits.sh, against a running smsgate: every refusal of an
// account's protections (sender patterns, destinations, prepaid balance,
// quota, rate) through REST, a node-smpp client bound to smsgate's SMPP
// server, and Kannel's sendsms, each with the right status and nothing
// stored; credits; and, after a restart, the same balance and quota use.
//
//   node limits.js scenarios BASE SMPP_PORT RECORD_EXPECT_FILE
//   node limits.js after-restart BASE
'use strict';
const assert = require('assert');
const http = require('http');
const fs = require('fs');
const path = require('path');
const smpp = require(path.join(__dirname, '../interop/node_modules/smpp'));

const ESME_RINVSRCADR = 0x0a;
const ESME_RINVDSTADR = 0x0b;
const ESME_RMSGQFUL = 0x14;
const ESME_RSUBMITFAIL = 0x45;
const ESME_RTHROTTLED = 0x58;

function req(base, method, p, key, body) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? null
      : typeof body === 'string' ? body : JSON.stringify(body);
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

function expectError(r, status, code, field) {
  assert.equal(r.status, status, `status of ${r.body}`);
  assert.equal(r.json.error.code, code, r.body);
  if (field !== undefined) assert.equal(r.json.error.field, field, r.body);
}

function send(base, key, to, from, text) {
  return req(base, 'POST', '/v1/messages', key, { to, from, text: text || 'hi' });
}

async function count(base, key) {
  const r = await req(base, 'GET', '/v1/messages?limit=100', key);
  assert.equal(r.status, 200, r.body);
  return r.json.data.length;
}

async function balance(base, key) {
  const r = await req(base, 'GET', '/v1/balance', key);
  assert.equal(r.status, 200, r.body);
  return r.json;
}

function kannel(base, q) {
  const qs = new URLSearchParams(Object.assign(
    { username: 'shop', password: 'kannelpw', text: 'hi' }, q));
  return req(base, 'GET', '/cgi-bin/sendsms?' + qs.toString());
}

function bind(port, systemId, password) {
  return new Promise((resolve, reject) => {
    const s = smpp.connect({ url: `smpp://127.0.0.1:${port}`,
                             auto_enquire_link_period: 0 });
    s.on('error', reject);
    s.on('deliver_sm', (pdu) => s.send(pdu.response()));
    s.on('connect', () => {
      s.bind_transceiver({ system_id: systemId, password }, (pdu) => {
        if (pdu.command_status !== 0) reject(new Error('bind ' + systemId));
        else resolve(s);
      });
    });
  });
}

function submit(s, src, dst, text) {
  return new Promise((resolve) => s.submit_sm({
    source_addr: src, source_addr_ton: src.startsWith('+') ? 1 : 5,
    destination_addr: dst, dest_addr_ton: 1, dest_addr_npi: 1,
    short_message: text || 'hi' }, (pdu) => resolve(pdu.command_status)));
}

function unbind(s) {
  return new Promise((resolve) => { s.unbind(() => { s.close(); resolve(); }); });
}

const DE = '+4915112345678';
const RU = '+79001234567';
const FR = '+33612345678';

async function scenarios(base, smppPort, expectFile) {
  const shop = await bind(smppPort, 'shop', 'shoppw');
  let parts = 0; // parts the simulator must have taken in the end

  // Nothing sent, no balance.
  let b = await balance(base, 'shop-key');
  assert.equal(b.billing, true);
  assert.equal(b.balance, '0.00');
  assert.equal(b.quota.daily.limit, 6);
  assert.equal(b.quota.daily.used, 0);
  assert.equal(b.quota.monthly.remaining, 100);

  // 1. A sender matching no pattern.
  expectError(await send(base, 'shop-key', DE, 'Bank'), 422,
              'sender_not_allowed', 'from');
  assert.equal(await submit(shop, 'Bank', DE), ESME_RINVSRCADR);
  let k = await kannel(base, { to: DE, from: 'Bank' });
  assert.equal(k.status, 400, k.body);
  assert.match(k.body, /may not send as "Bank", rejected/);
  console.log('ok - a sender outside the patterns: 422, ESME_RINVSRCADR, Kannel 400');

  // 2. A destination outside the list.
  expectError(await send(base, 'shop-key', FR, 'ShopNews'), 422,
              'destination_not_allowed', 'to');
  assert.equal(await submit(shop, 'ShopNews', FR), ESME_RINVDSTADR);
  k = await kannel(base, { to: FR, from: 'ShopNews' });
  assert.equal(k.status, 400);
  assert.equal(k.body, 'Number(s) has/have been denied by white- and/or black-lists.');
  console.log('ok - a destination outside the list: 422, ESME_RINVDSTADR, Kannel 400');

  // 3. No balance.
  let r = await send(base, 'shop-key', DE, 'ShopNews');
  expectError(r, 402, 'insufficient_balance');
  assert.equal(await submit(shop, 'ShopNews', DE), ESME_RSUBMITFAIL);
  k = await kannel(base, { to: DE, from: 'ShopNews' });
  assert.equal(k.status, 402, k.body);
  console.log('ok - an empty balance: 402, ESME_RSUBMITFAIL, Kannel 402');
  assert.equal(await count(base, 'shop-key'), 0);

  // Credits: admin only, a decimal string, an existing billed account.
  const credit = (key, name, body) =>
    req(base, 'POST', `/v1/accounts/${name}/credit`, key, body);
  expectError(await credit('shop-key', 'shop', { amount: '1.00' }), 403,
              'admin_required');
  expectError(await credit(null, 'shop', { amount: '1.00' }), 401,
              'unauthorized');
  expectError(await credit('admin-key', 'shop', { amount: 'abc' }), 422,
              'invalid_amount', 'amount');
  expectError(await credit('admin-key', 'shop', { amount: '0.0000001' }), 422,
              'invalid_amount', 'amount');
  expectError(await credit('admin-key', 'shop', { amount: '0' }), 422,
              'invalid_amount', 'amount');
  expectError(await credit('admin-key', 'shop', { amount: 1.5 }), 422,
              'invalid_type', 'amount');
  expectError(await credit('admin-key', 'shop', {}), 422, 'missing_field',
              'amount');
  expectError(await credit('admin-key', 'shop', { amount: '1', x: 1 }), 400,
              'invalid_json');
  expectError(await credit('admin-key', 'shop', '{"amount":'), 400,
              'invalid_json');
  expectError(await credit('admin-key', 'nobody', { amount: '1' }), 404,
              'not_found');
  expectError(await credit('admin-key', 'fast', { amount: '1' }), 409,
              'billing_disabled');
  expectError(await credit('admin-key', 'shop', { amount: '-1' }), 422,
              'invalid_amount', 'amount');
  assert.equal((await balance(base, 'shop-key')).balance, '0.00');
  r = await credit('admin-key', 'shop', { amount: '0.20' });
  assert.equal(r.status, 200, r.body);
  assert.deepEqual(r.json, { account: 'shop', credited: '0.20',
                             balance: '0.20', balance_micro: 200000 });
  console.log('ok - credits: admin only, exact decimal strings, refusals change nothing');

  // A list: the destination outside is rejected alone; 0.07 + 0.025 charged.
  r = await send(base, 'shop-key', [DE, RU, FR], 'ShopNews');
  assert.equal(r.status, 202, r.body);
  assert.equal(r.json.messages[0].status, 'queued');
  assert.equal(r.json.messages[1].status, 'queued');
  assert.equal(r.json.messages[2].status, 'rejected');
  assert.equal(r.json.messages[2].error.code, 'destination_not_allowed');
  parts += 2;
  b = await balance(base, 'shop-key');
  assert.equal(b.balance, '0.105');
  assert.equal(b.balance_micro, 105000);
  assert.equal(b.quota.daily.used, 2);

  // A pattern sender over SMPP, priced +7: 0.025.
  assert.equal(await submit(shop, '+4915112345678', RU), 0);
  parts += 1;
  r = await send(base, 'shop-key', DE, 'Shop'); // 0.07, leaves 0.01
  assert.equal(r.status, 202, r.body);
  parts += 1;
  expectError(await send(base, 'shop-key', RU, 'Shop'), 402,
              'insufficient_balance');
  b = await balance(base, 'shop-key');
  assert.equal(b.balance, '0.01');
  assert.equal(b.quota.daily.used, 4);
  console.log('ok - charged per part by the longest prefix; a balance short by a cent refuses');

  // Quota: 6 parts a day. A 2-part message takes the last two.
  r = await credit('admin-key', 'shop', { amount: '10' });
  assert.equal(r.json.balance, '10.01');
  r = await send(base, 'shop-key', RU, 'ShopNews', 'x'.repeat(200));
  assert.equal(r.status, 202, r.body);
  assert.equal(r.json.messages[0].parts, 2);
  parts += 2;
  const n = await count(base, 'shop-key');
  r = await send(base, 'shop-key', RU, 'ShopNews');
  expectError(r, 429, 'quota_exceeded');
  const now = Date.now();
  const midnight = Math.ceil((now + 1) / 86400000) * 86400000;
  const ra = Number(r.headers['retry-after']);
  assert.ok(Math.abs(ra - (midnight - now) / 1000) <= 3,
            `Retry-After ${ra}, midnight in ${(midnight - now) / 1000} s`);
  assert.equal(await submit(shop, 'ShopNews', RU), ESME_RMSGQFUL);
  k = await kannel(base, { to: RU, from: 'ShopNews' });
  assert.equal(k.status, 503, k.body);
  assert.equal(await count(base, 'shop-key'), n);
  b = await balance(base, 'shop-key');
  assert.equal(b.quota.daily.used, 6);
  assert.equal(b.quota.daily.remaining, 0);
  assert.equal(b.balance, '9.96'); // 10.01 - 2 x 0.025
  console.log(`ok - over the daily quota: 429 Retry-After ${ra} (until 00:00 UTC), ESME_RMSGQFUL, Kannel 503`);
  assert.equal(await count(base, 'shop-key'), 5);
  await unbind(shop);

  // Rate: tps 1.
  const fast = await bind(smppPort, 'fast', 'fastpw');
  const [r1, r2] = await Promise.all([send(base, 'fast-key', DE, 'X'),
                                      send(base, 'fast-key', DE, 'X')]);
  const limited = [r1, r2].filter((x) => x.status === 429);
  assert.equal(limited.length, 1, `${r1.body} ${r2.body}`);
  expectError(limited[0], 429, 'rate_limited');
  assert.equal(limited[0].headers['retry-after'], '1');
  parts += 1;
  await new Promise((res) => setTimeout(res, 1100));
  const st = await Promise.all([submit(fast, 'X', DE), submit(fast, 'X', DE)]);
  st.sort();
  assert.deepEqual(st, [0, ESME_RTHROTTLED]);
  parts += 1;
  assert.equal(await count(base, 'fast-key'), 2);
  await unbind(fast);
  console.log('ok - over tps: 429 rate_limited with Retry-After 1, ESME_RTHROTTLED');
  // Twenty requests at once against a quota of five: exactly five pass.
  const burst = await Promise.all(Array.from({ length: 20 },
    () => send(base, 'burst-key', DE, 'X')));
  const ok = burst.filter((x) => x.status === 202).length;
  const over = burst.filter((x) => x.status === 429 &&
    x.json.error.code === 'quota_exceeded').length;
  assert.deepEqual([ok, over], [5, 15]);
  assert.equal(await count(base, 'burst-key'), 5);
  parts += 5;
  console.log('ok - 20 requests at once against a daily quota of 5: 5 stored, 15 refused');
  fs.writeFileSync(expectFile, String(parts));
}

async function afterRestart(base) {
  const b = await balance(base, 'shop-key');
  assert.equal(b.balance, '9.96');
  assert.equal(b.quota.daily.used, 6);
  assert.equal(b.quota.monthly.used, 6);
  expectError(await send(base, 'shop-key', RU, 'ShopNews'), 429,
              'quota_exceeded');
  assert.equal(await count(base, 'shop-key'), 5);
  console.log('ok - after a restart: the same balance and quota use, still over quota');
}

// Waits until no message of either account waits to be sent (30 s).
async function drained(base) {
  for (let i = 0; i < 300; i++) {
    let waiting = 0;
    for (const key of ['shop-key', 'fast-key', 'burst-key']) {
      const r = await req(base, 'GET', '/v1/messages?limit=100', key);
      waiting += r.json.data.filter((m) =>
        ['queued', 'sending', 'scheduled'].includes(m.status)).length;
    }
    if (waiting === 0) return;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error('messages still queued');
}

const [cmd, ...args] = process.argv.slice(2);
const main = cmd === 'scenarios' ? () => scenarios(args[0], Number(args[1]), args[2])
  : cmd === 'drained' ? () => drained(args[0]) : () => afterRestart(args[0]);
main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
