#!/usr/bin/env bash
# `smsgate serve` with `store: {driver: postgres, url: ...}` on the private
# PostgreSQL server of the CTest fixture pg (scripts/pg-test.sh): the
# gateway connects and migrates a fresh database, and, since the PostgreSQL
# store does not run every request kind the gateway needs yet, refuses to
# start with an error that names them (never serving wrong answers); a
# server that is not there is a clear store error too. Needs the fixture's
# URL in $SG_TEST_PG_URL or BUILD_DIR/pgtest/url; fails without it.
set -u
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib/common.bash"
sg_test_init pg_serve

URL=${SG_TEST_PG_URL:-$(cat "$(dirname "$BIN")/pgtest/url" 2>/dev/null)}
[ -n "$URL" ] || fail "no PostgreSQL server: run the pg/start fixture (scripts/pg-test.sh)"
command -v psql >/dev/null || fail "psql is not installed"
export PGOPTIONS="-c client_min_messages=warning"
DB=sg_serve_$$
psql -q "$URL" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" ||
  fail "cannot create database $DB"
trap 'psql -q "$URL" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1; sg_test_cleanup' EXIT
DBURL=${URL%/*}/$DB

read -r HTTP <<<"$(free_ports 1)"
cat >"$T/gw.yaml" <<YAML
store: {driver: postgres, url: "$DBURL"}
http: {listen: 127.0.0.1:$HTTP}
accounts:
  - {name: acme, api_key: acme-key}
log: {level: info}
YAML

timeout 30 "$BIN" serve -c "$T/gw.yaml" >"$T/gw.log" 2>&1
rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ] || fail "serve on postgres exited $rc, want a refusal"
grep -q "driver postgres does not run these store requests yet: .*inrules_read" "$T/gw.log" ||
  fail "no error naming the missing store requests"
grep -q "$DBURL" "$T/gw.log" && fail "the log shows the database URL"
# It did connect and migrate: the schema is there, at the newest version.
v=$(psql -At "$DBURL" -c "SELECT max(version) FROM schema_version") || fail "no schema_version"
last=$(ls "$HERE/../../src/store/migrations/postgres" | sed -n 's/^0*\([0-9]*\)_.*/\1/p' | sort -n | tail -1)
[ "$v" = "$last" ] || fail "schema version $v, want $last"

# Nothing listens on port 1: a store error, not a hang.
sed -i "s|url: \"$DBURL\"|url: \"postgres://127.0.0.1:1/x?connect_timeout=2\"|" "$T/gw.yaml"
timeout 30 "$BIN" serve -c "$T/gw.yaml" >"$T/gw2.log" 2>&1
rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ] || fail "serve without a server exited $rc"
grep -q "store postgres: store: cannot connect to PostgreSQL" "$T/gw2.log" ||
  fail "no clear error without a server: $(cat "$T/gw2.log")"
echo "PASS pg_serve"
