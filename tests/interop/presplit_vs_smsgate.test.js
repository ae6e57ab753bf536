// presplit_vs_smsgate.test.js - messages that an SMPP customer (node-smpp)
// split itself, through `smsgate serve` to a separate `smsgate sim smsc`
// whose --record shows what reached the operator. The parts of one message
// are stored as one message of N parts; each submit_sm_resp carries the
// part's own id, "<message id>-<seq>":
//   - a 3-part message with a concatenation UDH (esm_class 0x40), its parts
//     submitted out of order with another message between them, and a
//     2-part message with SAR TLVs: every part reaches the operator once
//     with its UDH and text unchanged (the SAR values as a 16-bit
//     concatenation IE with the same reference, total and sequence), every
//     part's receipt comes back with the id its submit_sm_resp carried, and
//     GET /v1/messages/{id} shows one message with all its parts;
//   - a duplicate part and a seq out of range are refused (ESME_RSUBMITFAIL,
//     SAR: ESME_RINVOPTPARAMVAL) and change nothing; a part that has not
//     come shows as missing and holds the message short of 'delivered';
//   - smsgate restarted between two parts: the later part joins the stored
//     message;
//   - query_sm on a part's id answers that part's state; cancel_sm on a
//     part's id cancels the message, and a later part of it is refused.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const smpp = require('smpp');
const {
  gsmSeptets, keepRawOctets, start, exitWithin, killAll, waitForLine,
  storeLine, dropStores,
} = require('./helpers');

const SMSGATE = process.env.SMSGATE;
const READY_MS = 60000; // an upper bound: readiness is polled
const WAIT_MS = 30000;
const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const PART_ID = /^([0-9A-HJKMNP-TV-Z]{26})-([0-9]{1,3})$/;

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
  gw.cfg = path.join(gw.dir, 'smsgate.yaml');
  fs.writeFileSync(gw.cfg, [
    storeLine(gw.dir, 'presplit'),
    `http: {listen: 127.0.0.1:${httpPort}, web: false}`,
    'accounts:',
    '  - {name: cust, api_key: cust-key, default_region: RU,',
    '     smpp: {system_id: cust, password: custpw}}',
    'connectors:',
    `  - {name: operator, type: smpp, host: 127.0.0.1, port: ${simPort},`,
    '     system_id: smsgate, reconnect_min: 200ms, reconnect_max: 500ms}',
    'routes:',
    '  - {prefix: "+", connectors: [operator]}',
    `smpp_server: {listen: 127.0.0.1:${gw.smppPort}, part_wait: 10m}`,
    'log: {level: info}',
    '',
  ].join('\n'));
  await startGateway();
});

async function startGateway() {
  gw.child = start(SMSGATE, ['serve', '-c', gw.cfg]);
  gw.child.stdin.end();
  await poll(() => /connector operator is up/.test(gw.child.stderrText),
             READY_MS, () => 'smsgate ready: ' + gw.child.stderrText);
  await poll(() => new Promise((resolve) => {
    const c = net.connect(gw.smppPort, '127.0.0.1');
    c.on('connect', () => { c.destroy(); resolve(true); });
    c.on('error', () => resolve(false));
  }), READY_MS, () => 'SMPP server listening');
}

async function stopGateway() {
  gw.child.kill('SIGTERM');
  const exit = await exitWithin(gw.child, 10000);
  assert.deepEqual(exit, { code: 0, signal: null }, gw.child.stderrText);
}

after(async () => {
  for (const s of sessions) s.destroy();
  let exit = null;
  if (gw.child && gw.child.exitCode === null) {
    gw.child.kill('SIGTERM');
    exit = await exitWithin(gw.child, 10000);
  }
  killAll();
  dropStores();
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
    assert.match(r.message_id, seq === 0 ? ULID : PART_ID);
    ids[seq] = r.message_id;
  }
  assert.equal(new Set(Object.values(ids)).size, 4, 'an id per submit_sm');
  const mid = ids[2].match(PART_ID)[1];
  for (const seq of [1, 2, 3]) assert.equal(ids[seq], `${mid}-${seq}`);

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

  // One message of three parts, delivered; the other message apart.
  const one = await poll(async () => {
    const g = await api(`/v1/messages/${mid}`);
    return g.status === 200 && g.json.status === 'delivered' && g.json;
  }, WAIT_MS, () => 'the message delivered');
  assert.equal(one.parts, 3);
  assert.deepEqual(one.segments.map((x) => [x.seq, x.status]),
                   [[1, 'delivered'], [2, 'delivered'], [3, 'delivered']]);
  assert.equal(one.text, text[1], 'the text of the part that came first');
  const other = await api(`/v1/messages/${ids[0]}`);
  assert.equal(other.json.parts, 1);
  assert.notEqual(other.json.batch_id, one.batch_id);
  const list = await api(`/v1/messages?batch_id=${one.batch_id}`);
  assert.deepEqual(list.json.data.map((x) => x.id), [mid]);
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
  const mid = ids[2].match(PART_ID)[1];
  assert.equal(ids[1], `${mid}-1`);
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
  const a = await api(`/v1/messages/${mid}`);
  assert.equal(a.json.parts, 2);
  assert.deepEqual(a.json.segments.map((x) => x.seq), [1, 2]);
  await close(s);
});

const udhPart = (dst, ref, total, seq, text, extra = {}) =>
  part(dst, Buffer.concat([Buffer.from([0x05, 0x00, 0x03, ref, total, seq]),
                           gsmSeptets(text)]), { esm_class: 0x40, ...extra });

test('a duplicate part and a seq out of range change nothing; a missing ' +
     'part holds the message', async () => {
  const s = await bound();
  const dst = '79001235003';
  const r1 = await call(s, 'submit_sm', udhPart(dst, 0x21, 2, 1, 'one, '));
  assert.equal(r1.command_status, 0);
  const mid = r1.message_id.match(PART_ID)[1];
  const dup = await call(s, 'submit_sm', udhPart(dst, 0x21, 2, 1, 'again'));
  assert.equal(dup.command_status, 0x45, 'ESME_RSUBMITFAIL');
  const high = await call(s, 'submit_sm', udhPart(dst, 0x21, 2, 3, 'three'));
  assert.equal(high.command_status, 0x45, 'ESME_RSUBMITFAIL');
  const zero = await call(s, 'submit_sm', udhPart(dst, 0x21, 2, 0, 'zero'));
  assert.equal(zero.command_status, 0x45, 'ESME_RSUBMITFAIL');
  const sar = await call(s, 'submit_sm', part(dst, gsmSeptets('sar'), {
    sar_msg_ref_num: 0x77, sar_total_segments: 2, sar_segment_seqnum: 3 }));
  assert.equal(sar.command_status, 0xC4, 'ESME_RINVOPTPARAMVAL');

  // Part 1 delivered, part 2 missing: the message waits, 'sending'.
  await receiptOf(s, `${mid}-1`);
  const g = await api(`/v1/messages/${mid}`);
  assert.equal(g.status, 200);
  assert.equal(g.json.status, 'sending');
  assert.deepEqual(g.json.segments.map((x) => [x.seq, x.status]),
                   [[1, 'delivered'], [2, 'missing']]);
  assert.equal(g.json.segments[1].missing, true);
  await sleep(1200); // the simulator writes its record once a second
  assert.equal(recorded(dst).length, 1, 'the refused parts were not sent');
  const list = await api(`/v1/messages?to=%2B${dst}`);
  assert.equal(list.json.data.length, 1, 'one stored message');

  const r2 = await call(s, 'submit_sm', udhPart(dst, 0x21, 2, 2, 'two.'));
  assert.equal(r2.command_status, 0);
  assert.equal(r2.message_id, `${mid}-2`);
  await receiptOf(s, `${mid}-2`);
  await poll(async () => (await api(`/v1/messages/${mid}`)).json.status ===
             'delivered', WAIT_MS, () => 'delivered once whole');
  await close(s);
});

test('a restart between parts: the later part finds its message',
     async () => {
  let s = await bound();
  const dst = '79001235004';
  const r1 = await call(s, 'submit_sm', udhPart(dst, 0x31, 2, 2, 'last.'));
  assert.equal(r1.command_status, 0);
  const mid = r1.message_id.match(PART_ID)[1];
  await close(s);
  await stopGateway();
  await startGateway();
  s = await bound();
  const r2 = await call(s, 'submit_sm', udhPart(dst, 0x31, 2, 1, 'first, '));
  assert.equal(r2.command_status, 0);
  assert.equal(r2.message_id, `${mid}-1`);
  const p = await receiptOf(s, `${mid}-1`);
  assert.match(p.raw.short_message.toString('latin1'),
               new RegExp(`^id:${mid}-1 `));
  await receiptOf(s, `${mid}-2`); // held while unbound, or sent now
  const g = await api(`/v1/messages/${mid}`);
  assert.equal(g.json.parts, 2);
  assert.deepEqual(g.json.segments.map((x) => x.seq), [1, 2]);
  const list = await api(`/v1/messages?to=%2B${dst}`);
  assert.equal(list.json.data.length, 1);
  await close(s);
});

test('query_sm and cancel_sm on a part id', async () => {
  const s = await bound();
  const dst = '79001235005';
  const r1 = await call(s, 'submit_sm', udhPart(dst, 0x41, 3, 1, 'now, '));
  assert.equal(r1.command_status, 0);
  const q1 = await poll(async () => {
    const q = await call(s, 'query_sm', { message_id: r1.message_id,
                                          source_addr_ton: 5,
                                          source_addr: 'Shop' });
    return q.message_state === 2 && q; // DELIVERED
  }, WAIT_MS, () => 'part 1 delivered');
  assert.equal(q1.command_status, 0);
  assert.equal(q1.message_id, r1.message_id);
  const unknown = await call(s, 'query_sm', {
    message_id: r1.message_id.replace(/-1$/, '-3'), source_addr_ton: 5,
    source_addr: 'Shop' });
  assert.equal(unknown.command_status, 0x67, 'ESME_RQUERYFAIL: not come');
  const bad = await call(s, 'query_sm', { message_id: 'x-1',
                                          source_addr: 'Shop' });
  assert.equal(bad.command_status, 0x0C, 'ESME_RINVMSGID');

  // A message scheduled for tomorrow: cancel_sm on part 1 cancels it.
  const later = { schedule_delivery_time: '000001000000000R' };
  const c1 = await call(s, 'submit_sm',
                        udhPart(dst, 0x42, 2, 1, 'tomorrow, ', later));
  assert.equal(c1.command_status, 0);
  const cmid = c1.message_id.match(PART_ID)[1];
  const cq = await call(s, 'query_sm', { message_id: c1.message_id,
                                         source_addr_ton: 5,
                                         source_addr: 'Shop' });
  assert.equal(cq.message_state, 6, 'ACCEPTED while scheduled');
  const cc = await call(s, 'cancel_sm', { message_id: c1.message_id,
                                          source_addr_ton: 5,
                                          source_addr: 'Shop',
                                          dest_addr_ton: 1, dest_addr_npi: 1,
                                          destination_addr: dst });
  assert.equal(cc.command_status, 0);
  const g = await api(`/v1/messages/${cmid}`);
  assert.equal(g.json.status, 'canceled');
  const c2 = await call(s, 'submit_sm',
                        udhPart(dst, 0x42, 2, 2, 'never.', later));
  assert.equal(c2.command_status, 0x45, 'a part of a canceled message');
  await close(s);
});

async function bound() {
  const s = await connect();
  const r = await call(s, 'bind_transceiver',
                       { system_id: 'cust', password: 'custpw' });
  assert.equal(r.command_status, 0);
  return s;
}
