#!/usr/bin/env bash
# Contacts, lists, templates and CSV import/export through the REST API of
# the real smsgate binary ($1), with curl: an import with bad rows and
# duplicates (counts, line numbers, reasons), a bad header, an import into
# a list, CRUD with 4xx naming the field, opt-outs marked, search, cursor
# pagination that stays stable while contacts are added, the export read
# back into a second account (round trip), per-account isolation and the
# admin's ?account=, a streamed import of 20,000 rows, template preview
# with its encoding and parts and a missing field named.
#
# Readiness is polled, never slept for; everything started is stopped.
set -u
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib/common.bash"
sg_test_init contacts

free_port() {
  node -e 'const s = require("net").createServer();
    s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

PORT=$(free_port)
SIM=$(free_port)
BASE=http://127.0.0.1:$PORT
sg_store_for "$T/gw"
cat >"$T/gw.yaml" <<EOF
store: $STORE
http: {listen: 127.0.0.1:$PORT}
simulator: {listen: 127.0.0.1:$SIM}
accounts:
  - {name: admin, api_key: admin-key, admin: true}
  - {name: shop, api_key: shop-key, default_region: GB}
  - {name: other, api_key: other-key, default_region: DE}
connectors:
  - {name: operator, type: smpp, host: 127.0.0.1, port: $SIM,
     system_id: smsgate, password: secret}
routes:
  - {prefix: "+", connectors: [operator]}
log: {level: warn}
EOF
"$BIN" serve -c "$T/gw.yaml" >"$T/gw.log" 2>&1 &
PIDS+=($!)
for ((i = 0; i < 300; i++)); do
  curl -sf "$BASE/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -sf "$BASE/healthz" >/dev/null || fail "gateway not ready"

# req METHOD PATH KEY [curl args...]: the body in $T/body, the status in $S
req() {
  local m=$1 p=$2 k=$3
  shift 3
  S=$(curl -s -o "$T/body" -w '%{http_code}' -X "$m" -H "Authorization: Bearer $k" "$@" "$BASE$p")
  B=$(cat "$T/body")
}
expect() { # status, what
  [ "$S" = "$1" ] || fail "$2: HTTP $S, wanted $1: $B"
}
json() { req "$@"; }

# ---- an import with bad rows and duplicates -----------------------------------
printf 'number,name,city\n07911 123001,Ann,Leeds\n+447911123002,Bob,\n,NoNumber,x\n12,Short,y\n07911123001,Ann again,z\n+447911123003,"Smith, ""C""",York\nx,y\n+447911123004,Dee,Hull\n' >"$T/a.csv"
req POST /v1/contacts/import shop-key -H 'Content-Type: text/csv' --data-binary @"$T/a.csv"
expect 200 "import"
[ "$(jq_ '[o.rows, o.imported, o.duplicates, o.invalid].join()')" = "8,4,1,3" ] || fail "import counts: $B"
[ "$(jq_ 'o.errors.map((e) => e.line + ":" + e.column).join()')" = "4:number,5:number,8:null" ] || fail "import errors: $B"
[ "$(jq_ 'o.errors[2].reason')" = "expected 3 columns, found 2" ] || fail "reason: $B"
IMP=$(jq_ o.id)
req GET /v1/contacts/imports/$IMP shop-key
expect 200 "import progress"
[ "$(jq_ 'o.state + o.imported')" = "done4" ] || fail "import record: $B"
req GET /v1/contacts/imports/$IMP other-key
expect 404 "another account's import"

req POST /v1/contacts/import shop-key -H 'Content-Type: text/csv' --data-binary $'name,phone\nA,+1\n'
expect 422 "a header without number"
[ "$(jq_ 'o.error.field')" = "number" ] || fail "bad header field: $B"
req POST /v1/contacts/import shop-key -H 'Content-Type: application/json' --data-binary $'number\n+447911123009\n'
expect 415 "not text/csv"
req POST /v1/contacts/import wrong-key -H 'Content-Type: text/csv' --data-binary $'number\n+447911123009\n'
expect 401 "a bad key"
req GET /v1/contacts shop-key
[ "$(jq_ 'o.contacts.length')" = "4" ] || fail "refused imports changed nothing: $B"

# ---- lists, and an import into one --------------------------------------------
req POST /v1/lists shop-key -H 'Content-Type: application/json' -d '{"name":"vip"}'
expect 201 "create a list"
LIST=$(jq_ o.id)
req POST /v1/lists shop-key -H 'Content-Type: application/json' -d '{"name":"vip"}'
expect 409 "a list name taken"
req POST /v1/lists shop-key -H 'Content-Type: application/json' -d '{"nom":"x"}'
expect 422 "unknown field"
[ "$(jq_ 'o.error.field')" = "nom" ] || fail "unknown field named: $B"
printf 'number,name,tier\n+447911123004,Dee,gold\n+447911123005,Eve,gold\n' >"$T/b.csv"
req POST "/v1/contacts/import?list=$LIST" shop-key -H 'Content-Type: text/csv' --data-binary @"$T/b.csv"
expect 200 "import into a list"
[ "$(jq_ '[o.imported, o.duplicates].join()')" = "1,1" ] || fail "list import: $B"
req GET /v1/lists/$LIST shop-key
[ "$(jq_ o.members)" = "2" ] || fail "list members: $B"
req POST "/v1/contacts/import?list=999" shop-key -H 'Content-Type: text/csv' --data-binary $'number\n+447911123010\n'
expect 404 "import into a missing list"
req GET /v1/lists/$LIST shop-key ?account=other
req GET /v1/lists/$LIST other-key
expect 404 "another account's list"

# ---- contacts CRUD ----------------------------------------------------------------
req POST /v1/contacts shop-key -H 'Content-Type: application/json' -d '{"number":"07911 123006","name":"Fay","fields":{"city":"Bath"}}'
expect 201 "create a contact"
[ "$(jq_ 'o.number + o.fields.city')" = "+447911123006Bath" ] || fail "created: $B"
FAY=$(jq_ o.id)
req POST /v1/contacts shop-key -H 'Content-Type: application/json' -d '{"number":"+447911123006"}'
expect 409 "a number taken"
req POST /v1/contacts shop-key -H 'Content-Type: application/json' -d '{"number":"12"}'
expect 422 "an invalid number"
[ "$(jq_ 'o.error.field')" = "number" ] || fail "invalid number field: $B"
req POST /v1/contacts shop-key -H 'Content-Type: application/json' -d '{"number":"+447911123011","fields":{"a.b":"x"}}'
expect 422 "a bad field name"
[ "$(jq_ 'o.error.field')" = "fields.a.b" ] || fail "field named: $B"
req PATCH /v1/contacts/$FAY shop-key -H 'Content-Type: application/json' -d '{"name":null}'
expect 200 "patch"
[ "$(jq_ 'o.name')" = "null" ] || fail "name cleared: $B"
req GET /v1/contacts/$FAY other-key
expect 404 "another account's contact"
req GET "/v1/contacts/$FAY?account=shop" other-key
expect 403 "?account without admin"
req GET "/v1/contacts/$FAY?account=shop" admin-key
expect 200 "admin with ?account"
req POST /v1/lists/$LIST/contacts shop-key -H 'Content-Type: application/json' -d "{\"contacts\":[$FAY]}"
[ "$(jq_ o.added)" = "1" ] || fail "add to list: $B"
req GET /v1/contacts/$FAY shop-key
[ "$(jq_ 'o.lists.join()')" = "$LIST" ] || fail "lists of a contact: $B"
req DELETE /v1/lists/$LIST/contacts/$FAY shop-key
[ "$(jq_ o.removed)" = "1" ] || fail "remove from list: $B"

# ---- opt-outs marked, search ---------------------------------------------------------
req POST /v1/optouts shop-key -H 'Content-Type: application/json' -d '{"number":"+447911123002"}'
[ "${S:0:1}" = 2 ] || fail "opt-out: $S $B"
req GET '/v1/contacts?number=%2B447911123002' shop-key
[ "$(jq_ 'o.contacts[0].opted_out')" = "true" ] || fail "opted out marked: $B"
req GET '/v1/contacts?name=smith' shop-key
[ "$(jq_ 'o.contacts.map((c) => c.name).join()')" = 'Smith, "C"' ] || fail "name search: $B"
req GET '/v1/contacts?field.tier=gold' shop-key
[ "$(jq_ 'o.contacts.length')" = "1" ] || fail "field search: $B"
req GET '/v1/contacts?limit=0' shop-key
expect 422 "limit 0"
[ "$(jq_ 'o.error.field')" = "limit" ] || fail "limit named: $B"

# ---- pagination stable under inserts ---------------------------------------------------
req GET '/v1/contacts?limit=2' shop-key
P1=$(jq_ 'o.contacts.map((c) => c.id).join()')
CUR=$(jq_ o.next_cursor)
req POST /v1/contacts shop-key -H 'Content-Type: application/json' -d '{"number":"+447911123099"}'
req GET "/v1/contacts?limit=2&cursor=$CUR" shop-key
P2=$(jq_ 'o.contacts.map((c) => c.id).join()')
ALL=""
CUR=""
while :; do
  req GET "/v1/contacts?limit=3${CUR:+&cursor=$CUR}" shop-key
  ALL="$ALL$(jq_ 'o.contacts.map((c) => c.id + ",").join("")')"
  CUR=$(jq_ 'o.next_cursor || ""')
  [ -n "$CUR" ] || break
done
[ "$(tr ',' '\n' <<<"$ALL" | grep -c .)" = "7" ] || fail "all pages: $ALL"
[[ "$ALL" == "$P1,$P2,"* ]] || fail "pages moved: $P1 / $P2 / $ALL"

# ---- export, and the file imported back into another account ---------------------------------
curl -s -D "$T/h" -H 'Authorization: Bearer shop-key' "$BASE/v1/contacts/export" -o "$T/export.csv"
grep -qi '^Transfer-Encoding: chunked' "$T/h" || fail "export not streamed: $(cat "$T/h")"
[ "$(head -n 1 "$T/export.csv")" = "number,name,city,tier,opted_out" ] || fail "export header: $(head -n 2 "$T/export.csv")"
[ "$(grep -c . "$T/export.csv")" = "8" ] || fail "export rows: $(cat "$T/export.csv")"
grep -qx '+447911123003,"Smith, ""C""",York,,false' "$T/export.csv" || fail "export quoting: $(cat "$T/export.csv")"
grep -qx '+447911123002,Bob,,,true' "$T/export.csv" || fail "export opt-out: $(cat "$T/export.csv")"
curl -s -H 'Authorization: Bearer shop-key' "$BASE/v1/contacts/export?list=$LIST" -o "$T/list.csv"
[ "$(grep -c . "$T/list.csv")" = "3" ] || fail "list export: $(cat "$T/list.csv")"
req POST /v1/contacts/import other-key -H 'Content-Type: text/csv' --data-binary @"$T/export.csv"
[ "$(jq_ '[o.imported, o.duplicates, o.invalid].join()')" = "7,0,0" ] || fail "round trip import: $B"
curl -s -H 'Authorization: Bearer other-key' "$BASE/v1/contacts/export" -o "$T/back.csv"
sed 's/,true$/,false/' "$T/export.csv" | sort >"$T/a.sorted"
sort "$T/back.csv" >"$T/b.sorted"
cmp -s "$T/a.sorted" "$T/b.sorted" || fail "round trip differs: $(diff "$T/a.sorted" "$T/b.sorted")"
req GET '/v1/contacts?account=*&limit=100' admin-key
[ "$(jq_ 'o.contacts.length')" = "14" ] || fail "admin sees every account: $B"

# ---- a large streamed import ------------------------------------------------------------------
node -e 'let s = "number,name,n\n"; for (let i = 0; i < 20000; i++) s += "+4478" + String(i).padStart(8, "0") + ",P" + i + "," + i + "\n";
  require("fs").writeFileSync(process.argv[1], s);' "$T/big.csv"
req POST /v1/contacts/import other-key -H 'Content-Type: text/csv' -H 'Expect:' --data-binary @"$T/big.csv"
expect 200 "large import"
[ "$(jq_ '[o.rows, o.imported].join()')" = "20000,20000" ] || fail "large import: $B"
# Sent chunked (Transfer-Encoding: chunked, no Content-Length), as a pipe
# or a browser's stream sends it: taken as it streams in, not 411.
node -e 'let s = "number,name\n"; for (let i = 0; i < 3000; i++) s += "+4477" + String(i).padStart(8, "0") + ",C" + i + "\n";
  s += "not-a-number,X\n"; require("fs").writeFileSync(process.argv[1], s);' "$T/chunked.csv"
req POST /v1/contacts/import other-key -H 'Content-Type: text/csv' -H 'Expect:' \
  -H 'Transfer-Encoding: chunked' --data-binary @"$T/chunked.csv"
expect 200 "chunked import"
[ "$(jq_ '[o.rows, o.imported, o.invalid, o.errors[0].line].join()')" = "3001,3000,1,3002" ] ||
  fail "chunked import: $B"

# ---- templates -----------------------------------------------------------------------------------
req POST /v1/templates shop-key -H 'Content-Type: application/json' -d '{"name":"hi","text":"Hello {{name}} from {{fields.city}}"}'
expect 201 "create a template"
TPL=$(jq_ o.id)
req POST /v1/templates shop-key -H 'Content-Type: application/json' -d '{"name":"bad","text":"Hi {{nme}}"}'
expect 422 "a bad placeholder"
[ "$(jq_ 'o.error.field')" = "text" ] || fail "template error: $B"
ANN=$(curl -s -H 'Authorization: Bearer shop-key' "$BASE/v1/contacts?name=Ann" | node -e 'console.log(JSON.parse(require("fs").readFileSync(0)).contacts[0].id)')
req POST /v1/templates/$TPL/preview shop-key -H 'Content-Type: application/json' -d "{\"contact\":$ANN}"
expect 200 "preview"
[ "$(jq_ 'o.text + "|" + o.encoding + "|" + o.parts')" = "Hello Ann from Leeds|gsm7|1" ] || fail "preview: $B"
req POST /v1/templates/$TPL/preview shop-key -H 'Content-Type: application/json' -d '{"name":"Юля","fields":{"city":"Москва"}}'
[ "$(jq_ 'o.encoding + o.parts')" = "ucs21" ] || fail "ucs2 preview: $B"
req POST /v1/templates/$TPL/preview shop-key -H 'Content-Type: application/json' -d "{\"contact\":$FAY}"
expect 422 "a missing field"
[ "$(jq_ 'o.error.field')" = "name" ] || fail "missing field named: $B"
req POST /v1/templates/$TPL/preview other-key -H 'Content-Type: application/json' -d '{"name":"x"}'
expect 404 "another account's template"
echo "contacts: ok"
