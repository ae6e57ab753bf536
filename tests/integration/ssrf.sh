#!/usr/bin/env bash
# Server-side request forgery on the real smsgate binary ($1): status
# webhooks (callback_url) and inbound-rule URL actions that point at this
# host or its networks in every spelling (127.1, 0x7f.1, 2130706433,
# 017700000001, [::1], [::ffff:127.0.0.1], localhost., ...), at private,
# shared, link-local and metadata addresses and their IPv6 forms, at names
# that resolve there (also one that answers a public address first and
# loopback the second time: DNS rebinding), and at a redirector.
#
# A listener counts every connection it accepts; the LD_PRELOAD shim
# $SG_RESOLVE_SHIM (tests/badinput/shim/resolve_shim.c) answers the test's
# names and records every connect() smsgate makes (and stops those that
# would leave the host). With webhooks.allow_private_networks false the
# listener must count 0 and no connect() may go to any of the addresses;
# every URL must have been tried (its refusal is in the log). Then the same
# gateway with allow_private_networks true reaches the listener, which
# proves the listener was reachable, and still never follows a redirect.
set -u
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/ssrf.XXXXXX")
. "$HERE/../badinput/lib.sh"
trap 'exec 3>&- 2>/dev/null; sec_cleanup' EXIT
trap 'exit 130' INT TERM
SHIM=${SG_RESOLVE_SHIM:-$(dirname "$BIN")/resolve_shim.so}
[ -f "$SHIM" ] || fail "no resolver shim at $SHIM"
sg_store_for "$T/gw"

read -r HTTP SIM P Q R <<<"$(free_ports 5)"
[ -n "$R" ] || fail "no free ports"
BASE=http://127.0.0.1:$HTTP
KEY=ssrf-key

# The names the shim answers: loopback, IPv6 loopback, metadata, a name
# with a public and a loopback address in one answer, and one that answers
# a public address first and loopback from the second look-up on.
cat >"$T/resolve.map" <<EOF2
loop.ssrf.test 127.0.0.1
loop6.ssrf.test ::1
meta.ssrf.test 169.254.169.254
mixed.ssrf.test 9.9.9.9,127.0.0.1
rebind.ssrf.test 9.9.9.9 127.0.0.1
EOF2

# Every spelling of the listener's address (port P).
LOOP_URLS=(
  "http://127.0.0.1:$P/a" "http://127.1:$P/b" "http://0x7f.1:$P/c"
  "http://0x7f000001:$P/d" "http://2130706433:$P/e" "http://017700000001:$P/f"
  "http://0177.0.0.1:$P/g" "http://127.000.000.001:$P/h" "http://[::1]:$P/i"
  "http://[0:0:0:0:0:0:0:1]:$P/j" "http://[::ffff:127.0.0.1]:$P/k"
  "http://[::ffff:7f00:1]:$P/l" "http://localhost:$P/m" "http://localhost.:$P/n"
  "http://LOCALHOST:$P/o" "http://0.0.0.0:$P/p" "http://0:$P/q" "http://[::]:$P/r"
  "http://loop.ssrf.test:$P/s" "http://loop6.ssrf.test:$P/t"
  "http://mixed.ssrf.test:$P/u" "http://rebind.ssrf.test:$P/v"
  "https://127.0.0.1:$P/w" "http://user:pw@127.0.0.1:$P/x"
  "http://[::ffff:127.0.0.1]:$P/y" "http://[64:ff9b::7f00:1]:$P/z"
  "http://[2002:7f00:1::1]:$P/aa" "http://127.0.0.1:$P#frag/ab"
)
# Private, shared, link-local, metadata and reserved addresses, and IPv6
# forms that carry them (nothing listens there; the shim records any
# connect() and stops it).
FAR_URLS=(
  "http://10.0.0.1/a" "http://172.16.0.1/b" "http://192.168.1.1/c"
  "http://100.64.0.1/d" "http://169.254.169.254/latest/meta-data/"
  "http://meta.ssrf.test/e" "http://[fd00::1]/f" "http://[fc00::1]/g"
  "http://[fe80::1]/h" "http://[::ffff:169.254.169.254]/i"
  "http://[::ffff:a9fe:a9fe]/j" "http://[64:ff9b::a9fe:a9fe]/k"
  "http://[2002:a9fe:a9fe::1]/l" "http://[::ffff:10.0.0.1]/m"
  "http://0xa9fea9fe/n" "http://2852039166/o" "http://192.0.0.1/p"
  "http://198.18.0.1/q" "http://240.0.0.1/r" "http://255.255.255.255/s"
  "http://224.0.0.1/t" "http://[ff02::1]/u" "http://[fec0::1]/v"
)
FAR_ADDRS='^connect (10\.0\.0\.1|172\.16\.0\.1|192\.168\.1\.1|100\.64\.0\.1|169\.254\.169\.254|fd00::1|fc00::1|fe80::1|::ffff:.*|64:ff9b::.*|2002:.*|192\.0\.0\.1|198\.18\.0\.1|240\.0\.0\.1|255\.255\.255\.255|224\.0\.0\.1|ff02::1|fec0::1) '

mkfifo "$T/sim.in"
exec 3<>"$T/sim.in"
"$BIN" sim smsc --port "$SIM" --dlr-delay 20 <"$T/sim.in" >"$T/sim.log" 2>&1 &
PIDS+=($!)
wait_log sim 'listening on' 10 || fail "simulator not ready"

# config ALLOW: writes the gateway's configuration; inbound rules send MO
# keywords R0.. to the first loopback URLs and a far one.
config() {
  {
    cat <<EOF2
store: $STORE
http: {listen: 127.0.0.1:$HTTP}
accounts:
  - {name: shop, api_key: $KEY, password: kpw, default_region: DE}
connectors:
  - {name: operator, type: smpp, host: 127.0.0.1, port: $SIM, system_id: smsgate}
routes:
  - {prefix: "+", connectors: [operator]}
webhooks: {allow_private_networks: $1, retry_min: 200ms, retry_max: 400ms,
           connect_timeout: 500ms, timeout: 2s, max_age: 3m}
inbound:
  rules:
EOF2
    local i
    for i in 0 1 2 3 4 8 20 21; do
      echo "    - {keyword: R$i, account: shop, url: \"${LOOP_URLS[$i]}?from=%p\"}"
    done
    echo "    - {keyword: RFAR, account: shop, url: \"http://169.254.169.254/mo?t=%a\"}"
  } >"$T/gw.yaml"
}

# post URL: a message whose callback_url is URL; prints the HTTP status.
post() {
  curl -s -o "$T/post.out" -w '%{http_code}' "$BASE/v1/messages" \
    -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
    -d "{\"to\": \"+4915112345678\", \"from\": \"Shop\", \"text\": \"x\", \"callback_url\": \"$1\"}"
}

# tried URL LOG: the gateway's log shows a finished attempt for URL.
tried() {
  grep -F -- "to $1" "$T/$2.log" | grep -q -E 'refused to connect|attempt|given up'
}

run_gateway() { # NAME ALLOW
  config "$2"
  : >"$T/shim.log"
  SG_RESOLVE_MAP="$T/resolve.map" SG_RESOLVE_LOG="$T/shim.log" \
    ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" LD_PRELOAD="$SHIM" \
    "$BIN" serve -c "$T/gw.yaml" >"$T/$1.log" 2>&1 &
  PIDS+=($!)
  GW=$!
  wait_http "$BASE/healthz" '"status":"ok"' 30 || fail "gateway $1 not ready"
  wait_log "$1" 'is up' 10 || fail "connector not up"
}

start lis node "$HERE/ssrf.js" listen "$P" "$T/count.txt"
start red node "$HERE/ssrf.js" listen "$Q" "$T/redirects.txt" "http://127.0.0.1:$R/"
start tgt node "$HERE/ssrf.js" listen "$R" "$T/target.txt"
wait_log lis 'listening on 127.0.0.1' 10 || fail "listener not ready"
wait_log red 'listening on 127.0.0.1' 10 || fail "redirector not ready"
wait_log tgt 'listening on 127.0.0.1' 10 || fail "redirect target not ready"

# ---- refused: allow_private_networks false ----------------------------------
run_gateway gw false
ACCEPTED=()
for u in "${LOOP_URLS[@]}" "${FAR_URLS[@]}" "http://127.0.0.1:$Q/redirect"; do
  code=$(post "$u")
  case $code in
  202) ACCEPTED+=("$u") ;;
  422) grep -q '"invalid_url"' "$T/post.out" || fail "422 for $u: $(cat "$T/post.out")"
       echo "ok - refused at once (422 invalid_url): $u" ;;
  *) fail "POST with callback_url $u: HTTP $code $(cat "$T/post.out")" ;;
  esac
done
for i in 0 1 2 3 4 8 20 21; do echo "mo +4915112345678 4444 R$i hello" >&3; done
echo "mo +4915112345678 4444 RFAR hello" >&3
# Kannel's dlr-url: one whose host is fixed and public (the shim stops its
# connect), then the same path with the host written by a placeholder (%o,
# the account parameter): a URL whose host a placeholder wrote is checked
# whole, and a private address is refused as any other.
KANNEL_URLS=("http://9.9.9.9:$P/kannel?t=1" "http://127.0.0.1:$P/kannel?t=1"
  "http://169.254.169.254/kannel?t=1")
for q in "account=x&dlr-url=http%3A%2F%2F9.9.9.9%3A$P%2Fkannel%3Ft%3D%25d" \
  "account=127.0.0.1&dlr-url=http%3A%2F%2F%25o%3A$P%2Fkannel%3Ft%3D%25d" \
  "account=169.254.169.254&dlr-url=http%3A%2F%2F%25o%2Fkannel%3Ft%3D%25d"; do
  out=$(curl -s "$BASE/cgi-bin/sendsms?username=shop&password=kpw&from=Shop&to=%2B4915112345678&text=x&dlr-mask=3&$q")
  case $out in "0: Accepted"*) ;; *) fail "sendsms with $q: $out" ;; esac
  sleep 0.3 # in this order
done
ACCEPTED+=("${KANNEL_URLS[@]}")
# Every accepted URL must have been tried (a refusal or a failure logged).
for u in "${ACCEPTED[@]}"; do
  for ((i = 0; i < 150; i++)); do tried "$u" gw && break; sleep 0.1; done
  tried "$u" gw || fail "no webhook attempt to $u logged"
done
for ((i = 0; i < 150; i++)); do
  [ "$(grep -c 'webhook .* to http.*?from=' "$T/gw.log")" -ge 8 ] && break
  sleep 0.1
done
[ "$(grep -c 'webhook .* to http.*?from=' "$T/gw.log")" -ge 8 ] ||
  fail "the inbound rules' URLs were not all tried"
grep -q 'webhook .* to http://169.254.169.254/mo' "$T/gw.log" || fail "RFAR not tried"
sleep 1 # a few retries more
n=$(wc -l <"$T/count.txt")
[ "$n" -eq 0 ] || fail "the listener counted $n connection(s): $(cat "$T/count.txt")"
[ "$(wc -l <"$T/redirects.txt")" -eq 0 ] || fail "the redirector was reached"
if grep -E "$FAR_ADDRS|^connect 127\.0\.0\.1 ($P|$Q|$R)$|^connect ::1 ($P|$Q|$R)$" "$T/shim.log"; then
  fail "smsgate called connect() on a refused address"
fi
grep -q '^lookup rebind.ssrf.test' "$T/shim.log" || fail "the rebinding name was never looked up"
# The public address of the mixed and rebinding names passed the check
# (the shim stopped that connect); their loopback address never did.
grep -q "^connect 9.9.9.9 $P\$" "$T/shim.log" || fail "the public answer was never tried"
refusals=$(grep -c 'refused to connect to' "$T/gw.log")
# DNS rebinding: rebind.ssrf.test answered a public address first; libcurl
# keeps an answer 60 s, so its second look-up comes a minute later and
# answers loopback. The attempts after it must be refused on that address.
for ((i = 0; i < 900; i++)); do
  grep -q '^lookup rebind.ssrf.test 2 127.0.0.1' "$T/shim.log" && break
  sleep 0.1
done
grep -q '^lookup rebind.ssrf.test 2 127.0.0.1' "$T/shim.log" ||
  fail "no second look-up of the rebinding name"
for ((i = 0; i < 50; i++)); do
  grep -q "to http://rebind.ssrf.test:$P/v: refused: refused to connect to 127.0.0.1: loopback" \
    "$T/gw.log" && break
  sleep 0.1
done
grep -q "to http://rebind.ssrf.test:$P/v: refused: refused to connect to 127.0.0.1: loopback" \
  "$T/gw.log" || fail "the rebound answer was not refused"
[ "$(wc -l <"$T/count.txt")" -eq 0 ] || fail "the listener was reached after rebinding"
if grep -E "^connect (127\.0\.0\.1|::1) $P\$" "$T/shim.log"; then
  fail "connect() to the listener after rebinding"
fi
echo "ok - DNS rebinding: the first answer (9.9.9.9) was connected to, the second (127.0.0.1) refused"
echo "ok - ${#ACCEPTED[@]} callback URLs and 9 inbound-rule URLs tried, $refusals refusals logged, 0 connections at the listener, 0 connect() to a refused address"
grep -E '^lookup (rebind|mixed)' "$T/shim.log" | sort | uniq -c | sed 's/^/   /'
stop "$GW"

# ---- allowed: the same URLs reach the listener; redirects are not followed --
run_gateway gw2 true
for u in "http://127.1:$P/b" "http://[::1]:$P/i" "http://0x7f.1:$P/c" \
  "http://loop.ssrf.test:$P/s" "http://127.0.0.1:$Q/redirect"; do
  [ "$(post "$u")" = 202 ] || fail "POST with $u"
done
for ((i = 0; i < 100; i++)); do
  [ "$(wc -l <"$T/count.txt")" -ge 4 ] && [ "$(wc -l <"$T/redirects.txt")" -ge 1 ] && break
  sleep 0.1
done
[ "$(wc -l <"$T/count.txt")" -ge 4 ] || fail "allowed: the listener was not reached"
[ "$(wc -l <"$T/redirects.txt")" -ge 1 ] || fail "allowed: the redirector was not reached"
sleep 1
[ "$(wc -l <"$T/target.txt")" -eq 0 ] || fail "a redirect was followed"
echo "ok - with allow_private_networks: true the listener counts $(wc -l <"$T/count.txt") connection(s); the redirect target 0"
stop "$GW"
echo "PASS"
