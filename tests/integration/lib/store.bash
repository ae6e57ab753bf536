# store.bash - the gateway's store in black-box tests, on SQLite or on
# PostgreSQL (sourced by common.bash and tests/badinput/lib.sh, bash).
#
#   sg_store_for DIR   sets STORE to the value of a configuration's store:
#                      key: a SQLite file DIR/smsgate.db, or, with
#                      SG_TEST_STORE_URL set to a postgres:// URL, a fresh
#                      database on that server (dropped by sg_store_drop)
#   sg_store_sql SQL   runs SQL on the last store made by sg_store_for (read
#                      only on SQLite) and prints the rows, fields split by |
#   sg_store_digest    a digest of every row of every table of that store
#   sg_store_text      everything that store holds as text: the strings of
#                      the SQLite files (WAL included), or a pg_dump
#   sg_store_drop      drops the databases made on PostgreSQL
# The caller sets T (the test's scratch folder) and defines fail first.

SG_PG_DBS=()
SG_STORE_DB=
SG_STORE_PG=
sg_store_for() {
  case "${SG_TEST_STORE_URL:-}" in
  postgres://* | postgresql://*)
    local db base=${SG_TEST_STORE_URL%/*}
    db=sg_$(basename "$T" | tr -c 'a-zA-Z0-9\n' _ | tr 'A-Z' 'a-z')_${#SG_PG_DBS[@]}
    PGOPTIONS="-c client_min_messages=warning" psql -q "$base/postgres" \
      -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null ||
      fail "cannot create the PostgreSQL database $db"
    SG_PG_DBS+=("$db")
    SG_STORE_PG=$base/$db SG_STORE_DB=
    STORE="{driver: postgres, url: \"$SG_STORE_PG\"}"
    ;;
  *)
    SG_STORE_DB=$1/smsgate.db SG_STORE_PG=
    STORE="{path: $SG_STORE_DB}"
    ;;
  esac
}

sg_store_sql() {
  if [ -n "$SG_STORE_PG" ]; then
    psql -X -q -A -t -v ON_ERROR_STOP=1 "$SG_STORE_PG" -c "$1"
  else
    sqlite3 "file:$SG_STORE_DB?mode=ro" "$1"
  fi
}

# The digest reads while the gateway runs (SQLite's WAL readers and
# PostgreSQL's snapshots see the last commit). Tables in name order; rows
# in rowid order on SQLite, in the order of their text on PostgreSQL (no
# rowid there, and every table's key is part of its row). The nodes table
# is left out: the node's heartbeat rewrites it every few seconds whatever
# the input (docs/scaling.md). Sequences are left out on PostgreSQL: a
# refused insert that rolled back still took a number from one, and no row
# shows it.
sg_store_digest() (
  set -o pipefail
  sg_store_dump | sha256sum | cut -d' ' -f1
)

# sg_store_dump: what sg_store_digest digests; fails when a table cannot
# be read, or when there is none (then the store was not made yet).
sg_store_dump() {
  local t tables
  if [ -n "$SG_STORE_PG" ]; then
    tables=$(sg_store_sql "SELECT tablename FROM pg_tables
        WHERE schemaname = current_schema() AND tablename <> 'nodes'
        ORDER BY tablename COLLATE \"C\"") || return 1
    [ -n "$tables" ] || return 1
    for t in $tables; do
      echo "== $t"
      sg_store_sql "COPY (SELECT * FROM \"$t\" r ORDER BY r::text COLLATE \"C\")
        TO STDOUT WITH (FORMAT csv, HEADER)" || return 1
    done
    return
  fi
  tables=$(sg_store_sql "SELECT name FROM sqlite_master WHERE type='table'
      AND name <> 'nodes' ORDER BY name") || return 1
  [ -n "$tables" ] || return 1
  for t in $tables; do
    echo "== $t"
    sqlite3 -header "file:$SG_STORE_DB?mode=ro" "SELECT * FROM \"$t\" ORDER BY rowid" \
      2>/dev/null || sqlite3 -header "file:$SG_STORE_DB?mode=ro" "SELECT * FROM \"$t\"" ||
      return 1
  done
}

sg_store_text() {
  if [ -n "$SG_STORE_PG" ]; then
    pg_dump --no-owner "$SG_STORE_PG"
  else
    strings -a "$SG_STORE_DB"*
  fi
}

sg_store_drop() {
  local db
  for db in "${SG_PG_DBS[@]}"; do
    psql -q "${SG_TEST_STORE_URL%/*}/postgres" \
      -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
  done
  SG_PG_DBS=()
}
