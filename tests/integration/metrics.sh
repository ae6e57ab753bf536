#!/usr/bin/env bash
# /metrics and the Grafana dashboard on the real smsgate binary ($1): after
# a few messages sent and delivered (webhooks to `smsgate sim sink`), the
# checks of metrics.js (the text format, every family an operator needs,
# values that match what was sent, every metric docs/grafana-smsgate.json
# queries), and promtool's own check where it is installed. On PostgreSQL
# (integration-pg/metrics), a count held up by a lock past
# store.count_timeout: cancelled, counted, logged, the last figures kept.
#
# Readiness is polled, never slept for. Everything started is stopped on
# exit. Needs node and curl.
set -u
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib/common.bash"
sg_test_init metrics
DOCS=$HERE/../../docs
N=5

wait_for() { # seconds, command...: polls the command until it succeeds
  local secs=$1 i
  shift
  for ((i = 0; i < secs * 10; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}

read -r HTTP SIM SINK <<<"$(free_ports 3)"
[ -n "$SINK" ] || fail "no free ports"
sg_store_for "$T/gw"
[ -n "$SG_STORE_PG" ] && STORE="${STORE%\}}, count_timeout: 300ms}"
cat >"$T/gw.yaml" <<EOF2
store: $STORE
http: {listen: 127.0.0.1:$HTTP}
simulator: {listen: 127.0.0.1:$SIM, dlr_delay: 20ms}
accounts:
  - {name: user, api_key: user-key, default_region: DE,
     callback_url: "http://127.0.0.1:$SINK/hook"}
connectors:
  - {name: op, type: smpp, host: 127.0.0.1, port: $SIM,
     system_id: smsgate, password: secret}
routes:
  - {prefix: "+", connectors: [op]}
webhooks: {allow_private_networks: true}
log: {level: info}
EOF2
BASE=http://127.0.0.1:$HTTP

"$BIN" sim sink --port "$SINK" >>"$T/sink.log" 2>&1 &
PIDS+=($!)
"$BIN" serve -c "$T/gw.yaml" --log-format json >>"$T/gw.log" 2>&1 &
GW=$!
PIDS+=($GW)
wait_for 30 curl -sf "$BASE/readyz" || fail "gateway not ready"
wait_for 10 grep -q "listening on" "$T/sink.log" || fail "sink not ready"

IDS=()
for ((i = 0; i < N; i++)); do
  id=$(curl -sf -H 'Authorization: Bearer user-key' "$BASE/v1/messages" \
    -d "{\"to\": \"+4915112345$((670 + i))\", \"from\": \"Shop\", \"text\": \"metrics $i\"}" |
    node -e 'let b = ""; process.stdin.on("data", (c) => b += c).on("end", () => console.log(JSON.parse(b).messages[0].id))') ||
    fail "send $i"
  IDS+=("$id")
done
delivered() {
  local id
  for id in "${IDS[@]}"; do
    curl -sf -H 'Authorization: Bearer user-key' "$BASE/v1/messages/$id" | grep -q '"status":"delivered"' || return 1
  done
}
wait_for 30 delivered || fail "messages not delivered"
wait_for 30 sh -c "curl -sf 'http://127.0.0.1:$SINK/' | grep -Eq '\"delivered\": *$N[,}]'" ||
  fail "delivered webhooks not received: $(curl -s "http://127.0.0.1:$SINK/")"

# The store's counts are read at the engine's first tick after start.
wait_for 10 sh -c "curl -sf '$BASE/metrics' | grep -q '^smsgate_store_counts_age_seconds [0-9]'" ||
  fail "no store counts in /metrics"
METRICS_OUT="$T/metrics.txt" node "$HERE/metrics.js" "$BASE" "$DOCS/grafana-smsgate.json" "$N" ||
  fail "metrics checks"
if command -v promtool >/dev/null; then
  promtool check metrics <"$T/metrics.txt" || fail "promtool check metrics"
else
  echo "# promtool not installed (Debian: apt install prometheus); the format was checked by metrics.js"
fi

# One message followed through the JSON log by its id: the ingress line,
# the connector's with the operator's id, the receipt's with the same id.
node -e '
  const [file, id] = process.argv.slice(1);
  const lines = require("fs").readFileSync(file, "utf8").split("\n")
    .filter((l) => l.startsWith("{")).map((l) => JSON.parse(l))
    .filter((o) => o.message_id === id);
  const find = (re) => lines.find((o) => re.test(o.msg));
  const acc = find(/: accepted, 1 part/), sent = find(/: sent$/), rcpt = find(/: receipt, /);
  if (!acc || acc.account !== "user" || acc.connector !== "op") throw new Error("ingress: " + JSON.stringify(lines));
  if (!sent || sent.part !== "1" || sent.connector !== "op" || !sent.smsc_id) throw new Error("sent: " + JSON.stringify(lines));
  if (!rcpt || rcpt.smsc_id !== sent.smsc_id || rcpt.part !== "1") throw new Error("receipt: " + JSON.stringify(lines));
  console.log("ok - message " + id + " followed through the JSON log (smsc id " + sent.smsc_id + ")");
' "$T/gw.log" "${IDS[0]}" || fail "following one message through the JSON log"

# PostgreSQL: another session holds a lock on inbound (the table the
# count reads last, and nothing here writes); the next count waits for it
# past store.count_timeout and is cancelled: the gauges keep their figures,
# the timeout is counted and logged, and the gateway goes on. The next
# count comes 5 s after the last, or a hundred times what that one took
# when longer (up to a minute or so on a loaded machine).
if [ -n "$SG_STORE_PG" ]; then
  gauges() { curl -sf "$BASE/metrics" | grep -E '^smsgate_(messages|parts)\{'; }
  wait_for 15 sh -c "curl -sf '$BASE/metrics' | grep -q '^smsgate_parts{status=\"delivered\"} $N\$'" ||
    fail "the counts before the lock: $(gauges)"
  before=$(gauges)
  psql -X -q "$SG_STORE_PG" -c "BEGIN; LOCK TABLE inbound IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(150)" \
    >/dev/null 2>&1 &
  PIDS+=($!)
  wait_for 120 sh -c "curl -sf '$BASE/metrics' | grep -q '^smsgate_store_counts_timeouts_total [1-9]'" ||
    fail "no count timed out in 120 s: $(curl -sf "$BASE/metrics" | grep "^smsgate_store_counts")"
  grep -q "ran past its statement timeout" "$T/gw.log" || fail "the timeout was not logged"
  [ "$(gauges)" = "$before" ] || fail "the counts changed at the timeout: $(gauges)"
  sg_store_sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%LOCK TABLE inbound%' AND pid <> pg_backend_pid()" >/dev/null
  curl -sf -H 'Authorization: Bearer user-key' "$BASE/v1/messages/${IDS[0]}" | grep -q '"status":"delivered"' ||
    fail "a read after the timeout"
  echo "ok - a count past store.count_timeout: cancelled, counted, logged, figures kept"
fi

kill "$GW" && wait "$GW" || fail "gateway did not stop cleanly on SIGTERM"
