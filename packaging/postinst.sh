#!/bin/sh
# After smsgate's files are installed (`make install` as root, or the Debian
# package's postinst): the smsgate system user, and the configuration file
# with random keys when there is none yet. An existing configuration is never
# touched. Idempotent.
#
#   postinst.sh CONFIG_FILE TEMPLATE
# env: SG_NO_USER=1 skips the user (tests), SG_CONFIG_GROUP (default smsgate)
set -eu
config=$1
template=$2
group=${SG_CONFIG_GROUP:-smsgate}

if [ "${SG_NO_USER:-0}" != 1 ] && ! getent passwd smsgate >/dev/null; then
  if command -v adduser >/dev/null; then
    adduser --system --group --home /var/lib/smsgate --no-create-home \
      --gecos "smsgate SMS gateway" --quiet smsgate
  else
    useradd --system --user-group --home-dir /var/lib/smsgate \
      --shell /usr/sbin/nologin smsgate
  fi
  if getent group dialout >/dev/null; then
    usermod -a -G dialout smsgate 2>/dev/null || true
  fi
fi

random_hex() { od -An -N24 -tx1 /dev/urandom | tr -d ' \n'; }

if [ ! -e "$config" ]; then
  mkdir -p "$(dirname "$config")"
  umask 027
  tmp="$config.tmp.$$"
  sed -e "s/@API_KEY@/$(random_hex)/" -e "s/@WEBHOOK_SECRET@/$(random_hex)/" \
    "$template" >"$tmp"
  chmod 0640 "$tmp"
  if getent group "$group" >/dev/null; then
    chgrp "$group" "$tmp"
  fi
  mv "$tmp" "$config"
  echo "smsgate: wrote $config with a new API key (see the file)"
fi

if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
  systemctl daemon-reload || true
fi
