#!/usr/bin/env bash
# Debian's Kannel (bearerbox + smsbox 1.4.5) as a customer of smsgate's SMPP
# server ($1): Kannel's only SMSC (group = smsc, smsc = smpp, transceiver)
# is smsgate, which sends on to its SMSC simulator.
#   - a message sent through Kannel's sendsms with a dlr-url reaches the
#     simulator (its --record) with the text and addresses Kannel was given;
#   - the delivery receipt comes back to Kannel as deliver_sm, and Kannel's
#     dlr-url fires with type 8 (SMSC success) and then 1 (delivered);
#   - an incoming message from the simulator reaches Kannel as deliver_sm
#     and its sms-service get-url fires with the sender and the text.
#
# Kannel comes from scripts/deps.sh (apt-get install kannel). Readiness is
# polled, never slept for. Everything started is stopped on exit.
set -u
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib/common.bash" # fail, free_ports, wait_http, wait_log
if [ ! -x /usr/sbin/bearerbox ] || [ ! -x /usr/sbin/smsbox ]; then
  echo "kannel_esme: Debian's kannel is not installed (scripts/deps.sh installs it)" >&2
  exit 1
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/kannel_esme.XXXXXX")
PIDS=()

cleanup() {
  local p
  exec 3>&- 2>/dev/null
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do kill "${PIDS[$i]}" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
  echo "FAIL: $*" >&2
  for f in "$T"/*.log "$T"/hooks.txt "$T"/record.txt; do
    [ -f "$f" ] && { echo "--- $f" >&2; tail -n 20 "$f" >&2; }
  done
  exit 1
}

http_get() { # url: prints "STATUS BODY"
  node -e '
    require("http").get(process.argv[1], (r) => { let b = "";
      r.on("data", (c) => b += c);
      r.on("end", () => console.log(r.statusCode + " " + b));
    }).on("error", (e) => { console.log("000 " + e.message); process.exit(1); });' "$1"
}

wait_for() { # seconds, command...: polls until the command succeeds
  local secs=$1 i
  shift
  for ((i = 0; i < secs * 10; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}

start() { # name, command...
  local name=$1
  shift
  "$@" >"$T/$name.log" 2>&1 &
  PIDS+=($!)
}

read -r SIM HTTP SMPP KADMIN KBOX KSEND HOOK <<<"$(free_ports 7)"
[ -n "$HOOK" ] || fail "no free ports"

. "$HERE/lib/kannel.bash"
KANNEL_ADMIN=esme kannel_conf smsgate "$SMPP" kpw app 1
cat >>"$T/kannel.conf" <<CONF

group = sms-service
keyword = default
get-url = "http://127.0.0.1:$HOOK/mo?from=%p&to=%P&text=%a"
max-messages = 0
catch-all = yes
CONF

sg_store_for "$T/gw"
cat >"$T/gw.yaml" <<YAML
store: $STORE
http: {listen: 127.0.0.1:$HTTP, web: false}
accounts:
  - {name: kannel, api_key: k-key, default_region: RU,
     smpp: {system_id: kannel, password: kpw}}
connectors:
  - {name: sim, type: smpp, host: 127.0.0.1, port: $SIM, system_id: smsgate,
     reconnect_min: 200ms, reconnect_max: 500ms}
routes:
  - {prefix: "+", connectors: [sim]}
inbound: {catch_all: kannel}
smpp_server: {listen: 127.0.0.1:$SMPP, bind_fail_delay: 100ms}
log: {level: info}
YAML

# The callbacks of Kannel (dlr-url, get-url), one request line each.
start hooks node -e '
  const fs = require("fs");
  require("http").createServer((q, r) => {
    fs.appendFileSync(process.argv[2], q.url + "\n");
    r.end("");
  }).listen(Number(process.argv[1]), "127.0.0.1",
            () => console.log("hooks listening"));' "$HOOK" "$T/hooks.txt"

mkfifo "$T/sim.in"
exec 3<>"$T/sim.in" # read-write: opening it does not wait for a reader
"$BIN" sim smsc --port "$SIM" --record "$T/record.txt" --dlr-delay 100 \
  --stats-interval 0 <"$T/sim.in" >"$T/sim.log" 2>&1 &
PIDS+=($!)
wait_for 10 grep -q 'listening on' "$T/sim.log" || fail "simulator not ready"
wait_for 10 grep -q 'hooks listening' "$T/hooks.log" || fail "hooks not ready"
start gw "$BIN" serve -c "$T/gw.yaml"
healthy() { http_get "http://127.0.0.1:$HTTP/healthz" | grep -q '"connectors_up":1'; }
wait_for 30 healthy || fail "smsgate not ready"
start bearerbox /usr/sbin/bearerbox -v 1 "$T/kannel.conf"
online() { http_get "http://127.0.0.1:$KADMIN/status.txt?password=esme" | grep -q 'smsgate.*online'; }
wait_for 30 online || fail "Kannel's bearerbox did not bind to smsgate: $(http_get "http://127.0.0.1:$KADMIN/status.txt?password=esme")"
start smsbox /usr/sbin/smsbox -v 1 "$T/kannel.conf"
boxed() { http_get "http://127.0.0.1:$KADMIN/status.txt?password=esme" | grep -q 'smsbox'; }
wait_for 30 boxed || fail "Kannel's smsbox did not connect"
wait_for 30 http_get "http://127.0.0.1:$KSEND/" || fail "smsbox sendsms not ready"

# ---- sendsms through Kannel, via smsgate, to the simulator; DLR back ----------
DLR="http://127.0.0.1:$HOOK/dlr?type=%d&to=%p&id=%F"
ENC_DLR=$(node -e 'console.log(encodeURIComponent(process.argv[1]))' "$DLR")
r=$(http_get "http://127.0.0.1:$KSEND/cgi-bin/sendsms?username=app&password=s3cret&to=%2B79001234567&from=Shop&text=Hello+from+Kannel&dlr-mask=31&dlr-url=$ENC_DLR")
[ "${r%% *}" = 202 ] || fail "sendsms: $r"
sm_hex=$(printf 'Hello from Kannel' | od -An -tx1 | tr -d ' \n')
recorded() { grep -q "src=Shop dst=79001234567 dc=.*sm=$sm_hex" "$T/record.txt"; }
wait_for 20 recorded || fail "the message did not reach the simulator"
echo "ok - Kannel's sendsms reaches the simulator through smsgate"
delivered() { grep -q '^/dlr?type=1&to=%2B79001234567&' "$T/hooks.txt"; }
wait_for 20 delivered || fail "Kannel's dlr-url did not fire with type 1"
grep -q '^/dlr?type=8&' "$T/hooks.txt" || fail "no type 8 (SMSC success) before it"
[ "$(grep -n '^/dlr?type=8&' "$T/hooks.txt" | head -1 | cut -d: -f1)" -lt \
  "$(grep -n '^/dlr?type=1&' "$T/hooks.txt" | head -1 | cut -d: -f1)" ] ||
  fail "type 1 before type 8"
# %F, the SMSC's id that Kannel kept from submit_sm_resp and matched the
# receipt with: smsgate's message id (a ULID), the same in both.
ids=$(sed -n 's|^/dlr?type=[18]&.*&id=||p' "$T/hooks.txt" | sort -u)
[[ $ids =~ ^[0-9A-HJKMNP-TV-Z]{26}$ ]] || fail "dlr-url ids: $ids"
# smsgate knows it as one delivered message of the account.
st=$(node -e '
  fetch(process.argv[1], { headers: { authorization: "Bearer k-key" } })
    .then((r) => r.json()).then((j) => console.log(j.status));' \
  "http://127.0.0.1:$HTTP/v1/messages/$ids")
[ "$st" = delivered ] || fail "smsgate's status of the message $ids: $st"
echo "ok - the receipt comes back to Kannel: dlr-url type 8, then type 1"

# ---- an incoming message, from the simulator through smsgate to Kannel --------
echo "mo +79007654321 4444 Hello Kannel" >&3
mo_seen() { grep -q '^/mo?from=%2B79007654321&to=4444&text=Hello+Kannel' "$T/hooks.txt"; }
wait_for 20 mo_seen || fail "Kannel's get-url did not fire for the MO"
echo "ok - an MO reaches Kannel's sms-service through smsgate"
