// node-client.js - the peer bench_smpp is compared with: node-smpp's client
// (the npm package `smpp`, from tests/interop/node_modules) sending
// submit_sm to the same simulator with the same window, message and
// measurement as bench_smpp.c: keep `window` requests in flight, count
// ESME_ROK answers for `seconds` after `warmup` seconds.
//
//   node node-client.js --port P [--host H] [--window W] [--seconds S]
//                       [--warmup S] [--json]
'use strict';

const path = require('path');
const smpp = require(path.join(__dirname, '..', '..', 'tests', 'interop',
                               'node_modules', 'smpp'));

function parseArgs(argv) {
  const o = {host: '127.0.0.1', port: 0, window: 100, seconds: 3,
             warmup: 0.5, json: false};
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') { o.json = true; continue; }
    const v = argv[++i];
    if (v === undefined) throw new Error('missing value for ' + a);
    if (a === '--host') o.host = v;
    else if (a === '--port') o.port = Number(v);
    else if (a === '--window') o.window = Number(v);
    else if (a === '--seconds') o.seconds = Number(v);
    else if (a === '--warmup') o.warmup = Number(v);
    else throw new Error('unknown option ' + a);
  }
  if (!(o.port > 0) || !(o.window > 0)) throw new Error('bad arguments');
  return o;
}

function main() {
  const o = parseArgs(process.argv);
  // TCP_NODELAY as smsgate's link sets it, so that window 1 measures the
  // round trip and not Nagle's algorithm.
  const session = smpp.connect({host: o.host, port: o.port, noDelay: true});
  let ok = 0, failed = 0, startOk = 0, start = 0n, end = 0n;
  let measuring = false, done = false, inFlight = 0;

  function send() {
    inFlight++;
    session.submit_sm({
      source_addr_ton: 5,
      source_addr: 'SMSGATE',
      dest_addr_ton: 1,
      dest_addr_npi: 1,
      destination_addr: '447700900123',
      short_message: 'Hello from the smsgate benchmark',
    }, (pdu) => {
      inFlight--;
      if (pdu.command_status === 0) ok++; else failed++;
      if (!done) send();
      else if (inFlight === 0) session.close();
    });
  }

  session.on('error', (e) => {
    console.error('node-client: ' + e.message);
    process.exit(1);
  });
  session.on('connect', () => {
    session.bind_transceiver({system_id: 'bench', password: 'bench'},
                             (pdu) => {
      if (pdu.command_status !== 0) {
        console.error('node-client: bind failed ' + pdu.command_status);
        process.exit(1);
      }
      for (let i = 0; i < o.window; i++) send();
      setTimeout(() => {
        measuring = true;
        startOk = ok;
        start = process.hrtime.bigint();
        setTimeout(() => {
          end = process.hrtime.bigint();
          done = true;
          const secs = Number(end - start) / 1e9;
          const n = ok - startOk;
          const rate = n / secs;
          if (o.json)
            console.log(JSON.stringify({client: 'node-smpp', window: o.window,
                                        seconds: Number(secs.toFixed(3)),
                                        sent: n, failed: failed,
                                        submit_sm_per_s: Math.round(rate)}));
          else
            console.log(`node-smpp window ${o.window}: ${Math.round(rate)} ` +
                        `submit_sm/s (${n} in ${secs.toFixed(2)} s)`);
        }, o.seconds * 1000);
      }, o.warmup * 1000);
    });
  });
  session.on('close', () => process.exit(measuring && done ? 0 : 1));
}

main();
