#!/usr/bin/env bash
# What an idle gateway writes: `smsgate serve` with NC SMPP connectors bound
# to `smsgate sim smsc` (tick 1 s, synchronous=full), no traffic; prints the
# store's write requests and commits (/metrics smsgate_store_writes_total,
# smsgate_store_commits_total) read 5 s after readiness and S seconds later,
# and smsgate's CPU over those S seconds. docs/architecture.md, "Named
# wakes and one idle claim" and "A quiet idle gateway", has the figures
# for 1 and 40 connectors.
# DOWN=1 adds a connector "dead" that never binds (its port has no
# listener) to c0's route, failing over after 1 s: a partner link down.
#
# usage: bench/e2e/idle.sh [path/to/smsgate]   env: NC=40 S=60 DOWN=0
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
BIN=${1:-./build/smsgate} NC=${NC:-40} S=${S:-60} DOWN=${DOWN:-0}
T=$(mktemp -d /tmp/sg-idle.XXXXXX)
read -r SIMP HTTP DEADP <<<"$(free_ports 3)"
"$BIN" sim smsc --port "$SIMP" --quiet --stats-interval 0 >"$T/sim.log" 2>&1 &
SIM=$!
{
  echo "store: {path: $T/smsgate.db, synchronous: full}"
  echo "http: {listen: 127.0.0.1:$HTTP}"
  echo "accounts:"
  echo "  - {name: bench, api_key: key-bench-123456, default_region: RU}"
  echo "connectors:"
  for ((i = 0; i < NC; i++)); do
    echo "  - {name: c$i, type: smpp, host: 127.0.0.1, port: $SIMP, system_id: bench, binds: 1}"
  done
  if [ "$DOWN" = 1 ]; then
    echo "  - {name: dead, type: smpp, host: 127.0.0.1, port: $DEADP, system_id: bench, binds: 1, failover_after: 1s}"
    echo "routes:"
    echo "  - {prefix: \"+\", connectors: [c0, dead]}"
  else
    echo "routes:"
    echo "  - {prefix: \"+\", connectors: [c0]}"
  fi
  echo "log: {level: warn}"
} >"$T/smsgate.yaml"
"$BIN" serve -c "$T/smsgate.yaml" >"$T/smsgate.log" 2>&1 &
GW=$!
cleanup() {
  kill "$GW" "$SIM" 2>/dev/null
  wait "$GW" "$SIM" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$HTTP/healthz" >/dev/null && break
  sleep 0.1
done
sleep 5
counters() {
  curl -sf "http://127.0.0.1:$HTTP/metrics" |
    awk '$1 == "smsgate_store_writes_total" { w = $2 }
         $1 == "smsgate_store_commits_total" { c = $2 }
         /^smsgate_connector_up/ && $2 == 1 { up++ }
         END { print w + 0, c + 0, up + 0 }'
}
read -r w0 c0 up <<<"$(counters)"
cpu0=$(cpu_ms "$GW")
sleep "$S"
read -r w1 c1 _ <<<"$(counters)"
cpu1=$(cpu_ms "$GW")
echo "idle $S s, $NC connectors$([ "$DOWN" = 1 ] && echo " + 1 down") ($up up): $((w1 - w0)) writes, $((c1 - c0)) commits, smsgate CPU $((cpu1 - cpu0)) ms"
