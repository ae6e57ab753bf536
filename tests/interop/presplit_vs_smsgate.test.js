// presplit_vs_smsgate.test.js - messages that an SMPP customer (node-smpp)
// split itself, through `smsgate serve` to a separate `smsgate sim smsc`
// whose --record shows what reached the operator:
//   - a 3-part message with a concatenation UDH (esm_class 0x40), its parts
//     submitted out of order with another message between them, and a
//     2-part message with SAR TLVs: every submit_sm gets its own id, every
//     part reaches the operator once with its UDH and text unchanged (the
//     SAR values as a 16-bit concatenation IE with the same reference,
//     total and sequence), and every part's receipt comes back with the id
//     its submit_sm_resp carried;
//   - the parts of one message share one batch_id (GET /v1/messages/{id}
//     and GET /v1/messages?batch_id= list them together); other messages
//     do not share it.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const smpp = require('smpp');
const { gsmSeptets, keepRawOctets, start, killAll, waitForLine } =
  require('./helpers');

const SMSGATE = process.env.SMSGATE;
const READY_MS = 60000; // an upper bound: readiness is polled
const WAIT_MS = 30000;
const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

keepRawOctets();

const gw = { dir: null, child: null, sim: null, base: null, smppPort: 0,
             record: null };
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

async function api(p) {
  const res = await fetch(gw.base + p,
                          { headers: { authorization: 'Bearer cust-key' } });
  return { status: res.status, json: JSON.parse(await res.text()) };
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

function close(s) {
  return new Promise((resolve) => {
    if (s.closed) return resolve();
    s.on('close', resolve);
    s.unbind(() => s.close());
  });
}

// The simulator's record lines ("id=.. src=.. dst=.. dc=.. esm=.. ref=..
// seq=.. total=.. rd=.. sm=HEX") of destination dst.
function recorded(dst) {
  let text = '';
  try { text = fs.readFileSync(gw.record, 'utf8'); } catch (e) { return []; }
  return text.split('\n').filter((l) => l.includes(` dst=${dst} `))
    .map((l) => Object.fromEntries(l.split(' ').map((kv) => kv.split('='))));
}

before(async () => {
  assert.ok(SMSGATE, 'SMSGATE is the path of the smsgate binary');
  gw.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smsgate-presplit-'));
  gw.record = path.join(gw.dir, 'record.txt');
  const httpPort = await freePort();
  const simPort = await freePort();
  gw.smppPort = await freePort();
  gw.base = `http://127.0.0.1:${httpPort}`;
  gw.sim = start(SMSGATE, ['sim', 'smsc', '--port', String(simPort),
                           '--dlr-delay', '50', '--stats-interval', '0',
                           '--record', gw.record]);
  gw.sim.stdin.end();
  await waitForLine(gw.sim, /listening on/, READY_MS);
  const cfg = path.join(gw.dir, 'smsgate.yaml');
  fs.writeFileSync(cfg, [
    `store: {path: ${path.join(gw.dir, 'smsgate.db')}}`,
    `http: {listen: 127.0.0.1:${httpPort}, web: false}`,
    'accounts:',
    '  - {name: cust, api_key: cust-key, default_region: RU,',
    '     smpp: {system_id: cust, password: custpw}}',
    'connectors:',
    `  - {name: operator, type: smpp, host: 127.0.0.1, port: ${simPort},`,
    '     system_id: smsgate, reconnect_min: 200ms, reconnect_max: 500ms}',
    'routes:',
    '  - {prefix: "+", connectors: [operator]}',
    `smpp_server: {listen: 127.0.0.1:${gw.smppPort}}`,
    'log: {level: info}',
    '',
  ].join('\n'));
  gw.child = start(SMSGATE, ['serve', '-c', cfg]);
  gw.child.stdin.end();
  await poll(() => /connector operator is up/.test(gw.child.stderrText),
             READY_MS, () => 'smsgate ready: ' + gw.child.stderrText);
  await poll(() => new Promise((resolve) => {
    const c = net.connect(gw.smppPort, '127.0.0.1');
    c.on('connect', () => { c.destroy(); resolve(true); });
    c.on('error', () => resolve(false));
  }), READY_MS, () => 'SMPP server listening');
});

after(async () => {
  for (const s of sessions) s.destroy();
  let exit = null;
  if (gw.child && gw.child.exitCode === null) {
    gw.child.kill('SIGTERM');
    exit = await Promise.race([gw.child.exited, sleep(10000)]);
  }
  killAll();
  assert.deepEqual(exit, { code: 0, signal: null }, gw.child.stderrText);
  if (gw.dir) fs.rmSync(gw.dir, { recursive: true, force: true });
});

function part(dst, sm, extra = {}) {
  return { source_addr_ton: 5, source_addr: 'Shop', dest_addr_ton: 1,
           dest_addr_npi: 1, destination_addr: dst, registered_delivery: 1,
           data_coding: 0, short_message: sm, ...extra };
}

async function receiptOf(s, id) {
  return poll(() => s.delivered.find((p) => p.receipted_message_id === id),
              WAIT_MS, () => `receipt for ${id}`);
}

test('a 3-part UDH message out of order, one batch, each part its receipt',
     async () => {
  const s = await bound();
  const dst = '79001235001';
  const text = ['First part of a message split by the customer, ',
                'the second part, ', 'and the third and last part.'];
  const udh = (seq) => Buffer.from([0x05, 0x00, 0x03, 0x42, 3, seq]);
  const sm = (seq) => Buffer.concat([udh(seq), gsmSeptets(text[seq - 1])]);
  const ids = {};
  for (const seq of [2, 0, 3, 1]) { // 0: another message in between
    const r = await call(s, 'submit_sm', seq === 0
      ? part(dst, gsmSeptets('not a part'))
      : part(dst, sm(seq), { esm_class: 0x40 }));
    assert.equal(r.command_status, 0);
    assert.match(r.message_id, ULID);
    ids[seq] = r.message_id;
  }
  assert.equal(new Set(Object.values(ids)).size, 4, 'an id per submit_sm');

  // At the operator: each part once, its UDH and text as the customer sent.
  await poll(() => recorded(dst).length >= 4, WAIT_MS,
             () => `4 records (have ${recorded(dst).length})`);
  await sleep(1200); // the simulator writes its record once a second
  const rec = recorded(dst);
  assert.equal(rec.length, 4, 'nothing sent twice');
  for (const seq of [1, 2, 3]) {
    const r = rec.filter((l) => l.sm === sm(seq).toString('hex'));
    assert.equal(r.length, 1, `part ${seq} as it came`);
    assert.equal(r[0].esm, '64');
    assert.deepEqual([r[0].ref, r[0].seq, r[0].total], ['66', `${seq}`, '3']);
  }

  // Every part's receipt, with the id of its own submit_sm_resp.
  for (const seq of [1, 2, 3, 0]) {
    const p = await receiptOf(s, ids[seq]);
    assert.equal(p.esm_class & 0x3c, 0x04);
    assert.match(p.raw.short_message.toString('latin1'),
                 new RegExp(`^id:${ids[seq]} .* stat:DELIVRD `));
  }

  // One batch for the three parts, another for the other message.
  const m = {};
  for (const seq of [0, 1, 2, 3]) {
    const g = await api(`/v1/messages/${ids[seq]}`);
    assert.equal(g.status, 200);
    m[seq] = g.json;
  }
  assert.equal(m[1].batch_id, m[2].batch_id);
  assert.equal(m[1].batch_id, m[3].batch_id);
  assert.notEqual(m[0].batch_id, m[1].batch_id);
  assert.equal(m[2].text, text[1]);
  const list = await api(`/v1/messages?batch_id=${m[1].batch_id}`);
  assert.equal(list.status, 200);
  assert.deepEqual(list.json.data.map((x) => x.id).sort(),
                   [ids[1], ids[2], ids[3]].sort());
  await close(s);
});

test('a SAR message: its values reach the operator, one batch', async () => {
  const s = await bound();
  const dst = '79001235002';
  const text = ['SAR part one, ', 'SAR part two.'];
  const ids = {};
  for (const seq of [2, 1]) {
    const r = await call(s, 'submit_sm', part(dst, gsmSeptets(text[seq - 1]), {
      sar_msg_ref_num: 0x1234, sar_total_segments: 2, sar_segment_seqnum: seq,
    }));
    assert.equal(r.command_status, 0);
    ids[seq] = r.message_id;
  }
  assert.notEqual(ids[1], ids[2]);
  await poll(() => recorded(dst).length >= 2, WAIT_MS, () => '2 records');
  for (const seq of [1, 2]) {
    const ie = Buffer.from([0x06, 0x08, 0x04, 0x12, 0x34, 2, seq]);
    const want = Buffer.concat([ie, gsmSeptets(text[seq - 1])]).toString('hex');
    const r = recorded(dst).filter((l) => l.sm === want);
    assert.equal(r.length, 1, `SAR part ${seq}`);
    assert.deepEqual([r[0].ref, r[0].seq, r[0].total],
                     [`${0x1234}`, `${seq}`, '2']);
    await receiptOf(s, ids[seq]);
  }
  const a = await api(`/v1/messages/${ids[1]}`);
  const b = await api(`/v1/messages/${ids[2]}`);
  assert.equal(a.json.batch_id, b.json.batch_id);
  await close(s);
});

async function bound() {
  const s = await connect();
  const r = await call(s, 'bind_transceiver',
                       { system_id: 'cust', password: 'custpw' });
  assert.equal(r.command_status, 0);
  return s;
}
