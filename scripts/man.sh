#!/usr/bin/env bash
# Writes smsgate(1), the manual page, to stdout: built from the program's own
# help texts (`smsgate help`, each subcommand's --help, and each simulator's),
# so that it says what the binary does.
#
# usage: scripts/man.sh path/to/smsgate > smsgate.1
set -euo pipefail
bin=$1
version=$("$bin" version | awk '{print $2}')
date=$(date -u -d "@${SOURCE_DATE_EPOCH:-$(date +%s)}" +%Y-%m-%d)

# roff: backslashes written as \e, and a line starting with . or ' escaped.
esc() { sed -e 's/\\/\\e/g' -e "s/^\([.']\)/\\\\\&\1/"; }
verbatim() { echo ".nf"; esc; echo ".fi"; }

cat <<ROFF
.TH SMSGATE 1 "$date" "smsgate $version" "User Commands"
.SH NAME
smsgate \- an SMS gateway
.SH SYNOPSIS
.B smsgate
.I command
.RI [ options ]
.SH DESCRIPTION
smsgate takes text messages from applications (a REST API, the command
line), validates each number, encodes and splits the text (GSM 03.38,
UCS-2), stores it durably before answering, sends it to mobile operators
over SMPP 3.4 within their rate limits, and brings delivery reports back as
signed webhooks.
.PP
.B smsgate serve
runs the gateway; with no configuration it runs a built-in one with a
simulated operator, so that a first message can be sent at once.
ROFF

echo ".SH COMMANDS"
"$bin" help | sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p' | while read -r cmd; do
  case $cmd in help | version) continue ;; esac
  echo ".SS \"smsgate $cmd\""
  "$bin" "$cmd" --help 2>&1 | verbatim
  if [ "$cmd" = sim ]; then
    "$bin" sim --help 2>&1 | sed -n 's/.*smsgate sim \([a-z]*\) \[options\].*/\1/p' |
      sort -u | while read -r s; do
        echo ".SS \"smsgate sim $s\""
        "$bin" sim "$s" --help 2>&1 | verbatim
      done
  fi
done

cat <<'ROFF'
.SH FILES
.TP
.I /etc/smsgate/smsgate.yaml
The configuration of the installed service (written with random keys on
the first install; check an edited copy with
.BR "smsgate config check -c" ).
.TP
.I /var/lib/smsgate/
The SQLite store of the installed service.
.TP
.I ./data/smsgate.db
The store of the built-in configuration.
.SH SIGNALS
SIGTERM and SIGINT stop accepting messages, finish or park what is in
flight, and exit 0; a second signal exits at once.
.SH EXIT STATUS
0 on success, 1 on failure, 2 on a usage error.
.SH SEE ALSO
The configuration reference (configuration.md), the REST API (api.md) and
the architecture (architecture.md) in /usr/share/doc/smsgate/.
ROFF
