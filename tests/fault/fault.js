// fault.js - the node side of the fault harness (tests/fault/*.sh): a REST
// client that keeps a ledger, a webhook receiver that logs every webhook,
// and the checker that compares the ledgers with what the simulator saw.
//
//   node fault.js rest BASE KEY N C LEDGER [RATE]
//       N messages, C at a time (and at most RATE a second when given),
//       text "rest-<seq>", client_ref "<seq>". BASE may list several
//       gateways (nodes) separated by commas: attempt k of message seq
//       goes to the (seq + k)th, so the load is spread over them and a
//       retry goes to the next one.
//       Each message is retried with its own Idempotency-Key until it gets
//       a 202 (or a 4xx, which is final): on a refused or broken
//       connection, or a 5xx, it waits 100 ms and tries again, as a client
//       that wants every message sent exactly once must. One JSON line per
//       message to LEDGER: {seq, outcome: "ack"|"error", id, status,
//       attempts, inDoubt} (inDoubt: some attempt got no answer at all).
//       Every 5xx must be a 503 with a JSON error body ({"error":{"code",
//       "message"}}); the summary line counts them, and names any other.
//   node fault.js receiver PORT OUT
//       Answers every POST 200 and appends "<client_ref> <id> <status>"
//       per webhook to OUT.
//   node fault.js check --record R [--rest L] [--hooks H] [--smpp S]
//                       [--faults K] [--window W] [--json OUT]
//       The verdict (below); exit 1 when LOST, PHANTOM, DLR_LOST or
//       DLR_MISMATCH is not 0 or DUP is over its bound.
//
// The verdict's words, per message:
//   LOST         acknowledged (202, submit_sm_resp OK) and never submitted
//                to the SMSC
//   DUP          submitted to the SMSC more than once; bounded by what can be
//                in flight at a fault: faults x window
//   PHANTOM      submitted although its client got an error (a final answer
//                that says it was not taken)
//   DLR_LOST     submitted, and its client never got the final delivery
//                report (webhook "delivered" for REST, a deliver_sm receipt
//                for SMPP)
//   DLR_MISMATCH a report that names an id the client was not given for
//                that message, or a message not submitted
'use strict';
const http = require('http');
const fs = require('fs');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function post(agent, base, key, body, idem) {
  return new Promise((resolve) => {
    const data = Buffer.from(JSON.stringify(body));
    const u = new URL('/v1/messages', base);
    const r = http.request({
      host: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent,
      headers: { authorization: 'Bearer ' + key, 'content-type': 'application/json',
        'content-length': data.length, 'idempotency-key': idem },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        let json = null;
        try { json = JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch (e) { /* not JSON */ }
        resolve({ status: res.statusCode, json });
      });
      res.on('error', () => resolve({ status: 0, sent: true }));
    });
    // A request refused at connect never left; any other failure may have
    // reached the gateway: in doubt.
    r.on('error', (e) => resolve({ status: 0, sent: e.code !== 'ECONNREFUSED' }));
    r.setTimeout(10000, () => r.destroy(new Error('timeout')));
    r.end(data);
  });
}

// Whether a 5xx answer is the gateway's "try again": 503 with an error body.
function proper503(res) {
  const e = res.json && res.json.error;
  return res.status === 503 && e != null && typeof e.code === 'string' &&
    typeof e.message === 'string';
}

async function rest(baseList, key, n, c, ledger, rate) {
  const fd = fs.openSync(ledger, 'w');
  const bases = baseList.split(',');
  const agent = new http.Agent({ keepAlive: true, maxSockets: c * bases.length });
  const runId = process.pid.toString(36) + Date.now().toString(36);
  let next = 0, acked = 0, errors = 0, retries = 0, got503 = 0;
  const bad5xx = [];
  let nBad5xx = 0;
  const t0 = Date.now();
  async function worker() {
    while (next < n) {
      const seq = next++;
      // paced: message seq leaves no earlier than seq / rate seconds in
      if (rate > 0) await sleep(Math.max(0, t0 + (seq * 1000) / rate - Date.now()));
      const body = { to: '+79001234567', from: 'Fault', text: `rest-${seq}`,
        client_ref: String(seq) };
      let attempts = 0, inDoubt = false, res;
      for (;;) {
        attempts++;
        const base = bases[(seq + attempts - 1) % bases.length];
        res = await post(agent, base, key, body, `${runId}-${seq}`);
        if (res.status === 0 && res.sent) inDoubt = true;
        if (proper503(res)) got503++;
        else if (res.status >= 500 && nBad5xx++ < 10)
          bad5xx.push(`HTTP ${res.status} ${JSON.stringify(res.json)}`);
        if (res.status === 202 || (res.status >= 400 && res.status < 500 && res.status !== 429))
          break;
        retries++;
        await sleep(100);
      }
      const id = res.status === 202 ? res.json.messages[0].id : null;
      if (id) acked++; else errors++;
      fs.writeSync(fd, JSON.stringify({ seq, outcome: id ? 'ack' : 'error', id,
        status: res.status, attempts, inDoubt }) + '\n');
    }
  }
  await Promise.all(Array.from({ length: c }, worker));
  fs.closeSync(fd);
  agent.destroy();
  console.log(`rest: ${acked} acknowledged, ${errors} refused, ${retries} retries, ` +
    `${got503} answered 503, of ${n}`);
  for (const b of bad5xx) console.log(`rest: a 5xx that is not 503 with an error body: ${b}`);
  if (nBad5xx > 0) {
    console.log(`rest: ${nBad5xx} answers were 5xx other than a 503 with an error body`);
    process.exitCode = 1;
  }
}

function receiver(port, out) {
  const fd = fs.openSync(out, 'a');
  const srv = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      try {
        const j = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        // SMPP messages have no client_ref: "-"
        fs.writeSync(fd, `${j.client_ref || '-'} ${j.message_id} ${j.status}\n`);
      } catch (e) { /* not ours */ }
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    });
  });
  srv.keepAliveTimeout = 60000;
  srv.listen(Number(port), '127.0.0.1', () => console.log('receiver listening'));
  process.on('SIGTERM', () => { fs.closeSync(fd); process.exit(0); });
}

function lines(file) {
  if (!file || !fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
}

// How many times the SMSC saw each text: "rest-12" -> 1. The record holds
// short_message as hex; GSM 7-bit unpacked septets of these ASCII texts
// are their ASCII octets.
function submitted(recordFile) {
  const seen = new Map();
  for (const line of lines(recordFile)) {
    const m = / sm=([0-9a-fA-F]*)/.exec(line);
    if (!m) continue;
    const text = Buffer.from(m[1], 'hex').toString('latin1');
    seen.set(text, (seen.get(text) || 0) + 1);
  }
  return seen;
}

function check(args) {
  const opt = {};
  for (let i = 0; i < args.length; i += 2) opt[args[i].replace(/^--/, '')] = args[i + 1];
  const seen = submitted(opt.record);
  const v = { messages: 0, acked: 0, refused: 0, in_doubt: 0, LOST: 0, DUP: 0,
    PHANTOM: 0, DLR_LOST: 0, DLR_MISMATCH: 0, faults: Number(opt.faults || 0),
    window: Number(opt.window || 0) };
  v.dup_bound = Math.max(v.faults, 1) * v.window;
  const examples = [];
  const note = (what, x) => { if (examples.length < 20) examples.push(`${what}: ${x}`); };

  // REST: the ledger, then the webhooks by client_ref.
  const hooks = new Map(); // seq -> [{id, status}]
  for (const l of lines(opt.hooks)) {
    const [ref, id, status] = l.split(' ');
    if (ref === '-') continue; // a message that came in over SMPP
    if (!hooks.has(ref)) hooks.set(ref, []);
    hooks.get(ref).push({ id, status });
  }
  const restIds = new Map();
  for (const l of lines(opt.rest)) {
    const e = JSON.parse(l);
    v.messages++;
    const n = seen.get(`rest-${e.seq}`) || 0;
    if (e.inDoubt) v.in_doubt++;
    if (e.outcome === 'ack') {
      v.acked++;
      restIds.set(String(e.seq), e.id);
      if (n === 0) { v.LOST++; note('LOST', `rest-${e.seq} ${e.id}`); }
      if (n > 1) v.DUP += n - 1;
      const hs = hooks.get(String(e.seq)) || [];
      if (n > 0 && !hs.some((h) => h.id === e.id && h.status === 'delivered')) {
        v.DLR_LOST++; note('DLR_LOST', `rest-${e.seq} ${e.id}`);
      }
    } else {
      v.refused++;
      if (n > 0) { v.PHANTOM++; note('PHANTOM', `rest-${e.seq} (HTTP ${e.status})`); }
    }
  }
  for (const [ref, hs] of hooks) {
    for (const h of hs) {
      if (restIds.get(ref) !== h.id) { v.DLR_MISMATCH++; note('DLR_MISMATCH', `${ref} ${h.id} ${h.status}`); }
    }
  }

  // SMPP: sim load --verbose lines. "part" lines carry the message index
  // (text "smpp-<msg>") and the id the SMPP server answered; "dlr" lines the
  // receipts the server sent back.
  const parts = new Map(); // msg -> {outcome, id}
  const dlrs = new Map(); // id -> [stat]
  for (const l of lines(opt.smpp)) {
    let j;
    try { j = JSON.parse(l); } catch (e) { continue; }
    if (j.type === 'part') parts.set(j.msg, { outcome: j.outcome, id: j.smsc_id, attempts: j.attempts || 1 });
    else if (j.type === 'dlr') {
      if (!dlrs.has(j.smsc_id)) dlrs.set(j.smsc_id, []);
      dlrs.get(j.smsc_id).push(j.stat);
    }
  }
  const smppIds = new Set();
  for (const [msg, p] of parts) {
    v.messages++;
    const n = seen.get(`smpp-${msg}`) || 0;
    if (p.outcome === 'sent') {
      v.acked++;
      smppIds.add(p.id);
      if (n === 0) { v.LOST++; note('LOST', `smpp-${msg} ${p.id}`); }
      if (n > 1) v.DUP += n - 1;
      if (n > 0 && !(dlrs.get(p.id) || []).includes('DELIVRD')) {
        v.DLR_LOST++; note('DLR_LOST', `smpp-${msg} ${p.id}`);
      }
    } else if (p.outcome === 'unknown') {
      v.in_doubt++;
    } else {
      v.refused++;
      if (n > 0) { v.PHANTOM++; note('PHANTOM', `smpp-${msg} (${p.outcome})`); }
    }
  }
  // A message in doubt (no submit_sm_resp: the gateway died first) may have
  // been stored and sent; its receipt names an id its client never saw. Only
  // more such receipts than messages in doubt are mismatches.
  // The same for each earlier attempt of a part the client submitted again
  // after its connection broke (SMPP has no idempotency key: the gateway may
  // have stored both, and the SMSC may see both, which DUP's bound allows).
  let strangers = 0, smppInDoubt = 0;
  for (const [, p] of parts) {
    if (p.outcome === 'unknown') smppInDoubt++;
    smppInDoubt += Math.max(0, p.attempts - 1);
  }
  v.resubmitted = 0;
  for (const [, p] of parts) v.resubmitted += Math.max(0, p.attempts - 1);
  v.dup_bound += v.resubmitted;
  for (const [id] of dlrs) {
    if (!smppIds.has(id)) { strangers++; if (strangers > smppInDoubt) note('DLR_MISMATCH', `smpp receipt for ${id}`); }
  }
  v.DLR_MISMATCH += Math.max(0, strangers - smppInDoubt);

  const ok = v.LOST === 0 && v.PHANTOM === 0 && v.DLR_LOST === 0 &&
    v.DLR_MISMATCH === 0 && v.DUP <= v.dup_bound;
  v.verdict = ok ? 'PASS' : 'FAIL';
  console.log(`messages ${v.messages}  acknowledged ${v.acked}  refused ${v.refused}  in doubt ${v.in_doubt}`);
  console.log(`LOST ${v.LOST}  DUP ${v.DUP} (bound ${v.dup_bound}: ${v.faults} faults x window ${v.window}` +
    ` + ${v.resubmitted} SMPP resubmissions)` +
    `  PHANTOM ${v.PHANTOM}  DLR_LOST ${v.DLR_LOST}  DLR_MISMATCH ${v.DLR_MISMATCH}  -> ${v.verdict}`);
  for (const x of examples) console.log('  ' + x);
  if (opt.json) fs.writeFileSync(opt.json, JSON.stringify(v) + '\n');
  process.exit(ok ? 0 : 1);
}

const [cmd, ...args] = process.argv.slice(2);
if (cmd === 'rest') rest(args[0], args[1], Number(args[2]), Number(args[3]), args[4], Number(args[5] || 0));
else if (cmd === 'receiver') receiver(args[0], args[1]);
else if (cmd === 'check') check(args);
else {
  console.error('usage: fault.js rest|receiver|check ...');
  process.exit(2);
}
