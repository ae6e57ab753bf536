// optouts.js - the account's opt-out list: numbers that are never sent to.
import { api, qs } from './api.js';
import { h, field, errorLine, page, table, when } from './ui.js';

export async function render(main) {
  const err = errorLine();
  const box = h('div');
  async function load() {
    const r = await api('GET', '/v1/optouts' + qs({ limit: 200 }));
    box.replaceChildren(table([
      { title: 'Number', cell: (o) => o.number },
      { title: 'Source', cell: (o) => o.source ?? '' },
      { title: 'Since', cell: (o) => when(o.created_at) },
      { title: '', cell: (o) => h('button', { type: 'button', class: 'secondary', 'aria-label': 'Remove ' + o.number,
        onclick: async () => { await api('DELETE', '/v1/optouts/' + encodeURIComponent(o.number)); await load(); } }, 'Remove') },
    ], r.data));
  }
  const number = h('input', { name: 'number', inputmode: 'tel', required: true });
  const form = h('form', { class: 'inline', 'aria-label': 'Add an opt-out', onsubmit: async (ev) => {
    ev.preventDefault();
    err.show(form, null);
    try { await api('POST', '/v1/optouts', { number: number.value }); number.value = ''; await load(); } catch (e) { err.show(form, e); }
  } }, field('Number', number), h('button', { type: 'submit' }, 'Opt out'));
  main.append(...page('Opt-outs', err, form, box));
  await load();
}
