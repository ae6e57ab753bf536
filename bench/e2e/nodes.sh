#!/usr/bin/env bash
# Several smsgate nodes on one PostgreSQL database against one node on
# SQLite, in one run on this machine (docs/scaling.md "How far it goes"):
# bench/e2e/run.sh with NODES=1, 2, 3 ... on a fresh database each, then on
# SQLite, and one line per configuration:
#
#   store      nodes  accepted/s  delivered/s  sent p99  delivered p99
#              smsgate us/msg  postgres us/msg
#
# The PostgreSQL server is a private one started for the run
# (scripts/pg-test.sh, stopped at the end), so that its CPU (the server and
# its backends) is measured too; PG_URL=postgres://.../db (or
# SG_TEST_PG_URL, as CTest's bench-smoke/e2e-nodes sets it) uses a running
# server instead, where each run gets a database of its own (its CPU is
# then not shown). The load is the same N for every configuration, split
# over the nodes' REST ports. It fails when a run did not deliver every
# accepted message.
#
# usage: bench/e2e/nodes.sh [path/to/smsgate]   (default: ./build/smsgate)
# env:   N=3000 C=48 NODE_COUNTS="1 2 3" SQLITE=1 PG_URL= and run.sh's
set -u
BIN=${1:-./build/smsgate}
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
N=${N:-3000}
C=${C:-48}
NODE_COUNTS=${NODE_COUNTS:-1 2 3}
SQLITE=${SQLITE:-1}
PG_URL=${PG_URL:-${SG_TEST_PG_URL:-}}
T=$(mktemp -d "${TMPDIR:-/tmp}/smsgate-nodes.XXXXXX")
PG_DIR=

cleanup() {
  [ -n "$PG_DIR" ] && bash "$HERE/../../scripts/pg-test.sh" stop "$PG_DIR" >/dev/null 2>&1
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
  echo "bench: $*" >&2
  exit 1
}

command -v psql >/dev/null || die "psql is not installed (scripts/deps.sh)"
PG_PID=
if [ -z "$PG_URL" ]; then
  chmod 755 "$T" # the server may run as another user (pg-test.sh)
  PG_DIR=$T/pg
  PG_URL=$(bash "$HERE/../../scripts/pg-test.sh" start "$PG_DIR") || die "cannot start PostgreSQL"
  PG_PID=$(head -1 "$(cat "$PG_DIR/cluster")/data/postmaster.pid")
fi
BASE=${PG_URL%/*}
# PGOPTIONS given to the run reach every smsgate node too (libpq reads it).
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"

# field FILE REGEX: the first number after REGEX in a run's output.
field() { sed -n "s/.*$2[^0-9]*\([0-9][0-9.]*\).*/\1/p" "$1" | head -1; }

summary() { # label nodes output-file
  local f=$3
  printf '%-10s %5s %11s %12s %9s %14s %15s %16s\n' "$1" "$2" \
    "$(field "$f" ' = ')" "$(field "$f" 'receipts ')" \
    "$(sed -n 's/^POST -> sent: .*p99 \([0-9]*\) ms.*/\1/p' "$f") ms" \
    "$(sed -n 's/^POST -> delivered: .*p99 \([0-9]*\) ms.*/\1/p' "$f") ms" \
    "$(sed -n 's/.*smsgate [0-9]* (\([0-9]*\) us\/message).*/\1/p' "$f")" \
    "$(sed -n 's/^postgres cpu.*(\([0-9]*\) us\/message).*/\1/p' "$f")"
}

# check FILE: every message accepted, delivered and its webhook received.
check() {
  tail -1 "$1" | node -e 'let b = ""; process.stdin.on("data", (c) => b += c);
    process.stdin.on("end", () => { const r = JSON.parse(b);
      process.exit(r.accepted === r.n && r.delivered === r.accepted &&
        r.webhooks_delivered === r.accepted ? 0 : 1); });'
}

echo "smsgate nodes: N=$N C=$C ($(nproc) cores, $(uname -r))"
results=()
for k in $NODE_COUNTS; do
  db=sg_bench_nodes_$$_$k
  psql -q "$BASE/postgres" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" ||
    die "cannot create database $db"
  echo "--- postgres, $k node(s)"
  N=$N C=$C NODES=$k STORE_URL=$BASE/$db PG_PID=$PG_PID bash "$HERE/run.sh" "$BIN" |
    tee "$T/pg$k.out"
  [ "${PIPESTATUS[0]}" = 0 ] || die "run with $k node(s) failed"
  check "$T/pg$k.out" || die "$k node(s): not every message was accepted and delivered"
  psql -q "$BASE/postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"
  results+=("postgres $k $T/pg$k.out")
done
if [ "$SQLITE" = 1 ]; then
  echo "--- sqlite, 1 node"
  N=$N C=$C bash "$HERE/run.sh" "$BIN" | tee "$T/sqlite.out"
  [ "${PIPESTATUS[0]}" = 0 ] || die "the SQLite run failed"
  check "$T/sqlite.out" || die "SQLite: not every message was accepted and delivered"
  results+=("sqlite 1 $T/sqlite.out")
fi
echo
printf '%-10s %5s %11s %12s %9s %14s %15s %16s\n' store nodes accepted/s delivered/s \
  "sent p99" "delivered p99" "smsgate us/msg" "postgres us/msg"
for r in "${results[@]}"; do
  # shellcheck disable=SC2086
  summary $r
done
