#!/usr/bin/env bash
# Secrets on the real smsgate binary ($1): a gateway whose API keys, Kannel
# and SMPP passwords, webhook secret and connector password are known
# values runs through good and bad logins (REST, Kannel, SMPP), sends,
# signed webhooks, errors and a configuration with mistakes, with text and
# then JSON logs. Then every log line, every answer body (errors
# included), /metrics, the admin views, the database (the strings of its
# files, or a pg_dump with the gateway on PostgreSQL) and
# the configuration checker's errors are searched for each secret: 0 hits.
# A wrong credential that contains the right one is also used, so a log of
# presented credentials would be found. The web page's session cookies and
# CSRF tokens (each login's, used right and wrong, then logged out) are
# searched for too, in everything but the two answers that hand them out.
# A running gateway is asked to reload files with mistakes around the
# secrets (the API, `smsgate reload` and SIGHUP): each error is logged and
# answered as file:line:column, never with a secret. PostgreSQL's URL
# password: tests/integration/pg/secrets.sh (integration-pg/pg_secrets).
set -u
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/secrets.XXXXXX")
. "$HERE/../badinput/lib.sh"
trap sec_cleanup EXIT
trap 'exit 130' INT TERM
sg_store_for "$T/gw"

API=sk-SeCrEt-api-4711
ADMIN=sk-SeCrEt-admin-0815
KPW=kp-SeCrEt-5
SPW=Sp7Qz9w # SMPP passwords are at most 8 characters
WHS=wh-SeCrEt-secret-77
CPW=Cq4Xv8z # the connector's password at the simulator
SECRETS=("$API" "$ADMIN" "$KPW" "$SPW" "$WHS" "$CPW")

read -r HTTP SMPP SIM SINK <<<"$(free_ports 4)"
[ -n "$SINK" ] || fail "no free ports"
start sim "$BIN" sim smsc --port "$SIM" --system-id smsgate --password "$CPW" \
  --dlr-delay 20 --quiet --stats-interval 0
wait_log sim 'listening on' 10 || fail "simulator not ready"
start sink "$BIN" sim sink --port "$SINK" --secret "$WHS"
wait_log sink 'listening on' 10 || fail "sink not ready"

cat >"$T/gw.yaml" <<EOF2
store: $STORE
http: {listen: 127.0.0.1:$HTTP}
smpp_server: {listen: 127.0.0.1:$SMPP, bind_fail_delay: 0}
accounts:
  - {name: admin, api_key: $ADMIN, admin: true}
  - {name: shop, api_key: $API, password: $KPW, webhook_secret: $WHS,
     callback_url: "http://127.0.0.1:$SINK/hook", default_region: DE,
     smpp: {system_id: shop, password: $SPW}}
connectors:
  - {name: operator, type: smpp, host: 127.0.0.1, port: $SIM, system_id: smsgate,
     password: $CPW}
routes:
  - {prefix: "+", connectors: [operator]}
webhooks: {allow_private_networks: true}
EOF2
BASE=http://127.0.0.1:$HTTP
ANS=$T/answers.txt
: >"$ANS"

# call METHOD PATH KEY [BODY]: appends the answer (headers and body).
call() {
  local auth=()
  [ -n "$3" ] && auth=(-H "Authorization: Bearer $3")
  curl -s -i -X "$1" "$BASE$2" "${auth[@]}" -H 'Content-Type: application/json' \
    ${4:+-d "$4"} >>"$ANS"
  echo >>"$ANS"
}

# web: logs in on the web page as shop (the account's password), uses the
# session right and wrong, logs out; the cookie and CSRF token join WEB.
# The login answer and GET /v1/session hold them (their purpose) and are
# kept apart in web.txt; every other answer goes to answers.txt.
WEB=()
web() {
  local jar=$T/jar login tok csrf bad
  login=$(curl -s -i -X POST "$BASE/v1/session" -H 'Content-Type: application/json' \
    -d "{\"account\": \"shop\", \"password\": \"$KPW\"}")
  printf '%s\n' "$login" >>"$T/web.txt"
  tok=$(printf '%s' "$login" | tr -d '\r' | sed -n 's/^Set-Cookie: sg_session=\([^;]*\);.*/\1/Ip')
  csrf=$(printf '%s' "$login" | sed -n 's/.*"csrf_token": *"\([^"]*\)".*/\1/p')
  [ ${#tok} -ge 32 ] && [ ${#csrf} -ge 32 ] || fail "web login: $login"
  WEB+=("$tok" "$csrf")
  curl -s -i "$BASE/v1/session" -b "sg_session=$tok" >>"$T/web.txt"
  local msg='{"to": "+4915112345678", "from": "Shop", "text": "from the page"}'
  for bad in "" "$csrf" "${csrf}x" "${csrf:0:20}" "$tok"; do
    code=$(curl -s -o "$T/web1.txt" -w '%{http_code}' "$BASE/v1/messages" \
      -b "sg_session=$tok" -H "X-CSRF-Token: $bad" -H 'Content-Type: application/json' -d "$msg")
    cat "$T/web1.txt" >>"$ANS"
    echo >>"$ANS"
    case "$bad:$code" in "$csrf:202") ;; "$csrf:"*) fail "the page's send: HTTP $code" ;;
    *:403) ;; *) fail "a send with CSRF token '${bad:0:4}...': HTTP $code, not 403" ;; esac
  done
  curl -s -i "$BASE/v1/messages?limit=2" -b "sg_session=$tok" >>"$ANS"
  curl -s -i "$BASE/v1/messages?limit=2" -b "sg_session=${tok}x" >>"$ANS"
  curl -s -i "$BASE/v1/messages?limit=2" -b "sg_session=${tok:0:40}" >>"$ANS"
  curl -s -i -X DELETE "$BASE/v1/session" -b "sg_session=$tok" >>"$ANS" # no CSRF
  curl -s -i -X DELETE "$BASE/v1/session" -b "sg_session=$tok" -H "X-CSRF-Token: $csrf" >>"$ANS"
  curl -s -i "$BASE/v1/session" -b "sg_session=$tok" >>"$ANS" # ended
  curl -s -i -X POST "$BASE/v1/session" -H 'Content-Type: application/json' \
    -d "{\"account\": \"shop\", \"password\": \"${KPW}x\"}" >>"$ANS"
  echo >>"$ANS"
}

traffic() {
  local msg='{"to": "+4915112345678", "from": "Shop", "text": "hello"}'
  call POST /v1/messages "$API" "$msg"
  call POST /v1/messages "$API-wrong" "$msg"          # contains the key
  call POST /v1/messages "${API:0:10}" "$msg"
  call POST /v1/messages "$ADMIN" '{"to": "+49", "text": ""}'
  call POST /v1/messages "$API" '{"to": "+4915112345678", "text": "x", "from": 5}'
  call GET /v1/accounts "$API"
  call GET /v1/accounts "$ADMIN"
  call GET /v1/accounts/shop "$ADMIN"
  call GET /v1/keys "$ADMIN"
  call GET /v1/balance "$API"
  call GET /metrics ""
  curl -s -i "$BASE/cgi-bin/sendsms?username=shop&password=$KPW&to=%2B4915112345678&text=hi&from=Shop" >>"$ANS"
  curl -s -i "$BASE/cgi-bin/sendsms?username=shop&password=${KPW}x&to=%2B4915112345678&text=hi" >>"$ANS"
  curl -s -i "$BASE/cgi-bin/sendsms?username=shop&password=&to=%2B4915112345678&text=hi" >>"$ANS"
  node -e '
    const smpp = require(process.argv[1]);
    const [port, good] = [process.argv[2], process.argv[3]];
    const bind = (pw) => new Promise((resolve) => {
      const s = smpp.connect({ url: `smpp://127.0.0.1:${port}`, auto_enquire_link_period: 0 });
      s.on("error", () => resolve([null, -1]));
      s.on("connect", () => s.bind_transceiver({ system_id: "shop", password: pw },
        (p) => resolve([s, p.command_status])));
    });
    (async () => {
      const [bad, st] = await bind(good.slice(0, 6) + "X"); bad && bad.close();
      const [bad2] = await bind(good + "9"); bad2 && bad2.close(); // 9 octets
      const [s, ok] = await bind(good);
      if (ok !== 0 || st === 0) { console.error("bind", ok, st); process.exit(1); }
      s.submit_sm({ source_addr: "Shop", source_addr_ton: 5, destination_addr: "+4915112345678",
                    dest_addr_ton: 1, dest_addr_npi: 1, short_message: "hi" }, (p) => {
        s.on("deliver_sm", (d) => { s.send(d.response()); });
        setTimeout(() => s.unbind(() => { s.close(); process.exit(p.command_status ? 1 : 0); }), 500);
      });
    })();' "$HERE/../interop/node_modules/smpp" "$SMPP" "$SPW" || fail "SMPP traffic"
  web
}

# The configuration with mistakes around the secrets (checked below by
# `config check` and `serve`, and offered to a running gateway by reload).
sed -e "s/password: $SPW}/password: ${SPW}99}/" \
  -e "s/api_key: $ADMIN, admin: true/api_key: $ADMIN, admin: yes/" \
  -e "s/password: $KPW,/password: $KPW, pasword: $KPW,/" \
  -e "/smpp: {system_id: shop/a\\  - {name: twin, api_key: $API}" \
  "$T/gw.yaml" >"$T/bad.yaml" # the last: a duplicate key
# A YAML mistake inside a secret: its quote never closes.
sed -e "s/webhook_secret: $WHS,/webhook_secret: \"$WHS,/" "$T/gw.yaml" >"$T/bad2.yaml"

# reload_bad FILE LOG: the running gateway is offered FILE in place of its
# own (POST /v1/admin/reload, `smsgate reload`, SIGHUP); each refuses it
# and the log gets file:line:column, as does each answer.
reload_bad() {
  cp "$T/gw.yaml" "$T/good.yaml"
  cp "$1" "$T/gw.yaml"
  local before reads
  before=$(grep -c 'reload' "$T/$2.log")
  reads=$(grep -c 'reload: reading' "$T/$2.log")
  code=$(curl -s -o "$T/reload1.txt" -w '%{http_code}' -X POST "$BASE/v1/admin/reload" \
    -H "Authorization: Bearer $ADMIN")
  cat "$T/reload1.txt" >>"$ANS"
  echo >>"$ANS"
  [ "$code" = 422 ] || [ "$code" = 400 ] || fail "reload of $(basename "$1"): HTTP $code $(cat "$T/reload1.txt")"
  grep -q 'gw.yaml:[0-9]*:[0-9]*' "$T/reload1.txt" || fail "the reload answer has no file:line: $(cat "$T/reload1.txt")"
  "$BIN" reload --url "$BASE" --key "$ADMIN" >>"$T/reload.txt" 2>&1 &&
    fail "smsgate reload took $(basename "$1")"
  kill -HUP "$GW"
  for ((i = 0; i < 100; i++)); do # three reads: the API, the CLI, SIGHUP
    [ "$(grep -c 'reload: reading' "$T/$2.log")" -ge $((reads + 3)) ] && break
    sleep 0.1
  done
  sleep 0.3 # the refusal's lines follow its read
  grep 'reload' "$T/$2.log" | tail -n +$((before + 1)) >"$T/reload-log.txt"
  grep -q 'gw.yaml:[0-9]*:[0-9]*' "$T/reload-log.txt" ||
    fail "the log of the refused reload has no file:line: $(cat "$T/reload-log.txt")"
  cp "$T/good.yaml" "$T/gw.yaml"
}

# ---- text logs, then JSON logs on the same database -------------------------
start gw "$BIN" serve -c "$T/gw.yaml" --log-level debug
GW=$LAST_PID
wait_http "$BASE/healthz" '"status":"ok"' 30 || fail "gateway not ready"
wait_log gw 'SMPP server listening' 10 || fail "SMPP server not ready"
traffic
reload_bad "$T/bad.yaml" gw
reload_bad "$T/bad2.yaml" gw
for ((i = 0; i < 100; i++)); do
  curl -s "http://127.0.0.1:$SINK/" | grep -q '"delivered":[1-9]' && break
  sleep 0.1
done
curl -s "http://127.0.0.1:$SINK/" | grep -q '"bad_signature":0' ||
  fail "webhooks not delivered with good signatures: $(curl -s "http://127.0.0.1:$SINK/")"
stop "$GW"
start gwj "$BIN" serve -c "$T/gw.yaml" --log-level debug --log-format json
GW=$LAST_PID
wait_http "$BASE/healthz" '"status":"ok"' 30 || fail "gateway (json) not ready"
wait_log gwj 'SMPP server listening' 10 || fail "SMPP server not ready"
traffic
reload_bad "$T/bad.yaml" gwj
sleep 1
stop "$GW"

# ---- a configuration with mistakes around the secrets ------------------------
"$BIN" config check -c "$T/bad.yaml" >"$T/config.log" 2>&1 && fail "the bad configuration passed"
"$BIN" serve -c "$T/bad.yaml" >>"$T/config.log" 2>&1 && fail "serve took the bad configuration"
grep -q 'accounts\[1\].smpp' "$T/config.log" || fail "no configuration error printed: $(cat "$T/config.log")"
grep -q 'accounts\[2\].api_key: the same API key' "$T/config.log" || fail "the duplicate key was not reported: $(cat "$T/config.log")"
# The banner names the keys, never shows them (standard output is a log).
grep -q "Bearer <the api_key of admin>" "$T/gw.log" || fail "the banner changed"

# ---- the search ---------------------------------------------------------------
sg_store_text >"$T/db.txt" || fail "cannot read the database"
[ -s "$T/db.txt" ] || fail "no database text"
grep -q '"status"' "$ANS" || fail "no answers recorded"
grep -q 'hello' "$T/db.txt" || fail "the database text holds no message (wrong file?)"
grep -q 'csrf_token_required' "$ANS" || fail "no CSRF refusal recorded"
grep -q 'session_expired' "$ANS" || fail "no ended session recorded"
grep -q 'gw.yaml:[0-9]*:[0-9]*: accounts\[1\]: YAML syntax error' "$T/reload.txt" ||
  fail "smsgate reload printed no error of bad2.yaml: $(cat "$T/reload.txt")"
[ ${#WEB[@]} = 4 ] || fail "${#WEB[@]} web tokens, 4 expected"
SECRETS+=("${WEB[@]}")
hits=0
for s in "${SECRETS[@]}"; do
  for f in gw.log gwj.log config.log answers.txt reload.txt db.txt; do
    n=$(grep -c -F -- "$s" "$T/$f")
    if [ "$n" -gt 0 ]; then
      echo "secret ${s:0:4}... found $n time(s) in $f:" >&2
      grep -F -- "$s" "$T/$f" | head -3 >&2
      hits=$((hits + n))
    fi
  done
done
[ "$hits" -eq 0 ] || fail "$hits secret value(s) found"
lines=$(cat "$T/gw.log" "$T/gwj.log" "$T/config.log" "$T/answers.txt" "$T/reload.txt" | wc -l)
echo "ok - ${#SECRETS[@]} secrets (6 configured, 2 web cookies, 2 CSRF tokens), 0 hits in $lines lines of logs (text and JSON), answers, /metrics, config and reload errors, and $(wc -l <"$T/db.txt") strings of the database"
echo "PASS"
