// smpp_start.test.js - smsgate's SMPP server listens at start, before the
// configured accounts' passwords are hashed with argon2id (seconds for a
// few accounts on a loaded machine): a bind that comes while the hashes
// are being made is checked against the configured password, and gets
// the answer the hash gives later (right password bound, wrong one and
// unknown system_id alike ESME_RINVPASWD, so that a bind never tells
// whether a system_id exists). The order is checked
// from the log, never a duration: the listener's line comes before the
// line that says the passwords are hashed; after it, the same binds get
// the same answers through argon2id.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const smpp = require('smpp');
const { start, killAll, storeLine, dropStores } = require('./helpers');

const SMSGATE = process.env.SMSGATE;
const ESME_ROK = 0x00;
const ESME_RINVPASWD = 0x0e;
const N_ACCOUNTS = 4;

const gw = { dir: null, child: null, smppPort: 0 };
const sessions = new Set();

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = () => gw.child.stdoutText + gw.child.stderrText;

async function poll(fn, ms, what) {
  const end = Date.now() + ms;
  for (;;) {
    if (gw.child.exitCode !== null) assert.fail('smsgate exited: ' + log());
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) assert.fail('timed out waiting for ' + what);
    await sleep(10);
  }
}

function portOpen() {
  return new Promise((resolve) => {
    const c = net.connect(gw.smppPort, '127.0.0.1');
    c.on('connect', () => { c.destroy(); resolve(true); });
    c.on('error', () => resolve(false));
  });
}

// The command_status of a bind_transceiver (the session closed after).
function bindStatus(systemId, password) {
  return new Promise((resolve, reject) => {
    const s = smpp.connect({ url: `smpp://127.0.0.1:${gw.smppPort}`,
                             auto_enquire_link_period: 0 });
    sessions.add(s);
    s.on('error', reject);
    s.on('connect', () => {
      s.bind_transceiver({ system_id: systemId, password }, (pdu) => {
        s.destroy();
        sessions.delete(s);
        resolve(pdu.command_status);
      });
    });
  });
}

async function binds() {
  return Promise.all([
    bindStatus('c1', 'pw1'),
    bindStatus('c2', 'wrong'),
    bindStatus(`c${N_ACCOUNTS}`, `pw${N_ACCOUNTS}`),
    bindStatus('c3', 'pw1'), // another account's password
    bindStatus('c4', ''),
    bindStatus('nobody', 'pw1'),
  ]);
}
const WANT = [ESME_ROK, ESME_RINVPASWD, ESME_ROK, ESME_RINVPASWD,
              ESME_RINVPASWD, ESME_RINVPASWD];

before(async () => {
  assert.ok(SMSGATE, 'SMSGATE is the path of the smsgate binary');
  gw.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smsgate-smpp-start-'));
  const httpPort = await freePort();
  const simPort = await freePort();
  gw.smppPort = await freePort();
  const accounts = [];
  for (let i = 1; i <= N_ACCOUNTS; i++) {
    accounts.push(`  - {name: c${i}, api_key: k${i}, default_region: RU,` +
                  ` smpp: {system_id: c${i}, password: pw${i}}}`);
  }
  const file = path.join(gw.dir, 'smsgate.yaml');
  fs.writeFileSync(file, [
    storeLine(gw.dir, 'smpp_start'),
    `http: {listen: 127.0.0.1:${httpPort}, web: false}`,
    `simulator: {listen: 127.0.0.1:${simPort}}`,
    'accounts:', ...accounts,
    'connectors:',
    `  - {name: operator, type: smpp, host: 127.0.0.1, port: ${simPort},`,
    '     system_id: smsgate, password: secret}',
    'routes:',
    '  - {prefix: "+", connectors: [operator]}',
    `smpp_server: {listen: 127.0.0.1:${gw.smppPort}, bind_fail_delay: 0ms,`,
    '              bind_fail_max: 100}',
    'log: {level: info}',
    '',
  ].join('\n'));
  gw.child = start(SMSGATE, ['serve', '-c', file]);
  gw.child.stdin.end();
});

after(async () => {
  for (const s of sessions) s.destroy();
  if (gw.child && gw.child.exitCode === null) {
    gw.child.kill('SIGTERM');
    await gw.child.exited;
  }
  killAll();
  dropStores();
  if (gw.dir) fs.rmSync(gw.dir, { recursive: true, force: true });
});

test('binds are answered rightly as soon as the server listens', async () => {
  await poll(portOpen, 60000, 'the SMPP port');
  const early = await binds();
  const hashedYet = /password\(s\) hashed/.test(log());
  assert.deepEqual(early, WANT, 'binds while the hashes are made' +
                   (hashedYet ? ' (they were ready already)' : ''));
  await poll(() => /smpp server: \d+ configured password\(s\) hashed/.test(log()),
             120000, 'the hashes');
  const l = log();
  const listening = l.indexOf('SMPP server listening on');
  const hashed = l.search(new RegExp(`smpp server: ${N_ACCOUNTS} configured password\\(s\\) hashed`));
  assert.ok(listening >= 0, 'the listener is logged: ' + l);
  assert.ok(hashed > listening, 'listening before the hashes are ready: ' + l);
  assert.deepEqual(await binds(), WANT, 'the same binds through argon2id');
});
