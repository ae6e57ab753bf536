#!/usr/bin/env bash
# pg-test.sh - a private PostgreSQL server for smsgate's tests and benchmarks.
#
#   pg-test.sh start DIR [PORT]   initdb in DIR/data and start a server on
#                                 127.0.0.1:PORT (a free one when PORT is
#                                 missing or "auto"), its unix socket in DIR;
#                                 prints its URL and writes it to DIR/url
#   pg-test.sh stop DIR           stops it (fast shutdown) and removes DIR
#   pg-test.sh restart DIR [PORT] stop (what an interrupted run left), start
#   pg-test.sh url DIR            prints the URL of the running server
#   pg-test.sh bounce DIR         restarts the running server in place (fast
#                                 shutdown: sessions are cut), same port
#   pg-test.sh exec DIR CMD...    runs CMD with SG_TEST_PG_URL and
#                                 SG_TEST_STORE_URL set to that URL
#
# initdb refuses to run as root: as root the server runs as $SG_PG_USER
# (default nobody), and DIR is made its own. Where that user cannot reach DIR
# (a checkout under a private 0700 folder), the cluster lives in a folder of
# its own under ${TMPDIR:-/tmp} instead; DIR/cluster names the folder that
# holds the cluster (data/, server.log, the unix socket) either way. fsync and the other durability
# settings stay at PostgreSQL's defaults. Authentication is "trust" and the
# server listens on the loopback address only. Fails loudly when the server
# programs are missing: tests that need PostgreSQL never skip silently.
set -euo pipefail

die() { echo "pg-test: $*" >&2; exit 1; }

find_bin() {
  local d
  if [ -n "${SG_PG_BIN:-}" ]; then echo "$SG_PG_BIN"; return; fi
  command -v pg_ctl >/dev/null 2>&1 && { dirname "$(command -v pg_ctl)"; return; }
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/pg_ctl" ] && { echo "$d"; return; }
  done
  die "PostgreSQL's server programs (initdb, pg_ctl) are not installed; run scripts/deps.sh"
}

# Runs a command as the server's user.
as_user() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u "${SG_PG_USER:-nobody}" -- "$@"
  else
    "$@"
  fi
}

port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

start() {
  local dir=$1 port=${2:-auto} bin tries
  bin=$(find_bin)
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  [ -e "$dir/data/PG_VERSION" ] || { [ -s "$dir/cluster" ] &&
    [ -e "$(cat "$dir/cluster")/data/PG_VERSION" ]; } && die "$dir/data already holds a cluster; stop it first"
  local home=$dir
  if [ "$(id -u)" = 0 ]; then
    chown "${SG_PG_USER:-nobody}" "$dir"
    if ! as_user test -w "$dir" -a -x "$dir"; then
      home=$(mktemp -d "${TMPDIR:-/tmp}/smsgate-pg.XXXXXX")
      chown "${SG_PG_USER:-nobody}" "$home"
    fi
  fi
  echo "$home" >"$dir/cluster"
  as_user "$bin/initdb" -D "$home/data" -U postgres --auth=trust \
    --encoding=UTF8 --locale=C >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; die "initdb failed"; }
  for tries in 1 2 3 4 5 6 7 8; do
    if [ "$port" = auto ] || [ "$tries" -gt 1 -a "${2:-auto}" = auto ]; then
      port=$((20000 + RANDOM % 40000))
      port_free "$port" || continue
    fi
    if as_user "$bin/pg_ctl" -D "$home/data" -l "$home/server.log" -w -t 30 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $home -c max_connections=200" \
      start >/dev/null 2>&1; then
      echo "postgres://postgres@127.0.0.1:$port/postgres" >"$dir/url"
      cat "$dir/url"
      return 0
    fi
    [ "${2:-auto}" = auto ] || break
  done
  tail -n 20 "$home/server.log" >&2 || true
  die "the server did not start"
}

stop() {
  local dir=$1 bin home
  [ -d "$dir" ] || return 0
  home=$dir
  [ -s "$dir/cluster" ] && home=$(cat "$dir/cluster")
  if [ -e "$home/data/postmaster.pid" ]; then
    bin=$(find_bin)
    as_user "$bin/pg_ctl" -D "$home/data" -m fast -w -t 60 stop >/dev/null
  fi
  [ "$home" = "$dir" ] || rm -rf "$home"
  rm -rf "$dir"
}

bounce() {
  local dir=$1 bin home
  home=$dir
  [ -s "$dir/cluster" ] && home=$(cat "$dir/cluster")
  [ -e "$home/data/postmaster.pid" ] || die "no server running in $dir"
  bin=$(find_bin)
  as_user "$bin/pg_ctl" -D "$home/data" -l "$home/server.log" -m fast -w -t 60 \
    restart >/dev/null
}

url() {
  [ -s "$1/url" ] || die "no server in $1 (pg-test.sh start $1 first)"
  cat "$1/url"
}

cmd=${1:-}
case "$cmd" in
  start) [ $# -ge 2 ] || die "usage: pg-test.sh start DIR [PORT]"; start "$2" "${3:-auto}" ;;
  restart) [ $# -ge 2 ] || die "usage: pg-test.sh restart DIR [PORT]"
    stop "$2"; start "$2" "${3:-auto}" ;;
  stop) [ $# -eq 2 ] || die "usage: pg-test.sh stop DIR"; stop "$2" ;;
  url) [ $# -eq 2 ] || die "usage: pg-test.sh url DIR"; url "$2" ;;
  bounce) [ $# -eq 2 ] || die "usage: pg-test.sh bounce DIR"; bounce "$2" ;;
  exec)
    [ $# -ge 3 ] || die "usage: pg-test.sh exec DIR CMD..."
    u=$(url "$2")
    shift 2
    SG_TEST_PG_URL=$u SG_TEST_STORE_URL=$u exec "$@"
    ;;
  *) die "usage: pg-test.sh start|stop|restart|bounce|url|exec DIR ..." ;;
esac
