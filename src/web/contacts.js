// contacts.js - contacts and lists: search, add, lists with their sizes,
// and CSV import (POST /v1/contacts/import) into a list.
import { api, qs } from './api.js';
import { h, field, errorLine, page, table, toast } from './ui.js';

export async function render(main) {
  const err = errorLine();
  const results = h('div');
  const listsBox = h('div');
  const importOut = h('div', { 'aria-live': 'polite' });
  const listSel = h('select', { name: 'list' });
  const filterList = h('select', { name: 'list' });
  let lists = [];
  let listsAsked = 0;

  // Only the answer of the latest request is shown: an older one, answered
  // late, would hide a list just created. The lists chosen stay chosen.
  async function loadLists() {
    const asked = ++listsAsked;
    const got = (await api('GET', '/v1/lists')).lists;
    if (asked !== listsAsked) return;
    lists = got;
    const keep = (sel, first) => {
      const was = sel.value;
      sel.replaceChildren(first, ...lists.map((l) => h('option', { value: l.id }, l.name)));
      if (lists.some((l) => String(l.id) === was)) sel.value = was;
    };
    keep(listSel, h('option', { value: '' }, 'none'));
    keep(filterList, h('option', { value: '' }, 'all'));
    listsBox.replaceChildren(table([
      { title: 'List', cell: (l) => l.name },
      { title: 'Members', cell: (l) => l.members },
      { title: 'Id', cell: (l) => l.id },
    ], lists));
  }
  const number = h('input', { name: 'number', inputmode: 'tel' });
  const name = h('input', { name: 'name' });
  async function search() {
    const r = await api('GET', '/v1/contacts' + qs({ number: number.value.trim(), name: name.value.trim(),
      list: filterList.value, limit: 100 }));
    results.replaceChildren(table([
      { title: 'Number', cell: (c) => c.number },
      { title: 'Name', cell: (c) => c.name ?? '' },
      { title: 'Fields', cell: (c) => Object.entries(c.fields || {}).map(([k, v]) => `${k}=${v}`).join(', ') },
      { title: 'Opted out', cell: (c) => (c.opted_out ? 'yes' : '') },
    ], r.contacts, `${r.contacts.length} contact(s)${r.next_cursor ? ', more on later pages' : ''}`));
  }
  const searchForm = h('form', { class: 'inline', 'aria-label': 'Search contacts',
    onsubmit: async (ev) => { ev.preventDefault(); try { await search(); } catch (e) { err.show(searchForm, e); } } },
  field('Number starts with', number), field('Name contains', name), field('In list', filterList),
  h('button', { type: 'submit' }, 'Search'));

  const newNumber = h('input', { name: 'number', inputmode: 'tel', required: true });
  const newName = h('input', { name: 'name' });
  const addForm = h('form', { class: 'inline', 'aria-label': 'Add a contact', onsubmit: async (ev) => {
    ev.preventDefault();
    err.show(addForm, null);
    try {
      await api('POST', '/v1/contacts', { number: newNumber.value, ...(newName.value ? { name: newName.value } : {}) });
      toast('Contact added');
      newNumber.value = newName.value = '';
      await search();
    } catch (e) { err.show(addForm, e); }
  } }, field('Number', newNumber), field('Name', newName), h('button', { type: 'submit' }, 'Add contact'));

  const listName = h('input', { name: 'name', required: true });
  const listForm = h('form', { class: 'inline', 'aria-label': 'Create a list', onsubmit: async (ev) => {
    ev.preventDefault();
    err.show(listForm, null);
    try {
      await api('POST', '/v1/lists', { name: listName.value });
      listName.value = '';
      await loadLists();
    } catch (e) { err.show(listForm, e); }
  } }, field('New list', listName), h('button', { type: 'submit' }, 'Create list'));

  const file = h('input', { type: 'file', name: 'file', accept: '.csv,text/csv' });
  const csv = h('textarea', { name: 'csv', placeholder: 'number,name,city\n+447911123456,Ann,Leeds' });
  const importForm = h('form', { 'aria-label': 'Import contacts from CSV', onsubmit: async (ev) => {
    ev.preventDefault();
    err.show(importForm, null);
    const text = file.files[0] ? await file.files[0].text() : csv.value;
    if (!text.trim()) { err.show(importForm, { message: 'choose a file or paste CSV text', field: 'csv' }); return; }
    importOut.textContent = 'Importing…';
    try {
      const r = await api('POST', '/v1/contacts/import' + qs({ list: listSel.value }), { raw: text, type: 'text/csv' });
      importOut.replaceChildren(h('p', { class: 'ok', id: 'import-result' },
        `${r.imported} imported, ${r.duplicates} duplicate, ${r.invalid} invalid of ${r.rows} rows`),
      r.errors.length ? table([
        { title: 'Line', cell: (e) => e.line }, { title: 'Column', cell: (e) => e.column ?? '' },
        { title: 'Reason', cell: (e) => e.reason }], r.errors, 'Invalid rows') : '');
      await Promise.all([loadLists(), search()]);
    } catch (e) { importOut.textContent = ''; err.show(importForm, e); }
  } }, field('CSV file', file, 'The header names the columns; "number" is required, others become fields'),
  field('Or paste CSV', csv), field('Add to list', listSel), h('div', {}, h('button', { type: 'submit' }, 'Import')));

  main.append(...page('Contacts and lists', err, searchForm, results,
    h('h2', {}, 'Add a contact'), addForm,
    h('h2', {}, 'Lists'), listForm, listsBox,
    h('h2', {}, 'Import CSV'), importForm, importOut));
  await loadLists();
  await search();
}
