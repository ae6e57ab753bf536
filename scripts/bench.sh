#!/usr/bin/env bash
# Runs every benchmark program built from bench/<name>/ and prints its table.
set -euo pipefail
build=${1:-build}
for bin in "$build"/bench_*; do
  [ -x "$bin" ] || continue
  echo "== ${bin##*/}"
  "$bin"
done
