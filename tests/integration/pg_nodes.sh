#!/usr/bin/env bash
# Two smsgate nodes on one PostgreSQL database (docs/scaling.md), on the
# private server of the CTest fixture pg. Node a binds the connector to an
# SMSC that answers nothing for a minute, takes every message submitted to
# it and holds their parts leased; it is killed -9. Node b, whose
# connector reaches an SMSC that answers, finds a dead after dead_after
# (3 s), puts a's parts back in the queue at once (their lease has five
# minutes left) and sends them: every acknowledged message is delivered
# (LOST 0), none twice through b. GET /v1/nodes and /metrics on b show a
# dead and b alive; /v1/nodes needs an admin key. Needs the fixture's URL in
# $SG_TEST_PG_URL or BUILD_DIR/pgtest/url; fails without it.
set -u
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib/common.bash"
sg_test_init pg_nodes

URL=${SG_TEST_PG_URL:-$(cat "$(dirname "$BIN")/pgtest/url" 2>/dev/null)}
[ -n "$URL" ] || fail "no PostgreSQL server: run the pg/start fixture (scripts/pg-test.sh)"
command -v psql >/dev/null || fail "psql is not installed"
export PGOPTIONS="-c client_min_messages=warning"
DB=sg_nodes_$$
psql -q "$URL" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" ||
  fail "cannot create database $DB"
trap 'psql -q "$URL" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1; sg_test_cleanup' EXIT
DBURL=${URL%/*}/$DB
N=12

read -r HA HB SA SB <<<"$(free_ports 4)"
# a's SMSC answers a minute late: a's parts stay 'sending', leased by a.
"$BIN" sim smsc --port "$SA" --latency 60000 >"$T/smsc-a.log" 2>&1 &
PIDS+=($!)
"$BIN" sim smsc --port "$SB" --dlr-delay 50 >"$T/smsc-b.log" 2>&1 &
PIDS+=($!)
wait_log smsc-a "listening on" 10 || fail "SMSC a did not start"
wait_log smsc-b "listening on" 10 || fail "SMSC b did not start"

node_yaml() { # name http smsc
  cat <<YAML
store: {driver: postgres, url: "$DBURL"}
http: {listen: 127.0.0.1:$2}
node: {name: $1, heartbeat: 500ms, dead_after: 3s}
accounts:
  - {name: acme, api_key: acme-key}
  - {name: admin, api_key: admin-key, admin: true}
connectors:
  - {name: op, type: smpp, host: 127.0.0.1, port: $3, system_id: smsgate,
     window: 50, nodes: [a, b]}
  - {name: elsewhere, type: smpp, host: 127.0.0.1, port: 1, system_id: x,
     node: c}
routes:
  - {prefix: "+", connectors: [op]}
log: {level: info}
YAML
}
node_yaml a "$HA" "$SA" >"$T/a.yaml"
node_yaml b "$HB" "$SB" >"$T/b.yaml"

q() { psql -At "$DBURL" -c "$1"; }

"$BIN" serve -c "$T/a.yaml" >"$T/a.log" 2>&1 &
A=$!
PIDS+=($A)
wait_http "http://127.0.0.1:$HA/healthz" '"status":"ok"' 30 || fail "node a did not start"
grep -q "connector elsewhere: bound by another node" "$T/a.log" ||
  fail "a opened a connector of node c"
ids=()
for ((i = 0; i < N; i++)); do
  out=$(curl -s -H "Authorization: Bearer acme-key" -H "Content-Type: application/json" \
    -d "{\"to\":\"+4915100000$((100 + i))\",\"from\":\"smsgate\",\"text\":\"m$i\"}" \
    "http://127.0.0.1:$HA/v1/messages")
  id=$(printf '%s' "$out" | sed -n 's/.*"id":"\([0-9A-Z]*\)".*/\1/p' | head -1)
  [ -n "$id" ] || fail "submit $i answered $out"
  ids+=("$id")
done
for ((i = 0; i < 100; i++)); do
  held=$(q "SELECT count(*) FROM parts WHERE status = 'sending' AND lease_owner LIKE 'a#%'")
  [ "$held" = "$N" ] && break
  sleep 0.1
done
[ "$held" = "$N" ] || fail "a holds $held leased parts, want $N"
kill -9 $A
wait $A 2>/dev/null
killed=$(date +%s%3N)
# dead_after counts from a's last heartbeat (its clock is this machine's),
# which a starved of CPU may have written well before the kill.
beat=$(q "SELECT heartbeat_ms FROM nodes WHERE name = 'a'")

"$BIN" serve -c "$T/b.yaml" >"$T/b.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$HB/healthz" '"status":"ok"' 30 || fail "node b did not start"
# Right after b started, a still counts as alive: its parts stay leased.
nodes=$(curl -s -H "Authorization: Bearer admin-key" "http://127.0.0.1:$HB/v1/nodes")
for ((i = 0; i < 100; i++)); do
  n=$(q "SELECT count(*) FROM messages WHERE status = 'delivered'")
  [ "$n" = "$N" ] && break
  sleep 0.1
done
done_ms=$(date +%s%3N)
[ "$n" = "$N" ] || fail "$n of $N messages delivered after a died (LOST $((N - n)))"
wait_log b "part(s) leased by dead nodes put back in the queue" 5 ||
  fail "b did not say it took a's parts back"
# Not before dead_after (3 s) from a's last heartbeat; long before the
# 5-minute lease.
took=$((done_ms - killed))
[ $((done_ms - beat)) -ge 3000 ] ||
  fail "a's parts were taken back $((done_ms - beat)) ms after its last heartbeat, before dead_after"
[ $took -lt 20000 ] || fail "a's parts took ${took} ms to come back"

dup=$(q "SELECT count(*) FROM (SELECT message_id FROM events WHERE status = 'sent' AND part_seq IS NOT NULL GROUP BY message_id, part_seq HAVING count(*) > 1) d")
[ "$dup" = 0 ] || fail "$dup parts were sent twice"
for id in "${ids[@]}"; do
  s=$(q "SELECT status FROM messages WHERE id = '$id'")
  [ "$s" = delivered ] || fail "message $id is $s"
done

nodes=$(curl -s -H "Authorization: Bearer admin-key" "http://127.0.0.1:$HB/v1/nodes")
printf '%s' "$nodes" | grep -q '"self":"b"' || fail "/v1/nodes: $nodes"
printf '%s' "$nodes" | grep -q '{"name":"a","state":"dead"' || fail "a is not dead: $nodes"
printf '%s' "$nodes" | grep -q '{"name":"b","state":"alive","self":true' || fail "b: $nodes"
printf '%s' "$nodes" | grep -q '"connectors":\["op"\]' || fail "b's connectors: $nodes"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer acme-key" "http://127.0.0.1:$HB/v1/nodes")
[ "$code" = 403 ] || fail "/v1/nodes with a customer's key: $code"
m=$(curl -s "http://127.0.0.1:$HB/metrics")
printf '%s' "$m" | grep -q '^smsgate_node_alive{node="a"} 0$' || fail "metrics: a alive"
printf '%s' "$m" | grep -q '^smsgate_node_alive{node="b"} 1$' || fail "metrics: b not alive"
printf '%s' "$m" | grep -q "^smsgate_node_released_parts_total $N$" || fail "metrics: released"
echo "PASS pg_nodes: $N parts of the killed node sent by the other ${took} ms after the kill (dead_after 3 s), LOST 0, DUP 0"
