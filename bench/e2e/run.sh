#!/usr/bin/env bash
# End-to-end benchmark of smsgate through its REST API:
#
#   bench.js load --POST /v1/messages (keep-alive, C at once)--> smsgate
#       smsgate --SMPP submit_sm--> smsgate sim smsc (its own process)
#       smsgate <--deliver_sm receipt-- simulator
#       smsgate --POST webhook--> smsgate sim sink (or bench.js receiver)
#
# Prints accepted/s, receipts/s, the time from the start of the load until
# the last "delivered" webhook, POST-to-sent and POST-to-delivered latency
# p50/p99 (from each message's events), and smsgate's peak RSS (VmHWM).
#
# The load is sent by bench_e2e (load.c, built beside smsgate) when it is
# there, else by bench.js; LOADER=node forces bench.js. Webhooks go to
# `smsgate sim sink` (C, checks every signature); SINK=node uses bench.js's
# receiver instead. Also printed: the CPU each process used during the run
# (and smsgate's per accepted message), the CPU of each smsgate thread by
# name (loop, sg-writer, sg-ckpt: checkpoints, sg-sync: the log's fsync,
# sg-reader, sg-webhook) with its write and read calls a message
# (bench/lib.sh threads_report), and the store's commit figures.
# RSS_EVERY=S samples smsgate's VmRSS every S seconds during the run and
# prints the samples at the end (one "rss t_s kB" line each).
# WAL_EVERY=S samples the size of the SQLite store's write-ahead log
# (smsgate.db-wal) every S seconds and prints the samples and the largest
# at the end (the log's bound: docs/architecture.md, "The checkpointer's
# rounds and the log's syncs a message").
# WH_EVERY=S (seconds, fractions allowed) samples the webhook backlog during
# the run: messages accepted, receipts matched, webhooks the sink took,
# webhooks in flight, claimed and waiting for a slot (webhooks.claim_ahead)
# and pending (held or rows, not yet taken; the store's counts, refreshed
# every few seconds), printed at the end as one "wh t_s accepted receipts
# sink inflight queued pending" line each.
# STORE_URL=postgres://... runs the gateway on that PostgreSQL database
# (`store: {driver: postgres, url: ...}`; SYNC does not apply) instead of
# SQLite; give each run an empty database, since the figures and the
# webhook count assume one.
# NODES=K (with STORE_URL) runs K smsgate nodes on that database
# (docs/scaling.md), each with its own REST port, its own simulator process
# and a connector bound by that node only; the load is split over the
# nodes' REST ports (one load client per node, N/K messages over C/K
# connections each, all at once), and the CPU figures add up every node.
# PG_PID=PID (the PostgreSQL server's postmaster) also prints the CPU the
# server and its backends used during the run. bench/e2e/nodes.sh runs
# 1, 2 and 3 nodes and SQLite in one go.
#
# usage: bench/e2e/run.sh [path/to/smsgate]     (default: ./build/smsgate)
# env:   N=5000 C=50 BINDS=C/64,2 WINDOW=64 SIM_WINDOW=100 DLR_DELAY_MS=0 SYNC=full|normal WAIT_S=120
#        BINDS: the connector's binds to the simulator (default: C/64
#        rounded up, at least 2), WINDOW submit_sm in flight per bind,
#        SIM_WINDOW the simulator's deliver_sm in flight per bind. BINDS was
#        1 until the figures of docs/architecture.md's "What held the rate at
#        C=128 and C=256": a receipt is answered after its commit, as a POST
#        is, so one bind carried at most 100 receipts per commit latency
#        while C POSTs were in flight (18,072 receipts/s against 21,559
#        accepted/s at C=128, POST->delivered p50 632 ms and growing with the
#        run). BINDS=1 runs as the figures measured before.
#        LOADER=path/to/bench_e2e|node SINK=c|node RSS_EVERY=0
#        SIM_BIN=path/to/smsgate: the binary whose `sim smsc` runs (default
#        BIN), so that binaries older than the simulator's round-trip
#        figures ("sim receipts:") are measured against the same simulator
#        WEBHOOK_THREAD=true|false (webhooks.thread)
#        WEBHOOK_CLIENT=builtin|curl (webhooks.client)
#        WEBHOOK_CONCURRENCY=256 (webhooks.concurrency)
#        WEBHOOK_EVENTS=delivered: the account's webhook_events, a comma-
#        separated list of statuses (empty, the default: 'sent' and every
#        final status, two webhooks a message). Without 'sent' the SQLite
#        store keeps a one-part message's 'sent' event as a mark on its part
#        (docs/architecture.md, "A message's 'sent' as a mark on its part");
#        CHECK then expects one webhook a message for each status listed
#        WEBHOOK_PIPELINE=8 (webhooks.pipeline: HTTP/1.1 pipelining to the
#        sink, which answers pipelined requests; 1 turns it off, as in the
#        figures measured before the option; empty leaves the key out, for
#        binaries that predate it)
#        RATE=R: open load at R requests a second in all (the C load client's
#        LOAD_RATE, split over the nodes); latencies count from each
#        request's due time, so a gateway behind the rate shows it. C must
#        cover R times the answer time. Empty (default): each connection
#        sends as soon as it has its answer.
#        TO=K: the POSTs go to K recipients, scattered (the C load client's
#        LOAD_TO); empty (default): all to one number. The index of
#        messages by recipient is written at one place then, at K places
#        (one leaf page a message) with an operator's traffic.
#        CHECK=1: exit 1 unless the sink (SINK=c) got exactly two webhooks
#        a message accepted, one "delivered" each, all with good signatures
#        STORE_URL=postgres://... (the PostgreSQL store) NODES=1 PG_PID=
#        METRICS=path: keep the first node's /metrics after the run there
#        CAMPAIGN=1: a campaign exists during the load (an empty list and a
#        campaign scheduled a year ahead, made through the API before the
#        load when the gateway has none), so that the writer keeps
#        campaign counters; the load's messages are not the campaign's
#        PREFILL=K: before the measured load, a load of K messages (the same
#        C) through the gateway, waiting for their K "delivered" webhooks;
#        the sink is then restarted, so that every figure printed is the
#        measured load's on a database already holding K messages (SQLite
#        only). PREFILL_BIN=path serves the prefill with that binary and
#        then starts BIN on the same database (e.g. a wrapper that runs
#        `serve` under callgrind, for the measured load only).
#        PREFILL_DB=file: the database after the prefill; if the file
#        exists it is copied in and no prefill load is run, else it is
#        written there after the prefill (the gateway stopped first, so
#        that the copy is whole). With either, the gateway of the measured
#        load starts on the filled file, its page cache cold.
#        CALLGRIND=1: the gateway runs under callgrind (BIN a wrapper that
#        execs `valgrind --tool=callgrind` for `serve`, LOADER given); its
#        counting is switched on and zeroed (`callgrind_control -i on -z`)
#        just before the measured load and dumped (`-d`) after the last
#        webhook, so that start-up, the prefill and the report's reads are
#        not counted (docs/architecture.md, "The REST path's instructions
#        per message, by thread")
#        START_S=30: how long a gateway may take to answer /healthz (its
#        quick_check reads the whole database file at start)
set -u
BIN=${1:-./build/smsgate}
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LOADER=${LOADER:-$(dirname "$BIN")/bench_e2e}
SIM_BIN=${SIM_BIN:-$BIN}
N=${N:-5000}
C=${C:-50}
WINDOW=${WINDOW:-64}
SIM_WINDOW=${SIM_WINDOW:-100}
BINDS=${BINDS:-$(((C + 63) / 64 > 2 ? (C + 63) / 64 : 2))}
DLR_DELAY_MS=${DLR_DELAY_MS:-0}
SYNC=${SYNC:-full}
WAIT_S=${WAIT_S:-120}
SINK=${SINK:-c}
WEBHOOK_THREAD=${WEBHOOK_THREAD:-true}
WEBHOOK_CLIENT=${WEBHOOK_CLIENT:-builtin}
WEBHOOK_CONCURRENCY=${WEBHOOK_CONCURRENCY:-256}
WEBHOOK_EVENTS=${WEBHOOK_EVENTS:-}
WH_EVENTS_LINE=${WEBHOOK_EVENTS:+, webhook_events: [$WEBHOOK_EVENTS]}
WH_PER_MSG=2
[ -n "$WEBHOOK_EVENTS" ] && WH_PER_MSG=$(tr ',' '\n' <<<"$WEBHOOK_EVENTS" | grep -c .)
WEBHOOK_PIPELINE=${WEBHOOK_PIPELINE-8}
[ "$WEBHOOK_CLIENT" = curl ] && WEBHOOK_PIPELINE= # libcurl does not pipeline
RSS_EVERY=${RSS_EVERY:-0}
WAL_EVERY=${WAL_EVERY:-0}
WH_EVERY=${WH_EVERY:-0}
CHECK=${CHECK:-0}
STORE_URL=${STORE_URL:-}
NODES=${NODES:-1}
PG_PID=${PG_PID:-}
CAMPAIGN=${CAMPAIGN:-0}
PREFILL=${PREFILL:-0}
PREFILL_BIN=${PREFILL_BIN:-}
PREFILL_DB=${PREFILL_DB:-}
START_S=${START_S:-30}
CALLGRIND=${CALLGRIND:-0}
SECRET=bench-secret
KEY=bench-key
T=$(mktemp -d "${TMPDIR:-/tmp}/smsgate-e2e.XXXXXX")
PIDS=()

cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
  echo "bench: $*" >&2
  for f in "$T"/*.log; do [ -f "$f" ] && { echo "--- $f" >&2; tail -n 20 "$f" >&2; }; done
  exit 1
}

start() { # name, command...
  local name=$1
  shift
  "$@" >"$T/$name.log" 2>&1 &
  PIDS+=($!)
  LAST_PID=$!
}

get() { # URL: prints the body, fails unless 200
  if command -v curl >/dev/null; then
    curl -sf --max-time 10 "$1"
    return
  fi
  node -e 'require("http").get(process.argv[1], (r) => { let b = "";
    r.on("data", (c) => b += c);
    r.on("end", () => { process.stdout.write(b); process.exit(r.statusCode === 200 ? 0 : 1); });
  }).on("error", () => process.exit(1));' "$1"
}

. "$(dirname "$0")/../lib.sh" # cpu_ms, threads_cpu, threads_report

wait_for() { # seconds, command...: polls until the command succeeds
  local secs=$1 i
  shift
  for ((i = 0; i < secs * 10; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}

# CPU of a process and of its children, reaped (cutime, cstime) or not,
# in ms: a PostgreSQL server with its backends.
tree_cpu_ms() {
  local p sum
  sum=$(awk -v t="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print int(($12 + $13 + $14 + $15) * 1000 / t) }' \
    "/proc/$1/stat" 2>/dev/null || echo 0)
  for p in $(ps -o pid= --ppid "$1" 2>/dev/null); do sum=$((sum + $(cpu_ms "$p"))); done
  echo "$sum"
}

case "$NODES" in '' | *[!0-9]* | 0) die "NODES must be a number >= 1" ;; esac
[ "$NODES" -gt 1 ] && [ -z "$STORE_URL" ] && die "NODES=$NODES needs STORE_URL (PostgreSQL)"
case "$PREFILL" in '' | *[!0-9]*) die "PREFILL must be a number of messages" ;; esac
if [ "$PREFILL" -gt 0 ] || [ -n "$PREFILL_DB" ]; then
  [ -z "$STORE_URL" ] || die "PREFILL and PREFILL_DB are for the SQLite store"
fi
if [ -n "$PREFILL_BIN" ]; then
  PREFILL_BIN=$(cd "$(dirname "$PREFILL_BIN")" && pwd)/$(basename "$PREFILL_BIN")
  [ -x "$PREFILL_BIN" ] || die "PREFILL_BIN $PREFILL_BIN is not a program"
fi
# HTTP[k] and SIM[k] for node k (1..NODES), then the webhook receiver's.
read -r -a PORTS <<<"$(node -e '
  const net = require("net"); const s = []; const n = +process.argv[1];
  (function next() {
    if (s.length === n) { console.log(s.map((x) => x.address().port).join(" "));
      s.forEach((x) => x.close()); return; }
    const x = net.createServer(); x.listen(0, "127.0.0.1", () => { s.push(x); next(); });
  })();' $((2 * NODES + 1)))"
HTTP=() SIM=()
for ((k = 1; k <= NODES; k++)); do
  HTTP[k]=${PORTS[$((2 * k - 2))]} SIM[k]=${PORTS[$((2 * k - 1))]}
done
HOOK=${PORTS[$((2 * NODES))]}

start_sink() {
  if [ "$SINK" = node ]; then
    start receiver node "$HERE/bench.js" receiver "$HOOK"
  else
    start receiver "${PREFILL_BIN:-$BIN}" sim sink --port "$HOOK" --secret "$SECRET"
  fi
  RX_PID=$LAST_PID
}
start_sink
SIM_PIDS=() GWS=()
for ((k = 1; k <= NODES; k++)); do
  start sim$k "$SIM_BIN" sim smsc --port "${SIM[k]}" --dlr-delay "$DLR_DELAY_MS" --window "$SIM_WINDOW" \
    --quiet --stats-interval 0
  SIM_PIDS+=($LAST_PID)
done
NODE_LINE= ON_NODE=
if [ -n "$STORE_URL" ]; then
  STORE_LINE="store: {driver: postgres, url: \"$STORE_URL\"}"
  STORE_DESC="store=postgres nodes=$NODES"
else
  STORE_LINE="store: {path: $T/data/smsgate.db, synchronous: $SYNC}"
  STORE_DESC="synchronous=$SYNC"
fi
for ((k = 1; k <= NODES; k++)); do
  # Node k: its own name, REST port, simulator and connector.
  if [ -n "$STORE_URL" ]; then
    NODE_LINE="node: {name: n$k, heartbeat: 1s, dead_after: 10s}"
    ON_NODE=", node: n$k"
  fi
  cat >"$T/smsgate$k.yaml" <<EOF
$STORE_LINE
$NODE_LINE
http: {listen: 127.0.0.1:${HTTP[k]}, max_connections: 2000}
accounts:
  - {name: bench, api_key: $KEY, default_region: RU,
     callback_url: "http://127.0.0.1:$HOOK/hook", webhook_secret: $SECRET$WH_EVENTS_LINE}
connectors:
  - {name: sim$k, type: smpp, host: 127.0.0.1, port: ${SIM[k]}, system_id: bench,
     binds: $BINDS, window: $WINDOW$ON_NODE}
routes:
  - {prefix: "+", connectors: [sim$k]}
webhooks: {allow_private_networks: true, concurrency: $WEBHOOK_CONCURRENCY, thread: $WEBHOOK_THREAD,
           client: $WEBHOOK_CLIENT${WEBHOOK_PIPELINE:+, pipeline: $WEBHOOK_PIPELINE}}
log: {level: warn}
EOF
done
wait_for 10 grep -q "listening on" "$T/receiver.log" || die "receiver did not start"
start_gateways() { # binary
  local k
  GWS=()
  for ((k = 1; k <= NODES; k++)); do
    start smsgate$k "$1" serve -c "$T/smsgate$k.yaml"
    GWS+=($LAST_PID)
    wait_for "$START_S" eval 'get http://127.0.0.1:${HTTP[k]}/healthz | grep -q "\"status\":\"ok\""' ||
      die "smsgate node $k not ready"
  done
  GW=${GWS[0]}
}
stop_gateways() { # SIGTERM, and wait until each has stopped
  local p
  for p in "${GWS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${GWS[@]}"; do wait "$p" 2>/dev/null; done
}
DB=$T/data/smsgate.db
RESTART=0
[ -n "$PREFILL_BIN$PREFILL_DB" ] && RESTART=1
if [ -n "$PREFILL_DB" ] && [ -f "$PREFILL_DB" ]; then
  mkdir -p "$T/data"
  cp "$PREFILL_DB" "$DB" || die "cannot copy $PREFILL_DB"
  echo "prefill: $PREFILL_DB copied in ($(($(stat -c %s "$DB") / 1048576)) MB)"
  PREFILL=0 RESTART=0 PREFILL_BIN= # BIN serves the measured load alone
fi
start_gateways "${PREFILL_BIN:-$BIN}"
# One load client per node, all at once; node k's share of N and C.
load_one() { # k n c out
  if [ -x "$LOADER" ]; then
    LOAD_TO=${TO:-} LOAD_RATE=${RATE:+$(awk -v r="$RATE" -v n="$NODES" 'BEGIN { print r / n }')} \
      "$LOADER" 127.0.0.1 "${HTTP[$1]}" "$KEY" "$2" "$3" "$4"
  else
    [ -z "${RATE:-}${TO:-}" ] || die "RATE and TO need the C load client (bench_e2e)"
    node "$HERE/bench.js" load "http://127.0.0.1:${HTTP[$1]}" "$KEY" "$2" "$3" "$4"
  fi
}
# Waits for n "delivered" webhooks at the sink; gives up after WAIT_S
# without progress.
wait_delivered() { # n
  local got last=-1 still=0
  while :; do
    got=$(get "http://127.0.0.1:$HOOK/count" | sed -n 's/.*"delivered":\([0-9]*\).*/\1/p')
    [ "${got:-0}" -ge "$1" ] && break
    if [ "$got" = "$last" ]; then
      still=$((still + 1))
      if [ $still -ge $((WAIT_S * 10)) ]; then
        # Waiting for a retry (pending, its delay up to webhooks.retry_max),
        # given up, or never queued because the message never ended (its
        # receipt matched no part: held, and never applied by a send
        # result): the gateway's own figures tell which.
        echo "bench: stalled at $got webhooks of $1;" \
          "$(get "http://127.0.0.1:${HTTP[1]}/metrics" 2>/dev/null |
            grep -E '^smsgate_(webhooks_(pending|failed|inflight|retried_total|given_up_total)|dlr_(received|matched|unmatched)_total|receipts_(held|applied_later)_total) ' |
            tr '\n' ' ')" >&2
        return 1
      fi
    else
      still=0 last=$got
    fi
    sleep 0.1
  done
}
if [ "$PREFILL" -gt 0 ]; then
  p0=$(date +%s%N)
  load_one 1 "$PREFILL" "$C" "$T/prefill.json" >/dev/null || die "prefill load failed"
  pacc=$(node -e 'console.log(require(process.argv[1]).accepted)' "$T/prefill.json")
  wait_delivered "$pacc" || die "prefill: not every webhook arrived"
  echo "prefill: $pacc messages accepted and delivered in $((($(date +%s%N) - p0) / 1000000)) ms"
fi
if [ "$RESTART" = 1 ]; then
  stop_gateways
  if [ -n "$PREFILL_DB" ] && [ ! -f "$PREFILL_DB" ]; then
    [ ! -f "$DB-wal" ] || [ ! -s "$DB-wal" ] || die "the gateway left a log beside $DB; not copied"
    cp "$DB" "$PREFILL_DB" || die "cannot write $PREFILL_DB"
    echo "prefill: database kept as $PREFILL_DB ($(($(stat -c %s "$DB") / 1048576)) MB)"
  fi
  start_gateways "$BIN"
fi
if [ "$PREFILL" -gt 0 ]; then # a sink whose counts are the measured load's
  kill "$RX_PID" && wait "$RX_PID" 2>/dev/null
  start_sink
  wait_for 10 grep -q "listening on" "$T/receiver.log" || die "receiver did not restart"
fi
if [ "$CAMPAIGN" = 1 ]; then
  API=http://127.0.0.1:${HTTP[1]}/v1
  if ! curl -sf --max-time 10 -H "Authorization: Bearer $KEY" "$API/campaigns" |
    grep -q '"id"'; then
    LIST=$(curl -sf --max-time 10 -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
      -d '{"name":"bench"}' "$API/lists" | sed -n 's/^{"id":\([0-9]*\).*/\1/p')
    [ -n "$LIST" ] || die "could not create a contact list"
    SEND_AT=$(date -u -d '+1 year' +%Y-%m-%dT%H:%M:%SZ)
    curl -s --max-time 10 -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
      -d "{\"name\":\"bench\",\"text\":\"x\",\"from\":\"Bench\",\"lists\":[$LIST],\"send_at\":\"$SEND_AT\"}" \
      "$API/campaigns" >"$T/campaign.json"
    grep -q '"id"' "$T/campaign.json" || die "could not create a campaign: $(cat "$T/campaign.json")"
  fi
  CAMP_DESC=" campaign=1"
fi
# The sum of a list of pids' CPU (ms).
cpu_sum() {
  local p sum=0
  for p in "$@"; do sum=$((sum + $(cpu_ms "$p"))); done
  echo "$sum"
}

echo "smsgate e2e: N=$N C=$C binds=$BINDS window=$WINDOW sim_window=$SIM_WINDOW dlr_delay=${DLR_DELAY_MS}ms $STORE_DESC${CAMP_DESC:-}" \
  "($(nproc) cores, $(uname -r))"
if [ "$RSS_EVERY" -gt 0 ] 2>/dev/null; then
  ( t0=$(date +%s)
    while kill -0 "$GW" 2>/dev/null; do
      echo "rss $(($(date +%s) - t0)) $(awk '/^VmRSS:/ {print $2}' "/proc/$GW/status" 2>/dev/null)"
      sleep "$RSS_EVERY"
    done >"$T/rss.txt" ) &
  PIDS+=($!)
fi
if [ "$WAL_EVERY" -gt 0 ] 2>/dev/null; then
  ( t0=$(date +%s)
    while kill -0 "$GW" 2>/dev/null; do
      echo "wal $(($(date +%s) - t0)) $(stat -c %s "$DB-wal" 2>/dev/null || echo 0)"
      sleep "$WAL_EVERY"
    done >"$T/wal.txt" ) &
  PIDS+=($!)
fi
if awk -v s="$WH_EVERY" 'BEGIN { exit !(s > 0) }'; then
  ( t0=$(date +%s%N)
    while kill -0 "$GW" 2>/dev/null; do
      m=$(get "http://127.0.0.1:${HTTP[1]}/metrics" 2>/dev/null | awk '
        /^smsgate_messages_accepted_total / { a = $2 } /^smsgate_dlr_matched_total / { r = $2 }
        /^smsgate_webhooks_inflight / { i = $2 } /^smsgate_webhooks_queued / { q = $2 }
        /^smsgate_webhooks_pending / { p = $2 }
        END { print a + 0, r + 0, i + 0, q + 0, p + 0 }')
      k=$(get "http://127.0.0.1:$HOOK/count" 2>/dev/null | sed -n 's/^{"total":\([0-9]*\).*/\1/p')
      read -r a r i q p <<<"$m"
      echo "wh $(awk -v d="$(($(date +%s%N) - t0))" 'BEGIN { printf "%.1f", d / 1e9 }') $a $r ${k:-0} $i $q $p"
      sleep "$WH_EVERY"
    done >"$T/wh.txt" ) &
  PIDS+=($!)
fi
if [ "$CALLGRIND" = 1 ]; then
  callgrind_control -i on "$GW" >/dev/null && callgrind_control -z "$GW" >/dev/null ||
    die "callgrind_control cannot reach the gateway (pid $GW)"
fi
threads_cpu "$GW" >"$T/threads0"
c_pg=0
[ -n "$PG_PID" ] && c_pg=$(tree_cpu_ms "$PG_PID")
c_gw=$(cpu_sum "${GWS[@]}") c_sim=$(cpu_sum "${SIM_PIDS[@]}") c_rx=$(cpu_ms "$RX_PID") t_start=$(date +%s%N)
( LPIDS=() ok=0
  for ((k = 1; k <= NODES; k++)); do
    n=$((N / NODES + (k <= N % NODES ? 1 : 0))) c=$((C / NODES > 0 ? C / NODES : 1))
    load_one "$k" "$n" "$c" "$T/load$k.json" &
    LPIDS+=($!)
  done
  for p in "${LPIDS[@]}"; do wait "$p" || ok=1; done
  [ $ok = 0 ] && times >"$T/load.times" ) || die "load failed"
# The clients' files as one: the earliest start, the latest end, every
# message.
node -e 'const fs = require("fs"); const out = { t0_ms: Infinity, t1_ms: 0,
    accepted: 0, failed: 0, busy: 0, msgs: [] };
  for (const f of process.argv.slice(2)) { const l = JSON.parse(fs.readFileSync(f, "utf8"));
    out.t0_ms = Math.min(out.t0_ms, l.t0_ms); out.t1_ms = Math.max(out.t1_ms, l.t1_ms);
    out.accepted += l.accepted; out.failed += l.failed; out.busy += l.busy;
    for (const m of l.msgs) out.msgs.push(m); }
  fs.writeFileSync(process.argv[1], JSON.stringify(out));' "$T/load.json" "$T"/load[0-9]*.json ||
  die "cannot merge the load files"
accepted=$(node -e 'console.log(require(process.argv[1]).accepted)' "$T/load.json")

# Wait for every "delivered" webhook.
wait_delivered "$accepted"
[ "$CALLGRIND" = 1 ] && callgrind_control -d "$GW" >/dev/null
t_end=$(date +%s%N)
rss=0 # the largest node's
for p in "${GWS[@]}"; do
  r=$(awk '/^VmHWM:/ {print $2}' "/proc/$p/status")
  [ "${r:-0}" -gt "$rss" ] && rss=$r
done
# CPU used from the start of the load to the last webhook, per process; the
# load client's comes from the shell's `times` (its children's user and sys).
c_load=$(awk 'NR == 2 { n = split($0, f, /[ms]+/); s = 0
  for (i = 1; i <= n; i++) if (f[i] != "") s += (i % 2 ? f[i] * 60 : f[i]); print int(s * 1000) }' \
  "$T/load.times")
d_gw=$(($(cpu_sum "${GWS[@]}") - c_gw))
threads_cpu "$GW" >"$T/threads1"
echo "cpu (ms) over $(((t_end - t_start) / 1000000)) ms wall:" \
  "smsgate $d_gw ($((d_gw * 1000 / (accepted > 0 ? accepted : 1))) us/message)," \
  "sim $(($(cpu_sum "${SIM_PIDS[@]}") - c_sim))," \
  "webhook receiver ($SINK) $(($(cpu_ms "$RX_PID") - c_rx)), load client $c_load"
if [ -n "$PG_PID" ]; then
  d_pg=$(($(tree_cpu_ms "$PG_PID") - c_pg))
  echo "postgres cpu (ms): $d_pg ($((d_pg * 1000 / (accepted > 0 ? accepted : 1))) us/message)"
fi
# Per thread (the first node's): the loop is the thread whose id is the
# process id.
threads_report "$GW" "$accepted" "$T/threads0" "$T/threads1"
get "http://127.0.0.1:${HTTP[1]}/metrics" 2>/dev/null | grep -E '^smsgate_store_(commits_total|writes_total|commit_seconds_total|max_group) ' |
  awk '{ printf "%s%s %s", sep, substr($1, 15), $2; sep = ", " } END { print "" }' | sed 's/^/store: /' 
# The commit pipeline: the log's syncs (how many commits each covered) and
# the mean of each stage of a submit.
get "http://127.0.0.1:${HTTP[1]}/metrics" 2>/dev/null | tee "${METRICS:-/dev/null}" | awk '
  /^smsgate_store_commits_total / { commits = $2 }
  /^smsgate_store_stage_seconds_(sum|count)\{/ {
    st = $1; sub(/.*stage="/, "", st); sub(/".*/, "", st)
    if ($1 ~ /_sum/) sum[st] = $2; else { cnt[st] = $2; if (!(st in seen)) { seen[st] = 1; order[++k] = st } }
  }
  END {
    if (!cnt["fsync"]) exit
    printf "syncs: %d (%.2f commits a sync, %.3f ms each), checkpoints %d; stage means (ms):",
      cnt["fsync"], commits / cnt["fsync"], sum["fsync"] * 1000 / cnt["fsync"], cnt["checkpoint"]
    for (i = 1; i <= k; i++) if (order[i] != "fsync" && order[i] != "checkpoint" && cnt[order[i]])
      printf " %s %.3f", order[i], sum[order[i]] * 1000 / cnt[order[i]]
    print ""
  }'
# Where a POST's time went (the gateway's stage histograms, p50/p99 by
# linear interpolation in their buckets; docs/architecture.md, "Accept
# latency at 10,000/s offered").
get "http://127.0.0.1:${HTTP[1]}/metrics" 2>/dev/null | awk '
  /^smsgate_(store_stage|http_handler|http_answer|http_resume)_seconds_bucket/ {
    name = $1; sub(/_seconds_bucket.*/, "", name); sub(/^smsgate_(store_)?/, "", name)
    if (match($1, /stage="[a-z]+"/)) name = substr($1, RSTART + 7, RLENGTH - 8)
    le = $1; sub(/.*le="/, "", le); sub(/".*/, "", le)
    if (!(name in n)) order[++k] = name
    n[name]++; b[name, n[name]] = (le == "+Inf" ? -1 : le * 1000); c[name, n[name]] = $2
  }
  function q(name, f,   i, tot, want, lo, prev) {
    tot = c[name, n[name]]; if (tot == 0) return "-"
    want = f * tot; lo = 0; prev = 0
    for (i = 1; i <= n[name]; i++) {
      if (c[name, i] >= want) {
        if (b[name, i] < 0) return ">" lo
        return sprintf("%.2f", lo + (b[name, i] - lo) * (want - prev) / (c[name, i] - prev))
      }
      lo = b[name, i]; prev = c[name, i]
    }
  }
  END {
    printf "stages (ms p50/p99):"
    for (i = 1; i <= k; i++)
      printf "%s %s %s/%s", (i > 1 ? "," : ""), order[i], q(order[i], 0.5), q(order[i], 0.99)
    print ""
  }'
# The deliver_sm receipts' round trip as the simulator saw it (write of the
# deliver_sm to its response: the gateway's answer time), how long they
# waited there past their due time for a window slot, and how many were in
# flight on all binds (SIGUSR1 prints its counters; the first node's).
kill -USR1 "${SIM_PIDS[0]}" 2>/dev/null && sleep 0.3
grep '"type":"stats"' "$T/sim1.log" 2>/dev/null | tail -n 1 | node -e '
  let b = ""; process.stdin.on("data", (c) => b += c).on("end", () => {
    if (!b.trim()) return; const s = JSON.parse(b); if (s.receipt_rtt_n === undefined) return;
    console.log(`sim receipts: ${s.receipt_rtt_n} answered, round trip p50/p99/mean ` +
      `${(s.receipt_rtt_us_p50 / 1000).toFixed(2)}/${(s.receipt_rtt_us_p99 / 1000).toFixed(2)}/` +
      `${(s.receipt_rtt_us_mean / 1000).toFixed(2)} ms, waited for a slot p50/p99/mean ` +
      `${s.receipt_wait_ms_p50}/${s.receipt_wait_ms_p99}/${s.receipt_wait_ms_mean} ms, ` +
      `in flight mean/max ${s.receipt_inflight_mean}/${s.receipt_inflight_max}`); });'
recv=$(get "http://127.0.0.1:$HOOK/count")
echo "sink: $recv"
if [ "$SINK" != node ] && ! grep -q '"bad_signature":0,' <<<"$recv"; then
  echo "bench: the sink saw bad signatures" >&2
fi
if [ "$CHECK" = 1 ] && ! grep -q "^{\"total\":$((WH_PER_MSG * accepted)),\"delivered\":$accepted,.*\"bad_signature\":0,\"bad_request\":0," <<<"$recv"; then
  die "CHECK: expected $((WH_PER_MSG * accepted)) webhooks, $accepted delivered, no bad signature or request; the sink counted $recv"
fi
if [ -s "$T/wal.txt" ]; then
  echo "smsgate.db-wal (s bytes):" $(awk '{ printf "%s %s, ", $2, $3 }' "$T/wal.txt")
  awk '$3 > m { m = $3 } END { printf "smsgate.db-wal largest: %d bytes (%.1f MB)\n", m, m / 1e6 }' "$T/wal.txt"
fi
if [ -s "$T/rss.txt" ]; then
  echo "smsgate VmRSS (s kB):" $(awk '{ printf "%s %s, ", $2, $3 }' "$T/rss.txt")
fi
[ -s "$T/wh.txt" ] && cat "$T/wh.txt"
node "$HERE/bench.js" report "http://127.0.0.1:${HTTP[1]}" "$KEY" "$T/load.json" \
  "http://127.0.0.1:$HOOK" "$rss" || die "report failed"
