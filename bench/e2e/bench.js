// bench.js - the peers of bench/e2e/run.sh:
//
//   node bench.js receiver PORT              webhook receiver; GET /count answers
//                                            {"delivered": n, "total": n, "last_ms": t}
//   node bench.js load BASE KEY N C OUT      N sends over C keep-alive connections;
//                                            writes {"t0_ms", "t1_ms", "accepted",
//                                            "failed", "msgs": [[id, post_ms], ...]}
//   node bench.js report BASE KEY LOAD RECV_URL RSS_KB
//                                            reads every message's events and prints
//                                            the figures (text, then one JSON line)
'use strict';
const http = require('http');
const fs = require('fs');

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

function request(base, method, path, key, body) {
  const u = new URL(path, base);
  const data = body === undefined ? null : Buffer.from(JSON.stringify(body));
  const headers = { authorization: 'Bearer ' + key };
  if (data) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = data.length;
  }
  return new Promise((resolve, reject) => {
    const r = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search,
      method, headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString() }));
    });
    r.on('error', reject);
    if (data) r.write(data);
    r.end();
  });
}

function receiver(port) {
  let delivered = 0, total = 0, last = 0;
  http.createServer((rq, rs) => {
    if (rq.method === 'GET') {
      rs.writeHead(200, { 'content-type': 'application/json' });
      rs.end(JSON.stringify({ delivered, total, last_ms: last }));
      return;
    }
    const chunks = [];
    rq.on('data', (c) => chunks.push(c));
    rq.on('end', () => {
      total++;
      if (Buffer.concat(chunks).includes('"status":"delivered"')) {
        delivered++;
        last = Date.now();
      }
      rs.writeHead(200).end();
    });
  }).listen(port, '127.0.0.1', () => console.log(`receiver listening on ${port}`));
}

async function load(base, key, n, c, out) {
  const msgs = [];
  let next = 0, failed = 0, busy = 0;
  const t0 = Date.now();
  async function worker() {
    while (next < n) {
      const seq = next++;
      for (;;) {
        const t = Date.now();
        const r = await request(base, 'POST', '/v1/messages', key,
          { to: '+79001234567', from: 'Bench', text: `bench message ${seq}` }).catch(() => null);
        if (r && r.status === 202) {
          msgs.push([JSON.parse(r.text).messages[0].id, t]);
          break;
        }
        if (r && r.status === 429) { busy++; await new Promise((ok) => setTimeout(ok, 50)); continue; }
        failed++;
        break;
      }
    }
  }
  await Promise.all(Array.from({ length: c }, worker));
  const t1 = Date.now();
  fs.writeFileSync(out, JSON.stringify({ t0_ms: t0, t1_ms: t1, accepted: msgs.length, failed, busy, msgs }));
  console.log(`load: ${msgs.length} accepted, ${failed} failed, ${busy} answered 429, ` +
    `${(msgs.length / ((t1 - t0) / 1000)).toFixed(0)} accepted/s`);
  agent.destroy();
}

function pct(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function report(base, key, loadFile, recvUrl, rssKb) {
  const l = JSON.parse(fs.readFileSync(loadFile, 'utf8'));
  const toSent = [], toDelivered = [], deliveredAt = [];
  // The C load client records each answer's time (ms) as a third element.
  const accept = l.msgs.filter((m) => m.length > 2).map((m) => m[2]).sort((a, b) => a - b);
  let next = 0;
  async function worker() {
    while (next < l.msgs.length) {
      const [id, t] = l.msgs[next++];
      const r = await request(base, 'GET', `/v1/messages/${id}`, key);
      const m = JSON.parse(r.text);
      const at = (s) => (m.events.find((e) => e.status === s && e.part === null) || {}).timestamp;
      if (at('sent')) toSent.push(Date.parse(at('sent')) - t);
      if (at('delivered')) {
        toDelivered.push(Date.parse(at('delivered')) - t);
        deliveredAt.push(Date.parse(at('delivered')));
      }
    }
  }
  await Promise.all(Array.from({ length: 32 }, worker));
  const recv = JSON.parse((await request(recvUrl, 'GET', '/count', '')).text);
  agent.destroy();
  toSent.sort((a, b) => a - b);
  toDelivered.sort((a, b) => a - b);
  deliveredAt.sort((a, b) => a - b);
  const loadS = (l.t1_ms - l.t0_ms) / 1000;
  const dlrS = deliveredAt.length > 1 ? (deliveredAt[deliveredAt.length - 1] - l.t0_ms) / 1000 : NaN;
  const res = {
    n: l.msgs.length + l.failed,
    accepted: l.accepted,
    failed: l.failed,
    answered_429: l.busy,
    accepted_per_s: Math.round(l.accepted / loadS),
    receipts_per_s: Math.round(deliveredAt.length / dlrS),
    delivered: deliveredAt.length,
    webhooks_delivered: recv.delivered,
    webhooks_total: recv.total,
    last_webhook_s: recv.last_ms ? +((recv.last_ms - l.t0_ms) / 1000).toFixed(2) : null,
    accept_ms: accept.length ? { p50: +pct(accept, 50).toFixed(1), p99: +pct(accept, 99).toFixed(1),
      max: +accept[accept.length - 1].toFixed(1) } : null,
    post_to_sent_ms: { p50: pct(toSent, 50), p99: pct(toSent, 99), max: toSent[toSent.length - 1] },
    post_to_delivered_ms: { p50: pct(toDelivered, 50), p99: pct(toDelivered, 99),
      max: toDelivered[toDelivered.length - 1] },
    peak_rss_kb: Number(rssKb),
  };
  console.log(`accepted:           ${res.accepted} of ${res.n} in ${loadS.toFixed(2)} s = ${res.accepted_per_s}/s` +
    (res.answered_429 ? ` (${res.answered_429} answers 429, retried)` : ''));
  console.log(`delivered:          ${res.delivered}, receipts ${res.receipts_per_s}/s (load start to last receipt)`);
  console.log(`webhooks:           ${res.webhooks_delivered} delivered-status of ${res.webhooks_total}, ` +
    `last ${res.last_webhook_s} s after the load started`);
  if (res.accept_ms)
    console.log(`POST answered:      p50 ${res.accept_ms.p50} ms, p99 ${res.accept_ms.p99} ms, max ${res.accept_ms.max} ms`);
  console.log(`POST -> sent:       p50 ${res.post_to_sent_ms.p50} ms, p99 ${res.post_to_sent_ms.p99} ms`);
  console.log(`POST -> delivered:  p50 ${res.post_to_delivered_ms.p50} ms, p99 ${res.post_to_delivered_ms.p99} ms`);
  console.log(`peak RSS:           ${(res.peak_rss_kb / 1024).toFixed(1)} MB (smsgate VmHWM)`);
  console.log(JSON.stringify(res));
}

const [cmd, ...a] = process.argv.slice(2);
({
  receiver: () => receiver(Number(a[0])),
  load: () => load(a[0], a[1], Number(a[2]), Number(a[3]), a[4]),
  report: () => report(a[0], a[1], a[2], a[3], a[4]),
}[cmd] || (() => { console.error(`unknown command ${cmd}`); process.exit(2); }))();
