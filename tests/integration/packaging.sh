#!/usr/bin/env bash
# What `make install` and `make deb` produce, checked from the build directory
# of the smsgate binary ($1) without touching the machine: a staged install
# (DESTDIR) with its unit, manual page, docs and configuration template;
# packaging/postinst.sh writing a configuration with fresh random keys that
# `smsgate config check` accepts, and never overwriting it; `smsgate config`
# itself; and the Debian package's control data and contents.
set -u
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
BUILD=$(dirname "$BIN")
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/packaging.XXXXXX")
trap 'rm -rf "$T"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok - $*"; }

# ---- smsgate config ------------------------------------------------------------
out=$("$BIN" config check 2>&1) || fail "config check of the built-in configuration: $out"
[[ $out == "built-in configuration: ok (2 account(s), 1 connector(s), 1 route(s))" ]] ||
  fail "config check output: $out"
"$BIN" config default >"$T/default.yaml" || fail "config default"
"$BIN" config check -c "$T/default.yaml" >/dev/null || fail "the printed default does not check"
printf 'http: {listen: nowhere}\naccounts: []\nbogus: 1\n' >"$T/bad.yaml"
out=$("$BIN" config check -c "$T/bad.yaml" 2>&1)
rc=$?
[ $rc -eq 1 ] || fail "config check of a bad file exited $rc"
grep -q "^$T/bad.yaml:1:16: http.listen: " <<<"$out" || fail "no file:line:column error: $out"
grep -q "^$T/bad.yaml:3:1: bogus: unknown key" <<<"$out" || fail "unknown key not named: $out"
"$BIN" config frobnicate >/dev/null 2>&1
[ $? -eq 2 ] || fail "an unknown config subcommand must be a usage error"
ok "smsgate config check / default"

# ---- staged install ------------------------------------------------------------
DESTDIR=$T/stage cmake --install "$BUILD" --prefix /usr >"$T/install.log" 2>&1 ||
  fail "cmake --install: $(cat "$T/install.log")"
S=$T/stage
for f in usr/bin/smsgate usr/share/man/man1/smsgate.1 usr/lib/systemd/system/smsgate.service \
  usr/share/smsgate/smsgate.yaml usr/share/smsgate/postinst.sh \
  usr/share/doc/smsgate/configuration.md usr/share/doc/smsgate/api.md; do
  [ -s "$S/$f" ] || fail "not installed: /$f"
done
unit=$S/usr/lib/systemd/system/smsgate.service
grep -qx 'ExecStart=/usr/bin/smsgate serve -c /etc/smsgate/smsgate.yaml' "$unit" ||
  fail "ExecStart: $(grep ExecStart "$unit")"
grep -qx 'ExecStartPre=/usr/bin/smsgate config check -c /etc/smsgate/smsgate.yaml' "$unit" ||
  fail "ExecStartPre"
if command -v systemd-analyze >/dev/null; then
  v=$(systemd-analyze verify --man=no "$unit" 2>&1 | grep -v 'is not executable' || true)
  [ -z "$v" ] || fail "systemd-analyze verify: $v"
  score=$(systemd-analyze security --offline=yes "$unit" 2>/dev/null |
    sed -n 's/.*Overall exposure level for smsgate.service: \([0-9.]*\).*/\1/p')
  [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 3.0) }' ||
    fail "exposure level of the unit: '$score' (want <= 3.0)"
  ok "systemd unit verified, exposure level $score"
else
  echo "# systemd-analyze not found: the unit's checks are skipped"
fi
man=$S/usr/share/man/man1/smsgate.1
grep -q '^\.TH SMSGATE 1 ' "$man" || fail "manual page header"
# Every subcommand `smsgate --help` lists (and every simulator `smsgate sim
# --help` lists) has its section, and no section names another: read here
# by the first word of each line, not by scripts/man.sh's own pattern.
want=$(
  "$BIN" --help | awk '/^commands:/ { f = 1; next } f && /^$/ { f = 0 } f { print $1 }' |
    grep -vx 'help\|version'
  "$BIN" sim --help | awk '$1 == "usage:" || $1 == "smsgate" {
    for (i = 1; i < NF; i++) if ($i == "sim") { print "sim " $(i + 1); break } }'
)
[ "$(wc -l <<<"$want")" -ge 15 ] || fail "too few subcommands read from --help: $want"
got=$(sed -n 's/^\.SS "smsgate \(.*\)"$/\1/p' "$man")
[ "$(sort <<<"$want")" = "$(sort <<<"$got")" ] ||
  fail "manual page sections differ from --help: $(diff <(sort <<<"$want") <(sort <<<"$got"))"
grep -q -- '--log-format' "$man" || fail "manual page misses serve's options"
ok "staged install: program, unit, manual page, docs, configuration template"

# ---- postinst: the configuration with random keys --------------------------------
conf=$T/etc/smsgate/smsgate.yaml
SG_NO_USER=1 SG_CONFIG_GROUP=root "$S/usr/share/smsgate/postinst.sh" "$conf" \
  "$S/usr/share/smsgate/smsgate.yaml" >/dev/null || fail "postinst.sh"
[ "$(stat -c %a "$conf")" = 640 ] || fail "configuration mode $(stat -c %a "$conf")"
key=$(sed -n 's/.*api_key: "\([^"]*\)".*/\1/p' "$conf")
[[ $key =~ ^[0-9a-f]{48}$ ]] || fail "api_key is not 48 random hex digits: '$key'"
grep -q '@' "$conf" && fail "a placeholder is left in the configuration"
"$BIN" config check -c "$conf" >/dev/null || fail "the written configuration does not check"
echo "# edited" >>"$conf"
sum=$(md5sum <"$conf")
SG_NO_USER=1 SG_CONFIG_GROUP=root "$S/usr/share/smsgate/postinst.sh" "$conf" \
  "$S/usr/share/smsgate/smsgate.yaml" >/dev/null || fail "postinst.sh, second run"
[ "$(md5sum <"$conf")" = "$sum" ] || fail "postinst.sh overwrote an existing configuration"
conf2=$T/etc2/smsgate.yaml
SG_NO_USER=1 SG_CONFIG_GROUP=root "$S/usr/share/smsgate/postinst.sh" "$conf2" \
  "$S/usr/share/smsgate/smsgate.yaml" >/dev/null
[ "$(sed -n 's/.*api_key: "\([^"]*\)".*/\1/p' "$conf2")" != "$key" ] || fail "the same key twice"
ok "postinst.sh: random keys, mode 0640, never overwrites"

# ---- the Debian package ----------------------------------------------------------
if command -v dpkg-deb >/dev/null && command -v dpkg-shlibdeps >/dev/null; then
  deb=$(bash "$ROOT/scripts/deb.sh" "$BUILD" "$T/deb" 2>"$T/deb.log") || fail "deb.sh: $(cat "$T/deb.log")"
  info=$(dpkg-deb -I "$deb")
  grep -q '^ Package: smsgate$' <<<"$info" || fail "package name: $info"
  grep -q '^ Depends: .*libuv1.*libyaml-0-2' <<<"$info" || fail "Depends: $(grep Depends <<<"$info")"
  files=$(dpkg-deb -c "$deb" | awk '{print $6}')
  for f in ./usr/bin/smsgate ./usr/lib/systemd/system/smsgate.service \
    ./usr/share/man/man1/smsgate.1.gz ./usr/share/smsgate/postinst.sh; do
    grep -qx "$f" <<<"$files" || fail "not in the package: $f"
  done
  dpkg-deb -I "$deb" postinst | grep -q 'postinst.sh /etc/smsgate/smsgate.yaml' || fail "postinst"
  ok "Debian package $(basename "$deb")"
else
  echo "# dpkg-deb or dpkg-shlibdeps not found: the package is not checked"
fi
