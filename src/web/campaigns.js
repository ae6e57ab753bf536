// campaigns.js - campaigns (the /v1/campaigns API): create one for lists,
// now or later, within a daily window and at a rate; list them; watch one's
// progress and delivery rate with a chart; pause, resume, cancel.
import { api } from './api.js';
import { h, field, errorLine, page, table, status, when, toast } from './ui.js';
import { lineChart } from './chart.js';

function pct(c) {
  const done = (c.counts.sent || 0) + (c.counts.failed || 0) + (c.counts.skipped_optout || 0) +
    (c.counts.skipped_duplicate || 0) + (c.counts.skipped_invalid || 0);
  return c.counts.recipients ? Math.min(100, Math.round(100 * done / c.counts.recipients)) : 0;
}

function progress(c) {
  const p = c.status === 'completed' ? 100 : pct(c);
  return h('div', {}, h('div', { class: 'progress', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100,
    'aria-valuenow': p, 'aria-label': 'Progress of ' + c.name }, h('span', { style: null })), ` ${p} %`);
}

async function watch(main, id) {
  const head = h('div');
  const chart = h('div', { class: 'chart', id: 'chart-campaign' });
  const hist = { t: [], sent: [], delivered: [], failed: [] };
  const err = errorLine();
  async function act(what) {
    try { await api('POST', `/v1/campaigns/${id}/${what}`); await load(); } catch (e) { err.show(null, e); }
  }
  async function load() {
    const c = await api('GET', '/v1/campaigns/' + encodeURIComponent(id));
    const k = c.counts;
    hist.t.push(Date.now() / 1000);
    hist.sent.push(k.sent); hist.delivered.push(k.delivered); hist.failed.push(k.failed);
    const bar = progress(c);
    bar.querySelector('.progress > span').style.width = (c.status === 'completed' ? 100 : pct(c)) + '%';
    head.replaceChildren(h('p', {}, 'Status: ', status(c.status), ` · delivery rate ${c.delivery_rate == null ? '–' : Math.round(100 * c.delivery_rate) + ' %'}`),
      bar,
      table(Object.keys(k).map((x) => ({ title: x.replace(/_/g, ' '), cell: () => k[x] })), [k]),
      h('p', {},
        c.status === 'running' || c.status === 'scheduled' ? h('button', { type: 'button', onclick: () => act('pause') }, 'Pause') : '',
        ' ', c.status === 'paused' ? h('button', { type: 'button', onclick: () => act('resume') }, 'Resume') : '',
        ' ', !['completed', 'cancelled'].includes(c.status) ? h('button', { type: 'button', class: 'secondary', onclick: () => act('cancel') }, 'Cancel') : ''));
    lineChart(chart, 'Progress of ' + c.name, hist.t, [
      { label: 'sent', values: hist.sent }, { label: 'delivered', values: hist.delivered }, { label: 'failed', values: hist.failed }]);
    return c;
  }
  main.append(...page('Campaign ' + id, h('p', {}, h('a', { href: '#/campaigns' }, '← All campaigns')), err, head, chart));
  await load();
  const timer = setInterval(() => load().catch(() => {}), 2000);
  return () => clearInterval(timer);
}

export async function render(main, { args }) {
  if (args[0]) return watch(main, args[0]);
  const err = errorLine();
  const box = h('div');
  const [lists, templates] = await Promise.all([
    api('GET', '/v1/lists').then((r) => r.lists, () => []),
    api('GET', '/v1/templates').then((r) => r.templates, () => [])]);
  async function load() {
    const r = await api('GET', '/v1/campaigns');
    const rows = r.data || r.campaigns || [];
    box.replaceChildren(table([
      { title: 'Name', cell: (c) => h('a', { href: '#/campaigns/' + c.id }, c.name) },
      { title: 'Status', cell: (c) => status(c.status) },
      { title: 'Recipients', cell: (c) => c.counts?.recipients ?? '' },
      { title: 'Progress', cell: (c) => (c.counts ? `${c.status === 'completed' ? 100 : pct(c)} %` : '') },
      { title: 'Send at', cell: (c) => when(c.send_at) },
    ], rows));
  }
  const name = h('input', { name: 'name', required: true });
  const text = h('textarea', { name: 'text' });
  const tpl = h('select', { name: 'template_id' }, h('option', { value: '' }, 'none: use the text'),
    templates.map((t) => h('option', { value: t.id }, t.name)));
  const listSel = h('select', { name: 'lists', multiple: true, size: Math.min(6, Math.max(2, lists.length)) },
    lists.map((l) => h('option', { value: l.id }, `${l.name} (${l.members})`)));
  const from = h('input', { name: 'from' });
  const sendAt = h('input', { name: 'send_at', type: 'datetime-local' });
  const wStart = h('input', { name: 'window.start', type: 'time' });
  const wEnd = h('input', { name: 'window.end', type: 'time' });
  const rate = h('input', { name: 'rate_per_minute', type: 'number', min: 1 });
  const form = h('form', { 'aria-label': 'New campaign', onsubmit: async (ev) => {
    ev.preventDefault();
    err.show(form, null);
    const body = { name: name.value, lists: [...listSel.selectedOptions].map((o) => Number(o.value)) };
    if (tpl.value) body.template_id = Number(tpl.value); else body.text = text.value;
    if (from.value) body.from = from.value;
    if (sendAt.value) body.send_at = new Date(sendAt.value).toISOString();
    if (wStart.value && wEnd.value) body.window = { start: wStart.value, end: wEnd.value };
    if (rate.value) body.rate_per_minute = Number(rate.value);
    try {
      const c = await api('POST', '/v1/campaigns', body);
      toast('Campaign created');
      location.hash = '#/campaigns/' + c.id;
    } catch (e) { err.show(form, e); }
  } },
  field('Name', name), field('Text', text), field('Or a template', tpl), field('Lists', listSel, 'Recipients are deduplicated; opted-out numbers are skipped'),
  field('From', from), field('Send at', sendAt, 'Empty: now'),
  h('div', { class: 'inline' }, field('Daily window from', wStart), field('to', wEnd)),
  field('Messages per minute', rate), h('div', {}, h('button', { type: 'submit' }, 'Create campaign')));
  main.append(...page('Campaigns', err, box, h('h2', {}, 'New campaign'), form));
  try { await load(); } catch (e) { err.show(null, e); }
}
