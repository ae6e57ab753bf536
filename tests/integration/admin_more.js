// admin_more.js - the checks of admin_more.sh against a running smsgate:
//   node admin_more.js PHASE BASE
// pages: the admin lists a page at a time (?limit=&cursor=, next_cursor),
//        every item once across the pages, and bad limits and cursors
//        refused with 400 naming the argument.
'use strict';
const assert = require('node:assert/strict');

const [, , PHASE, BASE] = process.argv;
const ADMIN = 'admin-key';

async function api(key, method, p, body, headers = {}) {
  const h = { ...headers };
  if (key) h.authorization = 'Bearer ' + key;
  const init = { method, headers: h };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    h['content-type'] = 'application/json';
  }
  const res = await fetch(BASE + p, init);
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch (e) { /* not JSON */ }
  return { status: res.status, text, json, headers: res.headers };
}

function expect(r, status, what) {
  assert.equal(r.status, status, `${what}: ${r.text}`);
  return r.json;
}

function expectError(r, status, code, field, what) {
  expect(r, status, what);
  assert.equal(r.json.error.code, code, `${what}: ${r.text}`);
  assert.equal(r.json.error.field, field, `${what}: ${r.text}`);
}

// Reads path page by page (limit n), checking each page's size; returns
// the items in order.
async function walk(path, field, n, key) {
  const items = [];
  let cursor = null;
  for (let pages = 0; pages < 1000; pages++) {
    const sep = path.includes('?') ? '&' : '?';
    const q = `${sep}limit=${n}` + (cursor ? '&cursor=' + encodeURIComponent(cursor) : '');
    const page = expect(await api(ADMIN, 'GET', path + q), 200, `${path} page ${pages}`);
    assert.ok(Array.isArray(page[field]), `${path}: ${field}`);
    assert.ok(page[field].length <= n, `${path}: a page larger than its limit`);
    assert.ok('next_cursor' in page, `${path}: next_cursor`);
    items.push(...page[field]);
    if (page.next_cursor === null) return items;
    assert.equal(page[field].length, n, `${path}: a short page before the last`);
    cursor = page.next_cursor;
  }
  throw new Error(`${path}: the pages never end`);
}

async function badArgs(path) {
  for (const [q, field] of [['limit=0', 'limit'], ['limit=1001', 'limit'],
    ['limit=abc', 'limit'], ['limit=-1', 'limit'], ['limit=5&limit=6', 'limit'],
    ['cursor=', 'cursor'], ['cursor=no-such-item', 'cursor'],
    ['cursor=a&cursor=b', 'cursor']]) {
    const sep = path.includes('?') ? '&' : '?';
    expectError(await api(ADMIN, 'GET', path + sep + q), 400, 'invalid_query', field,
      `${path} ?${q}`);
  }
  expectError(await api(ADMIN, 'GET', path + (path.includes('?') ? '&' : '?') + 'page=2'),
    422, 'unknown_argument', 'page', `${path} ?page=2`);
}

async function pages() {
  for (const name of ['pa', 'pb', 'pc'])
    expect(await api(ADMIN, 'POST', '/v1/accounts', { name }), 201, `create ${name}`);
  const whole = expect(await api(ADMIN, 'GET', '/v1/accounts'), 200, 'accounts');
  assert.equal(whole.next_cursor, null);
  const names = whole.data.map((a) => a.name);
  assert.deepEqual(names, ['admin', 'user', 'pa', 'pb', 'pc']);
  for (const n of [1, 2, 4, 5, 1000])
    assert.deepEqual((await walk('/v1/accounts', 'data', n)).map((a) => a.name), names,
      `accounts in pages of ${n}`);
  const first = expect(await api(ADMIN, 'GET', '/v1/accounts?limit=2'), 200, 'first page');
  assert.equal(first.next_cursor, 'user');
  await badArgs('/v1/accounts');

  const made = [];
  for (const account of ['pa', 'pa', 'pb', 'pa'])
    made.push(expect(await api(ADMIN, 'POST', '/v1/keys', { account }), 201, 'key').id);
  assert.deepEqual((await walk('/v1/keys', 'data', 2)).map((k) => k.id), made);
  assert.deepEqual((await walk('/v1/keys?account=pa', 'data', 2)).map((k) => k.id),
    [made[0], made[1], made[3]]);
  const one = expect(await api(ADMIN, 'GET', '/v1/keys?account=pa&limit=1'), 200, 'keys');
  assert.equal(one.next_cursor, made[0]);
  // The cursor of another filter's item names no item of this list.
  expectError(await api(ADMIN, 'GET', '/v1/keys?account=pa&cursor=' + made[2]), 400,
    'invalid_query', 'cursor', 'a cursor outside the filter');
  await badArgs('/v1/keys');
  await badArgs('/v1/keys?account=pa');

  const conns = expect(await api(ADMIN, 'GET', '/v1/connectors'), 200, 'connectors');
  assert.deepEqual(conns.connectors.map((c) => c.name), ['op1', 'op2', 'op3']);
  assert.equal(conns.next_cursor, null);
  assert.deepEqual((await walk('/v1/connectors', 'connectors', 2)).map((c) => c.name),
    ['op1', 'op2', 'op3']);
  await badArgs('/v1/connectors');

  const queues = (await walk('/v1/queues', 'queues', 1)).map((q) => q.connector);
  assert.deepEqual(queues, ['op1', 'op2', 'op3']);
  await badArgs('/v1/queues');

  const blocks = expect(await api(ADMIN, 'GET', '/v1/velocity/blocks?limit=10'), 200, 'blocks');
  assert.deepEqual([blocks.blocks, blocks.total, blocks.next_cursor], [[], 0, null]);
  await badArgs('/v1/velocity/blocks');

  // A user key is refused before its query is read.
  expectError(await api('user-key', 'GET', '/v1/accounts?limit=0'), 403, 'admin_required',
    null, 'user key');
  // Many accounts, for the command line to follow (done by the script).
  for (let i = 0; i < 120; i++)
    expect(await api(ADMIN, 'POST', '/v1/accounts', { name: `bulk${String(i).padStart(3, '0')}` }),
      201, `bulk ${i}`);
}

const phases = { pages };
phases[PHASE]().then(() => console.log(`${PHASE}: ok`), (e) => {
  console.error(e);
  process.exit(1);
});
