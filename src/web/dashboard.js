// dashboard.js - traffic and delivery rate over time: the last hours of
// messages (GET /v1/messages, newest first, up to 2,000) counted per
// bucket in the browser, as charts and totals.
import { api, qs } from './api.js';
import { h, page } from './ui.js';
import { lineChart } from './chart.js';

const FINAL_OK = 'delivered';
const FINAL_BAD = ['undeliverable', 'expired', 'rejected', 'failed'];

async function recent(sinceMs) {
  let rows = [];
  let cursor = null;
  do {
    const r = await api('GET', '/v1/messages' + qs({ since: new Date(sinceMs).toISOString(), limit: 1000, cursor }));
    rows = rows.concat(r.data);
    cursor = r.next_cursor;
  } while (cursor && rows.length < 2000);
  return rows;
}

export function buckets(rows, fromMs, toMs, stepMs) {
  const n = Math.max(1, Math.ceil((toMs - fromMs) / stepMs));
  const times = Array.from({ length: n }, (_, i) => (fromMs + i * stepMs) / 1000);
  const sent = new Array(n).fill(0);
  const delivered = new Array(n).fill(0);
  const failed = new Array(n).fill(0);
  for (const m of rows) {
    const i = Math.floor((Date.parse(m.created_at) - fromMs) / stepMs);
    if (i < 0 || i >= n) continue;
    sent[i]++;
    if (m.status === FINAL_OK) delivered[i]++;
    else if (FINAL_BAD.includes(m.status)) failed[i]++;
  }
  const rate = sent.map((s, i) => (delivered[i] + failed[i] ? Math.round(100 * delivered[i] / (delivered[i] + failed[i])) : null));
  return { times, sent, delivered, failed, rate };
}

export async function render(main) {
  const range = h('select', { name: 'range' },
    h('option', { value: '3600000' }, 'last hour'),
    h('option', { value: '21600000' }, 'last 6 hours'),
    h('option', { value: '86400000' }, 'last 24 hours'));
  const cards = h('div', { class: 'cards', 'aria-live': 'polite' });
  const traffic = h('div', { class: 'chart', id: 'chart-traffic' });
  const rate = h('div', { class: 'chart', id: 'chart-rate' });
  async function load() {
    const span = Number(range.value);
    const to = Date.now();
    const from = to - span;
    const rows = await recent(from);
    const b = buckets(rows, from, to, span / 60);
    const total = (a) => a.reduce((x, y) => x + y, 0);
    const d = total(b.delivered), f = total(b.failed);
    cards.replaceChildren(
      h('div', { class: 'card' }, 'Messages', h('b', { id: 'total-sent' }, total(b.sent))),
      h('div', { class: 'card' }, 'Delivered', h('b', {}, d)),
      h('div', { class: 'card' }, 'Failed', h('b', {}, f)),
      h('div', { class: 'card' }, 'Delivery rate', h('b', {}, d + f ? Math.round(100 * d / (d + f)) + ' %' : '–')));
    lineChart(traffic, 'Traffic (messages per interval)', b.times, [
      { label: 'sent', values: b.sent }, { label: 'delivered', values: b.delivered }, { label: 'failed', values: b.failed }]);
    lineChart(rate, 'Delivery rate (%)', b.times, [{ label: 'delivered %', values: b.rate }]);
  }
  range.addEventListener('change', load);
  main.append(...page('Dashboard',
    h('label', { class: 'check' }, 'Period ', range), cards, traffic, rate,
    h('p', { class: 'muted' }, 'Counted from the newest 2,000 messages of the period.')));
  await load();
  const timer = setInterval(() => load().catch(() => {}), 10000);
  return () => clearInterval(timer);
}
