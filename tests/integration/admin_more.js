// admin_more.js - the checks of admin_more.sh against a running smsgate:
//   node admin_more.js PHASE BASE
// pages: the admin lists a page at a time (?limit=&cursor=, next_cursor),
//        every item once across the pages, and bad limits and cursors
//        refused with 400 naming the argument.
// idem:  Idempotency-Key on account, key and credit creation: a retry
//        answers the first answer (Idempotent-Replayed: true; a key's
//        secret not again), another body with the same key 409, a bad key
//        400, and a retried top-up credited once, also when both copies
//        arrive at once.
// idem2: after a restart, the same retries still answer from the store.
// queue: after the script's concurrent curl changes: each script's
//        accounts made with their passwords, the concurrent patches all
//        applied in some order (the last one's both fields), and a flood of
//        changes over the queue's bound: each 201 or 429 with Retry-After,
//        every 201 an account, every 429 none.
'use strict';
const assert = require('node:assert/strict');

const [, , PHASE, BASE] = process.argv; // queue: argv[4], a file for the count
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
  assert.deepEqual(names, ['admin', 'user', 'payer', 'other', 'pa', 'pb', 'pc']);
  for (const n of [1, 2, 4, 6, 7, 1000])
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
  // More accounts, for the command line to follow over two pages (with the
  // queue phase's flood; done by the script).
  for (let i = 0; i < 20; i++)
    expect(await api(ADMIN, 'POST', '/v1/accounts', { name: `bulk${String(i).padStart(3, '0')}` }),
      201, `bulk ${i}`);
}

function idemHeaders(k) { return { 'idempotency-key': k }; }

async function idem() {
  const acc = await api(ADMIN, 'POST', '/v1/accounts', { name: 'idem1', tps: 5 }, idemHeaders('acc-1'));
  const first = expect(acc, 201, 'create with a key');
  assert.match(first.webhook_secret, /^whsec_/);
  assert.equal(acc.headers.get('idempotent-replayed'), null);
  const again = await api(ADMIN, 'POST', '/v1/accounts', { name: 'idem1', tps: 5 }, idemHeaders('acc-1'));
  const second = expect(again, 201, 'the same create again');
  assert.equal(again.headers.get('idempotent-replayed'), 'true');
  assert.equal(second.webhook_secret, undefined, 'the made webhook secret is shown once');
  assert.equal(second.webhook_secret_set, true);
  const { webhook_secret: _made, ...firstShown } = first;
  assert.deepEqual(second, firstShown, 'the first answer but the secret');
  assert.equal(second.name, 'idem1');
  assert.equal(second.tps, 5);
  assert.equal(second.created_at, first.created_at);
  // Another body with the same key: 409, and nothing made.
  expectError(await api(ADMIN, 'POST', '/v1/accounts', { name: 'idem2' }, idemHeaders('acc-1')),
    409, 'idempotency_conflict', 'idempotency_key', 'another body');
  expect(await api(ADMIN, 'GET', '/v1/accounts/idem2'), 404, 'not made');
  // Without a key the same body is a second request (the name is taken).
  expectError(await api(ADMIN, 'POST', '/v1/accounts', { name: 'idem1', tps: 5 }), 409,
    'name_taken', 'name', 'no key');
  // Bad keys, refused before anything.
  for (const k of ['', 'x'.repeat(256), 'caf\u00e9'])
    expectError(await api(ADMIN, 'POST', '/v1/accounts', { name: 'idem3' },
      { 'idempotency-key': k }), 400, 'invalid_idempotency_key', 'Idempotency-Key', `key ${k.length}`);
  expect(await api(ADMIN, 'GET', '/v1/accounts/idem3'), 404, 'a bad key made nothing');
  // A refused create records nothing: the same key then works.
  expectError(await api(ADMIN, 'POST', '/v1/accounts', { name: 'idem4', tps: 'x' }, idemHeaders('acc-4')),
    422, 'invalid_field', 'tps', 'a refused create');
  expect(await api(ADMIN, 'POST', '/v1/accounts', { name: 'idem4' }, idemHeaders('acc-4-b')), 201, 'ok');

  const k1 = await api(ADMIN, 'POST', '/v1/keys', { account: 'idem1', name: 'ci' }, idemHeaders('key-1'));
  const key1 = expect(k1, 201, 'key with a key');
  assert.match(key1.key, /^sgk_/);
  const k2 = await api(ADMIN, 'POST', '/v1/keys', { account: 'idem1', name: 'ci' }, idemHeaders('key-1'));
  const key2 = expect(k2, 201, 'the same key request again');
  assert.equal(k2.headers.get('idempotent-replayed'), 'true');
  assert.equal(key2.id, key1.id);
  assert.equal(key2.key, undefined, 'a key is shown once');
  assert.equal(key2.account, 'idem1');
  const keys = expect(await api(ADMIN, 'GET', '/v1/keys?account=idem1'), 200, 'keys');
  assert.equal(keys.data.length, 1, 'one key made');
  expectError(await api(ADMIN, 'POST', '/v1/keys', { account: 'idem1', name: 'other' }, idemHeaders('key-1')),
    409, 'idempotency_conflict', 'idempotency_key', 'another key body');
  // The key works.
  expect(await api(key1.key, 'GET', '/v1/balance'), 200, 'the made key');

  // Top-ups: a retried one is credited once.
  const c1 = expect(await api(ADMIN, 'POST', '/v1/accounts/payer/credit', { amount: '10.50' },
    idemHeaders('top-1')), 200, 'credit');
  assert.deepEqual(c1, { account: 'payer', credited: '10.50', balance: '10.50', balance_micro: 10500000 });
  const c2r = await api(ADMIN, 'POST', '/v1/accounts/payer/credit', { amount: '10.50' }, idemHeaders('top-1'));
  assert.deepEqual(expect(c2r, 200, 'credit again'), c1);
  assert.equal(c2r.headers.get('idempotent-replayed'), 'true');
  expect(await api(ADMIN, 'POST', '/v1/accounts/payer/credit', { amount: '1' }, idemHeaders('top-2')),
    200, 'another credit');
  // The first one replayed answers its own balance, not today's.
  assert.deepEqual(expect(await api(ADMIN, 'POST', '/v1/accounts/payer/credit', { amount: '10.50' },
    idemHeaders('top-1')), 200, 'credit a third time'), c1);
  expectError(await api(ADMIN, 'POST', '/v1/accounts/payer/credit', { amount: '10.51' }, idemHeaders('top-1')),
    409, 'idempotency_conflict', 'idempotency_key', 'another amount');
  expectError(await api(ADMIN, 'POST', '/v1/accounts/other/credit', { amount: '10.50' }, idemHeaders('top-1')),
    409, 'idempotency_conflict', 'idempotency_key', 'another account');
  // Both copies at once: one credit.
  const twins = await Promise.all([1, 2, 3, 4].map(() => api(ADMIN, 'POST', '/v1/accounts/payer/credit',
    { amount: '100' }, idemHeaders('top-3'))));
  for (const t of twins) assert.equal(t.status, 200, t.text);
  assert.equal(twins.filter((t) => t.headers.get('idempotent-replayed') === 'true').length, 3, 'three replays');
  for (const t of twins) assert.deepEqual(t.json, twins[0].json);
  const bal = expect(await api('payer-key', 'GET', '/v1/balance'), 200, 'balance');
  assert.equal(bal.balance, '111.50', 'each top-up credited once');
}

async function idem2() {
  // After a restart: the records were durable.
  const r = await api(ADMIN, 'POST', '/v1/accounts/payer/credit', { amount: '10.50' }, idemHeaders('top-1'));
  assert.deepEqual(expect(r, 200, 'credit after restart'),
    { account: 'payer', credited: '10.50', balance: '10.50', balance_micro: 10500000 });
  assert.equal(r.headers.get('idempotent-replayed'), 'true');
  const a = await api(ADMIN, 'POST', '/v1/accounts', { name: 'idem1', tps: 5 }, idemHeaders('acc-1'));
  assert.equal(expect(a, 201, 'create after restart').name, 'idem1');
  assert.equal(a.headers.get('idempotent-replayed'), 'true');
  const k = await api(ADMIN, 'POST', '/v1/keys', { account: 'idem1', name: 'ci' }, idemHeaders('key-1'));
  assert.equal(expect(k, 201, 'key after restart').key, undefined);
  assert.equal(k.headers.get('idempotent-replayed'), 'true');
  const bal = expect(await api('payer-key', 'GET', '/v1/balance'), 200, 'balance');
  assert.equal(bal.balance, '111.50');
}

async function queue() {
  for (const p of ['qa', 'qb', 'qc'])
    for (let i = 1; i <= 3; i++) {
      const a = expect(await api(ADMIN, 'GET', `/v1/accounts/${p}${i}`), 200, `${p}${i}`);
      assert.equal(a.password_set, true);
    }
  const a = expect(await api(ADMIN, 'GET', '/v1/accounts/qa1'), 200, 'qa1');
  // Each patch set both fields from the settings the one before left: the
  // two fields come from the same patch.
  assert.equal(a.senders.length, 1);
  assert.equal(a.senders[0], `S${a.tps}`, JSON.stringify(a));
  // Over the bound (64 waiting): three slow changes (argon2id hashing)
  // hold the queue while many quick ones arrive; some get 429 with
  // Retry-After, and none is lost.
  const slow = [0, 1, 2].map((i) => api(ADMIN, 'POST', '/v1/accounts',
    { name: `flood${i}`, password: `pw${i}` }));
  await new Promise((r) => setTimeout(r, 30));
  const n = 83;
  const quick = Array.from({ length: n - 3 }, (_, i) =>
    api(ADMIN, 'POST', '/v1/accounts', { name: `flood${i + 3}` }));
  const all = await Promise.all([...slow, ...quick]);
  const made = all.filter((r) => r.status === 201).length;
  const busy = all.filter((r) => r.status === 429);
  assert.equal(made + busy.length, n, all.filter((r) => r.status !== 201 && r.status !== 429)
    .map((r) => r.text).join(' '));
  assert.ok(made >= 65, `only ${made} made`);
  assert.ok(busy.length > 0, 'the bound was never reached');
  for (const r of busy) {
    assert.equal(r.json.error.code, 'busy');
    assert.equal(r.headers.get('retry-after'), '1');
  }
  for (let i = 0; i < n; i++) {
    const got = await api(ADMIN, 'GET', `/v1/accounts/flood${i}`);
    assert.equal(got.status, all[i].status === 201 ? 200 : 404, `flood${i}`);
  }
  require('node:fs').writeFileSync(process.argv[4], String(made));
}

const phases = { pages, idem, idem2, queue };
phases[PHASE]().then(() => console.log(`${PHASE}: ok`), (e) => {
  console.error(e);
  process.exit(1);
});
