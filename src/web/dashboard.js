// dashboard.js - traffic and delivery rate over time, as charts and
// totals: the buckets come from GET /v1/stats/traffic, which the server
// answers from its per-minute counters, so the charts cover every message
// of the period whatever their number.
import { api, qs } from './api.js';
import { h, page } from './ui.js';
import { lineChart } from './chart.js';

// The server's answer as chart series: times in seconds, counts per bucket
// (failed includes expired), the delivery rate in percent (null: none
// ended in that bucket).
export function series(t) {
  const times = t.buckets.map((b) => Date.parse(b.start) / 1000);
  const pick = (f) => t.buckets.map(f);
  return {
    times,
    submitted: pick((b) => b.submitted),
    delivered: pick((b) => b.delivered),
    failed: pick((b) => b.failed + b.expired),
    inbound: pick((b) => b.inbound),
    rate: pick((b) => (b.delivery_rate === null ? null : Math.round(1000 * b.delivery_rate) / 10)),
  };
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
    const t = await api('GET', '/v1/stats/traffic' + qs({
      from: new Date(to - span).toISOString(), to: new Date(to).toISOString(), step: span / 60000 }));
    const b = series(t);
    const tot = t.totals;
    cards.replaceChildren(
      h('div', { class: 'card' }, 'Messages', h('b', { id: 'total-sent' }, tot.submitted)),
      h('div', { class: 'card' }, 'Delivered', h('b', { id: 'total-delivered' }, tot.delivered)),
      h('div', { class: 'card' }, 'Failed', h('b', { id: 'total-failed' }, tot.failed + tot.expired)),
      h('div', { class: 'card' }, 'Inbound', h('b', { id: 'total-inbound' }, tot.inbound)),
      h('div', { class: 'card' }, 'Delivery rate',
        h('b', { id: 'total-rate' }, tot.delivery_rate === null ? '–' : Math.round(1000 * tot.delivery_rate) / 10 + ' %')));
    lineChart(traffic, 'Traffic (messages per interval)', b.times, [
      { label: 'submitted', values: b.submitted }, { label: 'delivered', values: b.delivered },
      { label: 'failed', values: b.failed }, { label: 'inbound', values: b.inbound }]);
    lineChart(rate, 'Delivery rate (%)', b.times, [{ label: 'delivered %', values: b.rate }]);
  }
  range.addEventListener('change', load);
  main.append(...page('Dashboard',
    h('label', { class: 'check' }, 'Period ', range), cards, traffic, rate,
    h('p', { class: 'muted' }, 'Messages counted in the minute they were created, by their status now.')));
  await load();
  const timer = setInterval(() => load().catch(() => {}), 10000);
  return () => clearInterval(timer);
}
