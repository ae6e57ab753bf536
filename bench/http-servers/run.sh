#!/usr/bin/env bash
# HTTP servers for the REST ingress, side by side (issue #12): the same
# POST /v1/messages (bench_e2e's 66-byte JSON body, with its Authorization
# header checked) answered 202 with a 157-byte JSON body, on 127.0.0.1, by
#
#   mhd-hop      libmicrohttpd configured and driven as
#                src/ingress/http_server.c does it (MHD_USE_EPOLL |
#                MHD_ALLOW_SUSPEND_RESUME on a libuv loop, same limits), the
#                request suspended, handed to a second thread, and answered
#                after a uv_async wakes the loop: queue + resume, as when
#                the store's commit comes back
#   mhd-now      the same, answered at once (no suspend/resume, no hop)
#   h2o-uv-hop   h2o 2.2.5 (libh2o) on libuv, the request kept, handed to a
#                second thread, answered from the uv_async callback
#   h2o-uv-now   the same, answered from the handler
#   h2o-ev-hop   h2o on its own epoll loop (libh2o-evloop), the hop through
#   h2o-ev-now   h2o's multithread queue
#   uvhp-hop     libuv + http-parser and nothing else: the floor of what a
#   uvhp-now     parser on our own loop costs, a measuring floor only, not
#                a server to use (no limits, timeouts, pipelining or TLS)
#
# Each is driven by bench_e2e (bench/e2e/load.c: N requests over C
# keep-alive connections, one at a time on each), after a warm-up, in a
# fresh process per run; the runs alternate between the servers (REPS
# rounds), so that a noisy machine spreads over all of them alike. Per run:
# requests/s, the server's user and system CPU per request (/proc, the
# whole process and its loop thread), system calls per request (perf stat
# -e raw_syscalls:sys_enter --per-thread: the process and its loop
# thread), answer latency p50/p99 (bench_e2e's answer_ms), VmHWM, and the
# load client's CPU per request. Printed: the median of the runs with min
# and max, and each figure as a ratio to mhd-hop; results.json and
# results.jsonl go to OUT.
#
# The servers' sources are in servers/ and are built here with cc and
# pkg-config (not by CMake, so that building smsgate never needs h2o). The
# Debian packages they need are installed with apt-get when missing (as
# root), unless INSTALL=0, in which case the bench exits 77 (skipped).
#
# usage: bench/http-servers/run.sh [path/to/bench_e2e]   (default ./build/bench_e2e)
# env:   N=50000 C=64 REPS=5 WARMUP=2000 SERVERS="mhd-hop mhd-now ..."
#        PERF=1 (0: no system call counts) INSTALL=1 OUT=dir (default: a
#        temporary folder, removed)
set -u
LOADER=${1:-./build/bench_e2e}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
N=${N:-50000}
C=${C:-64}
REPS=${REPS:-5}
WARMUP=${WARMUP:-2000}
PERF=${PERF:-1}
INSTALL=${INSTALL:-1}
SERVERS=${SERVERS:-mhd-hop mhd-now h2o-uv-hop h2o-uv-now h2o-ev-hop h2o-ev-now uvhp-hop uvhp-now}
KEY=bench-key
T=$(mktemp -d "${TMPDIR:-/tmp}/http-servers.XXXXXX")
OUT=${OUT:-$T/out}
mkdir -p "$OUT"
SPID= PPID_PERF= LOG=

cleanup() {
  [ -n "$PPID_PERF" ] && kill -INT "$PPID_PERF" 2>/dev/null
  [ -n "$SPID" ] && kill "$SPID" 2>/dev/null && wait "$SPID" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
  echo "http-servers: $*" >&2
  [ -f "$LOG" ] && tail -n 20 "$LOG" >&2
  exit 1
}

. "$HERE/../lib.sh" # free_ports

[ -x "$LOADER" ] || die "no load client at $LOADER (build bench_e2e)"
command -v node >/dev/null || die "node is needed for the report"

# ---- the packages and the servers' binaries --------------------------------
have_pkgs() {
  pkg-config --exists libmicrohttpd libuv libh2o libh2o-evloop 2>/dev/null &&
    [ -f /usr/include/http_parser.h ]
}
PKGS="libmicrohttpd-dev libuv1-dev libh2o-dev libh2o-evloop-dev libhttp-parser-dev pkg-config"
if ! have_pkgs; then
  if [ "$INSTALL" = 1 ] && [ "$(id -u)" = 0 ]; then
    echo "http-servers: installing $PKGS" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $PKGS >/dev/null 2>&1 ||
      { apt-get update -qq >/dev/null 2>&1 &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $PKGS >/dev/null 2>&1; }
  fi
  have_pkgs || {
    echo "http-servers: skipped: needs the Debian packages $PKGS" \
      "(INSTALL=1 as root installs them)" >&2
    exit 77
  }
fi
CFLAGS="-O2 -g -Wall -Wextra -Werror -pthread"
S=$HERE/servers
build() { # out, cc arguments...
  local out=$1
  shift
  cc $CFLAGS -o "$T/$out" "$@" 2>"$T/cc.log" || { cat "$T/cc.log" >&2; die "cannot build $out"; }
}
build bench_mhd "$S/mhd.c" $(pkg-config --cflags --libs libmicrohttpd libuv)
build bench_h2o_uv "$S/h2o.c" $(pkg-config --cflags --libs libh2o libuv)
build bench_h2o_ev -DH2O_USE_EPOLL=1 "$S/h2o.c" $(pkg-config --cflags --libs libh2o-evloop)
build bench_uvhp "$S/uvhp.c" $(pkg-config --cflags --libs libuv) -lhttp_parser

server_cmd() { # name: prints "binary mode"
  case "$1" in
  mhd-*) echo "$T/bench_mhd ${1#mhd-}" ;;
  h2o-uv-*) echo "$T/bench_h2o_uv ${1#h2o-uv-}" ;;
  h2o-ev-*) echo "$T/bench_h2o_ev ${1#h2o-ev-}" ;;
  uvhp-*) echo "$T/bench_uvhp ${1#uvhp-}" ;;
  *) die "unknown server $1" ;;
  esac
}
for s in $SERVERS; do server_cmd "$s" >/dev/null; done
if [ "$PERF" = 1 ] && ! perf stat -e raw_syscalls:sys_enter -x, -o /dev/null true 2>/dev/null; then
  echo "http-servers: perf cannot count raw_syscalls:sys_enter here: no system call counts" >&2
  PERF=0
fi

# user and system CPU (clock ticks) of a process or thread's stat file
ticks() { awk '{ sub(/^.*\) /, ""); print $12, $13 }' "$1" 2>/dev/null || echo "0 0"; }

# ---- one run ---------------------------------------------------------------
one() { # server rep port
  local name=$1 rep=$2 port=$3 bin mode i
  LOG=$T/server-$name-$rep.log # one each: never an earlier server's line
  read -r bin mode <<<"$(server_cmd "$name")"
  "$bin" "$port" "$mode" >"$LOG" 2>&1 &
  SPID=$!
  for ((i = 0; i < 200; i++)); do # 20 s: the machine may be busy
    grep -q "listening on" "$LOG" 2>/dev/null && break
    kill -0 "$SPID" 2>/dev/null || die "$name (pid $SPID) exited at start"
    sleep 0.1
  done
  grep -q "listening on" "$LOG" || die "$name did not start in $((i / 10)) s"
  "$LOADER" 127.0.0.1 "$port" "$KEY" "$WARMUP" "$C" "$T/warmup.json" >/dev/null ||
    die "$name: the warm-up failed"
  if [ "$PERF" = 1 ]; then
    perf stat -e raw_syscalls:sys_enter --per-thread -x, -o "$T/perf.txt" -p "$SPID" 2>/dev/null &
    PPID_PERF=$!
    sleep 0.3 # attached
  fi
  local p0 l0 p1 l1
  p0=$(ticks "/proc/$SPID/stat") l0=$(ticks "/proc/$SPID/task/$SPID/stat")
  ( "$LOADER" 127.0.0.1 "$port" "$KEY" "$N" "$C" "$T/load.json" >"$T/load.out" &&
    times >"$T/load.times" ) || die "$name: the load failed"
  p1=$(ticks "/proc/$SPID/stat") l1=$(ticks "/proc/$SPID/task/$SPID/stat")
  if [ -n "$PPID_PERF" ]; then
    kill -INT "$PPID_PERF"
    wait "$PPID_PERF"
    PPID_PERF=
  fi
  local rss threads
  rss=$(awk '/^VmHWM:/ {print $2}' "/proc/$SPID/status")
  threads=$(ls "/proc/$SPID/task" | wc -l)
  local spid=$SPID
  kill "$SPID"
  wait "$SPID"
  SPID=
  # The load client's CPU: its user and system time from `times`.
  local lc
  lc=$(awk 'NR == 2 { n = split($0, f, /[ms]+/); s = 0
    for (i = 1; i <= n; i++) if (f[i] != "") s += (i % 2 ? f[i] * 60 : f[i]); print int(s * 1000) }' \
    "$T/load.times")
  local sc_all=-1 sc_loop=-1
  if [ "$PERF" = 1 ]; then
    read -r sc_all sc_loop <<<"$(awk -F, -v pid="$spid" '/^#/ || NF < 4 { next }
      { n = split($1, a, "-"); c = ($2 ~ /^[0-9]+$/ ? $2 : 0); all += c; if (a[n] == pid) loop = c }
      END { print all + 0, loop + 0 }' "$T/perf.txt")"
  fi
  node "$HERE/report.js" run "$name" "$rep" "$T/load.json" "$(getconf CLK_TCK)" \
    "$p0" "$p1" "$l0" "$l1" "$sc_all" "$sc_loop" "$rss" "$lc" "$threads" "$OUT/results.jsonl" ||
    die "report failed"
}

echo "http-servers: N=$N C=$C REPS=$REPS warm-up $WARMUP; $(nproc) cores, $(uname -r);" \
  "uptime:$(uptime | sed 's/.*load average//')"
: >"$OUT/results.jsonl"
for ((rep = 1; rep <= REPS; rep++)); do
  read -r -a PORTS <<<"$(free_ports $(wc -w <<<"$SERVERS"))" # a port a server
  k=0
  for s in $SERVERS; do
    one "$s" "$rep" "${PORTS[k]}"
    k=$((k + 1))
  done
done
node "$HERE/report.js" summary "$OUT/results.jsonl" "$OUT/results.json" $SERVERS
