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
#                            fresh database on that server (dropped at exit);
#                            sg_store_sql and sg_store_digest read it
#                            (lib/store.bash)
#   sg_store_drop            drops the databases of sg_store_for now (the exit
#                            trap does; a script with a trap of its own calls it)
#   jq_ EXPR                 EXPR (JavaScript, the JSON of $T/body as o) printed
#                            as a string, or as JSON when it is not one
# Needs node. Lives outside tests/integration/*.sh so that CTest does not run it.

. "$(dirname "${BASH_SOURCE[0]}")/store.bash"

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
  sg_store_drop
  [ -n "${SG_TEST_KEEP:-}" ] && echo "kept: $T" >&2 || rm -rf "$T"
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

# jq_ EXPR: one node process per test answers every call over a Unix socket
# (starting node costs about 0.1 s of CPU, and tests poll with this). The
# first call starts it, maybe in a $(...) subshell; it ends by itself once
# the test's shell ($$, the same in subshells) is gone.
jq_() {
  local sock=$T/jq.sock i
  if [ ! -S "$sock" ]; then
    node -e '
      const http = require("http"), fs = require("fs");
      const [sock, parent] = [process.argv[1], Number(process.argv[2])];
      http.createServer((req, res) => {
        let e = "";
        req.on("data", (d) => (e += d));
        req.on("end", () => {
          try {
            const f = new URL(req.url, "http://x").searchParams.get("f");
            const v = (new Function("o", "return " + e))(JSON.parse(fs.readFileSync(f, "utf8")));
            res.end((typeof v === "string" ? v : JSON.stringify(v)) + "\n");
          } catch (err) {
            res.statusCode = 500;
            res.end(`jq_ ${e}: ${err.message}\n`);
          }
        });
      }).listen(sock);
      setInterval(() => { try { process.kill(parent, 0); } catch (err) { process.exit(0); } }, 500);
    ' "$sock" "$$" </dev/null >/dev/null 2>&1 &
    for ((i = 0; i < 200; i++)); do [ -S "$sock" ] && break; sleep 0.02; done
  fi
  curl -s --fail-with-body --unix-socket "$sock" --data-binary "$1" \
    "http://jq/?f=$T/body" -H 'Content-Type: text/plain'
}
