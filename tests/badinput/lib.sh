# Shared helpers of the security tests (tests/integration/badinput.sh,
# ssrf.sh, secrets.sh, velocity.sh): free ports, readiness by polling,
# processes started in the background and stopped on exit, and the store
# of the gateway on SQLite or PostgreSQL with a digest of its every table
# (sg_store_for, sg_store_sql, sg_store_digest: tests/integration/lib/
# store.bash). Sourced, never run by itself.
# The caller sets BIN and T (a temporary directory) first.
PIDS=()
. "$(dirname "${BASH_SOURCE[0]}")/../integration/lib/store.bash"

sec_cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  sg_store_drop
  [ -n "${SEC_KEEP:-}" ] || rm -rf "$T"
}

fail() {
  echo "FAIL: $*" >&2
  for f in "$T"/*.log; do
    [ -f "$f" ] && { echo "--- $f" >&2; tail -n 30 "$f" >&2; }
  done
  exit 1
}

free_ports() {
  node -e '
    const net = require("net"); const n = Number(process.argv[1]); const s = [];
    (function next() {
      if (s.length === n) { console.log(s.map((x) => x.address().port).join(" "));
        s.forEach((x) => x.close()); return; }
      const x = net.createServer(); x.listen(0, "127.0.0.1", () => { s.push(x); next(); });
    })();' "$1"
}

wait_http() {
  local url=$1 regex=$2 secs=$3 i
  for ((i = 0; i < secs * 10; i++)); do
    if node -e '
      require("http").get(process.argv[1], (r) => { let b = "";
        r.on("data", (c) => b += c);
        r.on("end", () => process.exit(r.statusCode === 200 && new RegExp(process.argv[2]).test(b) ? 0 : 1));
      }).on("error", () => process.exit(1));' "$url" "$regex" 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  return 1
}

wait_log() {
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    grep -q -- "$2" "$T/$1.log" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

start() {
  local name=$1
  shift
  "$@" >"$T/$name.log" 2>&1 &
  PIDS+=($!)
  LAST_PID=$!
}

# Stops a process started with start (SIGTERM) and waits for it; fails
# when it does not exit 0.
stop() {
  kill "$1" && wait "$1" || fail "process $1 did not stop cleanly"
}
