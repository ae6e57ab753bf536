#!/usr/bin/env bash
# Kannel and smsgate side by side, in the same run, on the same peers:
#
#   bench_e2e (C) --GET /cgi-bin/sendsms, C keep-alive connections--> GATEWAY
#       GATEWAY --SMPP submit_sm--> smsgate sim smsc (receipts at once)
#       GATEWAY <--deliver_sm receipt-- simulator
#       GATEWAY --GET dlr-url--> smsgate sim sink (records each callback)
#
# GATEWAY is Debian's Kannel 1.4.5 (bearerbox + smsbox, store-type file, which
# never calls fsync) or smsgate through its Kannel-compatible sendsms (SQLite,
# synchronous=FULL), each REPS times, alternating, with a fresh store and
# fresh peers every run. Both get the same requests: one recipient, a
# dlr-mask of 3 (delivered or undelivered: one callback per message) and a
# dlr-url carrying the request's number. Each run first sends WARMUP
# messages and waits for their callbacks (binds up, caches warm), then N.
#
# Per run and gateway: messages/s end to end (matched callbacks over the time
# from the first request to the last callback), accepted/s, gateway CPU ms
# per message (every gateway process, /proc), accept latency p50/p99 (the
# load client's request-to-answer time), send-to-callback p50/p99, peak RSS
# (the sum of the gateway processes' VmHWM), and the peers' CPU, so that a
# reader can see they had room. Then a table of medians (min-max) with the
# ratios, and results.json / results.jsonl in OUT.
#
# usage: bench/compare-kannel/run.sh [path/to/smsgate]   (default ./build/smsgate)
# env:   N=20000 C=50 REPS=3 WARMUP=500 WINDOW=100 SYNC=full WAIT_S=60
#        KANNEL_STORE=file|spool OUT=dir (default: a temporary folder, removed)
#        ONLY=kannel|smsgate (one gateway only)
#        SMSGATE_PIPELINE=1 (smsgate's webhooks.pipeline: dlr-url GETs a
#        connection may have in flight; 1 is off, as Kannel, which cannot
#        pipeline its callbacks; the sink can)
#        CALLGRIND=1 (with ONLY=smsgate, LOADER given and BIN a wrapper that
#        execs `valgrind --tool=callgrind` for `serve`): smsgate's counting
#        is switched on and zeroed (`callgrind_control -i on -z`) after the
#        warm-up's callbacks and dumped (`-d`) after the last callback
#        SYSCALLS=1: smsgate's system calls by thread over the measured
#        load (`perf stat --per-thread -e raw_syscalls:sys_enter`), printed
#        a message (docs/architecture.md, "The Kannel-compatible path's cost")
# For smsgate each run also prints its CPU by thread (bench/lib.sh
# threads_report) over the measured messages.
# Kannel is installed with apt-get when bearerbox is missing (as root).
set -u
BIN=${1:-./build/smsgate}
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LOADER=${LOADER:-$(dirname "$BIN")/bench_e2e}
N=${N:-20000}
C=${C:-50}
REPS=${REPS:-3}
WARMUP=${WARMUP:-500}
WINDOW=${WINDOW:-100}
SYNC=${SYNC:-full}
WAIT_S=${WAIT_S:-60}
KANNEL_STORE=${KANNEL_STORE:-file}
ONLY=${ONLY:-}
SMSGATE_PIPELINE=${SMSGATE_PIPELINE:-1}
CALLGRIND=${CALLGRIND:-0}
SYSCALLS=${SYSCALLS:-0}
T=$(mktemp -d "${TMPDIR:-/tmp}/compare-kannel.XXXXXX")
OUT=${OUT:-$T/out}
mkdir -p "$OUT"
PIDS=()
RUN=$T

cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
  echo "compare-kannel: $*" >&2
  local f
  for f in "$RUN"/*.log; do [ -f "$f" ] && { echo "--- $f" >&2; tail -n 20 "$f" >&2; }; done
  exit 1
}

start() { # name, command...: in the background, logs to $RUN/name.log
  local name=$1
  shift
  "$@" >"$RUN/$name.log" 2>&1 &
  PIDS+=($!)
  LAST_PID=$!
}

stop() { # pids...: TERM, then KILL after 15 s
  local p i
  for p in "$@"; do kill -TERM "$p" 2>/dev/null; done
  for p in "$@"; do
    for ((i = 0; i < 150; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
}

wait_for() { # seconds, command...: polls until the command succeeds
  local secs=$1 i
  shift
  for ((i = 0; i < secs * 10; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}

hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

. "$(dirname "$0")/../lib.sh" # free_ports, cpu_ms, threads_cpu, threads_report

sink_count() { # the sink's callbacks so far
  curl -sf --max-time 5 "http://127.0.0.1:$SINK/count" | sed -n 's/.*"callbacks":\([0-9]*\).*/\1/p'
}

# wait_callbacks N: until the sink has seen N callbacks in all; gives up after
# WAIT_S seconds without progress.
wait_callbacks() {
  local want=$1 last=-1 still=0 got
  while :; do
    got=$(sink_count)
    [ "${got:-0}" -ge "$want" ] && return 0
    if [ "${got:-0}" = "$last" ]; then
      still=$((still + 1))
      [ $still -ge $((WAIT_S * 10)) ] && { echo "compare-kannel: stalled at $got callbacks of $want" >&2; return 1; }
    else
      still=0 last=${got:-0}
    fi
    sleep 0.1
  done
}

# The sendsms target: one recipient, dlr-mask 3, a dlr-url that names the
# phase (w: warm-up, m: measured) and the request's number ({seq}).
target() { # phase
  local dlr="http%3A%2F%2F127.0.0.1%3A$SINK%2Fdlr%3Fp%3D$1%26s%3D{seq}%26t%3D%25d"
  echo "/cgi-bin/sendsms?username=bench&password=bench&from=1000&to=%2B79001234567&text=bench+message+{seq}&dlr-mask=3&dlr-url=$dlr"
}

start_kannel() {
  local loc=$RUN/store
  [ "$KANNEL_STORE" = file ] && loc=$RUN/store.file || mkdir -p "$loc"
  sed -e "s|@RUNDIR@|$RUN|g" -e "s|@SMSC_PORT@|$SIM|g" -e "s|@WINDOW@|$WINDOW|g" \
    -e "s|@STORE_TYPE@|$KANNEL_STORE|g" -e "s|@STORE_LOC@|$loc|g" \
    -e "s|@ADMIN_PORT@|$ADMIN|g" -e "s|@BOX_PORT@|$BOX|g" -e "s|@SENDSMS_PORT@|$HTTP|g" \
    "$HERE/kannel.conf" >"$RUN/kannel.conf"
  start bearerbox /usr/sbin/bearerbox -v 2 "$RUN/kannel.conf"
  GW_PIDS=("$LAST_PID")
  wait_for 30 curl -sf --max-time 1 "http://127.0.0.1:$ADMIN/status.txt?password=bench" ||
    die "bearerbox did not start"
  start smsbox /usr/sbin/smsbox -v 2 "$RUN/kannel.conf"
  GW_PIDS+=("$LAST_PID")
  wait_for 30 curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$HTTP/" || die "smsbox did not start"
}

start_smsgate() {
  cat >"$RUN/smsgate.yaml" <<EOF
store: {path: $RUN/data/smsgate.db, synchronous: $SYNC}
http: {listen: 127.0.0.1:$HTTP, max_connections: 2000}
accounts:
  - {name: bench, password: bench, default_region: RU, max_parts: 1}
connectors:
  - {name: sim, type: smpp, host: 127.0.0.1, port: $SIM, system_id: bench,
     password: bench, window: $WINDOW}
routes:
  - {prefix: "+", connectors: [sim]}
webhooks: {allow_private_networks: true, concurrency: 512, pipeline: $SMSGATE_PIPELINE}
log: {level: warn}
EOF
  start smsgate "$BIN" serve -c "$RUN/smsgate.yaml"
  GW_PIDS=("$LAST_PID")
  wait_for 30 eval "curl -sf --max-time 1 http://127.0.0.1:$HTTP/healthz | grep -q '\"connectors_up\":1'" ||
    die "smsgate not ready"
}

# one_run GW REP: fresh peers, the gateway, warm-up, the measured load.
one_run() {
  local gw=$1 rep=$2 c0 c1 p ps=() rss=0 sim0 sink0 load_cpu
  RUN=$T/$gw-$rep
  mkdir -p "$RUN"
  read -r HTTP SIM SINK ADMIN BOX <<<"$(free_ports 5)"
  [ -n "$BOX" ] || die "no free ports"
  start sink "$BIN" sim sink --port "$SINK" --record "$RUN/callbacks.txt"
  SINK_PID=$LAST_PID
  start sim "$BIN" sim smsc --port "$SIM" --dlr-delay 0 --quiet --stats-interval 0
  SIM_PID=$LAST_PID
  wait_for 10 grep -q "listening on" "$RUN/sink.log" || die "the sink did not start"
  "start_$gw"
  "$LOADER" 127.0.0.1 "$HTTP" - "$WARMUP" "$C" "$RUN/warmup.json" "$(target w)" \
    >"$RUN/warmup.log" 2>&1 || die "$gw: warm-up load failed"
  wait_callbacks "$WARMUP" || die "$gw: the warm-up's callbacks did not all come"
  c0=0
  for p in "${GW_PIDS[@]}"; do c0=$((c0 + $(cpu_ms "$p"))); done
  sim0=$(cpu_ms "$SIM_PID") sink0=$(cpu_ms "$SINK_PID")
  local perf_pid=
  if [ "$gw" = smsgate ]; then
    if [ "$CALLGRIND" = 1 ]; then
      callgrind_control -i on "${GW_PIDS[0]}" >/dev/null && callgrind_control -z "${GW_PIDS[0]}" >/dev/null ||
        die "callgrind_control cannot reach smsgate (pid ${GW_PIDS[0]})"
    fi
    if [ "$SYSCALLS" = 1 ]; then
      perf stat --per-thread -e raw_syscalls:sys_enter -p "${GW_PIDS[0]}" -o "$RUN/syscalls.txt" &
      perf_pid=$!
      sleep 0.5
    fi
    threads_cpu "${GW_PIDS[0]}" >"$RUN/threads0"
  fi
  ( "$LOADER" 127.0.0.1 "$HTTP" - "$N" "$C" "$RUN/load.json" "$(target m)" \
      >"$RUN/load.log" 2>&1 && times >"$RUN/load.times" ) || die "$gw: load failed"
  local accepted
  accepted=$(node -e 'console.log(require(process.argv[1]).accepted)' "$RUN/load.json")
  wait_callbacks $((WARMUP + accepted)) || true
  if [ "$gw" = smsgate ]; then
    threads_cpu "${GW_PIDS[0]}" >"$RUN/threads1"
    [ "$CALLGRIND" = 1 ] && callgrind_control -d "${GW_PIDS[0]}" >/dev/null
    if [ -n "$perf_pid" ]; then
      kill -INT "$perf_pid"
      wait "$perf_pid"
      awk -v n="$accepted" '$2 ~ /^[0-9,]+$/ && /raw_syscalls/ { c = $2; gsub(/,/, "", c)
          printf "%s%s %.2f", sep, $1, c / n; sep = ", " } END { print " system calls a message" }' \
        "$RUN/syscalls.txt" | sed 's/^/smsgate system calls: /'
    fi
  fi
  c1=0
  for p in "${GW_PIDS[@]}"; do
    c1=$((c1 + $(cpu_ms "$p")))
    rss=$((rss + $(hwm_kb "$p")))
  done
  load_cpu=$(awk 'NR == 2 { n = split($0, f, /[ms]+/); s = 0
    for (i = 1; i <= n; i++) if (f[i] != "") s += (i % 2 ? f[i] * 60 : f[i]); print int(s * 1000) }' \
    "$RUN/load.times")
  stop "${GW_PIDS[@]}"
  [ "$gw" = smsgate ] && threads_report "${GW_PIDS[0]}" "$accepted" "$RUN/threads0" "$RUN/threads1"
  kill -USR1 "$SINK_PID" 2>/dev/null # writes out the record
  sleep 0.2
  local peers
  peers="{\"simulator\":$(($(cpu_ms "$SIM_PID") - sim0)),\"sink\":$(($(cpu_ms "$SINK_PID") - sink0)),\"load\":$load_cpu}"
  stop "$SINK_PID" "$SIM_PID"
  node "$HERE/report.js" run "$gw" "$RUN/load.json" "$RUN/callbacks.txt" $((c1 - c0)) "$rss" "$peers" \
    | tee -a "$OUT/results.jsonl" || die "report failed"
  rm -rf "$RUN"
}

[ -x "$LOADER" ] || { echo "compare-kannel: no load client at $LOADER (build bench_e2e)" >&2; exit 1; }
command -v curl >/dev/null || { echo "compare-kannel: curl is needed" >&2; exit 1; }
if [ "$ONLY" != smsgate ] && [ ! -x /usr/sbin/bearerbox ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kannel >/dev/null 2>&1 ||
    { echo "compare-kannel: Kannel is not installed and apt-get failed" >&2; exit 1; }
fi
echo "compare-kannel: N=$N C=$C REPS=$REPS warm-up $WARMUP window $WINDOW;" \
  "Kannel $(dpkg-query -W -f '${Version}' kannel 2>/dev/null) store-type=$KANNEL_STORE (no fsync)," \
  "smsgate synchronous=$SYNC webhooks.pipeline=$SMSGATE_PIPELINE; $(nproc) cores, $(uname -r)"
: >"$OUT/results.jsonl"
for ((r = 1; r <= REPS; r++)); do
  for gw in kannel smsgate; do
    [ -n "$ONLY" ] && [ "$ONLY" != "$gw" ] && continue
    one_run "$gw" "$r"
  done
done
node "$HERE/report.js" summary "$OUT/results.jsonl" "$OUT/results.json"
