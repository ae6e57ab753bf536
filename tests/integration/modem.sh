#!/usr/bin/env bash
# End to end through a GSM modem: the real smsgate binary ($1) serves REST
# with a connector of type modem on the pty of `smsgate sim modem`; a single
# and a three-part message sent with `smsgate send --wait` must reach
# "delivered" through +CDS status reports; an inbound message stored in the
# simulated modem (+CMTI) must be read, stored by the gateway and only then
# deleted from the modem (its stats say mo_deleted 1, stored 0).
#
# Readiness is polled, never slept for. Everything started is stopped on
# exit. Needs node (free ports, HTTP polling).
set -u
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib/common.bash" # fail, free_ports, wait_http, wait_log
T=$(mktemp -d "${TMPDIR:-/tmp}/modem_it.XXXXXX")
PIDS=()
KEY=modem-key

cleanup() {
  local p
  exec 3>&- 2>/dev/null || true
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  node -e 'const s = require("net").createServer();
    s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

wait_http() { # url, regex, seconds
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    node -e '
      require("http").get(process.argv[1], (r) => { let b = "";
        r.on("data", (c) => b += c);
        r.on("end", () => process.exit(r.statusCode === 200 && new RegExp(process.argv[2]).test(b) ? 0 : 1));
      }).on("error", () => process.exit(1));' "$1" "$2" 2>/dev/null && return 0
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

HTTP=$(free_port)
[ -n "$HTTP" ] || fail "no free port"

mkfifo "$T/ctl"
"$BIN" sim modem --link "$T/modem" --report-delay-ms 100 --urc-rate 0.2 \
  --first-mr 254 <"$T/ctl" >"$T/sim.log" 2>&1 &
PIDS+=($!)
exec 3>"$T/ctl"
wait_log sim '^ready on' 10 || fail "modem simulator not ready"

sg_store_for "$T/gw"
cat >"$T/gw.yaml" <<EOF2
store: $STORE
http: {listen: 127.0.0.1:$HTTP}
accounts:
  - {name: shop, api_key: $KEY, default_region: DE, default_sender: Shop}
connectors:
  - {name: gsm1, type: modem, device: $T/modem, speed: 115200, pin: null,
     smsc: null, response_timeout: 5s, reconnect_min: 500ms}
routes:
  - {prefix: "+", connectors: [gsm1]}
log: {level: warn}
EOF2
"$BIN" serve -c "$T/gw.yaml" >"$T/gw.log" 2>&1 &
GW=$!
PIDS+=($GW)
wait_http "http://127.0.0.1:$HTTP/healthz" '"status":"ok"' 30 || fail "gateway not ready"
BASE=http://127.0.0.1:$HTTP

out=$("$BIN" send --url "$BASE" --key "$KEY" --to +4915112345678 \
  --text "hello through the modem" --wait --timeout 30s 2>&1) ||
  fail "send --wait: $out"
grep -q ' delivered$' <<<"$out" || fail "single message not delivered: $out"
echo "ok - a single message is delivered through the modem"

long=$(printf 'Part of a long text through a GSM modem. %.0s' 1 2 3 4 5 6 7 8 9 10)
out=$("$BIN" send --url "$BASE" --key "$KEY" --to +4915112345679 \
  --text "$long" --wait --timeout 30s 2>&1) || fail "send --wait (long): $out"
grep -q ' delivered$' <<<"$out" || fail "long message not delivered: $out"
echo "mo +4917000001 a reply from a handset" >&3
for ((i = 0; i < 100; i++)); do
  echo stats >&3
  sleep 0.1
  grep -q '"mo_deleted":1,"urcs_injected":[0-9]*,"stored":0' "$T/sim.log" && break
done
grep -q '"submitted":4,' "$T/sim.log" || fail "the modem should have taken 4 parts (1 + 3)"
grep -q '"mo_deleted":1,"urcs_injected":[0-9]*,"stored":0' "$T/sim.log" ||
  fail "the inbound message was not read, stored and deleted"
echo "ok - a 3-part message is delivered; an inbound message is stored, then deleted"
kill "$GW" && wait "$GW" || fail "gateway did not stop cleanly on SIGTERM"
! grep -q 'Sanitizer' "$T/gw.log" "$T/sim.log" || fail "sanitizer report"
echo "2 passed, 0 failed"
