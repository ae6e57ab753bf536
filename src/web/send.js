// send.js - send a message, with a live count of characters, encoding and
// parts from POST /v1/messages/preview as the text is typed.
import { api } from './api.js';
import { h, field, errorLine, page, toast } from './ui.js';

export function render(main) {
  const err = errorLine();
  const to = h('input', { name: 'to', required: true, inputmode: 'tel', autocomplete: 'off' });
  const from = h('input', { name: 'from', autocomplete: 'off' });
  const text = h('textarea', { name: 'text', required: true });
  const counter = h('p', { class: 'counter', id: 'counter', 'aria-live': 'polite' }, '0 characters');
  const result = h('div', { 'aria-live': 'polite' });
  let timer = null;
  let seq = 0;
  async function preview() {
    const mine = ++seq;
    if (!text.value) { counter.textContent = '0 characters'; return; }
    try {
      const p = await api('POST', '/v1/messages/preview', { text: text.value });
      if (mine !== seq) return;
      counter.textContent = `${p.characters} characters · ${p.encoding === 'ucs2' ? 'UCS-2' : 'GSM 7-bit'}` +
        (p.national ? ' (national table)' : '') + ` · ${p.parts} part${p.parts === 1 ? '' : 's'}`;
      counter.classList.remove('error');
    } catch (e) {
      if (mine !== seq) return;
      counter.textContent = e.message;
      counter.classList.add('error');
    }
  }
  text.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(preview, 120); });
  const form = h('form', { 'aria-label': 'Send a message', onsubmit: async (ev) => {
    ev.preventDefault();
    err.show(form, null);
    const numbers = to.value.split(/[\s,;]+/).filter(Boolean);
    const body = { to: numbers.length === 1 ? numbers[0] : numbers, text: text.value };
    if (from.value) body.from = from.value;
    try {
      const r = await api('POST', '/v1/messages', body);
      result.replaceChildren(h('h2', {}, 'Accepted'), h('ul', {}, r.messages.map((m) => h('li', {},
        m.error ? h('span', { class: 'error' }, `${m.input}: ${m.error.message}`)
          : h('a', { href: '#/messages/' + m.id }, `${m.to}: ${m.status}, ${m.parts} part(s)`)))));
      toast('Message accepted');
    } catch (e) {
      err.show(form, e);
    }
  } },
  field('To', to, 'One or more numbers, e.g. +447911123456, separated by commas'),
  field('From', from, 'Optional: the account\'s default sender when empty'),
  field('Text', text), counter,
  h('div', {}, h('button', { type: 'submit' }, 'Send')));
  main.append(...page('Send a message', err, form, result));
  to.focus();
  return () => clearTimeout(timer);
}
