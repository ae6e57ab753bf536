#!/usr/bin/env bash
# Accounts and API keys managed at run time, on the real smsgate binary
# ($1): the checks of admin.js (an account and keys made over the REST API
# send over REST, Kannel sendsms and an SMPP bind with node-smpp; revoked
# and rotated keys get 401; a non-admin key gets 403 on every admin path;
# 422 and 409 change nothing), then a restart that must keep the API
# accounts and keys, and a look into the database files, which must not
# hold any key in clear.
#
# Readiness is polled, never slept for. Everything started is stopped on
# exit. Needs node.
set -u
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
JS="$HERE/admin.js"
. "$HERE/lib/common.bash"
sg_test_init admin

start() { # name, command...: runs it in the background, logs to $T/name.log
  local name=$1
  shift
  "$@" >>"$T/$name.log" 2>&1 &
  PIDS+=($!)
  LAST_PID=$!
}

read -r HTTP SIM SMPP <<<"$(free_ports 3)"
[ -n "$SMPP" ] || fail "no free ports"
sg_store_for "$T/gw"
cat >"$T/gw.yaml" <<EOF2
store: $STORE
http: {listen: 127.0.0.1:$HTTP}
simulator: {listen: 127.0.0.1:$SIM, dlr_delay: 100ms}
accounts:
  - {name: admin, api_key: admin-key, admin: true}
  - {name: user, api_key: user-key, default_region: DE,
     smpp: {system_id: usersmpp, password: userpw}}
connectors:
  - {name: operator, type: smpp, host: 127.0.0.1, port: $SIM,
     system_id: smsgate, password: secret}
routes:
  - {prefix: "+", connectors: [operator]}
smpp_server: {listen: 127.0.0.1:$SMPP, bind_fail_delay: 0, bind_fail_max: 100}
log: {level: info}
EOF2
BASE=http://127.0.0.1:$HTTP

start gw "$BIN" serve -c "$T/gw.yaml"
GW=$LAST_PID
wait_http "$BASE/healthz" '"status":"ok"' 30 || fail "gateway not ready"
node "$JS" first "$BASE" "$SMPP" "$T/state.json" || fail "admin scenarios"
kill "$GW" && wait "$GW" || fail "gateway did not stop cleanly on SIGTERM"

start gw "$BIN" serve -c "$T/gw.yaml"
GW=$LAST_PID
wait_http "$BASE/healthz" '"status":"ok"' 30 || fail "gateway not ready again"
grep -q "1 account(s) and 2 live API key(s) loaded from the store" "$T/gw.log" ||
  fail "the restart did not load the API account and keys"
node "$JS" restart "$BASE" "$SMPP" "$T/state.json" || fail "after the restart"

# The command line, over the same API.
export SMSGATE_URL=$BASE SMSGATE_KEY=admin-key
"$BIN" account list >"$T/cli.out" 2>&1 || fail "account list: $(cat "$T/cli.out")"
grep -qE '^shop +api +no +no +DE +shopsmpp$' "$T/cli.out" || fail "account list: $(cat "$T/cli.out")"
grep -qE '^user +config ' "$T/cli.out" || fail "account list: $(cat "$T/cli.out")"
printf 'clipw1\n' | "$BIN" account create cli1 --region RU --sender Cli \
  --smpp-system-id cli1 --smpp-password-stdin >"$T/cli.out" 2>&1 || fail "account create: $(cat "$T/cli.out")"
grep -qE '^webhook_secret +whsec_' "$T/cli.out" || fail "account create: $(cat "$T/cli.out")"
"$BIN" account create cli2 --tps abc >"$T/cli.out" 2>&1
[ $? -eq 1 ] && grep -q 'HTTP 422 invalid_field (tps)' "$T/cli.out" || fail "bad tps: $(cat "$T/cli.out")"
"$BIN" account show cli2 >/dev/null 2>&1 && fail "a refused account exists"
"$BIN" key create --account cli1 --name t1 >"$T/cli.out" 2>/dev/null || fail "key create"
read -r KID KEY <"$T/cli.out"
[[ $KID == k_* && $KEY == sgk_* ]] || fail "key create output: $(cat "$T/cli.out")"
"$BIN" send --url "$BASE" --key "$KEY" --to +79001234567 --from Cli --text "cli key" >/dev/null 2>&1 ||
  fail "send with a key made by the CLI"
"$BIN" key list --account cli1 | grep -qE "^$KID +t1 +cli1 +yes " || fail "key list"
"$BIN" key revoke "$KID" >/dev/null || fail "key revoke"
"$BIN" send --url "$BASE" --key "$KEY" --to +79001234567 --from Cli --text x >"$T/cli.out" 2>&1
[ $? -eq 1 ] && grep -q 'HTTP 401' "$T/cli.out" || fail "send with a revoked key: $(cat "$T/cli.out")"
"$BIN" account disable cli1 | grep -qE '^disabled +true$' || fail "account disable"
"$BIN" account update user --tps 3 >"$T/cli.out" 2>&1
[ $? -eq 1 ] && grep -q 'HTTP 409 managed_by_config' "$T/cli.out" || fail "update of a configured account: $(cat "$T/cli.out")"
"$BIN" key list --key user-key >"$T/cli.out" 2>&1
[ $? -eq 1 ] && grep -q 'HTTP 403 admin_required' "$T/cli.out" || fail "key list with a non-admin key: $(cat "$T/cli.out")"
"$BIN" account >/dev/null 2>&1; [ $? -eq 2 ] || fail "account without a command must be a usage error"
"$BIN" key create --name x >/dev/null 2>&1; [ $? -eq 2 ] || fail "key create without --account must be a usage error"
"$BIN" key --help | grep -q 'smsgate key rotate ID' || fail "key --help"
"$BIN" account --help | grep -q 'smsgate account create NAME' || fail "account --help"
echo "ok - smsgate account and smsgate key"
kill "$GW" && wait "$GW" || fail "gateway did not stop cleanly on SIGTERM"

# The database holds the keys' hashes only (on PostgreSQL: in its dump).
if [[ $STORE == *postgres* ]]; then
  mkdir -p "$T/gw"
  pg_dump "$(sed -n 's/.*url: "\(.*\)"}/\1/p' <<<"$STORE")" >"$T/gw/dump.sql" ||
    fail "cannot dump the PostgreSQL database"
  grep -q "api_keys" "$T/gw/dump.sql" || fail "the dump has no api_keys"
fi
for key in $(node -e 'for (const k of JSON.parse(require("fs").readFileSync(process.argv[1])).all) console.log(k)' "$T/state.json"); do
  secret=${key:17} # after "sgk_<12 hex>_"
  [ ${#secret} -ge 40 ] || fail "unexpected key format: $key"
  if grep -rqF "$secret" "$T/gw"; then fail "key $key found in the database files"; fi
done
grep -rqF "pw456" "$T/gw" && fail "the SMPP password is in the database files"
grep -rqF "kannel-pw" "$T/gw" && fail "the Kannel password is in the database files"
echo "ok - admin: accounts and keys at run time, kept across a restart"
