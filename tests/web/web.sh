#!/usr/bin/env bash
# The web page in a real browser: the smsgate binary ($1) with its built-in
# SMSC simulator, and web.test.js driving Debian's chromium headless through
# playwright-core (logins by key and by password, a failed login, a message
# sent and watched until delivered, a CSV import, the CSRF refusal, logout,
# and a screenshot of every page on a desktop and a phone). Screenshots go
# to $SG_WEB_OUT (CTest sets it to web-test-output/ in the build directory).
# A second argument names another test file of this folder to run instead
# (campaigns.sh runs campaigns.test.js so).
#
# Readiness is polled, never slept for. Everything started is stopped on
# exit. Needs node, tests/web/node_modules (scripts/deps.sh) and chromium.
set -u
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/../integration/lib/common.bash"
sg_test_init web

[ -d "$HERE/node_modules/playwright-core" ] || fail "tests/web/node_modules is missing: run scripts/deps.sh"
[ -x "${SG_CHROMIUM:-/usr/bin/chromium}" ] || fail "no chromium: run scripts/deps.sh"

read -r HTTP SIM <<<"$(free_ports 2)"
[ -n "$SIM" ] || fail "no free ports"
# ops logs in with a password kept as its argon2id hash (checked on the
# thread pool); shop with a plain one.
OPS_HASH=$(printf '%s' 'ops-Pa55word' | "$BIN" hash-password) || fail "hash-password"
sg_store_for "$T/gw" # SQLite, or a fresh PostgreSQL database (web-pg/*)
cat >"$T/gw.yaml" <<EOF2
store: $STORE
http: {listen: 127.0.0.1:$HTTP}
simulator: {listen: 127.0.0.1:$SIM, dlr_delay: 300ms}
accounts:
  - {name: shop, api_key: shop-key, password: shop-pw, default_region: GB,
     default_sender: Shop}
  - {name: ops, api_key: ops-key, password: "$OPS_HASH", admin: true,
     default_region: GB}
connectors:
  - {name: operator, type: smpp, host: 127.0.0.1, port: $SIM,
     system_id: smsgate, password: secret}
routes:
  - {prefix: "+", connectors: [operator]}
log: {level: warn}
EOF2

"$BIN" serve -c "$T/gw.yaml" >"$T/gw.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$HTTP/healthz" '"status":"ok"' 30 || fail "gateway not ready"

OUT=${SG_WEB_OUT:-$T/out}
mkdir -p "$OUT"
SG_BASE="http://127.0.0.1:$HTTP" SG_WEB_OUT="$OUT" \
  node --test --test-concurrency=1 "$HERE/${2:-web.test.js}" || fail "browser tests"
echo "screenshots in $OUT"
