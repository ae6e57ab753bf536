# gateway.bash - the scaffolding the fault scripts share (sourced, bash).
# Sources ../../integration/lib/common.bash (fail, free_ports, sg_store_for,
# sg_store_drop) and adds:
#   wait_for S COMMAND...  runs COMMAND until it succeeds, for at most S s
#   fault_init NAME  for a script that kills and restarts a gateway: makes
#                the scratch folder $T (KEEP=1 keeps it at exit), the list
#                PIDS of what the script starts and GW, the gateway's pid,
#                and traps exit: the gateway killed with -9, the others
#                stopped, all waited for, the databases of sg_store_for
#                dropped (fault_cleanup, which a script that runs several
#                times over calls between its runs)
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

fault_cleanup() { # also between runs of a script that makes $T again
  local p
  [ -n "$GW" ] && kill -9 "$GW" 2>/dev/null
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  [ -n "$GW" ] && wait "$GW" 2>/dev/null
  GW=
  PIDS=()
  sg_store_drop
  if [ -n "$T" ]; then
    if [ -n "${KEEP:-}" ]; then echo "kept $T"; else rm -rf "$T"; fi
  fi
  T=
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
