#!/usr/bin/env bash
# End to end through a pool of GSM modems and a TCP serial bridge: the real
# smsgate binary ($1) serves REST with
#   - connector "pool": two simulated modems, one on a pty and one behind
#     `smsgate sim modem --tcp`, receiving with +CMT and AT+CNMA;
#   - connector "lte": one modem registered on AT+CEREG only, whose status
#     reports come 6 s after the send.
# Checks: messages through the pool reach "delivered" and both modems take
# some; with the TCP modem silent, every further message still reaches
# "delivered" through the other and the silent one takes none; an inbound
# +CMT is stored and only then acknowledged (AT+CNMA); /metrics shows each
# modem's signal, operator, registration and counters; a message sent
# through "lte" before smsgate restarts reaches "delivered" from the report
# that arrives after the restart.
#
# Readiness is polled, never slept for. Everything started is stopped on
# exit. Needs node (free ports, HTTP). With SG_TEST_STORE_URL set the store
# is a fresh PostgreSQL database (lib/store.bash).
set -u
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib/store.bash"
T=$(mktemp -d "${TMPDIR:-/tmp}/modem_pool_it.XXXXXX")
PIDS=()
GW=
KEY=pool-key

cleanup() {
  local p
  exec 3>&- 4>&- 5>&- 2>/dev/null || true
  [ -n "$GW" ] && kill "$GW" 2>/dev/null
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}" $GW; do wait "$p" 2>/dev/null; done
  sg_store_drop
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
  echo "FAIL: $*" >&2
  for f in "$T"/*.log; do
    [ -f "$f" ] && { echo "--- $f" >&2; tail -n 30 "$f" >&2; }
  done
  exit 1
}

free_ports() { # n: distinct free ports on 127.0.0.1
  node -e '
    const net = require("net"); const n = +process.argv[1]; const ss = [];
    let left = n;
    for (let i = 0; i < n; i++) {
      const s = net.createServer(); ss.push(s);
      s.listen(0, "127.0.0.1", () => { if (--left === 0) {
        console.log(ss.map((x) => x.address().port).join(" "));
        ss.forEach((x) => x.close()); } });
    }' "$1"
}

http_get() { # url [key] -> body on stdout, fails unless 200
  node -e '
    const h = process.argv[2] ? {Authorization: "Bearer " + process.argv[2]} : {};
    require("http").get(process.argv[1], {headers: h}, (r) => { let b = "";
      r.on("data", (c) => b += c);
      r.on("end", () => { process.stdout.write(b); process.exit(r.statusCode === 200 ? 0 : 1); });
    }).on("error", () => process.exit(1));' "$1" "${2:-}"
}

wait_http() { # url, regex, seconds
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    http_get "$1" 2>/dev/null | grep -Eq "$2" && return 0
    sleep 0.1
  done
  return 1
}

wait_log() { # name, regex, seconds
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    grep -Eq "$2" "$T/$1.log" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

sim_stat() { # fd, log name, field -> its value in a stats line asked for now
  local n i
  n=$(grep -c '"commands":' "$T/$2.log")
  echo stats >&"$1"
  for ((i = 0; i < 200; i++)); do # the answer, not a time, however loaded
    [ "$(grep -c '"commands":' "$T/$2.log")" -gt "$n" ] && break
    sleep 0.05
  done
  grep -o "\"$3\":[0-9]*" "$T/$2.log" | tail -n 1 | cut -d: -f2
}

sg_store_for "$T/gw"
read -r HTTP BRIDGE < <(free_ports 2)
[ -n "$BRIDGE" ] || fail "no free ports"

mkfifo "$T/ctl_a" "$T/ctl_b" "$T/ctl_c"
"$BIN" sim modem --link "$T/modem_a" --report-delay-ms 100 --urc-rate 0.2 \
  <"$T/ctl_a" >"$T/sim_a.log" 2>&1 &
PIDS+=($!)
exec 3>"$T/ctl_a"
"$BIN" sim modem --tcp "127.0.0.1:$BRIDGE" --report-delay-ms 100 \
  --first-mr 128 <"$T/ctl_b" >"$T/sim_b.log" 2>&1 &
PIDS+=($!)
exec 4>"$T/ctl_b"
"$BIN" sim modem --link "$T/modem_c" --eps-only --report-delay-ms 100 \
  <"$T/ctl_c" >"$T/sim_c.log" 2>&1 &
PIDS+=($!)
exec 5>"$T/ctl_c"
wait_log sim_a '^ready on' 10 || fail "modem simulator a not ready"
wait_log sim_b "^ready on tcp://127.0.0.1:$BRIDGE" 10 || fail "bridge b not ready"
wait_log sim_c '^ready on' 10 || fail "modem simulator c not ready"

cat >"$T/gw.yaml" <<EOF2
store: $STORE
http: {listen: 127.0.0.1:$HTTP}
accounts:
  - {name: shop, api_key: $KEY, default_region: DE, default_sender: Shop}
  - {name: ops, api_key: pool-admin-key, admin: true}
connectors:
  - name: pool
    type: modem
    devices: [$T/modem_a, "tcp://127.0.0.1:$BRIDGE"]
    flow_control: none
    receive_mode: direct
    response_timeout: 2s
    reconnect_min: 300ms
  - {name: lte, type: modem, device: $T/modem_c, flow_control: rtscts,
     response_timeout: 2s, reconnect_min: 300ms}
routes:
  - {prefix: "+", connectors: [pool]}
  - {prefix: "+4916", connectors: [lte]}
log: {level: info}
EOF2

start_gw() {
  "$BIN" serve -c "$T/gw.yaml" >>"$T/gw.log" 2>&1 &
  GW=$!
  wait_http "http://127.0.0.1:$HTTP/healthz" '"status":"ok"' 30 ||
    fail "gateway not ready"
  # both modems of the pool and the LTE modem up
  wait_http "http://127.0.0.1:$HTTP/metrics" \
    'smsgate_modem_up\{connector="pool",device="tcp://127.0.0.1:'"$BRIDGE"'"\} 1' 20 ||
    fail "the TCP modem of the pool is not up"
  wait_http "http://127.0.0.1:$HTTP/metrics" \
    'smsgate_modem_up\{connector="pool",device="'"$T"'/modem_a"\} 1' 20 ||
    fail "the pty modem of the pool is not up"
  wait_http "http://127.0.0.1:$HTTP/metrics" \
    'smsgate_modem_up\{connector="lte",device="'"$T"'/modem_c"\} 1' 20 ||
    fail "the LTE modem (AT+CEREG only) is not up"
}
start_gw
BASE=http://127.0.0.1:$HTTP


# send_many TEXT NUMBER...: one request, so that the parts wait together
# and the pool hands them to both modems (sent one by one, on an idle
# machine each would find the first modem free again)
send_many() {
  local text=$1 args=() n out
  shift
  for n in "$@"; do args+=(--to "$n"); done
  out=$("$BIN" send --url "$BASE" --key "$KEY" "${args[@]}" --text "$text" \
    --wait --timeout 60s 2>&1) || fail "send --wait: $out"
  [ "$(grep -c ' delivered$' <<<"$out")" -eq $# ] || fail "not all delivered: $out"
}
send_many "pool message" +4915112345601 +4915112345602 +4915112345603 \
  +4915112345604 +4915112345605 +4915112345606
a1=$(sim_stat 3 sim_a submitted)
b1=$(sim_stat 4 sim_b submitted)
[ $((a1 + b1)) = 6 ] || fail "the pool sent $a1 + $b1 parts, not 6"
[ "$a1" -ge 1 ] && [ "$b1" -ge 1 ] || fail "one modem took all: $a1 / $b1"
echo "ok - 6 messages through a pool of a pty modem and a TCP bridge ($a1 / $b1)"

echo "silent on" >&4
# In one request, so that the pool hands parts to both modems: the silent
# one's part must time out, mark it unhealthy, and go out through the other.
send_many "after silence" +4915112346601 +4915112346602 +4915112346603 \
  +4915112346604 +4915112346605 +4915112346606
a2=$(sim_stat 3 sim_a submitted)
b2=$(sim_stat 4 sim_b submitted)
[ "$b2" = "$b1" ] || fail "the silent modem took parts ($b1 -> $b2)"
[ $((a2 - a1)) = 6 ] || fail "the other modem sent $((a2 - a1)) parts, not 6"
wait_http "$BASE/metrics" \
  'smsgate_modem_healthy\{connector="pool",device="tcp://127.0.0.1:'"$BRIDGE"'"\} 0' 10 ||
  fail "the silent modem is not shown unhealthy"
conn=$(curl -s -m 5 -H 'Authorization: Bearer pool-admin-key' "$BASE/v1/connectors/pool")
node -e '
  const c = JSON.parse(process.argv[1]), bridge = process.argv[2];
  const m = c.modems || [];
  const b = m.find((x) => x.device === bridge), a = m.find((x) => x.device !== bridge);
  const ok = c.type === "modem" && m.length === 2 && b && a && b.healthy === false &&
    a.healthy === true && a.registered === true && a.registration === "home" &&
    a.operator === "smsgate sim" && a.signal_dbm === -71 && a.sent >= 7; /* 6 after the silence + at least 1 before */
  process.exit(ok ? 0 : 1);' "$conn" "tcp://127.0.0.1:$BRIDGE" ||
  fail "GET /v1/connectors/pool does not show the two modems' state: $conn"
echo "silent off" >&4
wait_http "$BASE/metrics" \
  'smsgate_modem_healthy\{connector="pool",device="tcp://127.0.0.1:'"$BRIDGE"'"\} 1' 20 ||
  fail "the modem did not come back when it answered again"
echo "ok - a silent modem takes nothing; 6 more messages delivered through the other; it comes back"

cnma0=$(sim_stat 3 sim_a cnma) # the status reports' acknowledgements
echo "mo +4917000001 a reply through +CMT" >&3
for ((i = 0; i < 300; i++)); do
  [ "$(sim_stat 3 sim_a cnma)" = $((cnma0 + 1)) ] && break
  sleep 0.1
done
[ "$(sim_stat 3 sim_a cnma)" = $((cnma0 + 1)) ] ||
  fail "the +CMT was not acknowledged with AT+CNMA"
[ "$(sim_stat 3 sim_a mo_direct)" = 1 ] || fail "the message was not routed with +CMT"
grep -q 'inbound message [0-9A-Z]* from +4917000001 to pool' "$T/gw.log" ||
  fail "the +CMT message was not stored"
echo "ok - an inbound +CMT is stored, then acknowledged with AT+CNMA"

m=$(http_get "$BASE/metrics") || fail "GET /metrics"
for want in \
  "smsgate_modem_signal_rssi{connector=\"pool\",device=\"$T/modem_a\"} 21" \
  "smsgate_modem_signal_dbm{connector=\"pool\",device=\"$T/modem_a\"} -71" \
  "smsgate_modem_info{connector=\"pool\",device=\"$T/modem_a\",operator=\"smsgate sim\",registration=\"home\"} 1" \
  "smsgate_modem_info{connector=\"lte\",device=\"$T/modem_c\",operator=\"smsgate sim\",registration=\"home\"} 1" \
  "smsgate_modem_registered{connector=\"lte\",device=\"$T/modem_c\"} 1" \
  "smsgate_modem_sent_total{connector=\"pool\",device=\"$T/modem_a\"} $a2" \
  "smsgate_modem_sent_total{connector=\"pool\",device=\"tcp://127.0.0.1:$BRIDGE\"} $b1" \
  "smsgate_connector_sent_total{connector=\"pool\"} 12"; do
  grep -qF "$want" <<<"$m" || fail "/metrics lacks: $want"
done
grep -Eq "smsgate_modem_resets_total\{connector=\"pool\",device=\"tcp://127.0.0.1:$BRIDGE\"\} [1-9]" <<<"$m" ||
  fail "/metrics shows no reset of the silent modem"
grep -Eq "smsgate_modem_received_total\{connector=\"pool\",device=\"$T/modem_a\"\} [1-9]" <<<"$m" ||
  fail "/metrics shows nothing received on modem a"
echo "ok - /metrics shows each modem's signal, operator, registration and counters"

# The LTE modem keeps its status report until the gateway has restarted
# (however long the machine takes to get there).
echo "reports hold" >&5
out=$("$BIN" send --url "$BASE" --key "$KEY" --to +4916012345678 \
  --text "across a restart" 2>&1) || fail "send: $out"
id=$(awk '{print $1; exit}' <<<"$out")
for ((i = 0; i < 300; i++)); do
  http_get "$BASE/v1/messages/$id" "$KEY" | grep -q '"status":"sent"' && break
  sleep 0.1
done
http_get "$BASE/v1/messages/$id" "$KEY" | grep -q '"status":"sent"' ||
  fail "message $id not sent"
kill "$GW" && wait "$GW" || fail "gateway did not stop cleanly on SIGTERM"
GW=
[ "$(sim_stat 5 sim_c reports)" = 0 ] || fail "the report came before the restart"
start_gw
echo "reports release" >&5
for ((i = 0; i < 300; i++)); do
  http_get "$BASE/v1/messages/$id" "$KEY" | grep -q '"status":"delivered"' && break
  sleep 0.1
done
http_get "$BASE/v1/messages/$id" "$KEY" | grep -q '"status":"delivered"' ||
  fail "the report after the restart did not reach message $id"
grep -q 'connector lte: 1 parts sent before the restart wait' "$T/gw.log" ||
  fail "the waiting part was not restored from the store"
echo "ok - a status report after a restart finds its part"

kill "$GW" && wait "$GW" || fail "gateway did not stop cleanly on SIGTERM"
GW=
! grep -q 'Sanitizer' "$T"/*.log || fail "sanitizer report"
echo "5 passed, 0 failed"
