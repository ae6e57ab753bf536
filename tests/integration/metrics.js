// metrics.js - the checks of metrics.sh: /metrics of a running smsgate is
// well-formed Prometheus text (0.0.4) and has every family an operator
// needs (docs/architecture.md "Metrics"), with values that match what was
// sent; and every metric the Grafana dashboard (docs/grafana-smsgate.json)
// queries exists.
//   node metrics.js BASE DASHBOARD N_SENT
'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');

const [, , BASE, DASHBOARD, N_SENT] = process.argv;

// Parses the text format; returns {families: Map(name -> {type, help,
// samples: [{name, labels, value}]}), errors: [..]}.
function parse(text) {
  const families = new Map();
  const errors = [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] !== '') errors.push('no newline at the end');
  const nameRe = /^smsgate_[a-z0-9_]*[a-z0-9]$/;
  const labelRe = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"$/;
  let current = null;
  lines.forEach((line, i) => {
    const at = `line ${i + 1}: ${line}`;
    if (line === '') return;
    let m;
    if ((m = /^# (HELP|TYPE) (\S+) (.+)$/.exec(line))) {
      const [, kind, name, rest] = m;
      if (!nameRe.test(name)) errors.push(`${at}: bad family name`);
      let f = families.get(name);
      if (!f) { f = { samples: [] }; families.set(name, f); }
      else if (f.samples.length) errors.push(`${at}: ${kind} after samples (family repeated)`);
      if (kind === 'TYPE') {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest)) errors.push(`${at}: bad type`);
        if (f.type) errors.push(`${at}: second TYPE`);
        f.type = rest;
        if (rest === 'counter' && !name.endsWith('_total')) errors.push(`${at}: a counter must end in _total`);
      } else {
        if (f.help) errors.push(`${at}: second HELP`);
        f.help = rest;
      }
      current = name;
      return;
    }
    if (line.startsWith('#')) { errors.push(`${at}: unknown comment`); return; }
    m = /^([a-z0-9_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) { errors.push(`${at}: not a sample`); return; }
    const [, name, labelText, valueText] = m;
    const value = valueText === '+Inf' ? Infinity : Number(valueText);
    if (valueText === '' || Number.isNaN(value)) errors.push(`${at}: bad value`);
    const f = families.get(current);
    const base = f && f.type === 'histogram' ? name.replace(/_(bucket|sum|count)$/, '') : name;
    if (base !== current || !f) { errors.push(`${at}: sample outside its family (${current})`); return; }
    if (!f.type || !f.help) errors.push(`${at}: family without HELP and TYPE`);
    const labels = {};
    if (labelText !== undefined && labelText !== '') {
      // Split on commas outside quotes.
      const parts = labelText.match(/[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"/g) || [];
      if (parts.join(',') !== labelText) errors.push(`${at}: bad label list`);
      for (const p of parts) {
        const lm = labelRe.exec(p);
        if (!lm) errors.push(`${at}: bad label ${p}`);
        else labels[lm[1]] = lm[2];
      }
    }
    if (f.type === 'counter' && value < 0) errors.push(`${at}: negative counter`);
    f.samples.push({ name, labels, value });
  });
  for (const [name, f] of families) {
    if (f.type !== 'histogram') continue;
    const series = new Map();
    for (const s of f.samples) {
      const { le, ...rest } = s.labels;
      const key = JSON.stringify(rest);
      if (!series.has(key)) series.set(key, { buckets: [], count: null, sum: null });
      const x = series.get(key);
      if (s.name.endsWith('_bucket')) x.buckets.push([le === '+Inf' ? Infinity : Number(le), s.value]);
      else if (s.name.endsWith('_count')) x.count = s.value;
      else if (s.name.endsWith('_sum')) x.sum = s.value;
    }
    for (const [key, x] of series) {
      const b = x.buckets;
      if (!b.length || b[b.length - 1][0] !== Infinity) errors.push(`${name}${key}: no +Inf bucket`);
      for (let i = 1; i < b.length; i++) {
        if (!(b[i][0] > b[i - 1][0])) errors.push(`${name}${key}: bucket bounds not increasing`);
        if (b[i][1] < b[i - 1][1]) errors.push(`${name}${key}: buckets not cumulative`);
      }
      if (x.count === null || x.sum === null) errors.push(`${name}${key}: no _count or _sum`);
      else if (b.length && b[b.length - 1][1] !== x.count) errors.push(`${name}${key}: +Inf bucket != _count`);
    }
  }
  return { families, errors };
}

// The families the operators' list asks for, by what they answer.
const REQUIRED = {
  'messages accepted' :
      [ 'smsgate_messages_accepted_total', 'smsgate_parts_accepted_total' ],
  'messages by status' : [
    'smsgate_messages', 'smsgate_parts', 'smsgate_store_counts_age_seconds'
  ],
  'outcomes by reason, account and connector' : [ 'smsgate_outcome_parts' ],
  'queues' : [
    'smsgate_queue_depth', 'smsgate_queue_oldest_age_seconds',
    'smsgate_queue_parts'
  ],
  'connector state and binds' : [
    'smsgate_connector_state', 'smsgate_connector_binds_up',
    'smsgate_connector_binds_total'
  ],
  'connector window and rate' : [
    'smsgate_connector_window_used', 'smsgate_connector_rate_parts_per_second'
  ],
  'connector throttling, reconnects, unknown outcomes' : [
    'smsgate_connector_throttled_total', 'smsgate_connector_reconnects_total',
    'smsgate_connector_results_total', 'smsgate_connector_unknown_retries_total'
  ],
  'connector response latency' :
      [ 'smsgate_connector_response_latency_seconds' ],
  'receipts' : [
    'smsgate_dlr_received_total', 'smsgate_dlr_matched_total',
    'smsgate_dlr_unmatched_total'
  ],
  'webhooks' : [
    'smsgate_webhooks_sent_total', 'smsgate_webhooks_given_up_total',
    'smsgate_webhooks_pending', 'smsgate_webhooks_retried_total'
  ],
  'store commits' : [
    'smsgate_store_commits_total', 'smsgate_store_commit_seconds_total',
    'smsgate_store_writes_total', 'smsgate_store_max_group',
    'smsgate_store_commit_duration_seconds', 'smsgate_store_commit_batch_size'
  ],
  'process' : [
    'smsgate_process_resident_memory_bytes', 'smsgate_process_open_fds',
    'smsgate_process_max_fds', 'smsgate_process_cpu_seconds_total'
  ],
};

function one(fams, name, labels = {}) {
  const base = name.replace(/_(bucket|sum|count)$/, '');
  const f = fams.get(name) || (fams.get(base) && fams.get(base).type === 'histogram' ? fams.get(base) : undefined);
  assert.ok(f, `no family ${name}`);
  const s = f.samples.filter((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v));
  assert.equal(s.length, 1, `${name}${JSON.stringify(labels)}: ${s.length} samples`);
  return s[0].value;
}

async function main() {
  // The parser itself catches what it must.
  const bad = parse('# HELP smsgate_x_total x\n# TYPE smsgate_x_total counter\nsmsgate_x_total{a="1} 1\n' +
    'smsgate_y 2\n# TYPE smsgate_z counter\n# HELP smsgate_h h\n# TYPE smsgate_h histogram\n' +
    'smsgate_h_bucket{le="1"} 3\nsmsgate_h_bucket{le="+Inf"} 2\nsmsgate_h_sum 1\nsmsgate_h_count 2\n');
  assert.ok(bad.errors.some((e) => e.includes('bad label')), bad.errors.join('\n'));
  assert.ok(bad.errors.some((e) => e.includes('outside its family')), bad.errors.join('\n'));
  assert.ok(bad.errors.some((e) => e.includes('must end in _total')), bad.errors.join('\n'));
  assert.ok(bad.errors.some((e) => e.includes('not cumulative')), bad.errors.join('\n'));

  const res = await fetch(BASE + '/metrics');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  fs.writeFileSync(process.env.METRICS_OUT, text);
  const { families, errors } = parse(text);
  assert.deepEqual(errors, [], 'malformed /metrics');
  for (const [what, names] of Object.entries(REQUIRED))
    for (const n of names) assert.ok(families.has(n), `${what}: no ${n}`);

  const n = Number(N_SENT);
  assert.ok(one(families, 'smsgate_messages_accepted_total') >= n);
  assert.equal(one(families, 'smsgate_outcome_parts',
    { account: 'user', connector: 'op', status: 'delivered', error_code: '0' }), n);
  assert.equal(one(families, 'smsgate_connector_response_latency_seconds_count', { connector: 'op' }), n);
  assert.equal(one(families, 'smsgate_connector_results_total', { connector: 'op', result: 'sent' }), n);
  assert.equal(one(families, 'smsgate_connector_results_total', { connector: 'op', result: 'unknown' }), 0);
  assert.equal(one(families, 'smsgate_queue_depth', { connector: 'op' }), 0);
  assert.equal(one(families, 'smsgate_connector_binds_up', { connector: 'op' }), 1);
  assert.equal(one(families, 'smsgate_connector_state', { connector: 'op', state: 'up' }), 1);
  assert.ok(one(families, 'smsgate_dlr_matched_total') >= n);
  assert.ok(one(families, 'smsgate_webhooks_sent_total') >= n);
  assert.ok(one(families, 'smsgate_process_open_fds') > 3);
  assert.ok(one(families, 'smsgate_process_resident_memory_bytes') > 1e6);
  assert.ok(one(families, 'smsgate_process_cpu_seconds_total') > 0);
  // Counted every 5 s while a count costs little (the SQLite store keeps
  // them in memory).
  assert.ok(one(families, 'smsgate_store_counts_age_seconds') <= 6);

  // The commit histograms: counted once per transaction, summing what the
  // counters sum, with the buckets the documentation names.
  const commits = one(families, 'smsgate_store_commits_total');
  const failed = one(families, 'smsgate_store_failed_commits_total');
  assert.ok(commits >= n, `commits ${commits}`);
  assert.equal(one(families, 'smsgate_store_commit_batch_size_count'), commits);
  assert.equal(one(families, 'smsgate_store_commit_batch_size_sum'), one(families, 'smsgate_store_writes_total'));
  assert.equal(one(families, 'smsgate_store_commit_batch_size_bucket', { le: '1000' }), commits,
    'the writer takes at most 1,000 requests a commit');
  assert.ok(one(families, 'smsgate_store_commit_batch_size_bucket', { le: '1' }) >= 1);
  assert.equal(one(families, 'smsgate_store_commit_duration_seconds_count'), commits + failed);
  assert.ok(Math.abs(one(families, 'smsgate_store_commit_duration_seconds_sum') -
    one(families, 'smsgate_store_commit_seconds_total')) < 1e-5);
  const les = (name) => families.get(name).samples.filter((x) => x.name === name + '_bucket').map((x) => x.labels.le);
  assert.deepEqual(les('smsgate_store_commit_duration_seconds'),
    ['0.0005', '0.001', '0.0025', '0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2', '+Inf']);
  assert.deepEqual(les('smsgate_store_commit_batch_size'),
    ['1', '2', '5', '10', '20', '50', '100', '200', '500', '1000', '+Inf']);

  // Every metric the dashboard queries exists.
  const dash = JSON.parse(fs.readFileSync(DASHBOARD, 'utf8'));
  assert.equal(typeof dash.title, 'string');
  assert.ok(Array.isArray(dash.panels) && dash.panels.length >= 10);
  const ids = new Set();
  let exprs = 0;
  for (const p of dash.panels) {
    assert.ok(!ids.has(p.id), `panel id ${p.id} repeated`);
    ids.add(p.id);
    assert.ok(p.gridPos && typeof p.title === 'string', `panel ${p.id}`);
    if (p.type === 'row') continue;
    assert.ok(Array.isArray(p.targets) && p.targets.length, `panel ${p.title} has no query`);
    for (const t of p.targets) {
      exprs++;
      const names = t.expr.match(/smsgate_[a-z0-9_]+/g) || [];
      assert.ok(names.length, `panel ${p.title}: a query without an smsgate metric: ${t.expr}`);
      for (const name of names) {
        const base = name.replace(/_(bucket|sum|count)$/, '');
        const ok = families.has(name) || (families.has(base) && families.get(base).type === 'histogram');
        assert.ok(ok, `panel "${p.title}" queries ${name}, which /metrics does not have`);
      }
    }
  }
  console.log(`ok - ${families.size} families well-formed; dashboard: ${dash.panels.length} panels, ${exprs} queries`);
}

main().catch((e) => { console.error(e); process.exit(1); });
