#!/usr/bin/env bash
# Three smsgate nodes (a, b, c) on one PostgreSQL database
# (docs/scaling.md), under a REST load spread over the three and an SMPP
# load on node b, while the nodes are killed -9 in turn and restarted, and
# PostgreSQL itself is restarted (pg_ctl restart -m fast) in between. Then
# the checker of the fault harness (fault.js check) compares what every
# client was told with what the SMSC simulator received and what came back:
#   LOST 0, PHANTOM 0, DLR_LOST 0, DLR_MISMATCH 0, DUP within its bound.
# A PostgreSQL restart is a fault of every node at once: it counts as three
# in DUP's bound (faults x the connector's window). Every 5xx a client saw
# must be a 503 with a JSON error body (fault.js rest), and after each
# restart of PostgreSQL every node must take messages again by itself within
# RECOVER_S seconds (default 10).
#
#   nodes.sh BIN [N_REST] [N_SMPP] [EVERY_MS] [KILLS] [PG_RESTARTS]
# The clients are paced (REST_RATE, default 150 messages/s; SMPP_TPS,
# default 20). Short form (ctest fault/nodes): 2,400 REST + 300 SMPP
# messages, about 16 s of load, a fault every 2 s on average: 3 kills (a,
# b, c) and 1 restart of PostgreSQL. `make soak`: 30,000 + 3,000 messages,
# 9 kills, 2 restarts. The faults come in turn, once each; a load that ends
# before the last fails the test (raise N_REST).
# PostgreSQL is a private server of this test (scripts/pg-test.sh start, in
# the scratch folder), since restarting the one of the CTest fixture pg
# would cut the other tests that use it; like them it fails loudly where
# PostgreSQL's server programs are missing (CTest gives it the fixture pg,
# so that it runs, and fails, where they do).
# Prints the verdict and writes it as JSON to $FAULT_JSON when set; KEEP=DIR
# keeps the logs and ledgers in DIR.
set -u
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
N_REST=${2:-2400}
N_SMPP=${3:-300}
EVERY_MS=${4:-2000}
KILLS=${5:-3}
PG_RESTARTS=${6:-1}
RECOVER_S=${RECOVER_S:-10}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
JS=$HERE/fault.js
PGSH=$HERE/../../scripts/pg-test.sh
. "$HERE/lib/gateway.bash" # wait_for, and common.bash
sg_test_init nodes
KEY=fault-key
WINDOW=16
NAMES=(a b c)

command -v psql >/dev/null || fail "psql is not installed"
[ "$(id -u)" = 0 ] && chmod 755 "$T" # the server's user needs its folder
PGDIR=$T/pg
bash "$PGSH" start "$PGDIR" >"$T/pg-start.out" 2>&1 || fail "cannot start PostgreSQL: $(cat "$T/pg-start.out")"
DBURL=$(cat "$PGDIR/url")

declare -A GW HTTP SMPPP
stop_all() {
  local n
  for n in "${NAMES[@]}"; do
    [ -n "${GW[$n]:-}" ] && kill -9 "${GW[$n]}" 2>/dev/null && wait "${GW[$n]}" 2>/dev/null
    GW[$n]=
  done
  if [ -n "${KEEP:-}" ]; then # KEEP=DIR: the logs and ledgers are kept there
    mkdir -p "$KEEP" && cp "$T"/*.log "$T"/*.txt "$T"/*.jsonl "$KEEP"/ 2>/dev/null
    cp "$(cat "$PGDIR/cluster" 2>/dev/null || echo "$PGDIR")/server.log" "$KEEP/postgres.log" 2>/dev/null
  fi
  bash "$PGSH" stop "$PGDIR" >/dev/null 2>&1
  sg_test_cleanup
}
trap stop_all EXIT

read -r SIM HOOK HTTP[a] HTTP[b] HTTP[c] SMPPP[a] SMPPP[b] SMPPP[c] <<<"$(free_ports 8)"
BASES=http://127.0.0.1:${HTTP[a]},http://127.0.0.1:${HTTP[b]},http://127.0.0.1:${HTTP[c]}

node_yaml() { # name
  cat <<EOF
store: {driver: postgres, url: "$DBURL"}
http: {listen: 127.0.0.1:${HTTP[$1]}}
smpp_server: {listen: 127.0.0.1:${SMPPP[$1]}}
node: {name: $1, heartbeat: 500ms, dead_after: 3s}
accounts:
  - {name: fault, api_key: $KEY, default_region: RU,
     callback_url: "http://127.0.0.1:$HOOK/hook",
     webhook_events: [delivered, undeliverable, expired, rejected, failed],
     smpp: {system_id: fault, password: faultpw}}
connectors:
  - {name: operator, type: smpp, host: 127.0.0.1, port: $SIM, system_id: smsgate,
     window: $WINDOW, reconnect_min: 100ms, reconnect_max: 500ms}
routes:
  - {prefix: "+", connectors: [operator]}
webhooks: {allow_private_networks: true, retry_min: 200ms, retry_max: 1s}
log: {level: ${LOG_LEVEL:-warn}}
EOF
}
for n in "${NAMES[@]}"; do node_yaml "$n" >"$T/$n.yaml"; done

healthy() { curl -s -m 1 "http://127.0.0.1:${HTTP[$1]}/healthz" 2>/dev/null | grep -q '"status":"ok"'; }
# Whether node $1 takes a message: a real submit (text "probe-..."; never
# one of the ledger's texts, so the checker ignores it).
takes() {
  curl -s -m 2 -o "$T/probe.out" -w '%{http_code}' -H "Authorization: Bearer $KEY" \
    -H "Content-Type: application/json" \
    -d "{\"to\":\"+79001234569\",\"from\":\"Fault\",\"text\":\"probe-$1\"}" \
    "http://127.0.0.1:${HTTP[$1]}/v1/messages" >"$T/probe.code" 2>/dev/null
  [ "$(cat "$T/probe.code")" = 202 ]
}
start_gw() { # name
  "$BIN" serve -c "$T/$1.yaml" >>"$T/gw-$1.log" 2>&1 &
  GW[$1]=$!
}

"$BIN" sim smsc --port "$SIM" --record "$T/record.txt" --dlr-delay 100 --quiet >"$T/sim.log" 2>&1 &
SIMP=$!
PIDS+=($SIMP)
node "$JS" receiver "$HOOK" "$T/hooks.txt" >"$T/receiver.log" 2>&1 &
RECP=$!
PIDS+=($RECP)
wait_for 10 grep -q 'receiver listening' "$T/receiver.log" || fail "receiver not ready"
for n in "${NAMES[@]}"; do start_gw "$n"; done
for n in "${NAMES[@]}"; do wait_for 30 healthy "$n" || fail "node $n not ready"; done

for ((i = 0; i < N_SMPP; i++)); do echo "smpp-$i"; done >"$T/smpp-texts.txt"
node "$JS" rest "$BASES" "$KEY" "$N_REST" 8 "$T/rest.jsonl" "${REST_RATE:-150}" >"$T/rest.log" 2>&1 &
RESTP=$!
PIDS+=($RESTP)
# An SMPP customer on node b: it rebinds there after each kill of b.
"$BIN" sim load --port "${SMPPP[b]}" --system-id fault --password faultpw \
  --texts-file "$T/smpp-texts.txt" --count "$N_SMPP" --to +79001234568 --from Fault \
  --window 16 --tps "${SMPP_TPS:-20}" --dlr --dlr-timeout 60 --connect-timeout 60 --verbose --quiet \
  >"$T/smpp.jsonl" 2>"$T/smpp.log" &
LOADP=$!
PIDS+=($LOADP)

# The faults, in turn: kills of a, b, c with the restarts of PostgreSQL
# spread among them (KILLS 9, PG_RESTARTS 2: k k k P k k k P k k k).
PLAN=()
per=$((KILLS / (PG_RESTARTS + 1)))
k=0
for ((p = 0; p <= PG_RESTARTS; p++)); do
  for ((j = 0; j < per || (p == PG_RESTARTS && k < KILLS); j++)); do
    PLAN+=("${NAMES[$((k % 3))]}")
    k=$((k + 1))
  done
  [ $p -lt $PG_RESTARTS ] && PLAN+=(pg)
done

kill_node() { # name
  echo "$(date -u +%T.%3N) kill -9 $1" >>"$T/faults.log"
  kill -9 "${GW[$1]}" 2>/dev/null
  wait "${GW[$1]}" 2>/dev/null
  start_gw "$1"
  wait_for 30 healthy "$1" || fail "node $1 did not restart after kill -9"
}
RECOVERY=()
restart_pg() {
  local t0 n ms
  t0=$(date +%s%3N)
  echo "$(date -u +%T.%3N) restarting PostgreSQL" >>"$T/faults.log"
  bash "$PGSH" bounce "$PGDIR" >"$T/pg-bounce.out" 2>&1 ||
    fail "PostgreSQL did not restart: $(cat "$T/pg-bounce.out")"
  echo "$(date -u +%T.%3N) PostgreSQL restarted in $(($(date +%s%3N) - t0)) ms" >>"$T/faults.log"
  for n in "${NAMES[@]}"; do
    wait_for "$RECOVER_S" takes "$n" ||
      fail "node $n takes no message $RECOVER_S s after PostgreSQL restarted: HTTP $(cat "$T/probe.code") $(cat "$T/probe.out")"
    ms=$(($(date +%s%3N) - t0))
    RECOVERY+=("$n:${ms}ms")
  done
}

running() { kill -0 "$RESTP" 2>/dev/null || kill -0 "$LOADP" 2>/dev/null; }
KILLED=0
BOUNCED=0
step=0
while running && [ $step -lt ${#PLAN[@]} ]; do
  sleep "$(awk -v m="$EVERY_MS" -v r="$RANDOM" 'BEGIN { printf "%.3f", (m / 2 + r % m) / 1000 }')"
  running || break
  f=${PLAN[$step]}
  step=$((step + 1))
  if [ "$f" = pg ]; then
    restart_pg
    BOUNCED=$((BOUNCED + 1))
  else
    kill_node "$f"
    KILLED=$((KILLED + 1))
  fi
done
wait "$RESTP" || fail "the REST client failed: $(cat "$T/rest.log")"
wait "$LOADP"
n_smpp=$(grep -c '"type":"part"' "$T/smpp.jsonl")
[ "$n_smpp" -ge "$N_SMPP" ] ||
  fail "the SMPP client has answers for $n_smpp of $N_SMPP messages: $(cat "$T/smpp.log")"
echo "$(head -1 "$T/rest.log"); $KILLED kills -9, $BOUNCED restarts of PostgreSQL" \
  "(nodes taking messages again after: ${RECOVERY[*]:-})"
[ "$KILLED" -ge "$KILLS" ] && [ "$BOUNCED" -ge "$PG_RESTARTS" ] ||
  fail "the load ended before $KILLS kills and $PG_RESTARTS restarts (raise N_REST)"

q() { psql -At "$DBURL" -c "$1"; }
drained() { [ "$(q "SELECT count(*) FROM parts WHERE status IN ('queued', 'sending')")" = 0 ]; }
wait_for 120 drained || fail "parts left queued or sending: $(q "SELECT status, lease_owner, count(*) FROM parts WHERE status IN ('queued', 'sending') GROUP BY 1, 2")
$(q "SELECT p.message_id, p.seq, p.status, p.attempts, p.lease_owner, p.updated_ms - (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS updated_ago_ms, m.status FROM parts p JOIN messages m ON m.id = p.message_id WHERE p.status IN ('queued', 'sending') ORDER BY p.id LIMIT 20")
nodes: $(q "SELECT name, epoch, heartbeat_ms - (extract(epoch FROM clock_timestamp()) * 1000)::bigint FROM nodes")"
acked=$(grep -c '"outcome":"ack"' "$T/rest.jsonl")
hooks_done() { [ "$(awk '$3 == "delivered" && $1 != "-"' "$T/hooks.txt" | cut -d' ' -f1 | sort -u | wc -l)" -ge "$acked" ]; }
if ! wait_for 60 hooks_done; then
  echo "note: not every delivered webhook arrived within 60 s; webhooks left:"
  q "SELECT message_id, status, attempts, lease_owner, lease_until_ms - (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS lease_left_ms, next_attempt_ms - (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS next_in_ms, last_error FROM webhooks ORDER BY id LIMIT 20"
  echo "nodes:"
  q "SELECT name, epoch, heartbeat_ms - (extract(epoch FROM clock_timestamp()) * 1000)::bigint FROM nodes"
fi
for n in "${NAMES[@]}"; do
  kill "${GW[$n]}" && wait "${GW[$n]}"
  GW[$n]=
done
kill "$SIMP" && wait "$SIMP" # the simulator writes its record out on exit

node "$JS" check --record "$T/record.txt" --rest "$T/rest.jsonl" --hooks "$T/hooks.txt" \
  --smpp "$T/smpp.jsonl" --faults $((KILLED + 3 * BOUNCED)) --window "$WINDOW" \
  ${FAULT_JSON:+--json "$FAULT_JSON"} || fail "the ledgers do not match"
echo "PASS"
