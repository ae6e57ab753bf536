#!/usr/bin/env bash
# The PostgreSQL password of store.url never shows (CTest:
# integration-pg/pg_secrets, on the private server of the fixture pg, whose
# "trust" authentication takes any password). Three smsgate nodes share
# one database: a and b by a postgres:// URL whose password needs a
# %-escape, c by a libpq key=value string with the same password. They
# send, and every node is asked GET /v1/nodes, /metrics and `smsgate
# status`. A reload whose store.url carries another password is applied
# with store.url listed as needing a restart; files with mistakes in the
# store section are refused (the API, `smsgate reload`, SIGHUP) with
# file:line:column. Nodes started with URLs that libpq cannot parse, or
# that repeat the password in an option libpq rejects, fail with an error
# that says why. Then the password, as written and decoded, is searched
# for in every log line (debug, text and JSON), answer, command output and
# a dump of the database: 0 hits. Needs the fixture's URL in
# $SG_TEST_PG_URL or BUILD_DIR/pgtest/url; fails without it.
set -u
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/../lib/common.bash"
sg_test_init pg_secrets

URL=${SG_TEST_PG_URL:-$(cat "$(dirname "$BIN")/pgtest/url" 2>/dev/null)}
[ -n "$URL" ] || fail "no PostgreSQL server: run the pg/start fixture (scripts/pg-test.sh)"
command -v psql >/dev/null || fail "psql is not installed"
command -v pg_dump >/dev/null || fail "pg_dump is not installed"
export PGOPTIONS="-c client_min_messages=warning"
DB=sg_secrets_$$
psql -q "$URL" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" ||
  fail "cannot create database $DB"
trap 'psql -q "$URL" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1; sg_test_cleanup' EXIT

# The fixture's URL is postgres://USER@HOST:PORT/DB.
hostport=${URL#*@}
hostport=${hostport%%/*}
PGUSER_=${URL#*://}
PGUSER_=${PGUSER_%%@*}
PW_RAW='Pg-SeCrEt%2177'  # as written in the URL
PW='Pg-SeCrEt!77'        # as libpq decodes it
PW2_RAW='Pg-NeW-SeCrEt-5' # the password a reload brings
DBURL="postgres://$PGUSER_:$PW_RAW@$hostport/$DB"
KV="host=${hostport%:*} port=${hostport##*:} dbname=$DB user=$PGUSER_ password='$PW'"
SECRETS=("$PW_RAW" "$PW" "$PW2_RAW" "SeCrEt")
ADMIN=admin-key-pg
ANS=$T/answers.txt
: >"$ANS"

read -r HA HB HC HD SIM <<<"$(free_ports 5)"
[ -n "$SIM" ] || fail "no free ports"
"$BIN" sim smsc --port "$SIM" --dlr-delay 20 >"$T/smsc.log" 2>&1 &
PIDS+=($!)
wait_log smsc "listening on" 10 || fail "the SMSC did not start"

node_yaml() { # name http url [extra store keys]
  cat <<YAML
store: {driver: postgres, url: "$3"${4:-}}
http: {listen: 127.0.0.1:$2}
node: {name: $1, heartbeat: 300ms, dead_after: 3s}
accounts:
  - {name: acme, api_key: acme-key}
  - {name: admin, api_key: $ADMIN, admin: true}
connectors:
  - {name: op, type: smpp, host: 127.0.0.1, port: $SIM, system_id: smsgate}
routes:
  - {prefix: "+", connectors: [op]}
YAML
}

start_node() { # name http url format
  node_yaml "$1" "$2" "$3" >"$T/$1.yaml"
  "$BIN" serve -c "$T/$1.yaml" --log-level debug --log-format "$4" >"$T/$1.log" 2>&1 &
  PIDS+=($!)
  eval "PID_$1=$!"
  wait_http "http://127.0.0.1:$2/healthz" '"status":"ok"' 30 ||
    fail "node $1 did not start: $(tail -5 "$T/$1.log")"
}

start_node a "$HA" "$DBURL" text
start_node b "$HB" "$DBURL" json
start_node c "$HC" "$KV" text # a key=value string is PostgreSQL's too

# call NODE_PORT METHOD PATH KEY: appends the answer (headers and body).
call() {
  curl -s -i -X "$2" "http://127.0.0.1:$1$3" -H "Authorization: Bearer $4" >>"$ANS"
  echo >>"$ANS"
}

ids=()
for port in "$HA" "$HB" "$HC"; do
  out=$(curl -s -H "Authorization: Bearer acme-key" -H "Content-Type: application/json" \
    -d '{"to":"+4915100000100","from":"smsgate","text":"hello"}' "http://127.0.0.1:$port/v1/messages")
  printf '%s\n' "$out" >>"$ANS"
  id=$(printf '%s' "$out" | sed -n 's/.*"id":"\([0-9A-Z]*\)".*/\1/p' | head -1)
  [ -n "$id" ] || fail "submit on :$port answered $out"
  ids+=("$id")
done
for id in "${ids[@]}"; do
  for ((i = 0; i < 100; i++)); do
    curl -s "http://127.0.0.1:$HA/v1/messages/$id" -H 'Authorization: Bearer acme-key' |
      grep -q '"status":"delivered"' && break
    sleep 0.1
  done
done
for ((i = 0; i < 50; i++)); do # each node sees the other two in its list
  l=$(curl -s -H "Authorization: Bearer $ADMIN" "http://127.0.0.1:$HA/v1/nodes")
  [ "$(printf '%s' "$l" | grep -o '"alive":true' | wc -l)" = 3 ] && break
  sleep 0.1
done
for port in "$HA" "$HB" "$HC"; do
  call "$port" GET /v1/nodes "$ADMIN"
  call "$port" GET /v1/nodes acme-key
  call "$port" GET /metrics ""
  call "$port" GET /readyz ""
  for id in "${ids[@]}"; do
    "$BIN" status "$id" --url "http://127.0.0.1:$port" --key acme-key >>"$T/cli.txt" 2>&1 ||
      fail "smsgate status $id on :$port: $(tail -3 "$T/cli.txt")"
  done
  "$BIN" connectors --url "http://127.0.0.1:$port" --key "$ADMIN" >>"$T/cli.txt" 2>&1 ||
    fail "smsgate connectors on :$port"
done
for n in a b c; do
  grep -q "\"name\":\"$n\"" "$ANS" || fail "/v1/nodes does not list $n"
done
grep -q 'smsgate_node_alive{node="c"} 1' "$ANS" || fail "/metrics: c not alive"
grep -q '"status": *"delivered"\|"status":"delivered"' "$T/cli.txt" ||
  fail "smsgate status shows no delivered message: $(head -20 "$T/cli.txt")"

# ---- reloads ----------------------------------------------------------------
# reload NAME PORT PID: the API, smsgate reload and SIGHUP on one node.
reload() {
  local reads
  reads=$(grep -c 'reload: reading' "$T/$1.log")
  curl -s -X POST "http://127.0.0.1:$2/v1/admin/reload" -H "Authorization: Bearer $ADMIN" \
    -w ' HTTP %{http_code}\n' >>"$ANS"
  "$BIN" reload --url "http://127.0.0.1:$2" --key "$ADMIN" >>"$T/cli.txt" 2>&1
  kill -HUP "$3"
  for ((i = 0; i < 100; i++)); do
    [ "$(grep -c 'reload: reading' "$T/$1.log")" -ge $((reads + 3)) ] && break
    sleep 0.1
  done
  sleep 0.3 # the outcome's lines follow the read
}

# Another password in store.url: applied, store.url waits for a restart.
node_yaml a "$HA" "postgres://$PGUSER_:$PW2_RAW@$hostport/$DB" >"$T/a.yaml"
reload a "$HA" "$PID_a"
tail -4 "$ANS" | grep -q '"restart_required":\["store.url"\]' ||
  fail "a changed store.url is not listed as needing a restart: $(tail -4 "$ANS")"
# Mistakes in the store section of a and b.
node_yaml a "$HA" "$DBURL" ", urll: \"postgres://$PGUSER_:$PW2_RAW@$hostport/$DB\"" >"$T/a.yaml"
reload a "$HA" "$PID_a"
tail -4 "$ANS" | grep -q 'a.yaml:1:[0-9]*: store.urll: unknown key' ||
  fail "the unknown key is not reported as file:line:column: $(tail -4 "$ANS")"
node_yaml b "$HB" "$DBURL" | sed -e "s|url: \"$DBURL\"|url: [\"$DBURL\", $PW2_RAW]|" >"$T/b.yaml"
reload b "$HB" "$PID_b"
grep -q 'b.yaml:1:[0-9]*: store.url: expected a string' "$T/b.log" ||
  fail "the bad store.url is not logged as file:line:column: $(grep reload "$T/b.log" | tail -3)"
node_yaml c "$HC" "$KV\"" >"$T/c.yaml" # the quote never closes
reload c "$HC" "$PID_c"
grep -q 'c.yaml:[0-9]*:[0-9]*: .*YAML syntax error' "$T/c.log" ||
  fail "the YAML error is not logged as file:line:column: $(grep reload "$T/c.log" | tail -3)"
for n in a b c; do
  grep -q 'reload refused' "$T/$n.log" || fail "no reload was refused on $n"
done

# ---- nodes that cannot open the store ---------------------------------------
# Each fails with a reason; the URL is not in it. A URL whose form is wrong
# is refused when the file is read (file:line:column), one that only libpq
# can judge when the store opens.
bad_urls=("postgres://$PGUSER_:Pg-SeCrEt%zz@$hostport/$DB"
  "postgres://$PGUSER_:$PW_RAW@[$hostport/$DB"
  "postgres://$PGUSER_:$PW_RAW@$hostport/$DB?sslmode=Pg-SeCrEt!77"
  "host=${hostport%:*} password=$PW sslmode"
  "mysql://$PGUSER_:$PW_RAW@$hostport/$DB")
why=("d0.yaml:[0-9]*:[0-9]*: store.url: not a PostgreSQL connection string: '%' must"
  'cannot connect to PostgreSQL'
  'cannot connect to PostgreSQL'
  "d3.yaml:[0-9]*:[0-9]*: store.url: not a PostgreSQL connection string: each keyword"
  "d4.yaml:[0-9]*:[0-9]*: store.url: not a PostgreSQL connection string: expected postgres://")
k=0
for u in "${bad_urls[@]}"; do
  node_yaml "d$k" "$HD" "$u" >"$T/d$k.yaml"
  timeout 30 "$BIN" serve -c "$T/d$k.yaml" >"$T/d$k.log" 2>&1 && fail "node d$k started on a bad URL"
  grep -q -- "${why[$k]}" "$T/d$k.log" ||
    fail "node d$k does not say why it failed: $(cat "$T/d$k.log")"
  if [ "$k" != 1 ] && [ "$k" != 2 ]; then
    "$BIN" config check -c "$T/d$k.yaml" >"$T/d$k.check" 2>&1 && fail "config check passed d$k"
    grep -q -- "${why[$k]}" "$T/d$k.check" || fail "config check of d$k: $(cat "$T/d$k.check")"
  fi
  k=$((k + 1))
done
ls "$T" | grep -q '^host=\|^mysql:' && fail "a store file was made from a URL"

for n in a b c; do
  p=PID_$n
  kill -TERM "${!p}"
  wait "${!p}" 2>/dev/null
done
pg_dump "${URL%/*}/$DB" >"$T/dump.sql" || fail "pg_dump failed"
grep -q 'hello' "$T/dump.sql" || fail "the dump holds no message"

# ---- the search ---------------------------------------------------------------
files=(a.log b.log c.log d0.log d1.log d2.log d3.log d4.log d0.check d3.check d4.check answers.txt cli.txt
  dump.sql)
hits=0
for s in "${SECRETS[@]}"; do
  for f in "${files[@]}"; do
    n=$(grep -c -F -- "$s" "$T/$f")
    if [ "$n" -gt 0 ]; then
      echo "secret ${s:0:5}... found $n time(s) in $f:" >&2
      grep -F -- "$s" "$T/$f" | head -3 >&2
      hits=$((hits + n))
    fi
  done
done
[ "$hits" -eq 0 ] || fail "$hits secret value(s) found"
lines=$(cd "$T" && cat "${files[@]}" | wc -l)
echo "ok - the store.url password (written, decoded, a reload's), 0 hits in $lines lines: the logs of 3 nodes (debug, text and JSON) and 5 that could not start, /v1/nodes, /metrics, smsgate status and reload, refused reloads, a dump of the database"
echo "PASS"
