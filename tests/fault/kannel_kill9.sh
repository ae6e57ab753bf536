#!/usr/bin/env bash
# Kannel dlr-url calls across kill -9 of smsgate ($1): N messages through
# Kannel's GET /cgi-bin/sendsms with a dlr-url and dlr-mask 3, SMPP to the
# simulator (receipts at once); the dlr-url receiver takes every GET and
# never answers, so that every call is out and none is finished when the
# gateway is killed. On SQLite those calls were held in the writer's memory
# (no row: checked with sqlite3). A receiver that answers 200 replaces the
# first, the gateway starts again, and every message's call must come back
# with the very URL it had before the crash (rebuilt from the message's
# event: the same %d, %A, %T, %I, %F, %p, %P), at least once, and nothing
# else may come.
#
#   kannel_kill9.sh BIN [N]   (default N=40)
set -u
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
N=${2:-40}
. "$(cd "$(dirname "$0")" && pwd)/lib/gateway.bash" # fault_init, fail, wait_for, start, free_ports
fault_init kannel-kill9

read -r HTTP SIM DLR <<<"$(free_ports 3)"
BASE=http://127.0.0.1:$HTTP

# receiver MODE FILE: writes each GET's target as a line to FILE (at once);
# MODE hang never answers, MODE ok answers 200.
receiver() {
  exec node -e '
    const [mode, port, file] = process.argv.slice(1);
    const fs = require("fs");
    require("http").createServer((req, res) => {
      fs.appendFileSync(file, req.url + "\n");
      if (mode === "ok") res.end("ok");
    }).listen(+port, "127.0.0.1", () => console.log("receiver listening"));' "$@"
}

cat >"$T/gw.yaml" <<EOF
store: {path: $T/gw.db}
http: {listen: 127.0.0.1:$HTTP}
accounts:
  - {name: kannel, password: kannelpw, default_region: RU}
connectors:
  - {name: operator, type: smpp, host: 127.0.0.1, port: $SIM, system_id: smsgate}
routes:
  - {prefix: "+", connectors: [operator]}
webhooks: {allow_private_networks: true, timeout: 60s, retry_min: 200ms, retry_max: 1s}
log: {level: warn}
EOF

start sim "$BIN" sim smsc --port "$SIM" --dlr-delay 0 --quiet --stats-interval 0
start hang receiver hang "$DLR" "$T/before.txt"
HANGP=$LAST_PID
wait_for 10 grep -q 'receiver listening' "$T/hang.log" || fail "receiver not ready"
"$BIN" serve -c "$T/gw.yaml" >>"$T/gw.log" 2>&1 &
GW=$!
healthy() { curl -s -m 1 "$BASE/healthz" 2>/dev/null | grep -q '"connectors_up":1'; }
wait_for 30 healthy || fail "gateway not ready"

# %d report type, %A its text, %T time, %I smsgate's id, %F the operator's,
# %p and %P the numbers; i= names the request.
for ((i = 0; i < N; i++)); do
  dlr="http%3A%2F%2F127.0.0.1%3A$DLR%2Fdlr%3Fi%3D$i%26d%3D%25d%26A%3D%25A%26T%3D%25T%26I%3D%25I%26F%3D%25F%26p%3D%25p%26P%3D%25P"
  out=$(curl -s -m 10 "$BASE/cgi-bin/sendsms?username=kannel&password=kannelpw&from=1000&to=%2B7900123$(printf %04d "$i")&text=kill+$i&dlr-mask=3&dlr-url=$dlr")
  case $out in 0:*) ;; *) fail "sendsms $i answered: $out" ;; esac
done
all_out() { [ -f "$T/before.txt" ] && [ "$(sort -u "$T/before.txt" | wc -l)" -ge "$N" ]; }
wait_for 60 all_out || fail "only $(wc -l <"$T/before.txt" 2>/dev/null) of $N dlr-url calls went out"
sleep 0.3 # a few more group commits: the watermark stays below the calls out

kill -9 "$GW"
wait "$GW" 2>/dev/null
GW=
kill "$HANGP"
wait "$HANGP" 2>/dev/null
if command -v sqlite3 >/dev/null; then
  rows=$(sqlite3 "$T/gw.db" "SELECT count(*) FROM webhooks")
  [ "$rows" = 0 ] || fail "$rows webhook rows: the calls were not held in memory"
fi

start ok receiver ok "$DLR" "$T/after.txt"
wait_for 10 grep -q 'receiver listening' "$T/ok.log" || fail "second receiver not ready"
"$BIN" serve -c "$T/gw.yaml" >>"$T/gw.log" 2>&1 &
GW=$!
wait_for 30 healthy || fail "gateway did not start again after kill -9"
all_back() { [ -f "$T/after.txt" ] && [ "$(sort -u "$T/after.txt" | wc -l)" -ge "$N" ]; }
wait_for 60 all_back || fail "$(sort -u "$T/after.txt" 2>/dev/null | wc -l) of $N calls came back after kill -9"
sleep 0.5 # anything more that would come

sort -u "$T/before.txt" >"$T/before.u"
sort -u "$T/after.txt" >"$T/after.u"
[ "$(wc -l <"$T/before.u")" -eq "$N" ] || fail "before the crash: $(wc -l <"$T/before.u") distinct calls for $N messages"
grep -q '&d=1&A=' "$T/before.u" || fail "no delivered report (d=1) among the calls: $(head -n 2 "$T/before.u")"
diff "$T/before.u" "$T/after.u" >"$T/diff.log" ||
  fail "the calls after kill -9 differ from those before: $(head -n 6 "$T/diff.log")"
echo "PASS: $N dlr-url calls out at kill -9, each back with the same URL"
