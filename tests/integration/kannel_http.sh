#!/usr/bin/env bash
# smsgate's HTTP provider connector against the real peer it was modelled
# on: Debian's Kannel (bearerbox + smsbox 1.4.5). The connector is the
# shipped template packaging/providers/kannel-sendsms.yaml (only its ports
# and password changed); it sends into Kannel's sendsms, Kannel sends over
# SMPP to smsgate's SMSC simulator (a separate `smsgate sim smsc`), and the
# receipts come back by Kannel's dlr-url to /v1/hooks/provider/kannel:
#   - the part reaches the simulator with the text and addresses;
#   - Kannel's "0: Accepted for delivery" makes the part sent, its id the
#     part's own reference;
#   - dlr-url type 8 then 1 make the message delivered in smsgate.
#
# Kannel comes from scripts/deps.sh (apt-get install kannel). Readiness is
# polled, never slept for. Everything started is stopped on exit.
set -u
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ ! -x /usr/sbin/bearerbox ] || [ ! -x /usr/sbin/smsbox ]; then
  echo "kannel_http: Debian's kannel is not installed (scripts/deps.sh installs it)" >&2
  exit 1
fi
. "$HERE/lib/common.bash"
sg_test_init kannel_http

read -r SIM HTTP KADMIN KBOX KSEND <<<"$(free_ports 5)"
[ -n "$KSEND" ] || fail "no free ports"

. "$HERE/lib/kannel.bash"
kannel_conf sim "$SIM" kpw smsgate 1
cat >>"$T/kannel.conf" <<CONF
max-messages = 10
concatenation = true
CONF

sg_store_for "$T/gw"
{
  cat <<YAML
store: $STORE
http: {listen: 127.0.0.1:$HTTP, web: false}
accounts:
  - {name: app, api_key: app-key, default_region: RU}
YAML
  sed -e "s/127.0.0.1:13013/127.0.0.1:$KSEND/" -e "s/127.0.0.1:8080/127.0.0.1:$HTTP/" \
    -e 's/replace-with-the-sendsms-password/s3cret/' "$HERE/../../packaging/providers/kannel-sendsms.yaml"
  cat <<YAML
routes:
  - {prefix: "+", connectors: [kannel]}
log: {level: info}
YAML
} >"$T/gw.yaml"
grep -q "127.0.0.1:$KSEND/cgi-bin/sendsms" "$T/gw.yaml" || fail "the template's URL was not adapted"

"$BIN" sim smsc --port "$SIM" --record "$T/record.txt" --dlr-delay 100 \
  --stats-interval 0 >"$T/sim.log" 2>&1 &
PIDS+=($!)
for ((i = 0; i < 100; i++)); do grep -q 'listening on' "$T/sim.log" && break; sleep 0.1; done
/usr/sbin/bearerbox -v 1 "$T/kannel.conf" >"$T/bearerbox.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$KADMIN/status.txt?password=adm" 'sim.*online' 30 ||
  fail "Kannel's bearerbox did not bind to the simulator"
/usr/sbin/smsbox -v 1 "$T/kannel.conf" >"$T/smsbox.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$KADMIN/status.txt?password=adm" 'smsbox' 30 || fail "smsbox did not connect"
"$BIN" serve -c "$T/gw.yaml" >"$T/gw.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$HTTP/healthz" '"status":"ok"' 30 || fail "smsgate not ready"

api() { # method path [json]: prints "STATUS BODY"
  node -e '
    const [m, u, b] = process.argv.slice(1);
    fetch(u, { method: m, headers: { authorization: "Bearer app-key",
      "content-type": "application/json" }, body: b || undefined })
      .then(async (r) => console.log(r.status + " " + await r.text()))
      .catch((e) => { console.log("000 " + e.message); process.exit(1); });' "$1" "$2" "${3:-}"
}

r=$(api POST "http://127.0.0.1:$HTTP/v1/messages" '{"to": "+79001234567", "from": "Shop", "text": "Hello from smsgate & Kannel"}')
[ "${r%% *}" = 202 ] || fail "POST /v1/messages: $r"
id=$(node -e 'console.log(JSON.parse(process.argv[1].slice(4)).messages[0].id)' "$r")
sm_hex=$(printf 'Hello from smsgate & Kannel' | od -An -tx1 | tr -d ' \n')
recorded() { grep -q "src=Shop dst=79001234567 dc=.*sm=$sm_hex" "$T/record.txt"; }
for ((i = 0; i < 200; i++)); do recorded && break; sleep 0.1; done
recorded || fail "the message did not reach the simulator through Kannel: $(tail -3 "$T/record.txt" 2>&1)"
echo "ok - smsgate's HTTP connector sends through Kannel's sendsms to the SMSC"

status() { api GET "http://127.0.0.1:$HTTP/v1/messages/$id"; }
for ((i = 0; i < 200; i++)); do status | grep -q '"status":"delivered"' && break; sleep 0.1; done
s=$(status)
grep -q '"status":"delivered"' <<<"$s" || fail "not delivered in smsgate: $s"
grep -q "\"smsc_id\":\"$id.1\"" <<<"$s" || fail "the part's reference is not its id: $s"
grep -q '"status":"sent"' <<<"$s" || fail "no sent event: $s"
echo "ok - Kannel's dlr-url (types 8 and 1) makes the message delivered in smsgate"
grep -q 's3cret' "$T/gw.log" && fail "the sendsms password reached smsgate's log"
exit 0
