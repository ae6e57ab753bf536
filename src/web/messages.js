// messages.js - search messages and see one message's parts, status
// history and delivery receipts (GET /v1/messages, /v1/messages/{id}).
import { api, qs } from './api.js';
import { h, field, errorLine, page, table, when, status } from './ui.js';

const STATUSES = ['', 'scheduled', 'queued', 'sending', 'sent', 'delivered', 'undeliverable',
  'expired', 'rejected', 'failed', 'canceled'];

async function detail(main, id) {
  const m = await api('GET', '/v1/messages/' + encodeURIComponent(id));
  let timer = null;
  main.append(...page('Message ' + m.id,
    h('p', {}, h('a', { href: '#/messages' }, '← All messages')),
    h('dl', { class: 'cards' },
      ['status', 'to', 'from', 'encoding', 'parts', 'created_at', 'updated_at'].map((k) =>
        h('div', { class: 'card' }, h('dt', { class: 'muted' }, k),
          h('dd', { id: 'm-' + k }, k === 'status' ? status(m.status) : k.endsWith('_at') ? when(m[k]) : String(m[k] ?? '')))),
    ),
    h('h2', {}, 'Text'), h('p', {}, m.text ?? m.payload_hex ?? ''),
    h('h2', {}, 'Parts'),
    table([
      { title: 'Part', cell: (s) => s.seq },
      { title: 'Status', cell: (s) => status(s.status) },
      { title: 'Connector', cell: (s) => s.connector ?? '' },
      { title: 'Operator id', cell: (s) => s.smsc_id ?? '' },
      { title: 'Attempts', cell: (s) => s.attempts },
      { title: 'Error', cell: (s) => s.error ?? s.error_code ?? '' },
    ], m.segments || []),
    h('h2', {}, 'Status history and receipts'),
    table([
      { title: 'Time', cell: (e) => when(e.timestamp) },
      { title: 'Status', cell: (e) => status(e.status) },
      { title: 'Part', cell: (e) => e.part ?? 'message' },
      { title: 'Receipt or detail', cell: (e) => e.detail ?? '' },
    ], m.events || [])));
  const final = ['delivered', 'undeliverable', 'expired', 'rejected', 'failed', 'canceled'];
  if (!final.includes(m.status)) {
    // Watch it until it ends: reload the view every 1.5 s.
    timer = setTimeout(async () => { main.replaceChildren(); stop = await detail(main, id); }, 1500);
  }
  let stop = () => clearTimeout(timer);
  return () => stop();
}

export async function render(main, { args }) {
  if (args[0]) return detail(main, args[0]);
  const err = errorLine();
  const st = h('select', { name: 'status' }, STATUSES.map((s) => h('option', { value: s }, s || 'any')));
  const to = h('input', { name: 'to', inputmode: 'tel' });
  const since = h('input', { name: 'since', type: 'datetime-local' });
  const list = h('div');
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'More');
  let cursor = null;
  let rows = [];
  async function load(reset) {
    err.show(form, null);
    if (reset) { rows = []; cursor = null; }
    try {
      const r = await api('GET', '/v1/messages' + qs({ status: st.value, to: to.value.trim(),
        since: since.value ? new Date(since.value).toISOString() : '', limit: 50, cursor }));
      rows = rows.concat(r.data);
      cursor = r.next_cursor;
      more.hidden = !cursor;
      list.replaceChildren(table([
        { title: 'Created', cell: (m) => when(m.created_at) },
        { title: 'To', cell: (m) => h('a', { href: '#/messages/' + m.id }, m.to) },
        { title: 'Status', cell: (m) => status(m.status) },
        { title: 'Parts', cell: (m) => m.parts },
        { title: 'Text', cell: (m) => (m.text ?? '').slice(0, 60) },
      ], rows, `${rows.length} message(s)`));
    } catch (e) {
      err.show(form, e);
    }
  }
  const form = h('form', { class: 'inline', 'aria-label': 'Search messages',
    onsubmit: (ev) => { ev.preventDefault(); load(true); } },
  field('Status', st), field('To', to), field('Since', since),
  h('button', { type: 'submit' }, 'Search'));
  more.addEventListener('click', () => load(false));
  main.append(...page('Messages', form, err, list, more));
  await load(true);
}
