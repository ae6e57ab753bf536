#!/usr/bin/env bash
# Benchmark of smsgate's SMPP server, end to end:
#
#   bench_smpp-server --submit_sm (WINDOW in flight)--> smsgate SMPP server
#       smsgate --submit_sm--> its built-in simulated operator
#       smsgate <--deliver_sm receipt-- simulator
#   bench_smpp-server <--deliver_sm receipt (our id)-- smsgate
#
# Prints submit_sm/s in (first submit to last submit_sm_resp), receipts/s
# out (first submit to last receipt), p50/p99 submit_sm_resp latency, and
# smsgate's CPU per message over the run (user + system, from /proc). The
# simulator runs inside smsgate (as the default configuration has it), so
# its CPU is counted with smsgate's.
#
# usage: bench/smpp-server/run.sh [path/to/smsgate]  (default ./build/smsgate)
# env:   N=20000 WINDOW=200 SYNC=full|normal TIMEOUT_S=300
#        LOADER=path/to/bench_smpp-server (default: beside smsgate)
set -u
BIN=${1:-./build/smsgate}
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
LOADER=${LOADER:-$(dirname "$BIN")/bench_smpp-server}
N=${N:-20000}
WINDOW=${WINDOW:-200}
SYNC=${SYNC:-full}
TIMEOUT_S=${TIMEOUT_S:-300}
T=$(mktemp -d "${TMPDIR:-/tmp}/smsgate-smpps.XXXXXX")
GW=

cleanup() {
  if [ -n "$GW" ]; then kill "$GW" 2>/dev/null; wait "$GW" 2>/dev/null; fi
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
  echo "bench: $*" >&2
  [ -f "$T/smsgate.log" ] && tail -n 20 "$T/smsgate.log" >&2
  exit 1
}

. "$(dirname "$0")/../lib.sh" # cpu_ms, threads_cpu, threads_report, free_ports


[ -x "$LOADER" ] || die "no load client at $LOADER"
read -r HTTP SIM SMPP <<<"$(free_ports 3)"
cat >"$T/smsgate.yaml" <<EOF2
store: {path: $T/data/smsgate.db, synchronous: $SYNC}
http: {listen: 127.0.0.1:$HTTP, web: false}
simulator: {listen: 127.0.0.1:$SIM, dlr_delay: 0}
accounts:
  - {name: bench, api_key: bench-key, default_region: RU,
     smpp: {system_id: bench, password: benchpw, window: $WINDOW}}
connectors:
  - {name: sim, type: smpp, host: 127.0.0.1, port: $SIM, system_id: smsgate,
     window: $WINDOW}
routes:
  - {prefix: "+", connectors: [sim]}
smpp_server: {listen: 127.0.0.1:$SMPP, window: $WINDOW}
log: {level: warn}
EOF2
"$BIN" serve -c "$T/smsgate.yaml" >"$T/smsgate.log" 2>&1 &
GW=$!
for ((i = 0; i < 300; i++)); do
  (exec 3<>"/dev/tcp/127.0.0.1/$SMPP") 2>/dev/null && break
  kill -0 "$GW" 2>/dev/null || die "smsgate exited"
  sleep 0.1
done
[ $i -lt 300 ] || die "smsgate's SMPP server did not come up"
sleep 0.5 # the connector binds to the simulator

echo "smsgate SMPP server: N=$N window=$WINDOW synchronous=$SYNC" \
  "($(nproc) cores, $(uname -r))"
c0=$(cpu_ms "$GW")
threads_cpu "$GW" >"$T/threads0"
out=$("$LOADER" 127.0.0.1 "$SMPP" bench benchpw "$N" "$WINDOW" "$TIMEOUT_S") ||
  { echo "$out"; die "load failed"; }
c1=$(cpu_ms "$GW")
threads_cpu "$GW" >"$T/threads1"
echo "$out"
node -e '
  const r = JSON.parse(process.argv[1]); const cpu = +process.argv[2];
  console.log(`submit_sm/s in: ${r.submit_per_s}  receipts/s out: ${r.receipts_per_s}`);
  console.log(`submit_sm_resp latency ms: p50 ${r.resp_p50_ms}  p99 ${r.resp_p99_ms}  max ${r.resp_max_ms}`);
  console.log(`smsgate cpu: ${cpu} ms for ${r.ok} messages = ` +
              `${(cpu * 1000 / Math.max(r.ok, 1)).toFixed(1)} us/message ` +
              `(SMPP server, engine, store, connector and simulator)`);
' "$out" "$((c1 - c0))"
# Per thread: the loop (engine, SMPP server, connector and simulator) is the
# thread whose id is the process id; the store's writer is the busiest other.
ok=$(sed -n 's/.*"ok":\([0-9]*\).*/\1/p' <<<"$out")
threads_report "$GW" "${ok:-0}" "$T/threads0" "$T/threads1"
