// midpdu.js - connections cut in the middle of an SMPP PDU, for
// tests/fault/midpdu.sh.
//
//   node midpdu.js proxy LISTEN_PORT SMSC_PORT AFTER LOG
//       A TCP proxy between smsgate's SMPP connector and the SMSC
//       simulator that forwards whole PDUs and, on each new connection,
//       cuts it in the next way of the list below once AFTER submit_sm
//       went through it; when every way has been used, it only forwards.
//         resp-header   a submit_sm_resp's 16-octet header reaches smsgate,
//                       not its body; then a TCP reset
//         resp-half     the header and half the body of a submit_sm_resp
//         submit-header a submit_sm's header reaches the SMSC, not its body
//         submit-half   the header and half the body of a submit_sm
//         after-submit  a whole submit_sm reaches the SMSC, and the
//                       connection is reset before its submit_sm_resp
//       Appends one line per cut to LOG ("cut <way>") and prints
//       "proxy listening" when ready.
//   node midpdu.js esme SMPP_PORT SYSTEM_ID PASSWORD OUT
//       A customer's ESME on raw sockets against smsgate's SMPP server:
//       a bind and a submit_sm answered; then connections that bind and
//       send half a PDU (and write nothing more) or a whole submit_sm and
//       reset at once; then a bind and a submit_sm again. Writes one JSON
//       line to OUT:
//       {acked: [message ids], binds: ok binds, cuts: n}. Exit 1 when a
//       bind or an answered submit_sm failed.
'use strict';
const net = require('net');
const fs = require('fs');

const SUBMIT_SM = 0x00000004;
const SUBMIT_SM_RESP = 0x80000004;
const WAYS = ['resp-header', 'resp-half', 'submit-header', 'submit-half', 'after-submit'];

// Splits whole PDUs off the front of a buffer; returns [pdus, rest].
function split(buf) {
  const out = [];
  while (buf.length >= 16) {
    const len = buf.readUInt32BE(0);
    if (len < 16 || buf.length < len) break;
    out.push(buf.subarray(0, len));
    buf = buf.subarray(len);
  }
  return [out, buf];
}

function proxy(listenPort, smscPort, after, log) {
  let next = 0; // the next way to cut
  const server = net.createServer((g) => {
    const way = next < WAYS.length ? WAYS[next++] : null;
    const u = net.connect(smscPort, '127.0.0.1');
    let fromG = Buffer.alloc(0), fromU = Buffer.alloc(0), submits = 0, cut = false, armed = false;
    const kill = () => {
      if (cut) return;
      cut = true;
      fs.appendFileSync(log, `cut ${way}\n`);
      g.resetAndDestroy();
      u.resetAndDestroy();
    };
    const end = () => { g.destroy(); u.destroy(); };
    g.on('error', end); u.on('error', end);
    g.on('close', end); u.on('close', end);
    g.on('data', (d) => {
      if (cut) return;
      let pdus;
      [pdus, fromG] = split(Buffer.concat([fromG, d]));
      for (const p of pdus) {
        const id = p.readUInt32BE(4);
        if (id === SUBMIT_SM) submits++;
        if (way && id === SUBMIT_SM && submits > after) {
          if (way === 'submit-header') { u.write(p.subarray(0, 16), kill); return; }
          if (way === 'submit-half') { u.write(p.subarray(0, 16 + ((p.length - 16) >> 1)), kill); return; }
          if (way === 'after-submit') { u.write(p); armed = true; continue; }
        }
        u.write(p);
      }
    });
    u.on('data', (d) => {
      if (cut) return;
      let pdus;
      [pdus, fromU] = split(Buffer.concat([fromU, d]));
      for (const p of pdus) {
        const id = p.readUInt32BE(4);
        if (armed) { kill(); return; } // the answer to that submit_sm: never passed on
        if (way && id === SUBMIT_SM_RESP && submits > after) {
          if (way === 'resp-header') { g.write(p.subarray(0, 16), kill); return; }
          if (way === 'resp-half') { g.write(p.subarray(0, 16 + ((p.length - 16) >> 1)), kill); return; }
        }
        g.write(p);
      }
    });
  });
  server.listen(listenPort, '127.0.0.1', () => console.log('proxy listening'));
}

// ---- the ESME ----------------------------------------------------------------

const cstr = (s) => Buffer.concat([Buffer.from(s, 'latin1'), Buffer.from([0])]);
function pdu(id, seq, body) {
  const h = Buffer.alloc(16);
  h.writeUInt32BE(16 + body.length, 0); h.writeUInt32BE(id, 4); h.writeUInt32BE(seq, 12);
  return Buffer.concat([h, body]);
}
const bindPdu = (sid, pw) => pdu(0x09, 1, Buffer.concat([cstr(sid), cstr(pw), cstr(''),
  Buffer.from([0x34, 0, 0]), cstr('')]));
function submitPdu(seq, text) {
  return pdu(SUBMIT_SM, seq, Buffer.concat([cstr(''), Buffer.from([5, 0]), cstr('Shop'),
    Buffer.from([1, 1]), cstr('4915112345678'), Buffer.from([0, 0, 0]), cstr(''), cstr(''),
    Buffer.from([1, 0, 0, 0, text.length]), Buffer.from(text, 'latin1')]));
}

// A connection that collects PDUs; next() resolves with the next one.
// It answers enquire_link and deliver_sm (receipts) itself, until cut()
// wrote part of a PDU: from then on it writes nothing, as a client that
// stopped in the middle of a PDU. Any octet written after the cut part
// would be read, rightly, as the rest of that PDU (two deliver_sm_resp
// make up the 30 octets that the cut submit_sm below lacks, and the
// gateway answers that submit_sm with an error status, sometimes before
// the whole PDU's answer that waits for its commit).
function session(port) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0), quiet = false;
    const got = [], waiting = [];
    s.on('error', () => {});
    s.on('close', () => { while (waiting.length) waiting.shift()(null); });
    s.on('data', (d) => {
      let pdus;
      [pdus, buf] = split(Buffer.concat([buf, d]));
      for (const p of pdus) {
        const id = p.readUInt32BE(4);
        if (id === 0x15) {
          if (!quiet) s.write(pdu(0x80000015, p.readUInt32BE(12), Buffer.alloc(0)));
          continue;
        }
        if (id === 0x05) { // a receipt: taken, not one of the answers waited for
          if (!quiet) s.write(pdu(0x80000005, p.readUInt32BE(12), Buffer.from([0])));
          continue;
        }
        if (waiting.length) waiting.shift()(p); else got.push(p);
      }
    });
    const next = (ms = 20000) => new Promise((res) => {
      if (got.length) return res(got.shift());
      const t = setTimeout(() => res(null), ms);
      waiting.push((p) => { clearTimeout(t); res(p); });
    });
    const cut = (b) => { quiet = true; s.write(b); };
    s.on('connect', () => resolve({ s, next, cut }));
    s.setTimeout(60000, () => { s.destroy(); reject(new Error('stuck')); });
  });
}

// What a PDU is, for an error message.
const show = (p) => `command_id 0x${p.readUInt32BE(4).toString(16)} status ${p.readUInt32BE(8)} seq ${p.readUInt32BE(12)}`;

async function esme(port, sid, pw, out) {
  const res = { acked: [], binds: 0, cuts: 0 };
  const bound = async () => {
    const x = await session(port);
    x.s.write(bindPdu(sid, pw));
    const r = await x.next();
    if (!r || r.readUInt32BE(8) !== 0) throw new Error(`bind ${r ? 'status ' + r.readUInt32BE(8) : 'unanswered'}`);
    res.binds++;
    return x;
  };
  const submit = async (x, seq, text) => {
    x.s.write(submitPdu(seq, text));
    const r = await x.next();
    if (!r || r.readUInt32BE(4) !== SUBMIT_SM_RESP || r.readUInt32BE(8) !== 0)
      throw new Error(`submit_sm "${text}": ${r ? 'status ' + r.readUInt32BE(8) : 'unanswered'}`);
    res.acked.push(r.subarray(16, r.length - 1).toString('latin1'));
  };
  const reset = (x) => new Promise((r) => { x.s.resetAndDestroy(); setTimeout(r, 200); });
  let x = await bound();
  await submit(x, 2, 'midpdu answered 1');
  x.s.destroy();
  // Half a bind, unbound.
  const b = bindPdu(sid, pw);
  x = await session(port); x.cut(b.subarray(0, 16)); await reset(x); res.cuts++;
  x = await session(port); x.cut(b.subarray(0, 20)); await reset(x); res.cuts++;
  // Bound: a submit_sm's header alone, half of it, and a whole one reset
  // before its answer (in doubt: stored or not, never half).
  const sub = submitPdu(3, 'midpdu cut');
  x = await bound(); x.cut(sub.subarray(0, 16)); await reset(x); res.cuts++;
  x = await bound(); x.cut(sub.subarray(0, 16 + ((sub.length - 16) >> 1))); await reset(x); res.cuts++;
  x = await bound(); x.s.write(submitPdu(4, 'midpdu in doubt')); x.s.resetAndDestroy(); res.cuts++;
  await new Promise((r) => setTimeout(r, 200));
  // Two PDUs in one write, the second cut: the first is answered, and
  // nothing else (the cut one cannot be).
  x = await bound();
  x.cut(Buffer.concat([submitPdu(5, 'midpdu answered 2'), sub.subarray(0, 30)]));
  const r = await x.next();
  if (!r) throw new Error('the whole PDU before a cut one was not answered (20 s, or the connection closed)');
  if (r.readUInt32BE(4) !== SUBMIT_SM_RESP || r.readUInt32BE(12) !== 5 || r.readUInt32BE(8) !== 0)
    throw new Error(`the whole PDU before a cut one (seq 5) got ${show(r)}`);
  res.acked.push(r.subarray(16, r.length - 1).toString('latin1'));
  const more = await x.next(200);
  if (more) throw new Error(`after the answer to the whole PDU: ${show(more)}`);
  await reset(x); res.cuts++;
  // The server still takes binds and submits.
  x = await bound();
  await submit(x, 6, 'midpdu answered 3');
  x.s.destroy();
  fs.writeFileSync(out, JSON.stringify(res) + '\n');
}

const [cmd, ...a] = process.argv.slice(2);
if (cmd === 'proxy') proxy(Number(a[0]), Number(a[1]), Number(a[2]), a[3]);
else if (cmd === 'esme') esme(Number(a[0]), a[1], a[2], a[3]).catch((e) => { console.log(e.message); process.exit(1); });
else { console.error('usage: midpdu.js proxy|esme ...'); process.exit(2); }
