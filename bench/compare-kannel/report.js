#!/usr/bin/env node
// report.js - the figures of bench/compare-kannel.
//
//   node report.js run GW LOAD_JSON CALLBACKS CPU_MS RSS_KB PEERS_JSON
//       one run: reads the load client's ledger (bench_e2e's JSON: msgs as
//       [seq, sent_ms, answer_ms]) and the sink's record of dlr-url callbacks
//       ("p=m&s=SEQ&t=TYPE WALL_MS" lines), prints one JSON object.
//   node report.js summary RESULTS_JSONL [OUT_JSON]
//       every run of both gateways: a table of medians (min-max) and the
//       ratios smsgate / Kannel, and the same as JSON in OUT_JSON.
'use strict';
const fs = require('fs');

function pct(sorted, p) {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return Math.round(sorted[Math.max(0, i)] * 10) / 10;
}

function run(gw, loadFile, cbFile, cpuMs, rssKb, peersJson) {
  const l = JSON.parse(fs.readFileSync(loadFile, 'utf8'));
  const sentAt = new Map();
  const answer = [];
  for (const [seq, t, a] of l.msgs) {
    sentAt.set(String(seq), t);
    answer.push(a);
  }
  const toCallback = [];
  let last = 0, matched = 0, unknown = 0, dup = 0;
  const seen = new Set();
  const text = fs.existsSync(cbFile) ? fs.readFileSync(cbFile, 'utf8') : '';
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const sp = line.lastIndexOf(' ');
    const q = new URLSearchParams(line.slice(0, sp));
    if (q.get('p') !== 'm') continue; // the warm-up's
    const s = q.get('s');
    const t = Number(line.slice(sp + 1));
    if (!sentAt.has(s)) { unknown++; continue; }
    if (seen.has(s)) { dup++; continue; }
    seen.add(s);
    matched++;
    toCallback.push(t - sentAt.get(s));
    if (t > last) last = t;
  }
  answer.sort((a, b) => a - b);
  toCallback.sort((a, b) => a - b);
  const loadS = (l.t1_ms - l.t0_ms) / 1000;
  const e2eS = last > l.t0_ms ? (last - l.t0_ms) / 1000 : NaN;
  const res = {
    gateway: gw,
    n: l.accepted + l.failed,
    accepted: l.accepted,
    failed: l.failed,
    callbacks: matched,
    callbacks_unknown: unknown,
    callbacks_repeated: dup,
    accepted_per_s: Math.round(l.accepted / loadS),
    e2e_per_s: Math.round(matched / e2eS),
    cpu_ms_per_msg: matched > 0 ? Math.round((cpuMs / matched) * 1000) / 1000 : null,
    accept_ms: { p50: pct(answer, 50), p99: pct(answer, 99) },
    to_callback_ms: { p50: pct(toCallback, 50), p99: pct(toCallback, 99) },
    peak_rss_mb: Math.round(rssKb / 102.4) / 10,
    peers_cpu_ms: JSON.parse(peersJson),
  };
  console.log(JSON.stringify(res));
}

function median(xs) {
  const s = xs.filter((x) => x !== null && !Number.isNaN(x)).sort((a, b) => a - b);
  if (s.length === 0) return null;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function summary(file, outFile) {
  const runs = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((x) => JSON.parse(x));
  const metrics = [
    ['messages/s end to end', (r) => r.e2e_per_s, 'higher'],
    ['accepted/s', (r) => r.accepted_per_s, 'higher'],
    ['gateway CPU ms/message', (r) => r.cpu_ms_per_msg, 'lower'],
    ['accept p50 ms', (r) => r.accept_ms.p50, 'lower'],
    ['accept p99 ms', (r) => r.accept_ms.p99, 'lower'],
    ['send-to-callback p50 ms', (r) => r.to_callback_ms.p50, 'lower'],
    ['send-to-callback p99 ms', (r) => r.to_callback_ms.p99, 'lower'],
    ['peak RSS MB', (r) => r.peak_rss_mb, 'lower'],
  ];
  const by = { kannel: runs.filter((r) => r.gateway === 'kannel'),
               smsgate: runs.filter((r) => r.gateway === 'smsgate') };
  const out = { runs: runs.length, metrics: {} };
  const cell = (rs, f) => {
    const v = rs.map(f).filter((x) => x !== null);
    if (v.length === 0) return { median: null, text: '-' };
    const m = median(v);
    return { median: m, min: Math.min(...v), max: Math.max(...v),
             text: `${m} (${Math.min(...v)}-${Math.max(...v)})` };
  };
  const rows = [['metric', 'Kannel', 'smsgate', 'advantage of smsgate (>1: better)']];
  for (const [name, f, better] of metrics) {
    const k = cell(by.kannel, f), s = cell(by.smsgate, f);
    let ratio = null;
    if (k.median && s.median) ratio = better === 'higher' ? s.median / k.median : k.median / s.median;
    out.metrics[name] = { kannel: k, smsgate: s, advantage: ratio };
    rows.push([name, k.text, s.text, ratio === null ? '-' : `${ratio.toFixed(2)}x`]);
  }
  const lost = runs.map((r) => `${r.gateway}: ${r.callbacks}/${r.accepted} callbacks`).join(', ');
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  for (const r of rows) console.log(r.map((c, i) => String(c).padEnd(w[i])).join('  '));
  console.log(`(medians of ${by.kannel.length} Kannel and ${by.smsgate.length} smsgate runs, min-max in brackets; ${lost})`);
  out.complete = runs.every((r) => r.callbacks === r.accepted && r.accepted === r.n);
  if (outFile) fs.writeFileSync(outFile, JSON.stringify(out, null, 2) + '\n');
  if (!out.complete) {
    console.error('compare-kannel: a run lost requests or callbacks');
    process.exit(1);
  }
}

const [cmd, ...a] = process.argv.slice(2);
if (cmd === 'run') run(a[0], a[1], a[2], Number(a[3]), Number(a[4]), a[5] || '{}');
else if (cmd === 'summary') summary(a[0], a[1]);
else {
  console.error('usage: report.js run GW LOAD CALLBACKS CPU_MS RSS_KB PEERS | summary RESULTS [OUT]');
  process.exit(2);
}
