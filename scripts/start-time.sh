#!/usr/bin/env bash
# How long `smsgate serve` takes from its start until /readyz answers 200
# and until its SMPP server accepts connections, with N configured SMPP
# accounts (their passwords are hashed with argon2id at start). Polls
# every 10 ms; prints one line of milliseconds. Compare two binaries in
# the same run (alternate them), never against figures from another day.
#
# usage: scripts/start-time.sh path/to/smsgate [N]    (N default 4)
set -euo pipefail
BIN=$1
N=${2:-4}
D=$(mktemp -d "${TMPDIR:-/tmp}/start-time.XXXXXX")
P=
trap '[ -n "$P" ] && kill "$P" 2>/dev/null; [ -n "$P" ] && wait "$P" 2>/dev/null; rm -rf "$D"' EXIT
read -r HTTP SMPP SIM <<<"$(node -e '
  const net = require("net"); const s = [];
  (function next() {
    if (s.length === 3) { console.log(s.map((x) => x.address().port).join(" "));
      s.forEach((x) => x.close()); return; }
    const x = net.createServer(); x.listen(0, "127.0.0.1", () => { s.push(x); next(); });
  })();')"
{
  echo "store: {path: $D/db/smsgate.db}"
  echo "http: {listen: 127.0.0.1:$HTTP}"
  echo "simulator: {listen: 127.0.0.1:$SIM}"
  echo "accounts:"
  echo "  - {name: admin, api_key: admin-key, admin: true}"
  for i in $(seq 1 "$N"); do
    echo "  - {name: c$i, api_key: k$i, smpp: {system_id: c$i, password: pw$i}}"
  done
  echo "connectors:"
  echo "  - {name: op, type: smpp, host: 127.0.0.1, port: $SIM, system_id: gw, password: x}"
  echo "routes:"
  echo "  - {prefix: \"+\", connectors: [op]}"
  echo "smpp_server: {listen: 127.0.0.1:$SMPP}"
} >"$D/gw.yaml"
t0=$(date +%s%N)
"$BIN" serve -c "$D/gw.yaml" >"$D/gw.log" 2>&1 &
P=$!
ready="" smpp=""
for ((i = 0; i < 6000; i++)); do
  now=$((($(date +%s%N) - t0) / 1000000))
  [ -z "$ready" ] && curl -sf "http://127.0.0.1:$HTTP/readyz" >/dev/null 2>&1 && ready=$now
  [ -z "$smpp" ] && (exec 3<>"/dev/tcp/127.0.0.1/$SMPP") 2>/dev/null && smpp=$now
  [ -n "$ready" ] && [ -n "$smpp" ] && break
  sleep 0.01
done
echo "smpp_accounts=$N readyz_ms=${ready:-never} smpp_listen_ms=${smpp:-never}"
