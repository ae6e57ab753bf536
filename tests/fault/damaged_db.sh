#!/usr/bin/env bash
# A damaged database file is found at start, before anything writes to it:
# smsgate ($1) is started on a copy of a real store that is, in turn,
#   truncated      cut to half its pages
#   flipped        bytes of a table page overwritten (a bad sector)
#   not-sqlite     a text file where the database should be
#   newer          a database migrated by a newer smsgate (schema version 99)
# and must each time exit (status 1, within 20 s, never listening) with one
# clear line naming the file and what to do, and leave the file as it was.
set -u
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
. "$(cd "$(dirname "$0")" && pwd)/lib/gateway.bash" # wait_for, free_ports
T=$(mktemp -d "${TMPDIR:-/tmp}/damaged_db.XXXXXX")
GW=
KEY=db-key

cleanup() {
  [ -n "$GW" ] && kill -9 "$GW" 2>/dev/null && wait "$GW" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
  echo "FAIL: $*" >&2
  [ -f "$T/gw.log" ] && { echo "--- gw.log" >&2; tail -n 20 "$T/gw.log" >&2; }
  exit 1
}
command -v sqlite3 >/dev/null || fail "the sqlite3 shell is needed"

HTTP=$(free_ports 1)
BASE=http://127.0.0.1:$HTTP
DB=$T/data/smsgate.db
cat >"$T/gw.yaml" <<YAML
store: {path: $DB}
http: {listen: 127.0.0.1:$HTTP}
accounts:
  - {name: db, api_key: $KEY, default_region: RU}
connectors:
  - {name: operator, type: smpp, host: 127.0.0.1, port: 9, system_id: smsgate}
routes:
  - {prefix: "+", connectors: [operator]}
log: {level: warn}
YAML

healthy() { curl -s -m 1 "$BASE/healthz" 2>/dev/null | grep -q '"status"'; }

# A real store with messages in it, stopped cleanly (the WAL checkpointed).
"$BIN" serve -c "$T/gw.yaml" >"$T/gw.log" 2>&1 &
GW=$!
wait_for 30 healthy || fail "gateway not ready on a new store"
for i in $(seq 1 50); do
  curl -s -o /dev/null -m 5 "$BASE/v1/messages" -H "Authorization: Bearer $KEY" \
    -H 'Content-Type: application/json' \
    -d "{\"to\": \"+7900123$(printf %04d "$i")\", \"from\": \"Db\", \"text\": \"message $i of the store that will be damaged\"}"
done
kill "$GW" && wait "$GW"
GW=
[ -f "$DB-wal" ] && [ -s "$DB-wal" ] && fail "the WAL was not checkpointed at stop"
cp "$DB" "$T/pristine.db"
PAGES=$(sqlite3 "$T/pristine.db" 'PRAGMA page_count')
PSIZE=$(sqlite3 "$T/pristine.db" 'PRAGMA page_size')
[ "$PAGES" -ge 4 ] || fail "the store has only $PAGES pages"
# The root page of the messages table: damage there is found by quick_check.
ROOT=$(sqlite3 "$T/pristine.db" "SELECT rootpage FROM sqlite_schema WHERE name = 'messages'")

damage() { # how
  rm -f "$DB" "$DB-wal" "$DB-shm"
  cp "$T/pristine.db" "$DB"
  case $1 in
  truncated) truncate -s $((PSIZE * (PAGES / 2))) "$DB" ;;
  flipped)
    # the b-tree page header and cell pointers: 64 octets of 0xA5
    head -c 64 /dev/zero | tr '\0' '\245' |
      dd of="$DB" bs=1 seek=$((PSIZE * (ROOT - 1))) conv=notrunc status=none
    ;;
  not-sqlite) yes 'this is not a database' | head -c 65536 >"$DB" ;;
  newer) sqlite3 "$DB" "INSERT INTO schema_version VALUES (99, 'future', 0)" ;;
  esac
}

check() { # how, the words the message must hold
  local how=$1 want=$2 sum rc
  damage "$how"
  sum=$(sha256sum "$DB" | cut -d' ' -f1)
  : >"$T/gw.log"
  timeout 20 "$BIN" serve -c "$T/gw.yaml" >"$T/gw.log" 2>&1
  rc=$?
  [ "$rc" -ne 124 ] || fail "$how: smsgate still running after 20 s"
  [ "$rc" -ne 0 ] || fail "$how: smsgate exited 0"
  [ "$rc" -lt 128 ] || fail "$how: smsgate died of signal $((rc - 128))"
  grep -q "$DB" "$T/gw.log" || fail "$how: the message does not name $DB"
  grep -q "$want" "$T/gw.log" || fail "$how: the message does not say '$want'"
  [ "$(sha256sum "$DB" | cut -d' ' -f1)" = "$sum" ] || fail "$how: the file was changed"
  [ ! -s "$DB-wal" ] || fail "$how: a WAL was written beside the damaged file"
  echo "ok - $how: exit $rc, file unchanged: $(grep -m1 "$DB" "$T/gw.log")"
}

check truncated "corrupt or truncated"
check flipped "corrupt or truncated"
check not-sqlite "is not an SQLite database"
check newer "newer than the"

# And the pristine copy still opens: the checks refuse damage, not stores.
damage none
"$BIN" serve -c "$T/gw.yaml" >"$T/gw.log" 2>&1 &
GW=$!
wait_for 30 healthy || fail "the undamaged store does not open"
n=$(curl -s -m 2 -H "Authorization: Bearer $KEY" "$BASE/v1/messages?limit=100" |
  node -e 'let s = ""; process.stdin.on("data", (d) => s += d).on("end", () =>
    console.log(JSON.parse(s).data.length))')
[ "$n" -eq 50 ] || fail "the undamaged store holds $n messages, not 50"
kill "$GW" && wait "$GW"
GW=
echo "ok - the undamaged copy opens with its 50 messages"
echo "PASS"
