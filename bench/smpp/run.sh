#!/usr/bin/env bash
# run.sh - submit_sm/s of smsgate's SMPP client connector and of node-smpp's
# client against the same in-tree SMSC simulator, at windows 1, 10 and 100.
#
#   bench/smpp/run.sh [BUILD_DIR] [--seconds S] [--repeat N] [--json FILE]
#                     [--windows "1 10 100"] [--pin]
#
# BUILD_DIR (default ./build) holds bench_smpp and, if built, smsgate. The
# simulator runs as its own process (`smsgate sim smsc`, or `bench_smpp
# --sim` when smsgate is not built) beside each client. With --pin the
# simulator is pinned to CPU 0 and the clients to CPU 1 (taskset): right on
# an idle machine, harmful on a shared one (a pinned process cannot move
# away from a busy core), so the default leaves placement to the kernel.
# Every cell is the median of N runs of S seconds (defaults 3 and 2).
# Prints a table with the ratio and writes the numbers as JSON (default
# BUILD_DIR/bench_smpp.json).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="./build"
seconds=2
repeat=3
windows="1 10 100"
json=""
pin_cpus=0
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --repeat) repeat="$2"; shift 2 ;;
    --json) json="$2"; shift 2 ;;
    --windows) windows="$2"; shift 2 ;;
    --pin) pin_cpus=1; shift ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) build="$1"; shift ;;
  esac
done
build="$(cd "$build" && pwd)"
json="${json:-$build/bench_smpp.json}"
bench="$build/bench_smpp"
[ -x "$bench" ] || { echo "run.sh: $bench not built" >&2; exit 1; }

# Runs a command (pinned to a CPU with --pin). Always called in a subshell
# (`&` or `$(...)`), which exec replaces, so that $! is the command's PID.
pin() { # pin CPU command...
  local cpu="$1"; shift
  if [ "$pin_cpus" = 1 ] && command -v taskset >/dev/null 2>&1 &&
     [ "$(nproc)" -ge 2 ]; then
    exec taskset -c "$cpu" "$@"
  else
    exec "$@"
  fi
}

# A free port: ask the kernel for one, then let it go.
port="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})' 2>/dev/null ||
        echo $((20000 + RANDOM % 20000)))"

simlog="$(mktemp)"
if [ -x "$build/smsgate" ] && "$build/smsgate" sim smsc --help >/dev/null 2>&1; then
  simcmd=("$build/smsgate" sim smsc --port "$port" --quiet)
  simname="smsgate sim smsc"
else
  simcmd=("$bench" --sim --port "$port")
  simname="bench_smpp --sim"
fi
pin 0 "${simcmd[@]}" >"$simlog" 2>&1 </dev/null &
simpid=$!
cleanup() {
  kill -TERM "$simpid" 2>/dev/null || true
  wait "$simpid" 2>/dev/null || true
  rm -f "$simlog"
}
trap cleanup EXIT

# Ready when it says so (polled, never a fixed sleep).
for _ in $(seq 1 100); do
  grep -q "listening on" "$simlog" && break
  kill -0 "$simpid" 2>/dev/null || { cat "$simlog" >&2; exit 1; }
  sleep 0.05
done
grep -q "listening on" "$simlog" || { echo "run.sh: simulator not ready" >&2; exit 1; }

have_node=0
if command -v node >/dev/null 2>&1 &&
   [ -d "$here/../../tests/interop/node_modules/smpp" ]; then
  have_node=1
fi

# median of the submit_sm_per_s of N runs of a client
measure() { # client window
  local client="$1" w="$2" out rates=()
  for _ in $(seq 1 "$repeat"); do
    if [ "$client" = smsgate ]; then
      out="$(pin 1 "$bench" --port "$port" --window "$w" --seconds "$seconds" --json)" || true
    else
      out="$(pin 1 node "$here/node-client.js" --port "$port" --window "$w" --seconds "$seconds" --json)" || true
    fi
    rates+=("$(printf '%s\n' "$out" | sed -n 's/.*"submit_sm_per_s":\([0-9]*\).*/\1/p' | head -1)")
  done
  printf '%s\n' "${rates[@]}" | grep -E '^[0-9]+$' | sort -n |
    awk '{a[NR]=$1} END {if (NR == 0) print 0; else print a[int((NR+1)/2)]}'
}

load0="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
printf 'SMPP submit_sm/s, simulator: %s on 127.0.0.1:%s; median of %s x %ss\n' \
  "$simname" "$port" "$repeat" "$seconds"
printf 'load average before: %s\n' "$load0"
printf '%-8s %14s %14s %8s\n' window smsgate node-smpp ratio
rows=""
for w in $windows; do
  ours="$(measure smsgate "$w")"
  theirs=0
  [ "$have_node" = 1 ] && theirs="$(measure node "$w")"
  ratio="$(awk -v a="$ours" -v b="$theirs" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "n/a" }')"
  printf '%-8s %14s %14s %8s\n' "$w" "$ours" "$theirs" "$ratio"
  row="{\"window\":$w,\"smsgate\":$ours,\"node_smpp\":$theirs,\"ratio\":$( [ "$ratio" = n/a ] && echo null || echo "$ratio")}"
  rows="${rows:+$rows,}$row"
done

cat >"$json" <<EOF
{"benchmark":"smpp_submit_sm","simulator":"$simname","seconds":$seconds,"repeat":$repeat,"cpus":$(nproc),"pinned":$( [ "$pin_cpus" = 1 ] && echo true || echo false),"load_before":"$load0","results":[$rows]}
EOF
echo "wrote $json"
