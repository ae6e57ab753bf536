#!/usr/bin/env bash
# SIGTERM of smsgate ($1) again and again under the load of kill9.sh: each
# stop drains (stops taking requests, finishes what is in flight) and exits;
# nothing acknowledged is lost and the gateway sends nothing twice.
#   sigterm.sh BIN [N_REST] [N_SMPP] [EVERY_MS]
SIGNAL=TERM exec bash "$(dirname "$0")/kill9.sh" "$@"
