// inbound_rules.js - the node side of tests/integration/inbound_rules.sh: an
// HTTP receiver for inbound webhooks and rules' URL actions, and small REST
// helpers the script calls.
//
//   node inbound_rules.js receiver PORT SECRET OUT   every request -> OUT as
//       a JSON line {method, url, verified, body}; answers by path:
//         /hook  the account's webhook: {"reply": "Got it"} to a text that
//                starts with ASK, else {}
//         /mo    text/plain "Погода: +5 °C" (a reply in the body)
//         /fail  503 to its first two requests, then text/plain "late"
//         /post  {"reply": "posted"} (JSON, to a signed POST)
//   node inbound_rules.js wait OUT PREFIX N TIMEOUT_S  waits for N requests
//       whose URL starts with PREFIX; prints them (a JSON array)
//   node inbound_rules.js api BASE KEY METHOD PATH [JSON]  one request;
//       prints "STATUS BODY"
'use strict';
const http = require('http');
const crypto = require('crypto');
const fs = require('fs');

const [, , cmd, ...args] = process.argv;

function receiver(port, secret, out) {
  let fails = 0;
  const srv = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const want = 'sha256=' +
        crypto.createHmac('sha256', secret).update(raw).digest('hex');
      const got = req.headers['x-smsgate-signature'] || '';
      const verified = got.length === want.length &&
        crypto.timingSafeEqual(Buffer.from(got), Buffer.from(want));
      let body = null;
      try { body = JSON.parse(raw.toString('utf8')); } catch (e) { /* null */ }
      fs.appendFileSync(out, JSON.stringify({ method: req.method, url: req.url,
        verified, signed: got !== '', body }) + '\n');
      const path = req.url.split('?')[0];
      const text = (ct, s) => { res.writeHead(200, { 'content-type': ct }); res.end(s); };
      if (path === '/hook') {
        const t = body && typeof body.text === 'string' ? body.text : '';
        text('application/json', JSON.stringify(t.startsWith('ASK') ? { reply: 'Got it' } : {}));
      } else if (path === '/mo') {
        text('text/plain; charset=utf-8', 'Погода: +5 °C\n');
      } else if (path === '/fail' && ++fails <= 2) {
        res.writeHead(503);
        res.end('busy');
      } else if (path === '/fail') {
        text('text/plain', 'late');
      } else if (path === '/post') {
        text('application/json', JSON.stringify({ reply: 'posted' }));
      } else {
        res.writeHead(404);
        res.end();
      }
    });
  });
  srv.listen(Number(port), '127.0.0.1', () => console.log('receiver listening'));
  process.on('SIGTERM', () => srv.close(() => process.exit(0)));
}

async function wait(out, prefix, n, timeoutS) {
  const end = Date.now() + Number(timeoutS) * 1000;
  for (;;) {
    const lines = fs.existsSync(out)
      ? fs.readFileSync(out, 'utf8').split('\n').filter(Boolean) : [];
    const hits = lines.map((l) => JSON.parse(l)).filter((h) => h.url.startsWith(prefix));
    if (hits.length >= Number(n)) {
      console.log(JSON.stringify(hits));
      return 0;
    }
    if (Date.now() > end) {
      console.log(JSON.stringify(hits));
      return 1;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

function api(base, key, method, path, json) {
  const u = new URL(path, base);
  const data = json !== undefined ? Buffer.from(json) : null;
  const headers = { authorization: 'Bearer ' + key };
  if (data) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = data.length;
  }
  const r = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search,
    method, headers }, (res) => {
    const c = [];
    res.on('data', (x) => c.push(x));
    res.on('end', () => console.log(res.statusCode + ' ' + Buffer.concat(c).toString('utf8')));
  });
  r.on('error', (e) => console.log('000 ' + e.message));
  if (data) r.write(data);
  r.end();
}

if (cmd === 'receiver') receiver(...args);
else if (cmd === 'wait') wait(...args).then((rc) => process.exit(rc));
else if (cmd === 'api') api(...args);
else { console.error('unknown command ' + cmd); process.exit(2); }
