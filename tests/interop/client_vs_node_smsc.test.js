// client_vs_node_smsc.test.js - smsgate's SMPP client connector (driven by
// `smsgate sim load`) against an SMSC written with node-smpp, an independent
// SMPP implementation: every field of every submit_sm as node-smpp decoded
// it, for GSM 7-bit (with extension characters), UCS-2 (with a surrogate
// pair) and concatenated messages (UDH, SAR TLVs, message_payload), and the
// delivery receipts node-smpp sends back, matched by smsgate to its ids.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const smpp = require('smpp');
const {
  gsmSeptets, ucs2, keepRawOctets, assertConcatUdh, killAll, run,
} = require('./helpers');

const SMSGATE = process.env.SMSGATE;
const RUN_MS = 20000;

keepRawOctets();

// ---- The node-smpp SMSC ---------------------------------------------------

// How the SMSC writes message ids and receipts, changed per case:
//   ids      'dec' (1000001, ...) or 'hex' (upper-case hex: F4242 ...)
//   receipt  'tlv': receipted_message_id and message_state TLVs and the
//            Appendix B text in short_message; 'text': the text alone, its
//            id in decimal (the SMPP 3.3 habit of SMSCs that answer in
//            hex); 'payload': TLVs, the text in message_payload
//   answers  command_status for the next submit_sm, in turn (then 0)
//   onBound  called with each session once bound, or null
const smsc = {
  server: null,
  port: 0,
  ids: 'dec',
  receipt: 'tlv',
  answers: [],
  onBound: null,
  nextId: 1000001,
  binds: [],       // bind_* PDUs
  submits: [],     // {pdu, id, status}
  receipts: [],    // {id, resp, on} for every deliver_sm sent
  waiting: [],     // receipts for a receiver bind not yet there
  sessions: new Set(),
};

function receiptText(id, submit) {
  // SMPP 3.4 Appendix B; "text:" the first 20 octets of the message.
  const sm = submit.raw.short_message || Buffer.alloc(0);
  const text = sm.slice(0, 20).toString('latin1').replace(/[^ -~]/g, '?');
  return `id:${id} sub:001 dlvrd:001 submit date:2401011200 ` +
         `done date:2401011201 stat:DELIVRD err:000 text:${text}`;
}

function receiptFields(submit, id) {
  const textId = smsc.receipt === 'text' && smsc.ids === 'hex'
    ? BigInt('0x' + id).toString() : id;
  const text = Buffer.from(receiptText(textId, submit), 'ascii');
  const fields = {
    source_addr_ton: submit.dest_addr_ton,
    source_addr_npi: submit.dest_addr_npi,
    source_addr: submit.destination_addr,
    dest_addr_ton: submit.source_addr_ton,
    dest_addr_npi: submit.source_addr_npi,
    destination_addr: submit.source_addr,
    esm_class: 0x04, // SMSC delivery receipt (section 5.2.12)
    data_coding: 0,
    short_message: smsc.receipt === 'payload' ? Buffer.alloc(0) : text,
  };
  if (smsc.receipt === 'payload') fields.message_payload = text;
  if (smsc.receipt !== 'text') {
    fields.receipted_message_id = id;
    fields.message_state = 2; // DELIVERED (section 5.2.28)
  }
  return fields;
}

// A receipt goes back on the transceiver the message came on, else on a
// receiver bind of the same system_id (waiting for one if need be).
function deliverReceipt(session, fields, id) {
  let target = session.boundAs === 'trx' ? session : null;
  for (const s of smsc.sessions) {
    if (!target && s.boundAs === 'rx' && s.systemId === session.systemId) {
      target = s;
    }
  }
  if (!target) {
    smsc.waiting.push({ session, fields, id });
    return;
  }
  const entry = { id, resp: null, on: target.boundAs };
  smsc.receipts.push(entry);
  target.deliver_sm(fields, (resp) => { entry.resp = resp; });
}

function onBind(session, as, pdu) {
  smsc.binds.push(pdu);
  session.boundAs = as;
  session.systemId = pdu.system_id;
  session.send(pdu.response({ system_id: 'node-smsc' }));
  if (smsc.onBound) smsc.onBound(session);
  if (as === 'rx') {
    const waiting = smsc.waiting.splice(0);
    for (const w of waiting) deliverReceipt(w.session, w.fields, w.id);
  }
}

function onSession(session) {
  smsc.sessions.add(session);
  session.on('close', () => smsc.sessions.delete(session));
  session.on('error', () => {}); // the peer may just go
  session.on('bind_transceiver', (pdu) => onBind(session, 'trx', pdu));
  session.on('bind_transmitter', (pdu) => onBind(session, 'tx', pdu));
  session.on('bind_receiver', (pdu) => onBind(session, 'rx', pdu));
  session.on('enquire_link', (pdu) => session.send(pdu.response()));
  session.on('unbind', (pdu) => {
    session.send(pdu.response());
    session.close();
  });
  session.on('submit_sm', (pdu) => {
    const status = smsc.answers.length > 0 ? smsc.answers.shift() : 0;
    if (status !== 0) {
      smsc.submits.push({ pdu, id: null, status });
      session.send(pdu.response({ command_status: status }));
      return;
    }
    const n = smsc.nextId++;
    const id = smsc.ids === 'hex' ? n.toString(16).toUpperCase() : String(n);
    smsc.submits.push({ pdu, id, status });
    session.send(pdu.response({ message_id: id }));
    if (pdu.registered_delivery & 0x01) {
      deliverReceipt(session, receiptFields(pdu, id), id);
    }
  });
}

before(async () => {
  assert.ok(SMSGATE, 'SMSGATE is the path of the smsgate binary');
  smsc.server = smpp.createServer(onSession);
  await new Promise((resolve, reject) => {
    smsc.server.once('error', reject);
    smsc.server.listen(0, '127.0.0.1', resolve);
  });
  smsc.port = smsc.server.address().port;
});

after(async () => {
  killAll();
  for (const s of smsc.sessions) s.destroy();
  if (smsc.server) await new Promise((resolve) => smsc.server.close(resolve));
});

// ---- Running smsgate -------------------------------------------------------

// Runs `smsgate sim load --dlr` for one text and returns its exit code,
// summary, and what node-smpp saw meanwhile: binds, submit_sm, receipts.
async function load(opts) {
  const first = smsc.submits.length;
  const firstReceipt = smsc.receipts.length;
  const firstBind = smsc.binds.length;
  const args = ['sim', 'load', '--host', '127.0.0.1', '--port',
                String(smsc.port), '--system-id', 'smsgate',
                '--password', 'secret', '--to', opts.to || '+447700900123',
                '--from', opts.from || '+447700900001', '--text', opts.text,
                '--dlr', '--dlr-timeout', '10', '--connect-timeout', '10',
                '--quiet', ...(opts.args || [])];
  const r = await run(SMSGATE, args, RUN_MS);
  const lines = r.stdout.trim().split('\n');
  return {
    code: r.code,
    out: r.stdout + r.stderr,
    summary: JSON.parse(lines[lines.length - 1]),
    lines: lines.slice(0, -1).map((l) => JSON.parse(l)),
    binds: smsc.binds.slice(firstBind),
    submits: smsc.submits.slice(first),
    receipts: smsc.receipts.slice(firstReceipt),
  };
}

// Every receipt was answered deliver_sm_resp ESME_ROK, and smsgate matched
// each one to an id it had been given (dlr counts the matches).
function assertReceiptsMatched(res) {
  for (const rc of res.receipts) {
    assert.ok(rc.resp, 'deliver_sm answered');
    assert.equal(rc.resp.command_status, 0);
  }
  assert.equal(res.summary.dlr, res.receipts.length);
  assert.equal(res.summary.dlr_expected, res.receipts.length);
  assert.equal(res.summary.dlr_delivered, res.receipts.length);
}

function assertBind(pdu, command) {
  assert.equal(pdu.command, command);
  assert.equal(pdu.system_id, 'smsgate');
  assert.equal(pdu.password, 'secret');
  assert.equal(pdu.system_type, '');
  assert.equal(pdu.interface_version, 0x34);
  assert.equal(pdu.addr_ton, 0);
  assert.equal(pdu.addr_npi, 0);
  assert.equal(pdu.address_range, '');
}

// The common case: one transceiver bind, everything sent and receipted.
async function send(opts) {
  const res = await load(opts);
  assert.equal(res.code, 0, 'exit 0: ' + res.out);
  assert.equal(res.binds.length, 1, 'one bind');
  assertBind(res.binds[0], 'bind_transceiver');
  assertReceiptsMatched(res);
  return res;
}

// The fields every submit_sm from smsgate has, whatever the text.
function assertCommon(pdu, src, dst) {
  assert.equal(pdu.command, 'submit_sm');
  assert.equal(pdu.command_status, 0);
  assert.equal(pdu.service_type, '');
  assert.equal(pdu.source_addr_ton, src.ton);
  assert.equal(pdu.source_addr_npi, src.npi);
  assert.equal(pdu.source_addr, src.addr);
  assert.equal(pdu.dest_addr_ton, dst.ton);
  assert.equal(pdu.dest_addr_npi, dst.npi);
  assert.equal(pdu.destination_addr, dst.addr);
  assert.equal(pdu.protocol_id, 0);
  assert.equal(pdu.priority_flag, 0);
  assert.equal(pdu.schedule_delivery_time, '');
  assert.equal(pdu.validity_period, '');
  assert.equal(pdu.registered_delivery, 1);
  assert.equal(pdu.replace_if_present_flag, 0);
  assert.equal(pdu.sm_default_msg_id, 0);
}

const INTL_SRC = { ton: 1, npi: 1, addr: '447700900001' };
const INTL_DST = { ton: 1, npi: 1, addr: '447700900123' };

function assertNoConcat(pdu) {
  assert.equal(pdu.sar_msg_ref_num, undefined);
  assert.equal(pdu.sar_total_segments, undefined);
  assert.equal(pdu.sar_segment_seqnum, undefined);
  assert.equal(pdu.message_payload, undefined);
}

// 400 characters of the default alphabet: 3 parts of 153, 153, 94.
const LONG = ('Interop test of a long GSM message, part of many; ' +
              'numbers 0123456789 and signs !?#%&*+-/:;<=>. ')
  .repeat(5).slice(0, 400);

// ---- Cases -------------------------------------------------------------------

test('GSM 7-bit with extension characters', async () => {
  const text = 'Price: 5€ [a] {b} @home $1 £2 ~^|\\ ok';
  const { summary, submits } = await send({ text });
  assert.equal(submits.length, 1);
  const { pdu, id } = submits[0];
  assertCommon(pdu, INTL_SRC, INTL_DST);
  assert.equal(pdu.esm_class, 0x00);
  assert.equal(pdu.data_coding, 0x00);
  assertNoConcat(pdu);
  assert.deepEqual(pdu.raw.short_message, gsmSeptets(text));
  assert.equal(pdu.short_message.udh, undefined);
  assert.equal(pdu.short_message.message, text);
  assert.equal(summary.sent, 1);
  assert.deepEqual(summary.ids, [id]);
});

test('UCS-2 with Cyrillic and a surrogate pair', async () => {
  const text = 'Привет, мир! Ёлка 👋🌍';
  const { summary, submits } = await send({ text });
  assert.equal(submits.length, 1);
  const { pdu, id } = submits[0];
  assertCommon(pdu, INTL_SRC, INTL_DST);
  assert.equal(pdu.esm_class, 0x00);
  assert.equal(pdu.data_coding, 0x08);
  assertNoConcat(pdu);
  assert.deepEqual(pdu.raw.short_message, ucs2(text));
  assert.equal(pdu.short_message.message, text);
  assert.deepEqual(summary.ids, [id]);
});

test('alphanumeric sender, receipt by text alone, hex ids', async (t) => {
  smsc.ids = 'hex';
  smsc.receipt = 'text';
  t.after(() => { smsc.ids = 'dec'; smsc.receipt = 'tlv'; });
  const text = 'Your code is 4711';
  const { summary, submits } = await send({ text, from: 'MyShop' });
  assert.equal(submits.length, 1);
  const { pdu, id } = submits[0];
  assertCommon(pdu, { ton: 5, npi: 0, addr: 'MyShop' }, INTL_DST);
  assert.equal(pdu.esm_class, 0x00);
  assert.equal(pdu.data_coding, 0x00);
  assert.deepEqual(pdu.raw.short_message, gsmSeptets(text));
  assert.equal(pdu.short_message.message, text);
  // The hex id of submit_sm_resp and the decimal id of the receipt text
  // are one key (the hex number's decimal value).
  assert.match(id, /^[0-9A-F]+$/);
  assert.deepEqual(summary.ids, [BigInt('0x' + id).toString()]);
});

test('concatenated GSM 7-bit, UDH', async () => {
  const { summary, submits } = await send({ text: LONG });
  assert.equal(submits.length, 3);
  const septets = gsmSeptets(LONG);
  const cuts = [[0, 153], [153, 306], [306, 400]];
  const ref = submits[0].pdu.raw.short_message[3];
  submits.forEach(({ pdu }, i) => {
    assertCommon(pdu, INTL_SRC, INTL_DST);
    assert.equal(pdu.esm_class, 0x40, 'UDHI');
    assert.equal(pdu.data_coding, 0x00);
    assertNoConcat(pdu);
    const udh = Buffer.from([0x05, 0x00, 0x03, ref, 3, i + 1]);
    assert.deepEqual(pdu.raw.short_message,
                     Buffer.concat([udh, septets.slice(...cuts[i])]));
    assertConcatUdh(pdu.short_message, ref, 3, i + 1);
    assert.equal(pdu.short_message.message, LONG.slice(...cuts[i]));
  });
  assert.equal(submits.map((s) => s.pdu.short_message.message).join(''),
               LONG);
  assert.equal(summary.sent, 3);
  assert.deepEqual(summary.ids, submits.map((s) => s.id));
});

test('concatenated UCS-2, UDH', async () => {
  const text = 'Съешь же ещё этих мягких французских булок, да выпей чаю. '
    .repeat(3); // 174 UTF-16 units: 67 + 67 + 40
  const units = ucs2(text);
  const { summary, submits } = await send({ text });
  assert.equal(submits.length, 3);
  const ref = submits[0].pdu.raw.short_message[3];
  const cuts = [[0, 134], [134, 268], [268, units.length]];
  submits.forEach(({ pdu }, i) => {
    assertCommon(pdu, INTL_SRC, INTL_DST);
    assert.equal(pdu.esm_class, 0x40);
    assert.equal(pdu.data_coding, 0x08);
    const udh = Buffer.from([0x05, 0x00, 0x03, ref, 3, i + 1]);
    assert.deepEqual(pdu.raw.short_message,
                     Buffer.concat([udh, units.slice(...cuts[i])]));
    assertConcatUdh(pdu.short_message, ref, 3, i + 1);
  });
  assert.equal(submits.map((s) => s.pdu.short_message.message).join(''),
               text);
  assert.equal(summary.sent, 3);
});

test('concatenated GSM 7-bit, SAR TLVs', async () => {
  const { summary, submits } =
    await send({ text: LONG, args: ['--long-mode', 'sar'] });
  assert.equal(submits.length, 3);
  const septets = gsmSeptets(LONG);
  const cuts = [[0, 153], [153, 306], [306, 400]];
  const ref = submits[0].pdu.sar_msg_ref_num;
  assert.ok(ref >= 0 && ref <= 0xffff);
  submits.forEach(({ pdu }, i) => {
    assertCommon(pdu, INTL_SRC, INTL_DST);
    assert.equal(pdu.esm_class, 0x00, 'no UDH left');
    assert.equal(pdu.data_coding, 0x00);
    assert.equal(pdu.sar_msg_ref_num, ref);
    assert.equal(pdu.sar_total_segments, 3);
    assert.equal(pdu.sar_segment_seqnum, i + 1);
    assert.equal(pdu.message_payload, undefined);
    assert.deepEqual(pdu.raw.short_message, septets.slice(...cuts[i]));
    assert.equal(pdu.short_message.udh, undefined);
    assert.equal(pdu.short_message.message, LONG.slice(...cuts[i]));
  });
  assert.equal(summary.sent, 3);
  assert.deepEqual(summary.ids, submits.map((s) => s.id));
});

test('concatenated GSM 7-bit, message_payload', async () => {
  const { summary, submits } =
    await send({ text: LONG, args: ['--long-mode', 'payload'] });
  assert.equal(submits.length, 1, 'one submit_sm for the whole text');
  const { pdu, id } = submits[0];
  assertCommon(pdu, INTL_SRC, INTL_DST);
  assert.equal(pdu.esm_class, 0x00);
  assert.equal(pdu.data_coding, 0x00);
  assert.equal(pdu.raw.short_message.length, 0, 'sm_length 0');
  assert.equal(pdu.sar_msg_ref_num, undefined);
  assert.deepEqual(pdu.raw.message_payload, gsmSeptets(LONG));
  assert.equal(pdu.message_payload.message, LONG);
  // Three parts were given to the connector; all share the one id.
  assert.equal(summary.sent, 3);
  assert.deepEqual(summary.ids, [id]);
});

test('transmitter bind, receipts on a receiver bind, in message_payload',
     async (t) => {
  smsc.receipt = 'payload';
  t.after(() => { smsc.receipt = 'tlv'; });
  const text = 'Sent on a transmitter';
  const res = await load({ text, args: ['--bind', 'tx', '--binds', '2',
                                        '--count', '4'] });
  assert.equal(res.code, 0, 'exit 0: ' + res.out);
  const kinds = res.binds.map((b) => b.command).sort();
  assert.deepEqual(kinds, ['bind_receiver', 'bind_transmitter',
                           'bind_transmitter']);
  for (const b of res.binds) assertBind(b, b.command);
  assert.equal(res.submits.length, 4);
  for (const { pdu } of res.submits) {
    assertCommon(pdu, INTL_SRC, INTL_DST);
    assert.deepEqual(pdu.raw.short_message, gsmSeptets(text));
  }
  assert.ok(res.receipts.every((r) => r.on === 'rx'));
  assertReceiptsMatched(res);
  assert.equal(res.summary.sent, 4);
  assert.deepEqual(res.summary.ids, res.submits.map((s) => s.id));
});

test('SMSC refusals: throttled, then a permanent error', async () => {
  // ESME_RTHROTTLED (0x58) is resent; ESME_RINVDSTADR (0x0B) is final.
  smsc.answers.push(0x58);
  let res = await load({ text: 'retry me', args: ['--verbose'] });
  assert.equal(res.code, 0, 'exit 0: ' + res.out);
  assert.deepEqual(res.submits.map((s) => s.status), [0x58, 0]);
  assert.deepEqual(res.submits[0].pdu.raw.short_message,
                   res.submits[1].pdu.raw.short_message);
  const part = res.lines.find((l) => l.type === 'part');
  assert.equal(part.outcome, 'sent');
  assert.equal(part.attempts, 2);
  assert.equal(part.smsc_id, res.submits[1].id);
  assertReceiptsMatched(res);

  smsc.answers.push(0x0b);
  res = await load({ text: 'bad number', args: ['--verbose'] });
  assert.equal(res.code, 1, 'exit 1: ' + res.out);
  assert.equal(res.submits.length, 1);
  assert.equal(res.summary.sent, 0);
  assert.equal(res.summary.permfail, 1);
  assert.deepEqual(res.summary.ids, []);
  assert.equal(res.receipts.length, 0);
  const failed = res.lines.find((l) => l.type === 'part');
  assert.equal(failed.outcome, 'permfail');
  assert.equal(failed.status, 0x0b);
  assert.equal(failed.smsc_id, '');
});

test('the SMSC\'s own requests: enquire_link, MO, malformed MO', async (t) => {
  const answers = {};
  const call = (session, command, fields, name) => {
    session[command](fields, (r) => { answers[name] = r; });
  };
  const mo = {
    source_addr_ton: 1, source_addr_npi: 1, source_addr: '447700900111',
    dest_addr_ton: 0, dest_addr_npi: 1, destination_addr: '100',
    data_coding: 0,
  };
  smsc.onBound = (session) => {
    call(session, 'enquire_link', {}, 'enquire_link');
    call(session, 'deliver_sm',
         { ...mo, esm_class: 0, short_message: gsmSeptets('Hi there') },
         'mo');
    call(session, 'deliver_sm', {
      ...mo, esm_class: 0x40,
      short_message: Buffer.concat([Buffer.from([0x05, 0x00, 0x03, 7, 2, 1]),
                                    gsmSeptets('first half')]),
    }, 'mo_udh');
    // UDHL 9 runs past the 7 octets of user data; UDHI with nothing.
    call(session, 'deliver_sm', {
      ...mo, esm_class: 0x40,
      short_message: Buffer.from([9, 0x00, 0x03, 1, 2, 1, 0x41]),
    }, 'bad_udhl');
    call(session, 'deliver_sm',
         { ...mo, esm_class: 0x40, short_message: Buffer.alloc(0) },
         'empty_udhi');
  };
  t.after(() => { smsc.onBound = null; });
  // Sent after them on the same connection: by the time its receipt is
  // matched, every answer above has come.
  const res = await send({ text: 'after the MO' });
  assert.equal(answers.enquire_link.command, 'enquire_link_resp');
  assert.equal(answers.enquire_link.command_status, 0);
  assert.equal(answers.mo.command, 'deliver_sm_resp');
  assert.equal(answers.mo.command_status, 0);
  assert.equal(answers.mo_udh.command_status, 0);
  assert.equal(answers.bad_udhl.command_status, smpp.ESME_RINVESMCLASS);
  assert.equal(answers.empty_udhi.command_status, smpp.ESME_RINVESMCLASS);
  assert.equal(res.summary.inbound, 2, 'the two good MO reached the owner');
  assert.equal(res.summary.sent, 1);
});
