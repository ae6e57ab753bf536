#!/usr/bin/env bash
# `make deb`: builds smsgate_<version>_<arch>.deb from a build directory.
# The package holds what `cmake --install --prefix /usr` installs; its
# dependencies come from dpkg-shlibdeps (the shared libraries the binary
# links); its postinst creates the smsgate user and, on the first install,
# /etc/smsgate/smsgate.yaml with random keys (packaging/postinst.sh).
#
# usage: scripts/deb.sh BUILD_DIR [OUT_DIR]    (OUT_DIR default: BUILD_DIR)
set -euo pipefail
build=$(cd "$1" && pwd)
out=$(mkdir -p "${2:-$build}" && cd "${2:-$build}" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
version=$("$build/smsgate" version | awk '{print $2}')
arch=$(dpkg --print-architecture)
work=$(mktemp -d "${TMPDIR:-/tmp}/smsgate-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
stage=$work/stage

DESTDIR=$stage cmake --install "$build" --prefix /usr >/dev/null
strip --strip-debug "$stage/usr/bin/smsgate" 2>/dev/null || true
gzip -9n "$stage/usr/share/man/man1/smsgate.1"

# Dependencies of the binary, as dpkg-shlibdeps finds them.
mkdir -p "$work/debian"
printf 'Source: smsgate\n\nPackage: smsgate\nArchitecture: any\n' >"$work/debian/control"
deps=$(cd "$work" && dpkg-shlibdeps -O "$stage/usr/bin/smsgate" 2>/dev/null |
  sed -n 's/^shlibs:Depends=//p')

mkdir -p "$stage/DEBIAN"
size=$(du -sk "$stage" | cut -f1)
cat >"$stage/DEBIAN/control" <<CONTROL
Package: smsgate
Version: $version
Architecture: $arch
Maintainer: smsgate maintainers <maintainers@smsgate.invalid>
Installed-Size: $size
Depends: $deps, adduser
Section: net
Priority: optional
Description: SMS gateway: REST API in, SMPP out, delivery reports back
 smsgate takes messages through a REST API and the command line, validates
 and encodes them (GSM 03.38, UCS-2), stores them durably before answering,
 sends them to operators over SMPP 3.4 within their rate limits, and brings
 delivery reports back as signed webhooks.
CONTROL
cat >"$stage/DEBIAN/postinst" <<'SCRIPT'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
  /usr/share/smsgate/postinst.sh /etc/smsgate/smsgate.yaml /usr/share/smsgate/smsgate.yaml
fi
SCRIPT
cat >"$stage/DEBIAN/prerm" <<'SCRIPT'
#!/bin/sh
set -e
if [ -d /run/systemd/system ] && [ "$1" = remove ]; then
  systemctl stop smsgate.service >/dev/null 2>&1 || true
fi
SCRIPT
cat >"$stage/DEBIAN/postrm" <<'SCRIPT'
#!/bin/sh
set -e
# The messages (/var/lib/smsgate) and the keys (/etc/smsgate) go only on purge.
if [ "$1" = purge ]; then
  rm -rf /etc/smsgate /var/lib/smsgate
fi
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload >/dev/null 2>&1 || true
fi
SCRIPT
chmod 0755 "$stage/DEBIAN/postinst" "$stage/DEBIAN/prerm" "$stage/DEBIAN/postrm"

deb="$out/smsgate_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
echo "$deb"
