#!/usr/bin/env bash
# Installs every Debian package smsgate needs to build, test, run and
# benchmark, and the npm packages of the JS test peers. Idempotent and quiet
# when everything is already there. Runs as root on a Debian machine.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config clang llvm libclang-rt-14-dev
  libcmocka-dev libuv1-dev libssl-dev libmicrohttpd-dev libcurl4-openssl-dev
  libjansson-dev libsqlite3-dev sqlite3 libpq-dev libyaml-dev libsodium-dev
  libpcre2-dev libphonenumber-dev libprotobuf-dev protobuf-compiler
  libcsv-dev  # CSV contact imports (src/core/contact_csv.c)
  libicu-dev  # campaign windows in recipients' time zones (src/core/tzwin.c)
  kannel  # the reference of tests/integration/kannel_compat.sh and bench/e2e
  postgresql  # the private server of the PostgreSQL tests (scripts/pg-test.sh)
)
# The browser of the web page's tests (tests/web, playwright-core), and the
# HTTP servers bench/http-servers sets against libmicrohttpd (its smoke test
# runs in `make test`).
[ "${SG_DEPS_BUILD_ONLY:-0}" = 1 ] ||
  PACKAGES+=(chromium libh2o-dev libh2o-evloop-dev libhttp-parser-dev)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

# Node.js may come from Debian (nodejs + npm) or already be on the machine
# with its own npm; only the commands matter.
if [ "${SG_DEPS_BUILD_ONLY:-0}" != 1 ]; then
  command -v node >/dev/null 2>&1 || missing+=(nodejs)
  command -v npm >/dev/null 2>&1 || missing+=(npm)
fi

if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# SG_DEPS_BUILD_ONLY=1 (the container build): the build's packages only.
[ "${SG_DEPS_BUILD_ONLY:-0}" = 1 ] && exit 0

# JS test peers (node-smpp and friends), the web page's chart library
# (src/web, copied into the binary by the build) and playwright-core
# (tests/web), pinned by package-lock.json.
root=$(cd "$(dirname "$0")/.." && pwd)
for dir in "$root"/tests/interop "$root"/tests/browser "$root"/src/web "$root"/tests/web; do
  if [ -f "$dir/package-lock.json" ]; then
    stamp="$dir/node_modules/.package-lock.json"
    if [ ! -f "$stamp" ] || [ "$dir/package-lock.json" -nt "$stamp" ]; then
      echo "deps: npm ci in ${dir#"$root"/}"
      (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    fi
  fi
done
