// inbox.js - received messages (GET /v1/inbound), newest first, each with a
// reply that goes out as a new message to its sender.
import { api, qs } from './api.js';
import { h, field, errorLine, page, table, when, toast } from './ui.js';

export async function render(main) {
  const err = errorLine();
  const box = h('div');
  const reply = h('div');
  async function load() {
    const r = await api('GET', '/v1/inbound' + qs({ limit: 100 }));
    box.replaceChildren(table([
      { title: 'Received', cell: (m) => when(m.received_at) },
      { title: 'From', cell: (m) => m.from },
      { title: 'To', cell: (m) => m.to },
      { title: 'Text', cell: (m) => m.text ?? m.payload_hex ?? '' },
      { title: '', cell: (m) => h('button', { type: 'button', class: 'secondary',
        'aria-label': 'Reply to ' + m.from, onclick: () => replyTo(m) }, 'Reply') },
    ], r.data));
  }
  function replyTo(m) {
    const text = h('textarea', { name: 'text', required: true });
    const form = h('form', { 'aria-label': 'Reply to ' + m.from, onsubmit: async (ev) => {
      ev.preventDefault();
      err.show(form, null);
      try {
        const body = { to: m.from, text: text.value };
        if (m.to && /^\+?\d+$/.test(m.to)) body.from = m.to;
        await api('POST', '/v1/messages', body);
        toast('Reply sent to ' + m.from);
        reply.replaceChildren();
      } catch (e) { err.show(form, e); }
    } }, field('Reply to ' + m.from, text), h('div', {}, h('button', { type: 'submit' }, 'Send reply')));
    reply.replaceChildren(h('h2', {}, 'Reply'), form);
    text.focus();
  }
  main.append(...page('Inbox', err, box, reply,
    h('p', {}, h('button', { type: 'button', class: 'secondary', onclick: load }, 'Refresh'))));
  await load();
}
