#!/usr/bin/env bash
# `make run`: starts the gateway on its embedded default configuration.
set -euo pipefail
bin=${1:-build/smsgate}
exec "$bin" serve
