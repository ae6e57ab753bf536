// gateway_vs_node_smsc.test.js - the whole gateway (`smsgate serve`: REST
// API, store, routing, SMPP client connector, receipt matching) against an
// SMSC written with node-smpp, an independent SMPP implementation. Messages
// go in through POST /v1/messages; every submit_sm is checked as node-smpp
// decoded it, and GET /v1/messages/{id} must reach "delivered" although the
// SMSC gives its message ids in hex and its receipts carry only the SMPP 3.4
// Appendix B text with the id in decimal (no receipted_message_id TLV): the
// hardest case of matching a receipt to its message.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const smpp = require('smpp');
const {
  gsmSeptets, ucs2, keepRawOctets, concatUdh, assertConcatUdh, start,
  killAll, storeLine, dropStores,
} = require('./helpers');

const SMSGATE = process.env.SMSGATE;
const KEY = 'interop-key';
const READY_MS = 10000;
const DELIVERED_MS = 10000;

keepRawOctets();

// ---- The node-smpp SMSC ---------------------------------------------------

// Ids are upper-case hex from 0xABCDEF on, so that they have letters and
// their decimal form ("11259375") shares no spelling with them.
const smsc = {
  server: null,
  port: 0,
  nextId: 0xabcdef,
  fixedIds: [],   // ids (hex) to give next, before nextId's
  binds: [],      // bind_* PDUs
  submits: [],    // {pdu, id}
  receipts: [],   // {id, decimalId, resp}
  sessions: new Set(),
};

// SMPP 3.4 Appendix B; "text:" is the first 20 octets of the message.
function receiptText(decimalId, pdu) {
  const sm = pdu.raw.short_message || Buffer.alloc(0);
  const text = sm.slice(0, 20).toString('latin1').replace(/[^ -~]/g, '?');
  return `id:${decimalId} sub:001 dlvrd:001 submit date:2411251200 ` +
         `done date:2411251201 stat:DELIVRD err:000 text:${text}`;
}

// The receipt as SMSCs of the SMPP 3.3 habit send it: esm_class 0x04
// (5.2.12), the text in short_message, no TLVs at all.
function sendReceipt(session, pdu, id) {
  const decimalId = BigInt('0x' + id).toString();
  const entry = { id, decimalId, resp: null };
  smsc.receipts.push(entry);
  session.deliver_sm({
    source_addr_ton: pdu.dest_addr_ton,
    source_addr_npi: pdu.dest_addr_npi,
    source_addr: pdu.destination_addr,
    dest_addr_ton: pdu.source_addr_ton,
    dest_addr_npi: pdu.source_addr_npi,
    destination_addr: pdu.source_addr,
    esm_class: 0x04,
    data_coding: 0,
    short_message: Buffer.from(receiptText(decimalId, pdu), 'ascii'),
  }, (resp) => { entry.resp = resp; });
}

function onSession(session) {
  smsc.sessions.add(session);
  session.on('close', () => smsc.sessions.delete(session));
  session.on('error', () => {}); // the peer may just go
  const bind = (pdu) => {
    smsc.binds.push(pdu);
    session.send(pdu.response({ system_id: 'node-smsc' }));
  };
  session.on('bind_transceiver', bind);
  session.on('bind_transmitter', bind);
  session.on('bind_receiver', bind);
  session.on('enquire_link', (pdu) => session.send(pdu.response()));
  session.on('unbind', (pdu) => {
    session.send(pdu.response());
    session.close();
  });
  session.on('submit_sm', (pdu) => {
    const id = smsc.fixedIds.length > 0 ? smsc.fixedIds.shift()
      : (smsc.nextId++).toString(16).toUpperCase();
    smsc.submits.push({ pdu, id });
    session.send(pdu.response({ message_id: id }));
    if (pdu.registered_delivery & 0x01) sendReceipt(session, pdu, id);
  });
}

// ---- The gateway ---------------------------------------------------------------

const gw = { dir: null, child: null, base: null };

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

function writeConfig(httpPort) {
  const file = path.join(gw.dir, 'smsgate.yaml');
  fs.writeFileSync(file, [
    storeLine(gw.dir, 'gateway'),
    `http: {listen: 127.0.0.1:${httpPort}, web: false}`,
    'accounts:',
    `  - {name: interop, api_key: ${KEY}, default_region: RU}`,
    'connectors:',
    `  - {name: nodesmsc, type: smpp, host: 127.0.0.1, port: ${smsc.port},`,
    '     system_id: smsgate, password: secret, window: 16,',
    '     reconnect_min: 200ms, reconnect_max: 1s,',
    // This SMSC answers in hex and reports receipts in decimal; auto cannot
    // tell that an id of digits only is hex, the explicit modes can.
    '     id_mode: hex, receipt_id_mode: decimal}',
    'routes:',
    '  - {prefix: "+", connectors: [nodesmsc]}',
    'log: {level: warn}',
    '',
  ].join('\n'));
  return file;
}

async function api(method, p, body) {
  const res = await fetch(gw.base + p, {
    method,
    headers: {
      authorization: 'Bearer ' + KEY,
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch (e) { /* not JSON */ }
  return { status: res.status, text, json };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls fn() every 50 ms until it returns a truthy value; fails after ms
// with what() (the last state seen).
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

before(async () => {
  assert.ok(SMSGATE, 'SMSGATE is the path of the smsgate binary');
  smsc.server = smpp.createServer(onSession);
  await new Promise((resolve, reject) => {
    smsc.server.once('error', reject);
    smsc.server.listen(0, '127.0.0.1', resolve);
  });
  smsc.port = smsc.server.address().port;

  gw.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smsgate-gwi-'));
  const httpPort = await freePort();
  gw.base = `http://127.0.0.1:${httpPort}`;
  gw.child = start(SMSGATE, ['serve', '-c', writeConfig(httpPort)]);
  gw.child.stdin.end();
  let last = '';
  await poll(async () => {
    try {
      const r = await fetch(gw.base + '/healthz');
      last = `${r.status} ${await r.text()}`;
      return r.status === 200 && /"status"\s*:\s*"ok"/.test(last);
    } catch (e) {
      last = e.message;
      return false;
    }
  }, READY_MS, () => `/healthz (last: ${last})`);
});

after(async () => {
  killAll();
  dropStores();
  for (const s of smsc.sessions) s.destroy();
  if (smsc.server) await new Promise((resolve) => smsc.server.close(resolve));
  if (gw.dir) fs.rmSync(gw.dir, { recursive: true, force: true });
});

// ---- Checks -------------------------------------------------------------------

// POSTs one message and returns its entry of the 202 answer.
async function send(to, text, parts, encoding) {
  const r = await api('POST', '/v1/messages', { to, from: 'MyShop', text });
  assert.equal(r.status, 202, r.text);
  assert.equal(r.json.messages.length, 1);
  const m = r.json.messages[0];
  assert.equal(m.parts, parts, 'parts');
  assert.equal(m.encoding, encoding, 'encoding');
  return m;
}

// The submit_sm of the number given (digits only), as many as expected.
async function submitsTo(digits, n) {
  const mine = () => smsc.submits.filter((s) =>
    s.pdu.destination_addr === digits);
  await poll(() => mine().length >= n, DELIVERED_MS,
             () => `${n} submit_sm to ${digits}, have ${mine().length}`);
  assert.equal(mine().length, n, 'no more submit_sm than parts');
  return mine();
}

// Fields every submit_sm of the gateway has: an alphanumeric sender
// (TON 5, NPI 0: 5.2.5, 5.2.6), an international recipient (TON 1, NPI 1,
// digits without "+"), a receipt asked for (5.2.17), nothing scheduled.
function assertCommon(pdu, digits) {
  assert.equal(pdu.command, 'submit_sm');
  assert.equal(pdu.service_type, '');
  assert.equal(pdu.source_addr_ton, 5);
  assert.equal(pdu.source_addr_npi, 0);
  assert.equal(pdu.source_addr, 'MyShop');
  assert.equal(pdu.dest_addr_ton, 1);
  assert.equal(pdu.dest_addr_npi, 1);
  assert.equal(pdu.destination_addr, digits);
  assert.equal(pdu.protocol_id, 0);
  assert.equal(pdu.priority_flag, 0);
  assert.equal(pdu.schedule_delivery_time, '');
  assert.equal(pdu.registered_delivery, 1);
  assert.equal(pdu.replace_if_present_flag, 0);
  assert.equal(pdu.sar_msg_ref_num, undefined);
  assert.equal(pdu.message_payload, undefined);
}

// GET /v1/messages/{id} until "delivered"; then each part has the id the
// SMSC gave it (hex, as in submit_sm_resp) and is delivered itself.
async function assertDelivered(id, submits, text, ms = DELIVERED_MS) {
  let last = null;
  const msg = await poll(async () => {
    const r = await api('GET', `/v1/messages/${id}`);
    assert.equal(r.status, 200, r.text);
    last = r.json;
    assert.ok(['queued', 'sending', 'sent', 'delivered'].includes(last.status),
              'not a failure: ' + r.text);
    return last.status === 'delivered' ? last : null;
  }, ms, () => `${id} delivered: ${JSON.stringify(last)}`);
  assert.equal(msg.text, text);
  assert.deepEqual(msg.segments.map((s) => s.seq),
                   submits.map((_, i) => i + 1));
  msg.segments.forEach((s, i) => {
    assert.equal(s.status, 'delivered', `part ${s.seq}`);
    // The id of this very part as the SMSC wrote it (hex), not the
    // decimal key smsgate matched its receipt by.
    assert.equal(s.smsc_id, submits[i].id, `part ${s.seq}`);
  });
  // Every receipt was accepted: deliver_sm_resp ESME_ROK.
  for (const { id: sid } of submits) {
    const rc = smsc.receipts.find((x) => x.id === sid);
    assert.ok(rc, 'receipt sent for ' + sid);
    await poll(() => rc.resp, DELIVERED_MS, () => 'deliver_sm_resp ' + sid);
    assert.equal(rc.resp.command_status, 0);
  }
  return msg;
}

// ---- Cases -------------------------------------------------------------------

test('GSM 7-bit with € and [ ], national number in the default region',
     async () => {
  const text = 'Price: 5€ [sale] ok';
  const m = await send('89001234567', text, 1, 'gsm7');
  assert.equal(m.to, '+79001234567');
  const submits = await submitsTo('79001234567', 1);
  const { pdu } = submits[0];
  assertCommon(pdu, '79001234567');
  assert.equal(pdu.esm_class, 0x00);
  assert.equal(pdu.data_coding, 0x00);
  assert.deepEqual(pdu.raw.short_message, gsmSeptets(text));
  assert.equal(pdu.short_message.udh, undefined);
  assert.equal(pdu.short_message.message, text);
  await assertDelivered(m.id, submits, text);

  // The connector bound once, as a transceiver with its credentials.
  assert.equal(smsc.binds.length, 1);
  const b = smsc.binds[0];
  assert.equal(b.command, 'bind_transceiver');
  assert.equal(b.system_id, 'smsgate');
  assert.equal(b.password, 'secret');
  assert.equal(b.interface_version, 0x34);
});

test('UCS-2 with Cyrillic and emoji', async () => {
  const text = 'Привет, мир! Ёлка 👋🌍';
  const m = await send('+79001234568', text, 1, 'ucs2');
  const submits = await submitsTo('79001234568', 1);
  const { pdu } = submits[0];
  assertCommon(pdu, '79001234568');
  assert.equal(pdu.esm_class, 0x00);
  assert.equal(pdu.data_coding, 0x08);
  assert.deepEqual(pdu.raw.short_message, ucs2(text));
  assert.equal(pdu.short_message.message, text);
  await assertDelivered(m.id, submits, text);
});

test('concatenated GSM 7-bit, 3 parts with UDH', async () => {
  // 400 characters of the default alphabet: 153 + 153 + 94.
  const text = ('Gateway interop, a long GSM message; ' +
                'digits 0123456789 and signs !?#%&*+-/:;<=>. ')
    .repeat(6).slice(0, 400);
  const m = await send('+79001234569', text, 3, 'gsm7');
  const submits = await submitsTo('79001234569', 3);
  // The parts may be sent in any order; put them in UDH order.
  submits.sort((a, b) => a.pdu.raw.short_message[5] -
                         b.pdu.raw.short_message[5]);
  const septets = gsmSeptets(text);
  const cuts = [[0, 153], [153, 306], [306, 400]];
  const ref = submits[0].pdu.raw.short_message[3];
  submits.forEach(({ pdu }, i) => {
    assertCommon(pdu, '79001234569');
    assert.equal(pdu.esm_class, 0x40, 'UDHI');
    assert.equal(pdu.data_coding, 0x00);
    assert.deepEqual(pdu.raw.short_message,
                     Buffer.concat([concatUdh(ref, 3, i + 1),
                                    septets.slice(...cuts[i])]));
    assertConcatUdh(pdu.short_message, ref, 3, i + 1);
    assert.equal(pdu.short_message.message, text.slice(...cuts[i]));
  });
  assert.equal(submits.map((s) => s.pdu.short_message.message).join(''),
               text);
  await assertDelivered(m.id, submits, text);
});

// With id_mode auto the submit_sm_resp id "100000" would be keyed as a
// decimal number (it has no hex letter) and never meet the receipt's
// "id:1048576"; id_mode: hex with receipt_id_mode: decimal matches it.
test('a hex id without letters, receipted in decimal', async () => {
  // "100000" is 0x100000 = 1048576 in the receipt text. Hex ids of six
  // digits have no letter in (10/16)^6 = 6 % of cases.
  smsc.fixedIds.push('100000');
  const text = 'All-digit hex id';
  const m = await send('+79001234570', text, 1, 'gsm7');
  const submits = await submitsTo('79001234570', 1);
  assert.equal(submits[0].id, '100000');
  assertCommon(submits[0].pdu, '79001234570');
  await assertDelivered(m.id, submits, text, 3000);
});

test('the gateway stops cleanly on SIGTERM', async () => {
  gw.child.kill('SIGTERM');
  const timer = setTimeout(() => gw.child.kill('SIGKILL'), 10000);
  const { code, signal } = await gw.child.exited;
  clearTimeout(timer);
  assert.equal(signal, null, 'exited by itself: ' + gw.child.stderrText);
  assert.equal(code, 0, gw.child.stderrText);
});
