# gateway.bash - the scaffolding the kill -9 scripts share (sourced, bash):
# a scratch folder, a gateway killed and restarted, the processes it talks
# to. Sources ../../integration/lib/common.bash (free_ports, sg_store_for,
# sg_store_drop) and, for the script, after `fault_init NAME`:
#   $T           the scratch folder (KEEP=1 keeps it at exit)
#   PIDS, GW     what the script started, and the gateway's pid: the exit
#                trap kills the gateway with -9, stops the others, waits for
#                all and drops the databases of sg_store_for
#   fail MSG...  prints FAIL and the tail of every $T/*.log, exits 1
#   wait_for S COMMAND...  runs COMMAND until it succeeds, for at most S s
#   start NAME COMMAND...  in the background, output to $T/NAME.log; its pid
#                in PIDS and LAST_PID
# Lives in lib/ so that CTest does not run it.
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../../integration/lib/common.bash"

fault_init() { # name
  T=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
  PIDS=()
  GW=
  trap fault_cleanup EXIT
  trap 'exit 130' INT TERM
}

fault_cleanup() {
  local p
  [ -n "$GW" ] && kill -9 "$GW" 2>/dev/null
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  [ -n "$GW" ] && wait "$GW" 2>/dev/null
  sg_store_drop
  if [ -n "${KEEP:-}" ]; then echo "kept $T"; else rm -rf "$T"; fi
}

fail() {
  echo "FAIL: $*" >&2
  for f in "$T"/*.log; do
    [ -f "$f" ] && { echo "--- $f" >&2; tail -n 20 "$f" >&2; }
  done
  exit 1
}

wait_for() { # seconds, command...
  local end=$((SECONDS + $1))
  shift
  until "$@"; do
    [ $SECONDS -ge $end ] && return 1
    sleep 0.1
  done
}

start() { # name, command...: in the background, output to $T/name.log
  local name=$1
  shift
  "$@" >"$T/$name.log" 2>&1 &
  PIDS+=($!)
  LAST_PID=$!
}
