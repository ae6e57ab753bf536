// helpers.js - shared by the interoperability tests (*.test.js): the
// expected octets of texts, computed here from the tables of 3GPP TS 23.038
// (not by node-smpp nor by smsgate), a way to see the raw octets node-smpp
// read before its text filters ran, child processes that are always
// cleaned up, and the gateway's store on SQLite or PostgreSQL.
'use strict';

const assert = require('node:assert/strict');
const { spawn, execFileSync } = require('node:child_process');
const path = require('node:path');
const smpp = require('smpp');

// GSM 7-bit default alphabet (TS 23.038 6.2.1) for the characters the tests
// use: ASCII letters, digits and punctuation that keep their code, the ones
// that move, and the extension table (escape 0x1B, 6.2.1.1).
const GSM_MOVED = new Map([
  ['@', 0x00], ['£', 0x01], ['$', 0x02], ['\n', 0x0a], ['_', 0x11],
]);
const GSM_EXT = new Map([
  ['\f', 0x0a], ['^', 0x14], ['{', 0x28], ['}', 0x29], ['\\', 0x2f],
  ['[', 0x3c], ['~', 0x3d], [']', 0x3e], ['|', 0x40], ['€', 0x65],
]);
const GSM_SAME = /^[A-Za-z0-9 !"#%&'()*+,\-./:;<=>?]$/;

// Unpacked septets, one per octet, as SMPP carries data_coding 0.
function gsmSeptets(text) {
  const out = [];
  for (const ch of text) {
    if (GSM_MOVED.has(ch)) out.push(GSM_MOVED.get(ch));
    else if (GSM_EXT.has(ch)) out.push(0x1b, GSM_EXT.get(ch));
    else if (GSM_SAME.test(ch)) out.push(ch.charCodeAt(0));
    else throw new Error('not in the test GSM table: ' + JSON.stringify(ch));
  }
  return Buffer.from(out);
}

// UTF-16BE, as SMPP carries data_coding 8 (UCS-2 with surrogates).
function ucs2(text) {
  return Buffer.from(text, 'utf16le').swap16();
}

// node-smpp decodes short_message and message_payload through its text
// filters (GSM / UCS-2 to a string, UDH split off). To check the octets
// too, keep what its PDU reader had read just before those filters ran:
// pdu.raw.short_message and pdu.raw.message_payload (Buffers).
let rawHooked = false;
function keepRawOctets() {
  if (rawHooked) return;
  rawHooked = true;
  const filter = smpp.PDU.prototype._filter;
  smpp.PDU.prototype._filter = function (func) {
    if (func === 'decode') {
      Object.defineProperty(this, 'raw', {
        value: {
          short_message: this.short_message,
          message_payload: this.message_payload,
        },
        enumerable: false,
      });
    }
    return filter.call(this, func);
  };
}

// The concatenation UDH of TS 23.040 9.2.3.24.1 (8-bit reference).
function concatUdh(ref, total, seq) {
  return Buffer.from([0x05, 0x00, 0x03, ref, total, seq]);
}

// Asserts that node-smpp split this UDH off as one concatenation IE.
function assertConcatUdh(decoded, ref, total, seq) {
  assert.ok(Array.isArray(decoded.udh), 'UDH split off');
  assert.equal(decoded.udh.length, 1, 'one IE');
  assert.deepEqual([...decoded.udh[0]], [0x00, 0x03, ref, total, seq]);
}

// A child process killed (SIGKILL) by killAll() if still running.
const children = new Set();

function start(cmd, args, opts = {}) {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], ...opts });
  children.add(child);
  child.stdoutText = '';
  child.stderrText = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (d) => { child.stdoutText += d; });
  child.stderr.on('data', (d) => { child.stderrText += d; });
  child.exited = new Promise((resolve) => {
    child.on('close', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    });
  });
  return child;
}

// Resolves with the child's {code, signal} once it has exited, or with null
// after ms. The timer is cleared at once: a pending one would keep node
// (and the test file) alive until it fires.
async function exitWithin(child, ms) {
  let timer;
  const late = new Promise((resolve) => { timer = setTimeout(resolve, ms, null); });
  try {
    return await Promise.race([child.exited, late]);
  } finally {
    clearTimeout(timer);
  }
}

function killAll() {
  for (const c of children) c.kill('SIGKILL');
}

// Runs a command to its end; rejects after ms (and kills it).
async function run(cmd, args, ms) {
  const child = start(cmd, args);
  child.stdin.end();
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${args.join(' ')}: no exit within ${ms} ms\n` +
                       child.stderrText));
    }, ms);
  });
  try {
    const { code } = await Promise.race([child.exited, timeout]);
    return { code, stdout: child.stdoutText, stderr: child.stderrText };
  } finally {
    clearTimeout(timer);
  }
}

// Resolves with the first line of the child's stdout that matches re
// (polling its output as it comes, never a fixed sleep); rejects when the
// child exits first or after ms.
function waitForLine(child, re, ms, from = 0) {
  return new Promise((resolve, reject) => {
    const lines = () => child.stdoutText.slice(from).split('\n');
    const check = () => {
      const all = lines();
      for (let i = 0; i < all.length - 1; i++) {
        const m = all[i].match(re);
        if (m) {
          done();
          resolve(m);
          return true;
        }
      }
      return false;
    };
    const onExit = () => {
      done();
      reject(new Error(`exited before ${re}: ${child.stderrText}`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`no ${re} within ${ms} ms: ${child.stdoutText}`));
    }, ms);
    function done() {
      clearTimeout(timer);
      child.stdout.off('data', check);
      child.off('close', onExit);
    }
    if (check()) return;
    child.stdout.on('data', check);
    child.on('close', onExit);
  });
}

// Resolves when cond() holds, checked on every event named ev of emitter;
// rejects after ms with what().
function until(emitter, ev, cond, ms, what) {
  return new Promise((resolve, reject) => {
    if (cond()) return resolve();
    const timer = setTimeout(() => {
      emitter.off(ev, check);
      reject(new Error('timed out waiting for ' + what()));
    }, ms);
    function check() {
      if (!cond()) return;
      clearTimeout(timer);
      emitter.off(ev, check);
      resolve();
    }
    emitter.on(ev, check);
  });
}

// The configuration's store: line for a gateway named name: a SQLite file
// in dir, or, with SG_TEST_STORE_URL set to a postgres:// URL (ctest's
// interop-pg/<name>, scripts/pg-test.sh), a fresh database on that server,
// dropped by dropStores().
const stores = [];

function psql(base, sql) {
  execFileSync('psql', ['-q', '-X', `${base}/postgres`, '-c', sql], {
    env: { ...process.env, PGOPTIONS: '-c client_min_messages=warning' },
  });
}

function storeLine(dir, name) {
  const url = process.env.SG_TEST_STORE_URL || '';
  if (!/^postgres(ql)?:\/\//.test(url))
    return `store: {path: ${path.join(dir, 'smsgate.db')}}`;
  const base = url.replace(/\/[^/]*$/, '');
  const db = `sg_${name}_${process.pid}_${stores.length}`;
  psql(base, `DROP DATABASE IF EXISTS ${db}`);
  psql(base, `CREATE DATABASE ${db}`);
  stores.push({ base, db });
  return `store: {driver: postgres, url: "${base}/${db}"}`;
}

// Drops every database storeLine made (WITH FORCE: a gateway killed a
// moment ago may still hold a connection the server has not seen end).
function dropStores() {
  for (const { base, db } of stores.splice(0))
    psql(base, `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
}

module.exports = {
  gsmSeptets, ucs2, keepRawOctets, concatUdh, assertConcatUdh,
  start, exitWithin, killAll, run, waitForLine, until, storeLine, dropStores,
};
