// kannel_sendsms.js - the node side of tests/integration/kannel_sendsms.sh:
// a dlr-url receiver, and Kannel sendsms scenarios with their assertions.
//
//   node kannel_sendsms.js receiver PORT OUT          GETs -> OUT (JSON lines)
//   node kannel_sendsms.js scenarios BASE KEY DLR OUT  every sendsms scenario;
//                                                      DLR is the receiver's
//                                                      base URL, OUT its file
//   node kannel_sendsms.js compare KANNEL SMSGATE      the same requests to
//                                                      Kannel's smsbox and to
//                                                      smsgate: same answers
// Exit status 0 when every check passed; failures are printed.
'use strict';
const http = require('http');
const fs = require('fs');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function fail(msg) {
  console.error('FAIL: ' + msg);
  process.exit(1);
}
function eq(a, b, msg) {
  if (JSON.stringify(a) !== JSON.stringify(b))
    fail(`${msg}: expected ${JSON.stringify(b)}, got ${JSON.stringify(a)}`);
}

function request(base, method, path, { body, headers = {} } = {}) {
  const u = new URL(path, base);
  const h = { ...headers };
  const data = body !== undefined ? Buffer.from(body) : null;
  if (data) h['content-length'] = data.length;
  return new Promise((resolve, reject) => {
    const r = http.request(
      { host: u.hostname, port: u.port, path: u.pathname + u.search, method, headers: h },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers,
          text: Buffer.concat(chunks).toString('utf8') }));
      });
    r.on('error', reject);
    if (data) r.write(data);
    r.end();
  });
}

// ---- the receiver -------------------------------------------------------------

function receiver(port, out) {
  http.createServer((q, r) => {
    const u = new URL(q.url, 'http://x');
    const chunks = [];
    q.on('data', (c) => chunks.push(c));
    q.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      fs.appendFileSync(out, JSON.stringify({ method: q.method, path: u.pathname,
        raw: u.search, query: Object.fromEntries(u.searchParams),
        body: body ? JSON.parse(body) : null }) + '\n');
      r.end('ok');
    });
  }).listen(port, '127.0.0.1', () => console.log('receiver listening'));
}

function received(out) {
  if (!fs.existsSync(out)) return [];
  return fs.readFileSync(out, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

// Waits until the calls of case `tag` are `want` (sorted %d values), then a
// little longer to see that no other comes.
async function calls(out, tag, want, secs = 15) {
  let got = [];
  for (let i = 0; i < secs * 10; i++) {
    got = received(out).filter((c) => c.query.case === tag);
    if (got.length >= want.length) break;
    await sleep(100);
  }
  await sleep(600);
  got = received(out).filter((c) => c.query.case === tag);
  eq(got.map((c) => Number(c.query.d)).sort((a, b) => a - b), want, `dlr-url calls of ${tag}`);
  return got;
}

// ---- scenarios ----------------------------------------------------------------

async function scenarios(base, key, dlr, out) {
  const S = '/cgi-bin/sendsms';
  const auth = 'username=kannel&password=s3cret%20pw';
  const get = (q) => request(base, 'GET', `${S}?${q}`);
  const expect = async (p, status, text, what) => {
    const r = await p;
    eq([r.status, r.text], [status, text], what);
    if (!/^text\/html/.test(r.headers['content-type'] || ''))
      fail(`${what}: content-type ${r.headers['content-type']}`);
    return r;
  };
  const dlrUrl = (tag) => encodeURIComponent(`${dlr}/dlr?case=${tag}&d=%d&p=%p&P=%P` +
    `&A=%A&i=%i&I=%I&F=%F&n=%n&o=%o&t=%t&T=%T&c=%c&k=%k&q=%q&z=%z`);

  // GET, one recipient, every report type: 8 (SMSC took it), then 1.
  await expect(get(`${auth}&to=79001234567&from=Shop&text=Hello+world&account=acc-1` +
    `&dlr-mask=31&dlr-url=${dlrUrl('all')}`), 202, '0: Accepted for delivery', 'GET sendsms');
  const all = await calls(out, 'all', [1, 8]);
  for (const c of all) {
    eq(c.method, 'GET', 'dlr-url method');
    const q = c.query;
    eq([q.p, q.P, q.i, q.n, q.o, q.c, q.q, q.z],
      ['+79001234567', 'Shop', 'operator', 'kannel', 'acc-1', '0', '+79001234567', '%z'],
      `escapes of the ${q.d} call`);
    if (!/^[0-9A-HJKMNP-TV-Z]{26}$/.test(q.I)) fail(`%I is not a message id: ${q.I}`);
    if (!/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/.test(q.t)) fail(`%t: ${q.t}`);
    if (Math.abs(Number(q.T) - Date.now() / 1000) > 60) fail(`%T: ${q.T}`);
    if (!q.F) fail('%F (the operator\'s id) is empty');
    // Kannel's encoding: spaces as '+', the rest %XX in upper case.
    if (!/&p=%2B79001234567&/.test(c.raw)) fail(`%p encoding: ${c.raw}`);
  }
  const ack = all.find((c) => c.query.d === '8');
  const dlv = all.find((c) => c.query.d === '1');
  eq(ack.query.A, 'ACK/', '%A of the SMSC answer');
  if (!/stat:DELIVRD/.test(dlv.query.A)) fail(`%A of the receipt: ${dlv.query.A}`);
  eq(dlv.query.k, dlv.query.A.split(' ')[0], '%k: the first word of the answer');
  eq(ack.query.I, dlv.query.I, 'both calls name the same message');
  console.log('ok - GET sendsms, dlr-mask 31: calls 8 then 1 with their escapes');

  // The account's webhook_events [delivered, undeliverable]: its JSON
  // webhooks skip 'sent'.
  let hooks = [];
  for (let i = 0; i < 50 && hooks.length < 1; i++, await sleep(100))
    hooks = received(out).filter((c) => c.method === 'POST' && c.body.message_id === ack.query.I);
  await sleep(500);
  hooks = received(out).filter((c) => c.method === 'POST' && c.body.message_id === ack.query.I);
  eq(hooks.map((c) => c.body.status), ['delivered'], 'JSON webhooks under webhook_events');
  console.log('ok - webhook_events limits the JSON webhooks to the statuses listed');

  // Only what the mask asks for: 1 alone, 8 alone, 2 (failed, via the
  // second SMSC that answers UNDELIV for +7901...), 3 (the bench's mask).
  await expect(get(`${auth}&to=79001234568&text=one&dlr-mask=1&dlr-url=${dlrUrl('m1')}`),
    202, '0: Accepted for delivery', 'dlr-mask 1');
  await expect(get(`${auth}&to=79001234569&text=eight&dlr-mask=8&dlr-url=${dlrUrl('m8')}`),
    202, '0: Accepted for delivery', 'dlr-mask 8');
  await expect(get(`${auth}&to=79011234567&text=fails&dlr-mask=2&dlr-url=${dlrUrl('m2')}`),
    202, '0: Accepted for delivery', 'dlr-mask 2');
  await expect(get(`${auth}&to=79011234568&text=fails&dlr-mask=3&dlr-url=${dlrUrl('m3f')}`),
    202, '0: Accepted for delivery', 'dlr-mask 3, failing');
  await expect(get(`${auth}&to=79001234570&text=ok&dlr-mask=3&dlr-url=${dlrUrl('m3')}`),
    202, '0: Accepted for delivery', 'dlr-mask 3');
  await expect(get(`${auth}&to=79011234569&text=fails&dlr-mask=31&dlr-url=${dlrUrl('m31f')}`),
    202, '0: Accepted for delivery', 'dlr-mask 31, failing');
  await calls(out, 'm1', [1]);
  await calls(out, 'm8', [8]);
  const m2 = await calls(out, 'm2', [2]);
  if (!/stat:UNDELIV/.test(m2[0].query.A)) fail(`%A of a failed receipt: ${m2[0].query.A}`);
  await calls(out, 'm3f', [2]);
  await calls(out, 'm3', [1]);
  await calls(out, 'm31f', [2, 8]);
  console.log('ok - dlr-mask 1, 2, 3, 8, 31: only the report types asked for');

  // Several recipients in one request: one message each.
  await expect(get(`${auth}&to=79001230001+79001230002%2079001230003&text=many&dlr-mask=1` +
    `&dlr-url=${dlrUrl('multi')}`), 202, '0: Accepted for delivery', 'three recipients');
  const multi = await calls(out, 'multi', [1, 1, 1]);
  eq(multi.map((c) => c.query.p).sort(), ['+79001230001', '+79001230002', '+79001230003'],
    'one call per recipient');
  console.log('ok - several recipients separated by spaces');

  // POST as a form, and POST with the text as body and X-Kannel headers.
  await expect(request(base, 'POST', S, {
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `${auth}&to=79001234571&text=posted+form&dlr-mask=1&dlr-url=${dlrUrl('form')}`,
  }), 202, '0: Accepted for delivery', 'POST form');
  await expect(request(base, 'POST', S, {
    headers: { 'content-type': 'text/plain; charset=utf-8', 'x-kannel-username': 'kannel',
      'x-kannel-password': 's3cret pw', 'x-kannel-to': '79001234572', 'x-kannel-dlr-mask': '1',
      'x-kannel-dlr-url': decodeURIComponent(dlrUrl('xk')) },
    body: 'Привет from headers',
  }), 202, '0: Accepted for delivery', 'POST text/plain with X-Kannel headers');
  await calls(out, 'form', [1]);
  await calls(out, 'xk', [1]);
  console.log('ok - POST form body, and POST text/plain with X-Kannel-* headers');

  // UCS-2: coding=2 with UTF-8 text, and coding=2 with raw UTF-16BE (the
  // default charset of coding 2) in a form body and in a query (it holds
  // NUL octets, which the REST API still refuses in its queries).
  await expect(get(`${auth}&to=79001234576&coding=2&text=%00O%00k`), 202,
    '0: Accepted for delivery', 'coding=2, raw UTF-16BE in the query');
  const nul = await request(base, 'GET', '/v1/messages?cursor=%00',
    { headers: { authorization: `Bearer ${key}` } });
  eq(nul.status, 400, 'REST query with %00');
  await expect(get(`${auth}&to=79001234573&text=%D0%9F%D1%80%D0%B8%D0%B2%D0%B5%D1%82` +
    '&coding=2&charset=UTF-8'), 202, '0: Accepted for delivery', 'coding=2, charset UTF-8');
  await expect(request(base, 'POST', S, {
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `${auth}&to=79001234574&coding=2&text=%00H%00i%04%1F`,
  }), 202, '0: Accepted for delivery', 'coding=2, raw UTF-16BE');
  const list = await request(base, 'GET', '/v1/messages?limit=3',
    { headers: { authorization: `Bearer ${key}` } });
  const msgs = JSON.parse(list.text).data;
  eq(msgs.map((m) => [m.to, m.encoding, m.text]),
    [['+79001234574', 'ucs2', 'HiП'], ['+79001234573', 'ucs2', 'Привет'],
      ['+79001234576', 'ucs2', 'Ok']],
    'the UCS-2 messages as stored');
  console.log('ok - UCS-2 (coding=2) with UTF-8 and with UTF-16BE text');

  // An argon2id password (checked off the loop, then remembered): right,
  // wrong, right again, and several at once.
  const hashed = 'username=hashed&password=hashed+pw&to=79001234577&text=h';
  await expect(get(hashed), 202, '0: Accepted for delivery', 'argon2id password');
  await expect(get('username=hashed&password=nope&to=79001234577&text=h'), 403,
    'Authorization failed for sendsms', 'wrong argon2id password');
  await expect(get(hashed), 202, '0: Accepted for delivery', 'argon2id password again');
  const many = await Promise.all([1, 2, 3].map(() => get(hashed)));
  eq(many.map((r) => r.status), [202, 202, 202], 'argon2id password, three at once');
  console.log('ok - an account password stored as an argon2id hash');

  // Deferred: stored as scheduled, answered 3.
  await expect(get(`${auth}&to=79001234575&text=later&deferred=10`), 202,
    '3: Queued for later delivery', 'deferred');

  // Refusals, with Kannel's lines and codes; none stores anything.
  const before = JSON.parse((await request(base, 'GET', '/v1/messages?limit=100',
    { headers: { authorization: `Bearer ${key}` } })).text).data.length;
  const refusals = [
    ['username=kannel&password=wrong&to=79001234567&text=x', 403,
      'Authorization failed for sendsms'],
    ['username=nobody&password=x&to=79001234567&text=x', 403, 'Authorization failed for sendsms'],
    ['to=79001234567&text=x', 403, 'Authorization failed for sendsms'],
    [`${auth}&text=x`, 400, 'Missing receiver number, rejected'],
    [`${auth}&to=&text=x`, 400, 'Empty receiver number not allowed, rejected'],
    [`${auth}&to=79001234567`, 400, 'Empty text not allowed, rejected'],
    [`${auth}&to=abc&text=x`, 400,
      'Number(s) has/have been denied by white- and/or black-lists.'],
    [`${auth}&to=79001234567&text=x&coding=3`, 400, 'Coding field misformed, rejected'],
    [`${auth}&to=79001234567&text=x&dlr-mask=1&dlr-url=ftp://x/`, 400,
      'DLR-URL field misformed, rejected'],
    [`${auth}&to=79001234567&text=x&dlr-mask=99`, 400, 'DLR-Mask field misformed, rejected'],
    [`${auth}&to=79001234567&text=x&priority=7`, 400, 'Priority field misformed, rejected'],
    [`${auth}&to=79001234567&text=x&validity=-5`, 400, 'Validity field misformed, rejected'],
    [`${auth}&to=79001234567&text=%FF`, 400, 'Charset or body misformed, rejected'],
    [`${auth}&to=79001234567&text=x&charset=KOI8-R`, 400, 'Charset or body misformed, rejected'],
    [`${auth}&to=79001234567&text=50%zz`, 400, 'Malformed query, rejected'],
  ];
  for (const [q, status, text] of refusals)
    await expect(get(q), status, text, `GET ?${q}`);
  await expect(request(base, 'POST', S, { headers: { 'content-type': 'application/json' },
    body: '{}' }), 400, 'Invalid content-type', 'POST JSON');
  await expect(request(base, 'POST', S, { headers: { 'content-type': 'text/plain',
    'x-kannel-username': 'kannel', 'x-kannel-password': 's3cret pw' }, body: 'x' }),
  400, 'Missing receiver(s) number(s), rejected', 'POST headers without X-Kannel-To');
  const after = JSON.parse((await request(base, 'GET', '/v1/messages?limit=100',
    { headers: { authorization: `Bearer ${key}` } })).text).data.length;
  eq(after, before, 'messages stored by refused requests');
  console.log('ok - deferred answers 3; refusals answer Kannel\'s lines and store nothing');
}

// ---- the same requests to Kannel and to smsgate ---------------------------------

// Each case: [what, method, query or body, headers]; both gateways have the
// user kannel / s3cret, no default sender, and an SMSC that is up.
const compareCases = (() => {
  const auth = 'username=kannel&password=s3cret';
  const ok = `${auth}&from=1234&to=79001234567`;
  // (Kannel 1.4.5 answers a form POST "400 Invalid content-type"; smsgate
  // takes it, so it is not compared.)
  return [
    ['GET, one recipient', 'GET', `${ok}&text=hello`],
    ['GET, three recipients', 'GET', `${auth}&from=1234&to=79001234567+79001234568%2079001234569&text=hi`],
    ['GET, dlr-mask and dlr-url', 'GET', `${ok}&text=hi&dlr-mask=3&dlr-url=${encodeURIComponent('http://127.0.0.1:9/d?t=%d')}`],
    ['GET, UCS-2 with UTF-8 text', 'GET', `${ok}&text=%D0%9F%D1%80%D0%B8&coding=2&charset=UTF-8`],
    ['GET, UCS-2 text', 'GET', `${ok}&text=%04%1F%04%40&coding=2`],
    ['GET, UCS-2 text with NUL octets', 'GET', `${ok}&text=%00H%00i&coding=2`],
    ['GET, user and pass aliases', 'GET', 'user=kannel&pass=s3cret&from=1234&to=79001234567&text=x'],
    ['GET, priority, validity, mclass, account', 'GET', `${ok}&text=x&priority=2&validity=60&mclass=1&account=a1`],
    ['wrong password', 'GET', 'username=kannel&password=nope&from=1234&to=79001234567&text=x'],
    ['unknown user', 'GET', 'username=nobody&password=s3cret&to=79001234567&text=x'],
    ['no credentials', 'GET', 'to=79001234567&text=x'],
    ['no receiver', 'GET', `${auth}&from=1234&text=x`],
    ['empty receiver', 'GET', `${auth}&from=1234&to=&text=x`],
    ['no sender', 'GET', `${auth}&to=79001234567&text=x`],
    ['letters in the receiver', 'GET', `${auth}&from=1234&to=abc&text=x`],
    ['bad coding', 'GET', `${ok}&text=x&coding=3`],
    ['bad dlr-mask', 'GET', `${ok}&text=x&dlr-mask=99`],
    ['bad dlr-url', 'GET', `${ok}&text=x&dlr-mask=1&dlr-url=ftp://x/`],
    ['bad mclass', 'GET', `${ok}&text=x&mclass=5`],
    ['bad validity', 'GET', `${ok}&text=x&validity=-5`],
    ['bad deferred', 'GET', `${ok}&text=x&deferred=-5`],
    ['bad priority', 'GET', `${ok}&text=x&priority=7`],
    ['bad account', 'GET', `${ok}&text=x&account=a%5B1%5D`],
    ['malformed UDH', 'GET', `${ok}&text=x&udh=%05%00%03`],
    ['POST text/plain, X-Kannel headers', 'POST', 'body text', {
      'content-type': 'text/plain', 'x-kannel-username': 'kannel',
      'x-kannel-password': 's3cret', 'x-kannel-from': '1234', 'x-kannel-to': '79001234567' }],
    ['POST text/plain, wrong password', 'POST', 'body text', {
      'content-type': 'text/plain', 'x-kannel-username': 'kannel',
      'x-kannel-password': 'nope', 'x-kannel-from': '1234', 'x-kannel-to': '79001234567' }],
    ['POST text/plain, no receiver', 'POST', 'body text', {
      'content-type': 'text/plain', 'x-kannel-username': 'kannel',
      'x-kannel-password': 's3cret', 'x-kannel-from': '1234' }],
    ['POST JSON', 'POST', '{}', { 'content-type': 'application/json' }],
  ];
})();

async function compare(kannel, smsgate) {
  const S = '/cgi-bin/sendsms';
  let bad = 0;
  for (const [what, method, data, headers] of compareCases) {
    const one = (base) => method === 'GET' ? request(base, 'GET', `${S}?${data}`)
      : request(base, 'POST', S, { body: data, headers });
    const [k, s] = [await one(kannel), await one(smsgate)];
    const view = (r) => [r.status, r.text, (r.headers['content-type'] || '').split(';')[0]];
    if (JSON.stringify(view(k)) !== JSON.stringify(view(s))) {
      console.error(`FAIL: ${what}: Kannel ${JSON.stringify(view(k))}, ` +
        `smsgate ${JSON.stringify(view(s))}`);
      bad++;
    } else {
      console.log(`ok - ${what}: ${k.status} ${k.text}`);
    }
  }
  if (bad) fail(`${bad} of ${compareCases.length} answers differ from Kannel's`);
}

const [cmd, ...a] = process.argv.slice(2);
const run = {
  receiver: () => receiver(Number(a[0]), a[1]),
  scenarios: () => scenarios(a[0], a[1], a[2], a[3]),
  compare: () => compare(a[0], a[1]),
}[cmd];
if (!run) fail(`unknown command ${cmd}`);
Promise.resolve(run()).catch((e) => fail(e.stack || String(e)));
