#!/usr/bin/env bash
# `smsgate serve` with `store: {driver: postgres, url: ...}` on the private
# PostgreSQL server of the CTest fixture pg (scripts/pg-test.sh): the
# gateway connects and migrates a fresh database, starts (the PostgreSQL
# store runs every request kind the gateway needs), takes a message and
# shows it, and stops; its log never shows the database URL; a server that
# is not there is a clear store error. Needs the fixture's URL in
# $SG_TEST_PG_URL or BUILD_DIR/pgtest/url; fails without it.
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

read -r HTTP SIM <<<"$(free_ports 2)"
cat >"$T/gw.yaml" <<YAML
store: {driver: postgres, url: "$DBURL"}
http: {listen: 127.0.0.1:$HTTP}
simulator: {listen: 127.0.0.1:$SIM, dlr_delay: 50ms}
accounts:
  - {name: acme, api_key: acme-key}
connectors:
  - {name: operator, type: smpp, host: 127.0.0.1, port: $SIM, system_id: smsgate,
     password: secret}
routes:
  - {prefix: "+", connectors: [operator]}
log: {level: info}
YAML

"$BIN" serve -c "$T/gw.yaml" >"$T/gw.log" 2>&1 &
PIDS+=($!)
GW=$!
wait_http "http://127.0.0.1:$HTTP/healthz" '"status":"ok"' 30 || fail "serve on postgres did not start"
grep -q "does not run these store requests" "$T/gw.log" && fail "a store request kind is missing"
out=$(curl -s -H "Authorization: Bearer acme-key" -H "Content-Type: application/json" \
  -d '{"to":"+79990000001","from":"smsgate","text":"hello postgres"}' "http://127.0.0.1:$HTTP/v1/messages") ||
  fail "no answer to a submit"
id=$(printf '%s' "$out" | sed -n 's/.*"id":"\([0-9A-Z]*\)".*/\1/p' | head -1)
[ -n "$id" ] || fail "submit answered $out"
got=$(curl -s -H "Authorization: Bearer acme-key" "http://127.0.0.1:$HTTP/v1/messages/$id")
printf '%s' "$got" | grep -q '"hello postgres"' || fail "the message read back: $got"
for ((i = 0; i < 100; i++)); do # sent through the simulator and delivered
  got=$(curl -s -H "Authorization: Bearer acme-key" "http://127.0.0.1:$HTTP/v1/messages/$id")
  printf '%s' "$got" | grep -q '"status":"delivered"' && break
  sleep 0.1
done
printf '%s' "$got" | grep -q '"status":"delivered"' || fail "not delivered: $got"
[ "$(psql -At "$DBURL" -c "SELECT count(*) FROM messages WHERE id = '$id'")" = 1 ] ||
  fail "the message is not in PostgreSQL"
kill -TERM $GW
wait $GW 2>/dev/null
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
