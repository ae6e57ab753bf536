// mo_to_esme.test.js - incoming messages (MO) delivered to an SMPP customer
// as deliver_sm: `smsgate serve` connected to a separate `smsgate sim smsc`
// that sends MO on command (its stdin), and node-smpp as the customer,
// bound to smsgate's SMPP server with an account that has smpp credentials
// and no inbound_url.
//   - GSM text arrives as data_coding 0 (unpacked septets), Cyrillic as
//     data_coding 8 (UCS-2), with the sender as source_addr (TON 1) and the
//     number it was sent to as destination_addr;
//   - a long MO (reassembled by smsgate) arrives as concatenated deliver_sm
//     with a UDH (esm_class UDHI), one reference, parts 1..N;
//   - MO that came while the customer was not bound wait in the store and
//     arrive, oldest first, when it binds again, also after smsgate was
//     killed with SIGKILL in between;
//   - an account with inbound_url keeps its MO on the webhook: its
//     receiver gets no deliver_sm.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const smpp = require('smpp');
const {
  gsmSeptets, ucs2, keepRawOctets, start, exitWithin, killAll, waitForLine,
  storeLine, dropStores,
} = require('./helpers');

const SMSGATE = process.env.SMSGATE;
const READY_MS = 60000; // an upper bound: readiness is polled
const MO_MS = 30000;

keepRawOctets();

const gw = { dir: null, child: null, sim: null, base: null, cfg: null,
             smppPort: 0 };
const sessions = new Set();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

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
    storeLine(gw.dir, 'mo'),
    `http: {listen: 127.0.0.1:${httpPort}, web: false}`,
    'accounts:',
    '  - {name: cust, api_key: cust-key, default_region: RU,',
    '     smpp: {system_id: cust, password: custpw}}',
    '  - {name: hooked, api_key: hooked-key, default_region: RU,',
    '     inbound_url: "http://127.0.0.1:9/in",',
    '     smpp: {system_id: hooked, password: hookpw}}',
    'connectors:',
    `  - {name: operator, type: smpp, host: 127.0.0.1, port: ${simPort},`,
    '     system_id: smsgate, reconnect_min: 200ms, reconnect_max: 500ms}',
    'routes:',
    '  - {prefix: "+", connectors: [operator]}',
    'inbound:',
    '  rules:',
    '    - {to: "5555", account: hooked}',
    '  catch_all: cust',
    `smpp_server: {listen: 127.0.0.1:${gw.smppPort}}`,
    'log: {level: info}',
    '',
  ].join('\n'));
  return file;
}

function alive() {
  return gw.child.exitCode === null && gw.child.signalCode === null;
}

async function poll(fn, ms, what) {
  const end = Date.now() + ms;
  for (;;) {
    if (!alive()) assert.fail('smsgate exited: ' + gw.child.stderrText);
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) assert.fail('timed out waiting for ' + what());
    await sleep(50);
  }
}

async function api(key, p) {
  const res = await fetch(gw.base + p,
                          { headers: { authorization: 'Bearer ' + key } });
  const text = await res.text();
  return { status: res.status, json: JSON.parse(text) };
}

function smppOpen() {
  return new Promise((resolve) => {
    const c = net.connect(gw.smppPort, '127.0.0.1');
    c.on('connect', () => { c.destroy(); resolve(true); });
    c.on('error', () => resolve(false));
  });
}

async function startGateway() {
  gw.child = start(SMSGATE, ['serve', '-c', gw.cfg]);
  gw.child.stdin.end();
  await poll(async () => {
    try {
      const r = await fetch(gw.base + '/healthz');
      if (r.status !== 200) return false;
    } catch (e) { return false; }
    return smppOpen();
  }, READY_MS, () => 'smsgate ready: ' + gw.child.stderrText);
  // The connector to the simulator is up when an MO can come in.
  await poll(() => /connector operator is up/.test(gw.child.stderrText),
             READY_MS, () => 'connector up: ' + gw.child.stderrText);
}

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
  assert.equal(r.command_status, 0, `bind ${kind} as ${systemId}`);
  return s;
}

function close(s) {
  return new Promise((resolve) => {
    if (s.closed) return resolve();
    s.on('close', resolve);
    s.unbind(() => s.close());
  });
}

async function mo(args) {
  const from = gw.sim.stdoutText.length;
  gw.sim.stdin.write('mo ' + args + '\n');
  await waitForLine(gw.sim, /^ok: mo queued/, 15000, from);
}

// The deliver_sm from `from` (digits) that the session got, in order.
function from(s, number) {
  return s.delivered.filter((p) => p.source_addr === number);
}

async function waitFrom(s, number, n) {
  await poll(() => from(s, number).length >= n, MO_MS,
             () => `${n} deliver_sm from ${number} (have ` +
                   `${from(s, number).length} of ${s.delivered.length})`);
  return from(s, number);
}

async function inboundCount(key, sender) {
  const r = await api(key, '/v1/inbound?limit=100');
  assert.equal(r.status, 200);
  return r.json.data.filter((m) => m.from === sender).length;
}

before(async () => {
  assert.ok(SMSGATE, 'SMSGATE is the path of the smsgate binary');
  gw.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smsgate-mo-'));
  const httpPort = await freePort();
  const simPort = await freePort();
  gw.smppPort = await freePort();
  gw.base = `http://127.0.0.1:${httpPort}`;
  gw.sim = start(SMSGATE, ['sim', 'smsc', '--port', String(simPort),
                           '--dlr-delay', '50', '--stats-interval', '0']);
  await waitForLine(gw.sim, /listening on/, READY_MS);
  gw.cfg = writeConfig(httpPort, simPort);
  await startGateway();
});

after(async () => {
  for (const s of sessions) s.destroy();
  let exit = null;
  if (gw.child && alive()) {
    gw.child.kill('SIGTERM');
    exit = await exitWithin(gw.child, 10000);
  }
  killAll();
  dropStores();
  assert.deepEqual(exit, { code: 0, signal: null }, gw.child.stderrText);
  if (gw.dir) fs.rmSync(gw.dir, { recursive: true, force: true });
});

test('MO arrives as deliver_sm: GSM 7-bit, UCS-2, addresses', async () => {
  const s = await bound('transceiver', 'cust', 'custpw');
  await mo('+79001230001 4444 Hello @ smsgate {1}');
  const [g] = await waitFrom(s, '79001230001', 1);
  assert.equal(g.source_addr_ton, 1);
  assert.equal(g.source_addr_npi, 1);
  assert.equal(g.destination_addr, '4444');
  assert.equal(g.esm_class, 0, 'a plain message, no receipt, no UDH');
  assert.equal(g.data_coding, 0);
  assert.deepEqual(g.raw.short_message, gsmSeptets('Hello @ smsgate {1}'));

  await mo('-u +79001230002 4444 Привет, мир');
  const [u] = await waitFrom(s, '79001230002', 1);
  assert.equal(u.data_coding, 8);
  assert.deepEqual(u.raw.short_message, ucs2('Привет, мир'));
  // Stored too: GET /v1/inbound lists both for the account.
  assert.equal(await inboundCount('cust-key', '+79001230001'), 1);
  await close(s);
});

test('a long MO arrives as concatenated deliver_sm with a UDH', async () => {
  const s = await bound('receiver', 'cust', 'custpw');
  const text = 'Part of a long incoming message. '.repeat(7).trim();
  assert.ok(text.length > 160 && text.length <= 306);
  await mo('+79001230003 4444 ' + text);
  const parts = await waitFrom(s, '79001230003', 2);
  await sleep(300);
  assert.equal(from(s, '79001230003').length, 2, 'two parts, no more');
  const udh = parts.map((p) => [...p.raw.short_message.subarray(0, 6)]);
  const ref = udh[0][3];
  assert.deepEqual(udh, [[5, 0, 3, ref, 2, 1], [5, 0, 3, ref, 2, 2]]);
  for (const p of parts) {
    assert.equal(p.esm_class & 0x40, 0x40, 'UDHI');
    assert.equal(p.data_coding, 0);
  }
  const body = Buffer.concat(parts.map((p) => p.raw.short_message.subarray(6)));
  assert.deepEqual(body, gsmSeptets(text));
  await close(s);
});

test('MO wait while the customer is not bound, also across kill -9',
     async () => {
  // Nobody of cust is bound now.
  await mo('+79001230004 4444 first while away');
  await mo('+79001230005 4444 second while away');
  await poll(async () => await inboundCount('cust-key', '+79001230005') === 1,
             MO_MS, () => 'the MO stored');
  await sleep(300);
  gw.child.kill('SIGKILL');
  await gw.child.exited;
  await startGateway();
  const s = await bound('receiver', 'cust', 'custpw');
  await waitFrom(s, '79001230005', 1);
  const order = s.delivered.map((p) => p.source_addr)
    .filter((a) => a === '79001230004' || a === '79001230005');
  assert.deepEqual(order, ['79001230004', '79001230005'], 'oldest first');
  assert.deepEqual(from(s, '79001230004')[0].raw.short_message,
                   gsmSeptets('first while away'));
  // Taken: a new bind gets nothing again.
  await sleep(300);
  await close(s);
  const again = await bound('receiver', 'cust', 'custpw');
  await mo('+79001230006 4444 after');
  await waitFrom(again, '79001230006', 1);
  assert.equal(from(again, '79001230004').length, 0, 'not sent twice');
  await close(again);
});

test('an account with inbound_url keeps its MO on the webhook', async () => {
  const s = await bound('transceiver', 'hooked', 'hookpw');
  await mo('+79001230007 5555 for the webhook');
  await poll(async () => await inboundCount('hooked-key', '+79001230007') === 1,
             MO_MS, () => 'the MO stored for hooked');
  await sleep(500);
  assert.equal(s.delivered.length, 0, 'no deliver_sm');
  await close(s);
});
