// Helpers of ssrf.sh: a listener that counts TCP connections, and a
// redirector.
//
//   node ssrf.js listen PORT COUNT_FILE [REDIRECT_URL]
// listens on 127.0.0.1:PORT and, when the host has IPv6, [::1]:PORT;
// appends one line to COUNT_FILE per connection accepted; answers every
// request 200, or 302 to REDIRECT_URL when given.
'use strict';
const fs = require('fs');
const http = require('http');

const [cmd, port, countFile, redirect] = process.argv.slice(2);
if (cmd !== 'listen') process.exit(2);
function serve(host) {
  const s = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (redirect) res.writeHead(302, { Location: redirect });
      else res.writeHead(200);
      res.end();
    });
  });
  s.on('connection', (c) =>
    fs.appendFileSync(countFile, `${host} ${c.remoteAddress}\n`));
  s.on('error', (e) => { if (host === '127.0.0.1') throw e; });
  s.listen(Number(port), host, () => console.log(`listening on ${host}:${port}`));
}
fs.writeFileSync(countFile, '');
serve('127.0.0.1');
serve('::1');
