// inbound.js - the node side of tests/integration/inbound.sh: an inbound
// webhook receiver that checks signatures and answers with replies, and
// small REST helpers the script calls.
//
//   node inbound.js receiver PORT SECRET OUT   inbound webhooks -> OUT (JSON
//       lines {verified, body}); a text starting with "ASK" is answered
//       200 {"reply": "Got: <text>"}, anything else 200 {}
//   node inbound.js hook OUT FROM TIMEOUT_S    waits for the webhook of a
//       message from FROM; prints its body (JSON) and whether it was signed
//   node inbound.js api BASE KEY METHOD PATH [JSON]  one request; prints
//       "STATUS BODY"
'use strict';
const http = require('http');
const crypto = require('crypto');
const fs = require('fs');

const [, , cmd, ...args] = process.argv;

function receiver(port, secret, out) {
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
      try { body = JSON.parse(raw.toString('utf8')); } catch (e) { /* kept null */ }
      fs.appendFileSync(out, JSON.stringify({ verified, body }) + '\n');
      const text = body && typeof body.text === 'string' ? body.text : '';
      const answer = text.startsWith('ASK') ? { reply: 'Got: ' + text.slice(4) } : {};
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer));
    });
  });
  srv.listen(Number(port), '127.0.0.1', () => console.log('receiver listening'));
  process.on('SIGTERM', () => srv.close(() => process.exit(0)));
}

async function hook(out, from, timeoutS) {
  const end = Date.now() + Number(timeoutS) * 1000;
  for (;;) {
    const lines = fs.existsSync(out)
      ? fs.readFileSync(out, 'utf8').split('\n').filter(Boolean) : [];
    for (const l of lines) {
      const h = JSON.parse(l);
      if (h.body && h.body.from === from) {
        console.log(JSON.stringify(h));
        return 0;
      }
    }
    if (Date.now() > end) return 1;
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
    res.on('end', () => {
      console.log(res.statusCode + ' ' + Buffer.concat(c).toString('utf8'));
    });
  });
  r.on('error', (e) => { console.log('000 ' + e.message); });
  if (data) r.write(data);
  r.end();
}

if (cmd === 'receiver') receiver(...args);
else if (cmd === 'hook') hook(...args).then((rc) => process.exit(rc));
else if (cmd === 'api') api(...args);
else { console.error('unknown command ' + cmd); process.exit(2); }
