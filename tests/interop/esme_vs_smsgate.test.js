// esme_vs_smsgate.test.js - smsgate's SMPP server with node-smpp as the
// customer (ESME): `smsgate serve` with its built-in simulated operator, a
// node-smpp client that binds with an account's smpp credentials, submits
// GSM, UCS-2 and a concatenated message, and gets its receipts back as
// deliver_sm carrying smsgate's ids; receipts that came while it was not
// bound arrive when it binds again; query_sm and cancel_sm work on those
// ids. The security cases: wrong password, unknown system_id, a source
// address outside allowed_cidrs, binds over max_binds and submits over the
// account's tps each get their ESME_R* status and store nothing.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const smpp = require('smpp');
const {
  gsmSeptets, ucs2, keepRawOctets, start, exitWithin, killAll, storeLine,
  dropStores,
} = require('./helpers');

const SMSGATE = process.env.SMSGATE;
const READY_MS = 15000;
const RECEIPT_MS = 10000;

const ESME_ROK = 0x00;
const ESME_RBINDFAIL = 0x0d;
const ESME_RINVPASWD = 0x0e;
const ESME_RINVDSTADR = 0x0b;
const ESME_RTHROTTLED = 0x58;
const ESME_RCANCELFAIL = 0x11;

keepRawOctets();

const gw = { dir: null, child: null, base: null, smppPort: 0, tlsPort: 0 };

// A throw-away self-signed certificate for the TLS listener, made with the
// openssl command when there is one (else the TLS test is skipped).
function makeCert(dir) {
  const { spawnSync } = require('node:child_process');
  const r = spawnSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
    '-nodes', '-keyout', path.join(dir, 'key.pem'),
    '-out', path.join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost',
  ], { stdio: 'ignore' });
  return r.status === 0;
}
const sessions = new Set();

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function writeConfig(httpPort, simPort) {
  const file = path.join(gw.dir, 'smsgate.yaml');
  fs.writeFileSync(file, [
    storeLine(gw.dir, 'esme'),
    `http: {listen: 127.0.0.1:${httpPort}, web: false}`,
    `simulator: {listen: 127.0.0.1:${simPort}, dlr_delay: 100ms}`,
    'accounts:',
    '  - {name: cust, api_key: cust-key, default_region: RU,',
    '     smpp: {system_id: cust, password: custpw, max_binds: 3}}',
    '  - {name: slow, api_key: slow-key, default_region: RU,',
    '     smpp: {system_id: slow, password: slowpw, tps: 5}}',
    '  - {name: far, api_key: far-key, default_region: RU,',
    '     smpp: {system_id: far, password: farpw,',
    '            allowed_cidrs: [10.0.0.0/8, "2001:db8::/32"]}}',
    'connectors:',
    `  - {name: operator, type: smpp, host: 127.0.0.1, port: ${simPort},`,
    '     system_id: smsgate, password: secret, window: 64,',
    '     reconnect_min: 200ms, reconnect_max: 1s}',
    'routes:',
    '  - {prefix: "+", connectors: [operator]}',
    `smpp_server: {listen: 127.0.0.1:${gw.smppPort}, bind_fail_delay: 100ms,`,
    '              bind_fail_max: 8' + (gw.tlsPort ?
      `, tls_listen: 127.0.0.1:${gw.tlsPort}, cert: ${gw.dir}/cert.pem,` +
      ` key: ${gw.dir}/key.pem}` : '}'),
    'log: {level: warn}',
    '',
  ].join('\n'));
  return file;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function poll(fn, ms, what) {
  const end = Date.now() + ms;
  for (;;) {
    if (gw.child.exitCode !== null || gw.child.signalCode !== null) {
      assert.fail('smsgate exited: ' + gw.child.stderrText);
    }
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) assert.fail('timed out waiting for ' + what());
    await sleep(50);
  }
}

async function api(key, method, p) {
  const res = await fetch(gw.base + p, {
    method, headers: { authorization: 'Bearer ' + key },
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch (e) { /* not JSON */ }
  return { status: res.status, text, json };
}

async function countMessages(key) {
  const r = await api(key, 'GET', '/v1/messages?limit=1000');
  assert.equal(r.status, 200, r.text);
  return r.json.data.length;
}

// A node-smpp client, its deliver_sm collected (and answered).
function connect() {
  return new Promise((resolve, reject) => {
    const s = smpp.connect({ url: `smpp://127.0.0.1:${gw.smppPort}`,
                             auto_enquire_link_period: 0 });
    s.delivered = [];
    s.on('error', reject);
    s.on('connect', () => resolve(s));
    s.on('deliver_sm', (pdu) => {
      s.delivered.push(pdu);
      s.send(pdu.response());
      s.emit('got_deliver_sm');
    });
    s.on('close', () => sessions.delete(s));
    sessions.add(s);
  });
}

function call(s, cmd, fields) {
  return new Promise((resolve) => s[cmd](fields, resolve));
}

async function bound(kind, systemId, password) {
  const s = await connect();
  const r = await call(s, 'bind_' + kind, { system_id: systemId, password });
  assert.equal(r.command_status, ESME_ROK, `bind as ${systemId}`);
  return s;
}

function close(s) {
  return new Promise((resolve) => {
    if (s.closed) return resolve();
    s.on('close', resolve);
    s.unbind(() => s.close());
  });
}

function receiptFor(s, id) {
  return s.delivered.find((p) => p.receipted_message_id === id);
}

async function waitReceipt(s, id) {
  await poll(() => receiptFor(s, id), RECEIPT_MS,
             () => `receipt for ${id} (have ${s.delivered.length})`);
  return receiptFor(s, id);
}

function assertReceipt(p, id, dest) {
  assert.equal(p.esm_class & 0x3c, 0x04, 'SMSC delivery receipt (5.2.12)');
  assert.equal(p.message_state, 2, 'message_state DELIVERED');
  assert.equal(p.receipted_message_id, id);
  assert.equal(p.source_addr, dest, 'from the recipient');
  assert.equal(p.destination_addr, 'Shop', 'to the sender');
  const text = p.raw.short_message.toString('latin1');
  assert.match(text, new RegExp(`^id:${id} sub:001 dlvrd:001 submit date:` +
                                '\\d{10} done date:\\d{10} stat:DELIVRD ' +
                                'err:000 text:'));
}

before(async () => {
  assert.ok(SMSGATE, 'SMSGATE is the path of the smsgate binary');
  gw.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smsgate-esme-'));
  const httpPort = await freePort();
  const simPort = await freePort();
  gw.smppPort = await freePort();
  if (makeCert(gw.dir)) gw.tlsPort = await freePort();
  gw.base = `http://127.0.0.1:${httpPort}`;
  gw.child = start(SMSGATE, ['serve', '-c', writeConfig(httpPort, simPort)]);
  gw.child.stdin.end();
  await poll(async () => {
    try {
      const r = await fetch(gw.base + '/healthz');
      if (r.status !== 200) return false;
    } catch (e) { return false; }
    return new Promise((resolve) => {
      const c = net.connect(gw.smppPort, '127.0.0.1');
      c.on('connect', () => { c.destroy(); resolve(true); });
      c.on('error', () => resolve(false));
    });
  }, READY_MS, () => 'smsgate ready: ' + gw.child.stderrText);
});

after(async () => {
  for (const s of sessions) s.destroy();
  let exit = null;
  if (gw.child && gw.child.exitCode === null) {
    gw.child.kill('SIGTERM');
    exit = await exitWithin(gw.child, 10000);
  }
  killAll();
  dropStores();
  // A clean stop: SIGTERM drains and exits 0 (a sanitizer report would not).
  assert.deepEqual(exit, { code: 0, signal: null }, gw.child.stderrText);
  if (gw.dir) fs.rmSync(gw.dir, { recursive: true, force: true });
});

// ---- Messages and receipts ------------------------------------------------------

test('GSM and UCS-2 messages are stored and their receipts come back',
     async () => {
  const s = await bound('transceiver', 'cust', 'custpw');
  const gsm = await call(s, 'submit_sm', {
    source_addr_ton: 5, source_addr: 'Shop',
    dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '79001234501',
    registered_delivery: 1, data_coding: 0,
    short_message: gsmSeptets('Hello @ smsgate {1}'),
  });
  assert.equal(gsm.command_status, ESME_ROK);
  assert.match(gsm.message_id, /^[0-9A-HJKMNP-TV-Z]{26}$/, 'our ULID');
  const uc = await call(s, 'submit_sm', {
    source_addr_ton: 5, source_addr: 'Shop',
    dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '79001234502',
    registered_delivery: 1, data_coding: 8,
    short_message: ucs2('Привет, мир 🌍'),
  });
  assert.equal(uc.command_status, ESME_ROK);
  assertReceipt(await waitReceipt(s, gsm.message_id), gsm.message_id,
                '79001234501');
  assertReceipt(await waitReceipt(s, uc.message_id), uc.message_id,
                '79001234502');
  const g = await api('cust-key', 'GET', `/v1/messages/${gsm.message_id}`);
  assert.equal(g.json.text, 'Hello @ smsgate {1}');
  assert.equal(g.json.encoding, 'gsm7');
  assert.equal(g.json.status, 'delivered');
  const u = await api('cust-key', 'GET', `/v1/messages/${uc.message_id}`);
  assert.equal(u.json.text, 'Привет, мир 🌍');
  assert.equal(u.json.encoding, 'ucs2');
  // query_sm on our id; cancel_sm of a delivered message fails.
  const q = await call(s, 'query_sm', { message_id: gsm.message_id });
  assert.equal(q.command_status, ESME_ROK);
  assert.equal(q.message_state, 2);
  assert.ok(q.final_date instanceof Date, 'final_date set (a final state)');
  assert.ok(Math.abs(q.final_date - Date.now()) < 60000, 'final_date now');
  const c = await call(s, 'cancel_sm', { message_id: gsm.message_id });
  assert.equal(c.command_status, ESME_RCANCELFAIL);
  await close(s);
});

test('a concatenated message split by the customer goes as it came',
     async () => {
  const s = await bound('transceiver', 'cust', 'custpw');
  const text = ['Part one of a long message, ', 'and here is part two.'];
  const ids = [];
  for (let i = 0; i < 2; i++) {
    const udh = Buffer.from([0x05, 0x00, 0x03, 0x42, 2, i + 1]);
    const r = await call(s, 'submit_sm', {
      source_addr_ton: 5, source_addr: 'Shop',
      dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '79001234503',
      registered_delivery: 1, esm_class: 0x40, data_coding: 0,
      short_message: Buffer.concat([udh, gsmSeptets(text[i])]),
    });
    assert.equal(r.command_status, ESME_ROK);
    ids.push(r.message_id);
  }
  // One stored message of two parts; each part's id is "<id>-<seq>".
  const mid = ids[0].replace(/-1$/, '');
  assert.deepEqual(ids, [`${mid}-1`, `${mid}-2`]);
  for (let i = 0; i < 2; i++)
    assertReceipt(await waitReceipt(s, ids[i]), ids[i], '79001234503');
  const m = await api('cust-key', 'GET', `/v1/messages/${mid}`);
  assert.equal(m.json.text, text[0], 'the text of the first part');
  assert.equal(m.json.parts, 2, 'the parts are not split again');
  assert.deepEqual(m.json.segments.map((x) => x.seq), [1, 2]);
  // SAR TLVs instead of a UDH.
  const sar = await call(s, 'submit_sm', {
    source_addr_ton: 5, source_addr: 'Shop',
    dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '79001234503',
    registered_delivery: 1, data_coding: 0,
    short_message: gsmSeptets('SAR part'),
    sar_msg_ref_num: 0x1234, sar_total_segments: 2, sar_segment_seqnum: 1,
  });
  assert.equal(sar.command_status, ESME_ROK);
  await waitReceipt(s, sar.message_id);
  await close(s);
});

test('receipts wait while the customer is not bound and come after it binds',
     async () => {
  const tx = await bound('transmitter', 'cust', 'custpw');
  const r = await call(tx, 'submit_sm', {
    source_addr_ton: 5, source_addr: 'Shop',
    dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '79001234504',
    registered_delivery: 1, short_message: gsmSeptets('while away'),
  });
  assert.equal(r.command_status, ESME_ROK);
  await poll(async () => {
    const m = await api('cust-key', 'GET', `/v1/messages/${r.message_id}`);
    return m.json.status === 'delivered';
  }, RECEIPT_MS, () => 'delivered');
  await close(tx);
  await sleep(300); // nobody to take it: it waits in the store
  const rx = await bound('receiver', 'cust', 'custpw');
  assertReceipt(await waitReceipt(rx, r.message_id), r.message_id,
                '79001234504');
  await close(rx);
});

test('submit_multi and data_sm are taken, and their receipts come back',
     async () => {
  const s = await bound('transceiver', 'cust', 'custpw');
  const m = await call(s, 'submit_multi', {
    source_addr_ton: 5, source_addr: 'Shop',
    dest_address: [
      { dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '79001234506' },
      { dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '12' },
      { dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '79001234507' },
    ],
    registered_delivery: 1, short_message: gsmSeptets('to many'),
  });
  assert.equal(m.command_status, ESME_ROK);
  assert.match(m.message_id, /^[0-9A-Z]{26}$/);
  assert.equal(m.unsuccess_sme.length, 1, 'the bad number');
  assert.equal(m.unsuccess_sme[0].destination_addr, '12');
  assert.equal(m.unsuccess_sme[0].error_status_code, ESME_RINVDSTADR);
  // The receipt of the first message comes from its own recipient.
  assertReceipt(await waitReceipt(s, m.message_id), m.message_id,
                '79001234506');
  const d = await call(s, 'data_sm', {
    source_addr_ton: 5, source_addr: 'Shop',
    dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '79001234508',
    registered_delivery: 1, data_coding: 8,
    message_payload: ucs2('data_sm: длинный текст '.repeat(4)),
  });
  assert.equal(d.command_status, ESME_ROK);
  assertReceipt(await waitReceipt(s, d.message_id), d.message_id,
                '79001234508');
  const g = await api('cust-key', 'GET', `/v1/messages/${d.message_id}`);
  assert.equal(g.json.text, 'data_sm: длинный текст '.repeat(4));
  assert.equal(g.json.parts, 2, 'a long message_payload is split');
  await close(s);
});

test('a bad destination is refused with ESME_RINVDSTADR', async () => {
  const s = await bound('transmitter', 'cust', 'custpw');
  const before = await countMessages('cust-key');
  const r = await call(s, 'submit_sm', {
    source_addr_ton: 5, source_addr: 'Shop', destination_addr: '12',
    short_message: gsmSeptets('x'),
  });
  assert.equal(r.command_status, ESME_RINVDSTADR);
  assert.equal(await countMessages('cust-key'), before);
  await close(s);
});

test('the TLS listener takes binds and submits', async (t) => {
  if (!gw.tlsPort) return t.skip('no openssl command to make a certificate');
  const s = await new Promise((resolve, reject) => {
    const x = smpp.connect({ url: `ssmpp://127.0.0.1:${gw.tlsPort}`,
                             auto_enquire_link_period: 0,
                             rejectUnauthorized: false });
    x.on('error', reject);
    x.on('secureConnect', () => resolve(x));
    x.on('connect', () => resolve(x));
    sessions.add(x);
  });
  const b = await call(s, 'bind_transmitter', { system_id: 'cust',
                                                password: 'custpw' });
  assert.equal(b.command_status, ESME_ROK);
  const r = await call(s, 'submit_sm', {
    source_addr_ton: 5, source_addr: 'Shop',
    dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '79001234505',
    short_message: gsmSeptets('over TLS'),
  });
  assert.equal(r.command_status, ESME_ROK);
  const m = await api('cust-key', 'GET', `/v1/messages/${r.message_id}`);
  assert.equal(m.json.text, 'over TLS');
  await close(s);
});

// ---- Security -------------------------------------------------------------------

async function bindStatus(systemId, password, kind = 'transceiver') {
  const s = await connect();
  const r = await call(s, 'bind_' + kind, { system_id: systemId, password });
  s.destroy();
  return r.command_status;
}

test('wrong password, unknown system_id and a disallowed address are refused',
     async () => {
  assert.equal(await bindStatus('cust', 'wrong'), ESME_RINVPASWD);
  // An unknown system_id is answered as a wrong password: no caller learns
  // which system_ids exist.
  assert.equal(await bindStatus('nobody', 'custpw'), ESME_RINVPASWD);
  assert.equal(await bindStatus('far', 'farpw'), ESME_RBINDFAIL);
  assert.equal(await countMessages('far-key'), 0);
});

test('binds over max_binds are refused', async () => {
  const held = [];
  for (let i = 0; i < 3; i++) held.push(await bound('transmitter', 'cust', 'custpw'));
  assert.equal(await bindStatus('cust', 'custpw'), ESME_RBINDFAIL);
  await close(held.pop());
  const again = await bound('transmitter', 'cust', 'custpw');
  held.push(again);
  for (const s of held) await close(s);
});

test('submits over the account tps get ESME_RTHROTTLED and store nothing',
     async () => {
  const s = await bound('transmitter', 'slow', 'slowpw');
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) =>
    call(s, 'submit_sm', {
      source_addr_ton: 5, source_addr: 'Shop',
      dest_addr_ton: 1, dest_addr_npi: 1,
      destination_addr: `7900123460${i % 10}`,
      short_message: gsmSeptets(`n${i}`),
    })));
  const ok = results.filter((r) => r.command_status === ESME_ROK).length;
  const thr = results.filter((r) => r.command_status === ESME_RTHROTTLED);
  assert.ok(ok >= 5 && ok <= 6, `ok ${ok}`);
  assert.equal(ok + thr.length, 20);
  assert.equal(await countMessages('slow-key'), ok);
  await close(s);
});

// Last, as it locks this address out: after bind_fail_max failures within
// a minute every bind from it is refused at once, even with the right
// password, without a password check.
test('an address with too many failed binds is refused before any check',
     async () => {
  let wrong = 0;
  for (;;) {
    const st = await bindStatus('cust', 'nope');
    if (st === ESME_RBINDFAIL) break;
    assert.equal(st, ESME_RINVPASWD);
    assert.ok(++wrong <= 8, 'locked out by bind_fail_max');
  }
  assert.equal(await bindStatus('cust', 'custpw'), ESME_RBINDFAIL);
  assert.match(gw.child.stderrText,
               /bind as 'cust' refused \(ESME_RBINDFAIL\): too many failed binds/);
});
