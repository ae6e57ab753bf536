// web.test.js - smsgate's web page in headless chromium (playwright-core),
// against the gateway started by web.sh ($SG_BASE). Every check reads what
// a person would see on the page; screenshots go to $SG_WEB_OUT.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { chromium } = require('playwright-core');

const BASE = process.env.SG_BASE;
const OUT = process.env.SG_WEB_OUT;
const PAGES = ['dashboard', 'send', 'messages', 'contacts', 'templates', 'campaigns',
  'inbox', 'optouts', 'connectors'];
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };
let browser;

before(async () => {
  assert.ok(BASE, 'SG_BASE is set by web.sh');
  browser = await chromium.launch({
    executablePath: process.env.SG_CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
});
after(async () => { if (browser) await browser.close(); });

async function newPage(viewport = DESKTOP) {
  const ctx = await browser.newContext({ viewport, isMobile: viewport === PHONE, hasTouch: viewport === PHONE });
  const page = await ctx.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') page.errors.push(m.text()); });
  return page;
}

async function loginKey(page, key) {
  await page.goto(BASE + '/');
  await page.getByLabel('API key', { exact: true }).fill(key);
  await page.getByRole('button', { name: 'Log in with key' }).click();
  await page.locator('#account').filter({ hasText: /\S/ }).waitFor();
  page.errors = []; // the 401 of the page's first look for a session is expected
}

async function loginPassword(page, account, password) {
  await page.goto(BASE + '/');
  await page.getByLabel('Account', { exact: true }).fill(account);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
}

test('the page and its files come with their headers, ETag and gzip', async () => {
  const r = await fetch(BASE + '/', { headers: { 'Accept-Encoding': 'gzip' } });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/html/);
  assert.match(r.headers.get('content-security-policy'), /script-src 'self'/);
  assert.equal(r.headers.get('x-frame-options'), 'DENY');
  assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
  const etag = r.headers.get('etag');
  assert.match(etag, /^"[0-9a-f]{20}"$/);
  assert.match(await r.text(), /<main id="main"/);
  const again = await fetch(BASE + '/', { headers: { 'If-None-Match': etag } });
  assert.equal(again.status, 304);
  const js = await fetch(BASE + '/assets/app.js');
  assert.match(js.headers.get('content-type'), /^text\/javascript/);
  const chart = await fetch(BASE + '/assets/uplot.js', { headers: { 'Accept-Encoding': 'gzip' } });
  assert.equal(chart.status, 200, 'the chart library is built in');
  const missing = await fetch(BASE + '/assets/nope.js');
  assert.equal(missing.status, 404);
});

test('a wrong password is refused on the page and changes nothing', async () => {
  const page = await newPage();
  await loginPassword(page, 'shop', 'not-the-password');
  await assert.doesNotReject(page.getByRole('alert').filter({ hasText: 'not valid' }).waitFor());
  assert.equal(await page.locator('header.top').isHidden(), true);
  const r = await page.evaluate(async () => (await fetch('/v1/session')).status);
  assert.equal(r, 401);
  await page.screenshot({ path: path.join(OUT, 'login-failed-desktop.png') });
  await page.context().close();
});

test('log in with an argon2id-hashed password, then log out', async () => {
  const page = await newPage();
  await loginPassword(page, 'ops', 'ops-Pa55word');
  await page.locator('#account').filter({ hasText: 'ops (admin)' }).waitFor();
  const cookies = await page.context().cookies();
  const c = cookies.find((x) => x.name === 'sg_session');
  assert.ok(c, 'the session cookie is set');
  assert.equal(c.httpOnly, true);
  assert.equal(c.sameSite, 'Strict');
  assert.equal(await page.evaluate(() => document.cookie), '', 'scripts cannot read the cookie');
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('heading', { name: 'Log in to smsgate' }).waitFor();
  const st = await page.evaluate(async () => (await fetch('/v1/session')).status);
  assert.equal(st, 401);
  await page.context().close();
});

test('a cookie-authenticated POST without the CSRF token gets 403', async () => {
  const page = await newPage();
  await loginKey(page, 'shop-key');
  const res = await page.evaluate(async () => {
    const bare = await fetch('/v1/messages/preview', { method: 'POST',
      headers: { 'Content-Type': 'application/json' }, body: '{"text":"hi"}' });
    const wrong = await fetch('/v1/messages/preview', { method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': 'A'.repeat(43) }, body: '{"text":"hi"}' });
    const s = await (await fetch('/v1/session')).json();
    const ok = await fetch('/v1/messages/preview', { method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf_token }, body: '{"text":"hi"}' });
    const list = await fetch('/v1/messages?limit=1');
    return { bare: bare.status, code: (await bare.json()).error.code, wrong: wrong.status,
      ok: ok.status, parts: (await ok.json()).parts, get: list.status };
  });
  assert.deepEqual(res, { bare: 403, code: 'csrf_token_required', wrong: 403, ok: 200, parts: 1, get: 200 });
  await page.context().close();
});

test('send a message with a live counter and watch it become delivered', async () => {
  const page = await newPage();
  await loginKey(page, 'shop-key');
  await page.goto(BASE + '/#/send');
  await page.getByLabel('To', { exact: true }).fill('+447911123456');
  await page.getByLabel('Text', { exact: true }).fill('Hello');
  await page.locator('#counter').filter({ hasText: '5 characters · GSM 7-bit · 1 part' }).waitFor();
  await page.getByLabel('Text', { exact: true }).fill('Привет');
  await page.locator('#counter').filter({ hasText: '6 characters · UCS-2 · 1 part' }).waitFor();
  await page.getByLabel('Text', { exact: true }).fill('x'.repeat(161));
  await page.locator('#counter').filter({ hasText: '161 characters · GSM 7-bit · 2 parts' }).waitFor();
  await page.getByLabel('Text', { exact: true }).fill('Hello from the web page');
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  const link = page.getByRole('link', { name: /\+447911123456: queued/ });
  await link.click();
  await page.locator('#m-status').filter({ hasText: 'delivered' }).waitFor({ timeout: 20000 });
  await page.getByRole('cell', { name: /stat:DELIVRD/ }).first().waitFor();
  await page.screenshot({ path: path.join(OUT, 'message-delivered-desktop.png'), fullPage: true });
  await page.goto(BASE + '/#/messages');
  await page.getByRole('link', { name: '+447911123456' }).first().waitFor();
  // The dashboard's charts come from the server's buckets: the last hour
  // in 60 or 61 one-minute buckets, the message delivered among them.
  const answer = page.waitForResponse((r) => r.url().includes('/v1/stats/traffic'));
  await page.goto(BASE + '/#/dashboard');
  const traffic = await (await answer).json();
  assert.equal(traffic.account, 'shop');
  assert.equal(traffic.step, 60);
  assert.ok(traffic.buckets.length === 60 || traffic.buckets.length === 61, `${traffic.buckets.length} buckets`);
  const sum = (f) => traffic.buckets.reduce((a, b) => a + b[f], 0);
  assert.ok(traffic.totals.delivered >= 1, JSON.stringify(traffic.totals));
  assert.equal(sum('submitted'), traffic.totals.submitted);
  assert.equal(sum('delivered'), traffic.totals.delivered);
  await page.locator('#chart-traffic .uplot').waitFor();
  await page.locator('#total-sent').filter({ hasText: String(traffic.totals.submitted) }).waitFor();
  // The chart's label reads out the newest interval (the message may be a
  // minute older than it): the same figures as the answer's last bucket.
  const last = traffic.buckets.at(-1);
  assert.match(await page.locator('#chart-traffic').getAttribute('aria-label'),
    new RegExp(`submitted ${last.submitted}, delivered ${last.delivered}\\b`));
  await page.locator('#total-rate').filter({ hasText: '%' }).waitFor();
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('import a CSV into a list and see the contacts', async () => {
  const page = await newPage();
  await loginKey(page, 'shop-key');
  await page.goto(BASE + '/#/contacts');
  await page.getByLabel('New list', { exact: true }).fill('customers');
  await page.getByRole('button', { name: 'Create list' }).click();
  await page.getByRole('cell', { name: 'customers' }).waitFor();
  await page.getByLabel('Or paste CSV', { exact: true }).fill(
    'number,name,city\n+447911123401,Ann,Leeds\n+447911123402,Bob,York\nnot-a-number,Eve,Hull\n+447911123401,Ann again,Leeds\n');
  await page.getByLabel('Add to list', { exact: true }).selectOption({ label: 'customers' });
  await page.getByRole('button', { name: 'Import' }).click();
  await page.locator('#import-result').filter({ hasText: '2 imported, 1 duplicate, 1 invalid of 4 rows' }).waitFor();
  await page.getByRole('cell', { name: '+447911123402' }).waitFor();
  await page.getByRole('cell', { name: 'city=York' }).waitFor();
  await page.getByRole('row', { name: /customers\s+2\b/ }).waitFor();
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a late answer of the lists neither hides a new list nor resets the one chosen', async () => {
  const page = await newPage();
  await loginKey(page, 'shop-key');
  // The page's first GET /v1/lists is held until the list is created and the
  // list to import into is chosen: its answer, older than the page, comes last.
  let release;
  const held = new Promise((r) => { release = r; });
  let first = true;
  await page.route('**/v1/lists', async (route) => {
    if (first && route.request().method() === 'GET') {
      first = false;
      const answer = await route.fetch();
      await held;
      await route.fulfill({ response: answer });
    } else {
      await route.continue();
    }
  });
  await page.goto(BASE + '/#/contacts');
  await page.getByLabel('New list', { exact: true }).fill('late-lists');
  await page.getByRole('button', { name: 'Create list' }).click();
  await page.getByRole('cell', { name: 'late-lists' }).waitFor();
  await page.getByLabel('Add to list', { exact: true }).selectOption({ label: 'late-lists' });
  const stale = page.waitForResponse((r) => r.url().endsWith('/v1/lists') && r.request().method() === 'GET');
  release();
  await stale;
  await page.evaluate(() => new Promise((r) => setTimeout(r, 50))); // let the page handle it
  await page.getByRole('cell', { name: 'late-lists' }).waitFor({ timeout: 2000 });
  assert.equal(await page.getByLabel('Add to list', { exact: true }).inputValue() !== '', true,
    'the list chosen is still chosen');
  await page.getByLabel('Or paste CSV', { exact: true }).fill('number,name\n+447911123411,Kim\n');
  await page.getByRole('button', { name: 'Import' }).click();
  await page.locator('#import-result').filter({ hasText: '1 imported' }).waitFor();
  await page.getByRole('row', { name: /late-lists\s+1\b/ }).waitFor();
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

for (const [label, viewport] of [['desktop', DESKTOP], ['phone', PHONE]]) {
  test(`every page renders (${label}), screenshots saved`, async () => {
    const page = await newPage(viewport);
    await loginKey(page, 'ops-key');
    for (const name of PAGES) {
      await page.goto(`${BASE}/#/${name}`);
      await page.locator('main h1').first().waitFor();
      await page.waitForLoadState('networkidle');
      if (name === 'dashboard') await page.locator('#chart-traffic .uplot').waitFor();
      await page.screenshot({ path: path.join(OUT, `${name}-${label}.png`), fullPage: true });
    }
    if (viewport === PHONE) {
      // The menu folds into a button on a phone, reachable by keyboard.
      const menu = page.getByRole('button', { name: 'Menu' });
      await menu.focus();
      await page.keyboard.press('Enter');
      assert.equal(await menu.getAttribute('aria-expanded'), 'true');
      await page.getByRole('link', { name: 'Send' }).click();
      await page.getByRole('heading', { name: 'Send a message' }).waitFor();
    }
    // The campaigns page needs the campaigns API; elsewhere only that
    // page may report an error.
    const stray = page.errors.filter((e) => !/404|campaign/i.test(e));
    assert.deepEqual(stray, []);
    await page.context().close();
  });
}

test('a password change ends the sessions opened with the old password', async () => {
  const admin = { Authorization: 'Bearer ops-key', 'Content-Type': 'application/json' };
  const json = { 'Content-Type': 'application/json' };
  let r = await fetch(BASE + '/v1/accounts', { method: 'POST', headers: admin,
    body: JSON.stringify({ name: 'rotating', password: 'first-Pa55word', default_region: 'GB' }) });
  assert.equal(r.status, 201, await r.text());
  const login = async (password) => {
    const res = await fetch(BASE + '/v1/session', { method: 'POST', headers: json,
      body: JSON.stringify({ account: 'rotating', password }) });
    assert.equal(res.status, 200, `login: ${res.status}`);
    return res.headers.get('set-cookie').split(';')[0];
  };
  const alive = async (cookie) => (await fetch(BASE + '/v1/session', { headers: { Cookie: cookie } })).status;
  const before = await login('first-Pa55word');
  assert.equal(await alive(before), 200);
  // A change that sets no password leaves the session alone.
  r = await fetch(BASE + '/v1/accounts/rotating', { method: 'PATCH', headers: admin,
    body: JSON.stringify({ disabled: false }) });
  assert.equal(r.status, 200, await r.text());
  assert.equal(await alive(before), 200);
  // A refused change ends nothing either.
  r = await fetch(BASE + '/v1/accounts/rotating', { method: 'PATCH', headers: admin,
    body: JSON.stringify({ password: 'third-Pa55word', no_such_field: 1 }) });
  assert.equal(r.status, 422, await r.text());
  assert.equal(await alive(before), 200);
  r = await fetch(BASE + '/v1/accounts/rotating', { method: 'PATCH', headers: admin,
    body: JSON.stringify({ password: 'second-Pa55word' }) });
  assert.equal(r.status, 200, await r.text());
  assert.equal(await alive(before), 401);
  const after = await login('second-Pa55word');
  assert.equal(await alive(after), 200);
});
