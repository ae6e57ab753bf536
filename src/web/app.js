// app.js - the page's start: the login (API key, or account and password),
// the session, the menu, and hash routing to one module per page.
import { api, setCsrf } from './api.js';
import { h, field, errorLine } from './ui.js';

const pages = {
  dashboard: () => import('./dashboard.js'),
  send: () => import('./send.js'),
  messages: () => import('./messages.js'),
  contacts: () => import('./contacts.js'),
  templates: () => import('./templates.js'),
  campaigns: () => import('./campaigns.js'),
  inbox: () => import('./inbox.js'),
  optouts: () => import('./optouts.js'),
  connectors: () => import('./connectors.js'),
};

const main = document.getElementById('main');
const header = document.querySelector('.top');
let session = null;
let stopPage = null;

function loginForm() {
  const err = errorLine();
  const byKey = h('input', { name: 'api_key', type: 'password', autocomplete: 'current-password' });
  const acct = h('input', { name: 'account', autocomplete: 'username' });
  const pw = h('input', { name: 'password', type: 'password', autocomplete: 'current-password' });
  async function submit(ev, body) {
    ev.preventDefault();
    err.show(ev.target, null);
    try {
      await start(await api('POST', '/v1/session', body));
    } catch (e) {
      err.show(ev.target, e);
    }
  }
  document.title = 'Log in · smsgate';
  header.hidden = true;
  main.replaceChildren(h('div', { class: 'login' },
    h('h1', {}, 'Log in to smsgate'),
    err,
    h('form', { 'aria-label': 'Log in with an account password',
      onsubmit: (ev) => submit(ev, { account: acct.value, password: pw.value }) },
    h('fieldset', {}, h('legend', {}, 'Account and password'),
      field('Account', acct), field('Password', pw),
      h('button', { type: 'submit' }, 'Log in'))),
    h('p', { class: 'muted' }, 'or'),
    h('form', { 'aria-label': 'Log in with an API key',
      onsubmit: (ev) => submit(ev, { api_key: byKey.value }) },
    h('fieldset', {}, h('legend', {}, 'API key'),
      field('API key', byKey), h('button', { type: 'submit' }, 'Log in with key')))));
  acct.focus();
}

async function start(s) {
  session = s;
  setCsrf(s.csrf_token);
  document.getElementById('account').textContent = s.account + (s.admin ? ' (admin)' : '');
  header.hidden = false;
  if (!location.hash || location.hash === '#/' || location.hash === '#/login') location.hash = '#/dashboard';
  else route();
}

// Each route() has a number; a slower earlier one (its module still
// loading, say) must not replace the page a later one put up.
let routeGen = 0;

async function route() {
  if (!session) return;
  const gen = ++routeGen;
  if (stopPage) { stopPage(); stopPage = null; }
  const name = (location.hash.replace(/^#\/?/, '').split('/')[0]) || 'dashboard';
  const load = pages[name] || pages.dashboard;
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.getAttribute('href') === '#/' + name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.getElementById('nav').classList.remove('open');
  document.querySelector('.menu').setAttribute('aria-expanded', 'false');
  main.replaceChildren(h('p', { class: 'muted' }, 'Loading…'));
  try {
    const mod = await load();
    if (gen !== routeGen) return;
    main.replaceChildren();
    const stop = (await mod.render(main, { session, args: location.hash.split('/').slice(2) })) || null;
    if (gen !== routeGen) { if (stop) stop(); return; }
    stopPage = stop;
  } catch (e) {
    if (gen !== routeGen) return;
    main.replaceChildren(h('h1', {}, 'Error'), h('p', { class: 'error', role: 'alert' }, e.message));
  }
  main.focus();
}

document.getElementById('logout').addEventListener('click', async () => {
  try { await api('DELETE', '/v1/session'); } catch { /* already ended */ }
  session = null;
  setCsrf(null);
  location.hash = '#/login';
  loginForm();
});
document.querySelector('.menu').addEventListener('click', (ev) => {
  const nav = document.getElementById('nav');
  const open = nav.classList.toggle('open');
  ev.currentTarget.setAttribute('aria-expanded', String(open));
});
window.addEventListener('hashchange', route);
window.addEventListener('sg-logout', () => { session = null; loginForm(); });

api('GET', '/v1/session').then(start, loginForm);
