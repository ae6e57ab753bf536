# common.bash - the scaffolding black-box test scripts share (sourced, bash).
#
#   . "$HERE/lib/common.bash"; sg_test_init NAME
#
# sg_test_init makes the scratch folder $T (under $TMPDIR, named after the
# test) and the list PIDS of what the script starts, and traps exit so that
# every PID is stopped and $T removed. Then:
#   fail MSG...              prints FAIL and the tail of every $T/*.log, exits 1
#   free_ports N             N free TCP ports on 127.0.0.1 (all held while chosen)
#   wait_http URL REGEX S    polls URL until it answers 200 with a body matching
#                            REGEX, for at most S seconds
#   wait_log NAME TEXT S     polls $T/NAME.log until it holds TEXT (a grep
#                            pattern), for at most S seconds
#   sg_store_for DIR         sets STORE to the value of a configuration's
#                            store: key: a SQLite file in DIR, or, with
#                            SG_TEST_STORE_URL set to a postgres:// URL, a
#                            fresh database on that server (dropped at exit)
# Needs node. Lives outside tests/integration/*.sh so that CTest does not run it.

sg_test_init() {
  T=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
  PIDS=()
  trap sg_test_cleanup EXIT
  trap 'exit 130' INT TERM
}

sg_test_cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  for p in "${SG_PG_DBS[@]}"; do
    psql -q "${SG_TEST_STORE_URL%/*}/postgres" -c "DROP DATABASE IF EXISTS $p WITH (FORCE)" \
      >/dev/null 2>&1
  done
  [ -n "${SG_TEST_KEEP:-}" ] && echo "kept: $T" >&2 || rm -rf "$T"
}

SG_PG_DBS=()
sg_store_for() {
  case "${SG_TEST_STORE_URL:-}" in
  postgres://* | postgresql://*)
    local db base=${SG_TEST_STORE_URL%/*}
    db=sg_$(basename "$T" | tr -c 'a-zA-Z0-9\n' _ | tr 'A-Z' 'a-z')_${#SG_PG_DBS[@]}
    PGOPTIONS="-c client_min_messages=warning" psql -q "$base/postgres" \
      -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null ||
      fail "cannot create the PostgreSQL database $db"
    SG_PG_DBS+=("$db")
    STORE="{driver: postgres, url: \"$base/$db\"}"
    ;;
  *) STORE="{path: $1/smsgate.db}" ;;
  esac
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
    grep -q "$2" "$T/$1.log" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}
