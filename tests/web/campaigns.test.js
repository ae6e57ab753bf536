// campaigns.test.js - the campaigns page in headless chromium, against a
// gateway with the campaigns API (/v1/campaigns), started by
// `bash tests/web/web.sh BIN campaigns.test.js`: a list of three contacts
// imported through the API, a campaign created on the page, and its
// progress watched until it reaches 100 % with every message delivered.
// Not registered in CTest until the campaigns API is built in.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { chromium } = require('playwright-core');

const BASE = process.env.SG_BASE;
const OUT = process.env.SG_WEB_OUT;
let browser;

before(async () => {
  browser = await chromium.launch({
    executablePath: process.env.SG_CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
});
after(async () => { if (browser) await browser.close(); });

async function api(method, p, body, type = 'application/json') {
  const r = await fetch(BASE + p, { method, body, headers: { Authorization: 'Bearer shop-key', 'Content-Type': type } });
  const data = await r.json();
  assert.ok(r.ok, `${method} ${p}: ${r.status} ${JSON.stringify(data)}`);
  return data;
}

test('a campaign created on the page reaches 100 %', async () => {
  const list = await api('POST', '/v1/lists', JSON.stringify({ name: 'campaign-list' }));
  const imp = await api('POST', `/v1/contacts/import?list=${list.id}`,
    'number,name\n+447911123501,Ann\n+447911123502,Bob\n+447911123503,Cy\n', 'text/csv');
  assert.equal(imp.imported, 3);
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  await page.goto(BASE + '/');
  await page.getByLabel('API key', { exact: true }).fill('shop-key');
  await page.getByRole('button', { name: 'Log in with key' }).click();
  await page.locator('#account').filter({ hasText: /\S/ }).waitFor();
  await page.goto(BASE + '/#/campaigns');
  await page.getByLabel('Name', { exact: true }).fill('Spring sale');
  await page.getByLabel('Text', { exact: true }).fill('Hello {{name}}, 20% off today');
  await page.getByLabel('Lists', { exact: true }).selectOption({ label: 'campaign-list (3)' });
  await page.getByRole('button', { name: 'Create campaign' }).click();
  await page.getByRole('heading', { name: /^Campaign / }).waitFor();
  const bar = page.getByRole('progressbar');
  await page.waitForFunction(() => document.querySelector('[role=progressbar]')?.getAttribute('aria-valuenow') === '100',
    null, { timeout: 60000 });
  assert.equal(await bar.getAttribute('aria-valuenow'), '100');
  await page.getByText('Status: completed').waitFor({ timeout: 30000 });
  await page.locator('#chart-campaign .uplot').waitFor();
  await page.screenshot({ path: path.join(OUT, 'campaign-done-desktop.png'), fullPage: true });
  await page.goto(BASE + '/#/campaigns');
  await page.getByRole('link', { name: 'Spring sale' }).waitFor();
  await page.context().close();
});
