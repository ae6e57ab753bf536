// ui.js - small helpers to build the page from data without HTML strings
// (text always goes through textContent, so nothing a sender wrote can run).

export function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const k of kids.flat()) {
    if (k === null || k === undefined || k === false) continue;
    el.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
  return el;
}

let fieldSeq = 0;
// A labelled control: field('Text', h('textarea', {...}), 'a hint'). The
// hint stays out of the label (it is the control's description).
export function field(label, control, hint) {
  control.id = control.id || 'f' + ++fieldSeq;
  const kids = [h('label', { for: control.id }, label), control];
  if (hint) {
    const hid = control.id + '-hint';
    control.setAttribute('aria-describedby', hid);
    kids.push(h('span', { id: hid, class: 'muted hint' }, hint));
  }
  return h('div', { class: 'field' }, ...kids);
}

export function table(cols, rows, caption) {
  return h('div', { class: 'table' },
    h('table', {},
      caption ? h('caption', { class: 'muted' }, caption) : null,
      h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col' }, c.title)))),
      h('tbody', {}, rows.length === 0
        ? h('tr', {}, h('td', { colspan: cols.length, class: 'muted' }, 'Nothing yet.'))
        : rows.map((r) => h('tr', {}, cols.map((c) => h('td', {}, c.cell(r))))))));
}

export function toast(text) {
  const t = document.getElementById('toast');
  t.textContent = text;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.textContent = ''; }, 4000);
}

// The error line of a form: shows an API error and marks its field.
export function errorLine() {
  const el = h('p', { class: 'error', role: 'alert' });
  el.show = (form, err) => {
    el.textContent = err ? err.message + (err.field ? ` (${err.field})` : '') : '';
    if (!form) return;
    for (const c of form.querySelectorAll('[aria-invalid]')) c.removeAttribute('aria-invalid');
    if (err && err.field) {
      const c = form.querySelector(`[name="${CSS.escape(err.field)}"]`);
      if (c) { c.setAttribute('aria-invalid', 'true'); c.focus(); }
    }
  };
  return el;
}

export function when(t) {
  if (!t) return '';
  const d = new Date(t);
  return isNaN(d) ? t : d.toLocaleString();
}

export function status(s) {
  return h('span', { class: 'status ' + s }, s);
}

export function page(title, ...kids) {
  document.title = title + ' · smsgate';
  return [h('h1', {}, title), ...kids];
}
