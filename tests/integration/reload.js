// Helpers of reload.sh (the configuration reload test).
//
//   node reload.js send BASE KEY OUT STOPFILE
//       Posts messages without pause, 4 at a time, until STOPFILE exists;
//       each with its own Idempotency-Key, retried with the same key on
//       429, 503 or a lost connection, so each accepted message is written
//       to OUT (one id a line) exactly once. Prints the counts at the end.
//   node reload.js check BASE KEY IDS SECONDS
//       Waits until every message of IDS is delivered; prints the counts
//       and exits 1 when one is not delivered in time.
"use strict";
const http = require("http");
const fs = require("fs");

function req(base, key, method, path, body, headers) {
  return new Promise((resolve) => {
    const u = new URL(base + path);
    const r = http.request({hostname: u.hostname, port: u.port, path: u.pathname,
      method, headers: Object.assign({"Authorization": "Bearer " + key,
        "Content-Type": "application/json"}, headers || {})}, (res) => {
      let b = "";
      res.on("data", (c) => (b += c));
      res.on("end", () => resolve({status: res.statusCode, body: b}));
    });
    r.on("error", () => resolve({status: 0, body: ""}));
    if (body) r.write(body);
    r.end();
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function send(base, key, out, stop) {
  const fd = fs.openSync(out, "a");
  let n = 0, accepted = 0, retries = 0;
  const to = ["+79001234567", "+79101234567", "+79161234567"];
  async function worker(w) {
    while (!fs.existsSync(stop)) {
      const i = n++;
      const body = JSON.stringify({to: to[i % to.length], text: "reload " + i});
      const idem = "reload-" + process.pid + "-" + i;
      for (;;) {
        const r = await req(base, key, "POST", "/v1/messages", body,
          {"Idempotency-Key": idem});
        if (r.status === 202) {
          fs.writeSync(fd, JSON.parse(r.body).messages[0].id + "\n");
          accepted++;
          break;
        }
        if (r.status !== 429 && r.status !== 503 && r.status !== 0) {
          console.error("send: HTTP " + r.status + " " + r.body);
          process.exit(1);
        }
        retries++;
        await sleep(20);
      }
      await sleep(5);
    }
  }
  await Promise.all([0, 1, 2, 3].map(worker));
  fs.closeSync(fd);
  console.log(JSON.stringify({accepted, retries}));
}

async function check(base, key, ids, secs) {
  const list = fs.readFileSync(ids, "utf8").split("\n").filter((x) => x);
  const end = Date.now() + secs * 1000;
  const left = new Set(list);
  let last = {};
  while (left.size > 0 && Date.now() < end) {
    for (const id of [...left]) {
      const r = await req(base, key, "GET", "/v1/messages/" + id);
      if (r.status !== 200) continue;
      const d = JSON.parse(r.body);
      last[id] = d.status;
      if (d.status === "delivered") left.delete(id);
    }
    if (left.size > 0) await sleep(200);
  }
  console.log(JSON.stringify({messages: list.length, delivered: list.length - left.size}));
  if (left.size > 0) {
    for (const id of [...left].slice(0, 5)) console.error("not delivered: " + id + " " + last[id]);
    process.exit(1);
  }
}

const [cmd, ...a] = process.argv.slice(2);
if (cmd === "send") send(a[0], a[1], a[2], a[3]);
else if (cmd === "check") check(a[0], a[1], a[2], Number(a[3]));
else { console.error("usage: reload.js send|check ..."); process.exit(2); }
