#!/usr/bin/env bash
# A connector added by a reload on two nodes that share one PostgreSQL
# database (docs/scaling.md), on the private server of the CTest fixture pg.
# Nodes a and b start with one connector, base, that both bind. Both files
# then gain a connector late with `node: b`, to an SMSC of its own, and a
# route to it; POST /v1/admin/reload puts them in force on both nodes. b
# binds late, a does not (it says so, and GET /v1/nodes lists late among b's
# connectors only); messages for late submitted to a are sent by b: b's
# /metrics counts them sent on late, a's none, and late's SMSC got exactly
# b's one bind. Needs the fixture's URL in $SG_TEST_PG_URL or
# BUILD_DIR/pgtest/url; fails without it.
set -u
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib/common.bash"
sg_test_init pg_nodes_reload

URL=${SG_TEST_PG_URL:-$(cat "$(dirname "$BIN")/pgtest/url" 2>/dev/null)}
[ -n "$URL" ] || fail "no PostgreSQL server: run the pg/start fixture (scripts/pg-test.sh)"
command -v psql >/dev/null || fail "psql is not installed"
export PGOPTIONS="-c client_min_messages=warning"
DB=sg_nodes_reload_$$
psql -q "$URL" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" ||
  fail "cannot create database $DB"
trap 'psql -q "$URL" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1; sg_test_cleanup' EXIT
DBURL=${URL%/*}/$DB
N=6

read -r HA HB S1 S2 <<<"$(free_ports 4)"
"$BIN" sim smsc --port "$S1" >"$T/smsc-base.log" 2>&1 &
PIDS+=($!)
"$BIN" sim smsc --port "$S2" >"$T/smsc-late.log" 2>&1 &
PIDS+=($!)
wait_log smsc-base "listening on" 10 || fail "SMSC base did not start"
wait_log smsc-late "listening on" 10 || fail "SMSC late did not start"

node_yaml() { # name http [late]
  cat <<YAML
store: {driver: postgres, url: "$DBURL"}
http: {listen: 127.0.0.1:$2}
node: {name: $1, heartbeat: 300ms, dead_after: 3s}
accounts:
  - {name: acme, api_key: acme-key}
  - {name: admin, api_key: admin-key, admin: true}
connectors:
  - {name: base, type: smpp, host: 127.0.0.1, port: $S1, system_id: smsgate}
YAML
  if [ -n "${3:-}" ]; then
    cat <<YAML
  - {name: late, type: smpp, host: 127.0.0.1, port: $S2, system_id: late,
     node: b}
routes:
  - {prefix: "+44", connectors: [late]}
  - {prefix: "+", connectors: [base]}
YAML
  else
    printf 'routes:\n  - {prefix: "+", connectors: [base]}\n'
  fi
  printf 'log: {level: info}\n'
}
node_yaml a "$HA" >"$T/a.yaml"
node_yaml b "$HB" >"$T/b.yaml"

"$BIN" serve -c "$T/a.yaml" >"$T/a.log" 2>&1 &
PIDS+=($!)
"$BIN" serve -c "$T/b.yaml" >"$T/b.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$HA/healthz" '"status":"ok"' 30 || fail "node a did not start"
wait_http "http://127.0.0.1:$HB/healthz" '"status":"ok"' 30 || fail "node b did not start"

reload() { # port -> the report
  curl -s -X POST -H "Authorization: Bearer admin-key" "http://127.0.0.1:$1/v1/admin/reload"
}
node_yaml a "$HA" late >"$T/a.yaml"
node_yaml b "$HB" late >"$T/b.yaml"
rep=$(reload "$HB")
printf '%s' "$rep" | grep -q '"added":\["late"\]' || fail "b's reload: $rep"
rep=$(reload "$HA")
printf '%s' "$rep" | grep -q '"added":\["late"\]' || fail "a's reload: $rep"
wait_log a "connector late: bound by another node" 5 || fail "a did not leave late to b"
# a routes to late once b's heartbeat lists it.
nodes_of() { curl -s -H "Authorization: Bearer admin-key" "http://127.0.0.1:$1/v1/nodes"; }
for ((i = 0; i < 100; i++)); do
  nodes=$(nodes_of "$HA")
  printf '%s' "$nodes" | grep -q '"name":"b","state":"alive"[^}]*"connectors":\["base","late"\]' && break
  sleep 0.1
done
((i < 100)) || fail "b's heartbeat does not list late: $nodes"

ids=()
for ((i = 0; i < N; i++)); do
  out=$(curl -s -H "Authorization: Bearer acme-key" -H "Content-Type: application/json" \
    -d "{\"to\":\"+4479460001$((10 + i))\",\"from\":\"smsgate\",\"text\":\"late $i\"}" \
    "http://127.0.0.1:$HA/v1/messages")
  id=$(printf '%s' "$out" | sed -n 's/.*"id":"\([0-9A-Z]*\)".*/\1/p' | head -1)
  [ -n "$id" ] || fail "submit $i to a answered $out"
  ids+=("$id")
done
q() { psql -At "$DBURL" -c "$1"; }
for ((i = 0; i < 100; i++)); do
  n=$(q "SELECT count(*) FROM parts WHERE connector = 'late' AND status IN ('sent', 'delivered')")
  [ "$n" = "$N" ] && break
  sleep 0.1
done
[ "$n" = "$N" ] || fail "$n of $N parts for late sent"

metric() { # port name connector
  curl -s "http://127.0.0.1:$1/metrics" |
    sed -n "s/^$2{connector=\"$3\"} \([0-9]*\)$/\1/p"
}
sb=$(metric "$HB" smsgate_connector_sent_total late)
sa=$(metric "$HA" smsgate_connector_sent_total late)
[ "$sb" = "$N" ] || fail "b sent $sb parts on late, want $N"
[ "${sa:-0}" = 0 ] || fail "a sent $sa parts on late"
binds=$(grep -c "bound .* as 'late'" "$T/smsc-late.log")
[ "$binds" = 1 ] || fail "late's SMSC saw $binds binds, want b's one"
nodes=$(nodes_of "$HB")
printf '%s' "$nodes" | grep -q '"name":"a","state":"alive"[^}]*"connectors":\["base"\]' ||
  fail "a's connectors: $nodes"
echo "PASS pg_nodes_reload: late added by reload on both nodes, bound by b only, $N parts submitted to a sent by b"
