// templates.js - message templates with {{name}}, {{number}} and
// {{fields.KEY}} placeholders, previewed with encoding and parts.
import { api } from './api.js';
import { h, field, errorLine, page, table, toast } from './ui.js';

export async function render(main) {
  const err = errorLine();
  const box = h('div');
  const out = h('div', { 'aria-live': 'polite' });
  async function load() {
    const ts = (await api('GET', '/v1/templates')).templates;
    box.replaceChildren(table([
      { title: 'Name', cell: (t) => t.name },
      { title: 'Text', cell: (t) => t.text },
      { title: '', cell: (t) => h('span', {},
        h('button', { type: 'button', class: 'secondary', onclick: () => preview(t) }, 'Preview'), ' ',
        h('button', { type: 'button', class: 'secondary', 'aria-label': 'Delete template ' + t.name, onclick: async () => {
          await api('DELETE', '/v1/templates/' + t.id); await load();
        } }, 'Delete')) },
    ], ts));
  }
  async function preview(t) {
    const values = { name: 'Ann', number: '+447911123456', fields: {} };
    for (const m of t.text.matchAll(/\{\{\s*fields\.([A-Za-z0-9_-]+)\s*\}\}/g)) values.fields[m[1]] = 'example';
    try {
      const p = await api('POST', `/v1/templates/${t.id}/preview`, values);
      out.replaceChildren(h('h2', {}, 'Preview of ' + t.name), h('p', {}, p.text),
        h('p', { class: 'counter' }, `${p.characters} characters · ${p.encoding} · ${p.parts} part(s)`));
    } catch (e) { err.show(null, e); }
  }
  const name = h('input', { name: 'name', required: true });
  const text = h('textarea', { name: 'text', required: true, placeholder: 'Hello {{name}}, your order is ready.' });
  const form = h('form', { 'aria-label': 'New template', onsubmit: async (ev) => {
    ev.preventDefault();
    err.show(form, null);
    try {
      await api('POST', '/v1/templates', { name: name.value, text: text.value });
      name.value = text.value = '';
      toast('Template saved');
      await load();
    } catch (e) { err.show(form, e); }
  } }, field('Name', name), field('Text', text, 'Placeholders: {{name}}, {{number}}, {{fields.KEY}}'),
  h('div', {}, h('button', { type: 'submit' }, 'Save template')));
  main.append(...page('Templates', err, box, out, h('h2', {}, 'New template'), form));
  await load();
}
