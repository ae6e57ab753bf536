#!/usr/bin/env bash
# The same sendsms requests to Debian's Kannel (bearerbox + smsbox 1.4.5)
# and to smsgate ($1), both bound to one smsgate SMSC simulator: every
# answer (HTTP status, the line, its Content-Type) must be the same, for
# the cases kannel_sendsms.js lists under `compare` (accepted requests,
# GET and POST, and every refusal Kannel and smsgate share).
#
# Kannel comes from scripts/deps.sh (apt-get install kannel). Readiness is
# polled, never slept for. Everything started is stopped on exit.
set -u
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib/common.bash" # fail, free_ports, wait_http, wait_log
JS="$HERE/kannel_sendsms.js"
if [ ! -x /usr/sbin/bearerbox ] || [ ! -x /usr/sbin/smsbox ]; then
  echo "kannel_compat: Debian's kannel is not installed (scripts/deps.sh installs it)" >&2
  exit 1
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/kannel_compat.XXXXXX")
PIDS=()

cleanup() {
  local p
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do kill "${PIDS[$i]}" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start() { # name, command...
  local name=$1
  shift
  "$@" >"$T/$name.log" 2>&1 &
  PIDS+=($!)
}

read -r SIM HTTP KADMIN KBOX KSEND <<<"$(free_ports 5)"
[ -n "$KSEND" ] || fail "no free ports"

. "$HERE/lib/kannel.bash"
KANNEL_ADMIN=compat KANNEL_SMSBOX='sendsms-chars = "0123456789 +-"
immediate-sendsms-reply = false' kannel_conf sim "$SIM" compat kannel 2

sg_store_for "$T/gw"
cat >"$T/gw.yaml" <<YAML
store: $STORE
http: {listen: 127.0.0.1:$HTTP}
accounts:
  - {name: kannel, password: s3cret, default_region: RU}
connectors:
  - {name: sim, type: smpp, host: 127.0.0.1, port: $SIM, system_id: smsgate,
     password: compat}
routes:
  - {prefix: "+", connectors: [sim]}
log: {level: warn}
YAML

start sim "$BIN" sim smsc --port "$SIM" --stats-interval 0 --quiet
wait_log sim 'listening on' 10 || fail "simulator not ready"
start bearerbox /usr/sbin/bearerbox -v 2 "$T/kannel.conf"
wait_http "http://127.0.0.1:$KADMIN/status.txt?password=compat" 'online' 30 ||
  fail "Kannel's bearerbox is not bound to the simulator"
start smsbox /usr/sbin/smsbox -v 2 "$T/kannel.conf"
start gw "$BIN" serve -c "$T/gw.yaml"
wait_http "http://127.0.0.1:$HTTP/healthz" '"connectors_up":1' 30 || fail "smsgate not ready"
# smsbox answers its sendsms port once it is connected to bearerbox.
for ((i = 0; i < 300; i++)); do
  node -e 'require("http").get(process.argv[1], () => process.exit(0)).on("error", () => process.exit(1))' \
    "http://127.0.0.1:$KSEND/" 2>/dev/null && break
  sleep 0.1
done
wait_http "http://127.0.0.1:$KADMIN/status.txt?password=compat" 'Box connections:[^]*smsbox' 30 ||
  fail "Kannel's smsbox did not connect"

node "$JS" compare "http://127.0.0.1:$KSEND" "http://127.0.0.1:$HTTP" ||
  fail "smsgate answers differently from Kannel"
