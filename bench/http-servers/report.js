// bench/http-servers/report.js - the figures of bench/http-servers/run.sh.
//   report.js run NAME REP LOAD.json CLK_TCK "U0 S0" "U1 S1" "LU0 LS0" "LU1 LS1"
//             SYSCALLS LOOP_SYSCALLS RSS_KB LOAD_CPU_MS THREADS RESULTS.jsonl
//             -> one JSON line appended to RESULTS.jsonl, one text line printed
//   report.js summary results.jsonl results.json NAME...       -> the table
"use strict";
const fs = require("fs");

const pct = (sorted, p) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : 0;
const r1 = (x) => Math.round(x * 10) / 10;
const r2 = (x) => Math.round(x * 100) / 100;

function run(a) {
  const [name, rep, file, clk, p0, p1, l0, l1, scAll, scLoop, rss, loadMs, threads, results] = a;
  const l = JSON.parse(fs.readFileSync(file, "utf8"));
  const n = l.accepted || 1;
  const [u0, s0] = p0.split(" ").map(Number);
  const [u1, s1] = p1.split(" ").map(Number);
  const [lu0, ls0] = l0.split(" ").map(Number);
  const [lu1, ls1] = l1.split(" ").map(Number);
  const us = (ticks) => (ticks * 1e6) / +clk / n;
  const lat = l.msgs.map((m) => m[2]).sort((x, y) => x - y);
  const out = {
    server: name, rep: +rep, accepted: l.accepted, failed: l.failed,
    rps: Math.round(l.accepted / ((l.t1_ms - l.t0_ms) / 1000)),
    user_us: r2(us(u1 - u0)), sys_us: r2(us(s1 - s0)), cpu_us: r2(us(u1 - u0 + s1 - s0)),
    loop_user_us: r2(us(lu1 - lu0)), loop_sys_us: r2(us(ls1 - ls0)),
    loop_cpu_us: r2(us(lu1 - lu0 + ls1 - ls0)),
    syscalls: +scAll >= 0 ? r2(+scAll / n) : null,
    loop_syscalls: +scLoop >= 0 ? r2(+scLoop / n) : null,
    p50_ms: r2(pct(lat, 50)), p99_ms: r2(pct(lat, 99)),
    rss_kb: +rss, load_cpu_us: r2((+loadMs * 1000) / n), threads: +threads,
  };
  fs.appendFileSync(results, JSON.stringify(out) + "\n");
  line(out);
}

function line(r) {
  console.log(
    `  ${r.rep} ${r.server.padEnd(11)} ${r.rps}/s cpu ${r.cpu_us} us (user ${r.user_us}, sys ${r.sys_us}; ` +
      `loop ${r.loop_cpu_us}) syscalls ${r.syscalls ?? "-"} (loop ${r.loop_syscalls ?? "-"}) ` +
      `p50 ${r.p50_ms} p99 ${r.p99_ms} ms rss ${r.rss_kb} kB load ${r.load_cpu_us} us` +
      (r.failed ? ` FAILED ${r.failed}` : "")
  );
}

const COLS = [
  ["rps", "req/s", 0], ["cpu_us", "cpu us", 1], ["user_us", "user", 1], ["sys_us", "sys", 1],
  ["loop_cpu_us", "loop us", 1], ["syscalls", "sysc/req", 2], ["loop_syscalls", "loop sysc", 2],
  ["p50_ms", "p50 ms", 2], ["p99_ms", "p99 ms", 2], ["rss_kb", "rss kB", 0],
  ["load_cpu_us", "load us", 1],
];

function summary(a) {
  const [inFile, outFile, ...names] = a;
  const rows = fs.readFileSync(inFile, "utf8").split("\n").filter(Boolean).map((x) => JSON.parse(x));
  const out = { runs: rows, servers: {} };
  let failed = 0;
  for (const name of names) {
    const rs = rows.filter((r) => r.server === name);
    failed += rs.reduce((s, r) => s + r.failed, 0);
    const m = {};
    for (const [k] of COLS) {
      const v = rs.map((r) => r[k]).filter((x) => x !== null).sort((x, y) => x - y);
      if (!v.length) continue;
      m[k] = { median: v[Math.floor((v.length - 1) / 2)] * 0.5 + v[Math.ceil((v.length - 1) / 2)] * 0.5,
        min: v[0], max: v[v.length - 1] };
    }
    m.runs = rs.length;
    out.servers[name] = m;
  }
  const base = out.servers[names[0]];
  const fmt = (x, d) => (x === undefined ? "-" : x.toFixed(d));
  console.log(`median of ${base.runs} runs [min-max]; ratio: median / ${names[0]}'s median`);
  for (const [k, label, d] of COLS) {
    if (!base[k]) continue;
    console.log(`${label}:`);
    for (const name of names) {
      const v = out.servers[name][k];
      if (!v) continue;
      const ratio = base[k].median ? v.median / base[k].median : 0;
      console.log(`  ${name.padEnd(11)} ${fmt(v.median, d).padStart(8)} [${fmt(v.min, d)}-${fmt(v.max, d)}]` +
        `  x${ratio.toFixed(2)}`);
    }
  }
  fs.writeFileSync(outFile, JSON.stringify(out, null, 1));
  if (failed) {
    console.error(`http-servers: ${failed} requests failed`);
    process.exit(1);
  }
}

const [cmd, ...args] = process.argv.slice(2);
if (cmd === "run") run(args);
else if (cmd === "summary") summary(args);
else {
  console.error("usage: report.js run|summary ...");
  process.exit(2);
}
