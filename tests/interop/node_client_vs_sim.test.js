// node_client_vs_sim.test.js - node-smpp's client, an independent SMPP
// implementation, against smsgate's SMSC simulator (`smsgate sim smsc`):
// binds (and refused binds), submit_sm of GSM 7-bit, UCS-2 and
// concatenated messages, the delivery receipts the simulator sends back and
// the MO messages it is told to inject on its stdin, every field as
// node-smpp decoded it; then the simulator's own record of what it decoded
// from node-smpp and its counters of node-smpp's answers.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const smpp = require('smpp');
const {
  gsmSeptets, ucs2, keepRawOctets, concatUdh, assertConcatUdh, start,
  killAll, waitForLine, until,
} = require('./helpers');

const SMSGATE = process.env.SMSGATE;
const WAIT_MS = 10000;
const SYSTEM_ID = 'nodetest';
const PASSWORD = 'secret1';

keepRawOctets();

const state = {
  sim: null,
  port: 0,
  dir: null,
  session: null,     // the bound transceiver
  others: [],        // sessions of the refused cases
  delivers: [],      // deliver_sm received on the bound session
  submitted: [],     // {text, dc, resp, raw}
};

// ---- Helpers ---------------------------------------------------------------

function connect() {
  return new Promise((resolve, reject) => {
    const s = smpp.connect({ host: '127.0.0.1', port: state.port });
    const timer = setTimeout(() => reject(new Error('connect timed out')),
                             WAIT_MS);
    s.once('error', (e) => { clearTimeout(timer); reject(e); });
    s.once('connect', () => {
      clearTimeout(timer);
      s.on('error', () => {});
      resolve(s);
    });
  });
}

// Sends a request and resolves with its response.
function call(session, command, fields = {}) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(command + ': no response')), WAIT_MS);
    const ok = session[command](fields, (resp) => {
      clearTimeout(timer);
      resolve(resp);
    });
    if (!ok) {
      clearTimeout(timer);
      reject(new Error(command + ': session not writable'));
    }
  });
}

// Writes a control line to the simulator and resolves with its reply.
async function control(line) {
  const from = state.sim.stdoutText.length;
  state.sim.stdin.write(line + '\n');
  const m = await waitForLine(state.sim, /^(ok|error): .*$/, WAIT_MS, from);
  return m[0];
}

function delivered(n, what) {
  return until(state.session, 'deliver_sm',
               () => state.delivers.length >= n, WAIT_MS,
               () => `${what}: ${state.delivers.length} of ${n} deliver_sm`);
}

// Everything of a deliver_sm that is not its content, as the simulator
// fills it (nothing but addresses, esm_class, data_coding and content).
function assertPlainDeliver(pdu) {
  assert.equal(pdu.command, 'deliver_sm');
  assert.equal(pdu.command_status, 0);
  assert.equal(pdu.service_type, '');
  assert.equal(pdu.protocol_id, 0);
  assert.equal(pdu.priority_flag, 0);
  assert.equal(pdu.schedule_delivery_time, '');
  assert.equal(pdu.validity_period, '');
  assert.equal(pdu.registered_delivery, 0);
  assert.equal(pdu.replace_if_present_flag, 0);
  assert.equal(pdu.sm_default_msg_id, 0);
}

function assertAddr(pdu, src, dst) {
  assert.equal(pdu.source_addr_ton, src[0]);
  assert.equal(pdu.source_addr_npi, src[1]);
  assert.equal(pdu.source_addr, src[2]);
  assert.equal(pdu.dest_addr_ton, dst[0]);
  assert.equal(pdu.dest_addr_npi, dst[1]);
  assert.equal(pdu.destination_addr, dst[2]);
}

// 400 characters of the default alphabet (3 parts: 153, 153, 94), ending
// in a character that a control line keeps (no trailing space).
const LONG = ('Concatenated interop text for node-smpp, with digits ' +
              '0123456789 and signs #%&*+-/:;<=>? ').repeat(5).slice(0, 399) +
             '!';
const CUTS = [[0, 153], [153, 306], [306, 400]];
const SRC = [5, 0, 'NodeTest'];
const DST = [1, 1, '447700900123'];

// ---- Life cycle ------------------------------------------------------------

before(async () => {
  assert.ok(SMSGATE, 'SMSGATE is the path of the smsgate binary');
  state.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sg-interop-'));
  state.sim = start(SMSGATE, [
    'sim', 'smsc', '--host', '127.0.0.1', '--port', '0',
    '--system-id', SYSTEM_ID, '--password', PASSWORD, '--dlr-delay', '20',
    '--stats-interval', '0', '--record', path.join(state.dir, 'record'),
  ]);
  const m = await waitForLine(state.sim, /^listening on [\d.]+:(\d+)$/,
                              WAIT_MS);
  state.port = Number(m[1]);
  assert.ok(state.port > 0);
});

after(async () => {
  for (const s of [state.session, ...state.others]) if (s) s.destroy();
  killAll();
  if (state.dir) fs.rmSync(state.dir, { recursive: true, force: true });
});

// ---- Refused and early requests ----------------------------------------------

test('bind with a wrong password: ESME_RINVPASWD', async () => {
  const s = await connect();
  state.others.push(s);
  const r = await call(s, 'bind_transceiver',
                       { system_id: SYSTEM_ID, password: 'wrong' });
  assert.equal(r.command, 'bind_transceiver_resp');
  assert.equal(r.command_status, 0x0000000e);
  assert.equal(r.command_status, smpp.ESME_RINVPASWD);
  s.destroy();
});

test('bind with a wrong system_id: ESME_RINVSYSID', async () => {
  const s = await connect();
  state.others.push(s);
  const r = await call(s, 'bind_transceiver',
                       { system_id: 'someone', password: PASSWORD });
  assert.equal(r.command, 'bind_transceiver_resp');
  assert.equal(r.command_status, smpp.ESME_RINVSYSID);
  s.destroy();
});

test('submit_sm before bind: ESME_RINVBNDSTS', async () => {
  const s = await connect();
  state.others.push(s);
  const r = await call(s, 'submit_sm', {
    destination_addr: '447700900123', short_message: 'too early',
  });
  assert.equal(r.command, 'submit_sm_resp');
  assert.equal(r.command_status, 0x00000004);
  assert.equal(r.command_status, smpp.ESME_RINVBNDSTS);
  s.destroy();
});

// ---- The bound session ---------------------------------------------------------

test('bind_transceiver and enquire_link', async () => {
  const s = await connect();
  state.session = s;
  s.on('deliver_sm', (pdu) => {
    state.delivers.push(pdu);
    s.send(pdu.response());
  });
  const r = await call(s, 'bind_transceiver',
                       { system_id: SYSTEM_ID, password: PASSWORD });
  assert.equal(r.command, 'bind_transceiver_resp');
  assert.equal(r.command_status, 0);
  assert.equal(r.system_id, 'smsgate-sim');
  const e = await call(s, 'enquire_link');
  assert.equal(e.command, 'enquire_link_resp');
  assert.equal(e.command_status, 0);
});

// Sends submit_sm (or data_sm) from NodeTest to 447700900123 asking for a
// receipt; checks the response and remembers what was sent (`content`: the
// octets of short_message or message_payload, `text`: what they say).
async function submit(fields, text, command = 'submit_sm',
                      session = state.session) {
  const base = {
    source_addr_ton: SRC[0], source_addr_npi: SRC[1], source_addr: SRC[2],
    dest_addr_ton: DST[0], dest_addr_npi: DST[1], destination_addr: DST[2],
    registered_delivery: 1,
  };
  const resp = await call(session, command, { ...base, ...fields });
  assert.equal(resp.command, command + '_resp');
  assert.equal(resp.command_status, 0);
  // The simulator's ids: lower-case hex, no prefix, no padding.
  assert.match(resp.message_id, /^[1-9a-f][0-9a-f]*$/);
  const content = fields.short_message && fields.short_message.length
    ? fields.short_message : fields.message_payload;
  state.submitted.push({ text, fields, content, command, id: resp.message_id });
  return resp.message_id;
}

// A second text for SAR and message_payload: 200 characters, 2 parts.
const MEDIUM = LONG.slice(0, 200);

test('submit_sm: GSM 7-bit, UCS-2, concatenated (UDH, SAR, payload); ' +
     'data_sm', async () => {
  await submit({ data_coding: 0, short_message: gsmSeptets('Hello from node') },
               'Hello from node');
  const u = 'Привет 👋 from node';
  await submit({ data_coding: 8, short_message: ucs2(u) }, u);
  const septets = gsmSeptets(LONG);
  for (let i = 0; i < 3; i++) {
    await submit({
      data_coding: 0,
      esm_class: 0x40,
      short_message: Buffer.concat([concatUdh(0x2a, 3, i + 1),
                                    septets.slice(...CUTS[i])]),
    }, LONG.slice(...CUTS[i]));
  }
  for (let i = 0; i < 2; i++) {
    await submit({
      data_coding: 0,
      short_message: gsmSeptets(MEDIUM.slice(i * 153, (i + 1) * 153)),
      sar_msg_ref_num: 0x1234,
      sar_total_segments: 2,
      sar_segment_seqnum: i + 1,
    }, MEDIUM.slice(i * 153, (i + 1) * 153));
  }
  await submit({ data_coding: 0, short_message: Buffer.alloc(0),
                 message_payload: gsmSeptets(MEDIUM) }, MEDIUM);
  await submit({ data_coding: 8, message_payload: ucs2('data_sm: Ω') },
               'data_sm: Ω', 'data_sm');
  const ids = state.submitted.map((s) => s.id);
  assert.equal(new Set(ids).size, 9, 'distinct ids');
});

const RECEIPT_RE = new RegExp('^id:(\\S+) sub:(\\d{3}) dlvrd:(\\d{3}) ' +
                              'submit date:(\\d{10}) done date:(\\d{10}) ' +
                              'stat:(\\S+) err:(\\d{3}) text:(.*)$');

// Checks receipts against state.submitted; returns the ids they name.
function assertReceipts(receipts) {
  const seen = new Set();
  for (const pdu of receipts) {
    assert.equal(pdu.command, 'deliver_sm');
    assert.equal(pdu.esm_class, 0x04, 'SMSC delivery receipt');
    assert.equal(pdu.data_coding, 0);
    assert.equal(pdu.registered_delivery, 0);
    // It travels back: from the recipient to the sender.
    assertAddr(pdu, DST, SRC);
    const text = pdu.raw.short_message.toString('latin1');
    assert.equal(pdu.short_message.message, text, 'ASCII reads the same');
    const m = text.match(RECEIPT_RE);
    assert.ok(m, 'Appendix B receipt text: ' + text);
    const [, id, sub, dlvrd, submitDate, doneDate, stat, err, tx] = m;
    const orig = state.submitted.find((s) => s.id === id);
    assert.ok(orig, 'receipt id is a submit_sm_resp message_id: ' + id);
    assert.ok(!seen.has(id), 'one receipt per message');
    seen.add(id);
    assert.equal(sub, '001');
    assert.equal(dlvrd, '001');
    assert.ok(doneDate >= submitDate);
    assert.equal(stat, 'DELIVRD');
    assert.equal(err, '000');
    // text: the first 20 characters (UCS-2: UTF-16 units); those that are
    // not the same in ASCII and in the GSM alphabet as '?'.
    assert.equal(tx, orig.text.slice(0, 20)
      .replace(/[^A-Za-z0-9 !"#%&'()*+,\-./:;<=>?]/g, '?'));
    assert.equal(pdu.receipted_message_id, id);
    assert.equal(pdu.message_state, 2, 'DELIVERED');
    assert.equal(pdu.network_error_code, undefined);
  }
  return seen;
}

test('delivery receipts as deliver_sm', async () => {
  await delivered(9, 'receipts');
  const seen = assertReceipts(state.delivers.splice(0));
  assert.deepEqual([...seen].sort(),
                   state.submitted.map((s) => s.id).sort());
});

// ---- MO injected on the simulator's stdin ----------------------------------------

test('MO: GSM 7-bit with extension characters', async () => {
  const text = 'MO text: 5€ [x] {y} ~ok';
  assert.equal(await control(`mo +79001234567 447700900123 ${text}`),
               'ok: mo queued, 1 part');
  await delivered(1, 'MO');
  const pdu = state.delivers.shift();
  assertPlainDeliver(pdu);
  // "+..." is international E.164; digits alone E.164 of unknown type.
  assertAddr(pdu, [1, 1, '79001234567'], [0, 1, '447700900123']);
  assert.equal(pdu.esm_class, 0x00);
  assert.equal(pdu.data_coding, 0x00);
  assert.deepEqual(pdu.raw.short_message, gsmSeptets(text));
  assert.equal(pdu.short_message.udh, undefined);
  assert.equal(pdu.short_message.message, text);
});

test('MO: UCS-2, chosen automatically and forced', async () => {
  const text = 'Ответ: да 👍';
  assert.equal(await control(`mo +79001234567 100 ${text}`),
               'ok: mo queued, 1 part');
  assert.equal(await control('mo -u Bank 100 plain ASCII in UCS-2'),
               'ok: mo queued, 1 part');
  await delivered(2, 'MO');
  const [a, b] = state.delivers.splice(0, 2);
  for (const pdu of [a, b]) {
    assertPlainDeliver(pdu);
    assert.equal(pdu.esm_class, 0x00);
    assert.equal(pdu.data_coding, 0x08);
  }
  assertAddr(a, [1, 1, '79001234567'], [0, 1, '100']);
  assert.deepEqual(a.raw.short_message, ucs2(text));
  assert.equal(a.short_message.message, text);
  // Alphanumeric sender: TON 5, NPI 0.
  assertAddr(b, [5, 0, 'Bank'], [0, 1, '100']);
  assert.deepEqual(b.raw.short_message, ucs2('plain ASCII in UCS-2'));
  assert.equal(b.short_message.message, 'plain ASCII in UCS-2');
});

test('MO: concatenated GSM 7-bit (UDH)', async () => {
  assert.equal(await control(`mo -g +79001234567 100 ${LONG}`),
               'ok: mo queued, 3 parts');
  await delivered(3, 'MO parts');
  const parts = state.delivers.splice(0, 3);
  const septets = gsmSeptets(LONG);
  const ref = parts[0].raw.short_message[3];
  parts.forEach((pdu, i) => {
    assertPlainDeliver(pdu);
    assertAddr(pdu, [1, 1, '79001234567'], [0, 1, '100']);
    assert.equal(pdu.esm_class, 0x40, 'UDHI');
    assert.equal(pdu.data_coding, 0x00);
    assert.deepEqual(pdu.raw.short_message,
                     Buffer.concat([concatUdh(ref, 3, i + 1),
                                    septets.slice(...CUTS[i])]));
    assertConcatUdh(pdu.short_message, ref, 3, i + 1);
    assert.equal(pdu.short_message.message, LONG.slice(...CUTS[i]));
  });
  assert.equal(parts.map((p) => p.short_message.message).join(''), LONG);
});

test('unbind', async () => {
  const r = await call(state.session, 'unbind');
  assert.equal(r.command, 'unbind_resp');
  assert.equal(r.command_status, 0);
  assert.equal(state.delivers.length, 0, 'nothing unexpected arrived');
});

test('transmitter and receiver binds: the receipt comes on the receiver',
     async () => {
  const tx = await connect();
  const rx = await connect();
  state.others.push(tx, rx);
  const got = [];
  rx.on('deliver_sm', (pdu) => {
    got.push(pdu);
    rx.send(pdu.response());
  });
  tx.on('deliver_sm', () => assert.fail('deliver_sm on a transmitter'));
  const creds = { system_id: SYSTEM_ID, password: PASSWORD };
  const rt = await call(tx, 'bind_transmitter', creds);
  assert.equal(rt.command, 'bind_transmitter_resp');
  assert.equal(rt.command_status, 0);
  const rr = await call(rx, 'bind_receiver', creds);
  assert.equal(rr.command, 'bind_receiver_resp');
  assert.equal(rr.command_status, 0);
  // A receiver may not submit (section 2.3): ESME_RINVBNDSTS.
  const no = await call(rx, 'submit_sm', { destination_addr: '1234' });
  assert.equal(no.command_status, smpp.ESME_RINVBNDSTS);
  const id = await submit({ data_coding: 0,
                            short_message: gsmSeptets('Via transmitter') },
                          'Via transmitter', 'submit_sm', tx);
  await until(rx, 'deliver_sm', () => got.length >= 1, WAIT_MS,
              () => 'a receipt on the receiver');
  assert.deepEqual([...assertReceipts(got)], [id]);
  for (const s of [tx, rx]) {
    const r = await call(s, 'unbind');
    assert.equal(r.command_status, 0);
  }
});

// ---- What the simulator saw ---------------------------------------------------

test('the simulator\'s record and counters', async () => {
  const from = state.sim.stdoutText.length;
  state.sim.kill('SIGTERM');
  const m = await waitForLine(state.sim, /^\{"type":"stats","final":true.*\}$/,
                              WAIT_MS, from);
  const st = JSON.parse(m[0]);
  const { code } = await state.sim.exited;
  assert.equal(code, 0);
  assert.equal(st.submit_sm, 9);
  assert.equal(st.data_sm, 1);
  assert.equal(st.resp_ok, 10);
  assert.equal(st.binds, 3);
  assert.equal(st.bind_failures, 2);
  assert.equal(st.unbinds, 3);
  assert.equal(st.receipts_sent, 10);
  assert.equal(st.receipts_acked, 10, 'node-smpp answered every receipt');
  assert.equal(st.receipts_failed, 0);
  assert.equal(st.mo_sent, 6);
  assert.equal(st.mo_acked, 6, 'node-smpp answered every MO part');
  assert.equal(st.mo_failed, 0);
  // The submit_sm before bind and the one on the receiver bind.
  assert.equal(st.protocol_errors, 2);
  // One line per accepted message, as the simulator decoded node-smpp's.
  const lines = fs.readFileSync(path.join(state.dir, 'record'), 'utf8')
    .trim().split('\n');
  assert.equal(lines.length, state.submitted.length);
  const rec = lines.map((l) => Object.fromEntries(
    l.split(' ').map((kv) => kv.split('='))));
  const concat = (f) => {
    if (f.sar_total_segments) {
      return [0, 0x1234, f.sar_segment_seqnum, f.sar_total_segments];
    }
    if (f.esm_class === 0x40) {
      return [0x40, f.short_message[3], f.short_message[5], f.short_message[4]];
    }
    return [0, 0, 1, 1];
  };
  state.submitted.forEach((s, i) => {
    const r = rec[i];
    assert.equal(r.id, s.id);
    assert.equal(r.src, 'NodeTest');
    assert.equal(r.dst, '447700900123');
    assert.equal(Number(r.dc), s.fields.data_coding);
    assert.equal(Number(r.rd), 1);
    assert.equal(r.sm, s.content.toString('hex'));
    assert.deepEqual([r.esm, r.ref, r.seq, r.total].map(Number),
                     concat(s.fields));
  });
});
