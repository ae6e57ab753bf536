#!/usr/bin/env bash
# Runs every benchmark under bench/ and prints its table: a folder with a
# run.sh is run through it (it starts its own peers: bench/smpp takes the
# build folder, the others the smsgate program), any other folder's program
# bench_<name> is run alone.
set -euo pipefail
build=${1:-build}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
for dir in "$root"/bench/*/; do
  name=$(basename "$dir")
  echo "== $name"
  if [ -f "$dir/run.sh" ]; then
    if [ "$name" = smpp ]; then
      bash "$dir/run.sh" "$build"
    else
      bash "$dir/run.sh" "$build/smsgate"
    fi
  elif [ -x "$build/bench_$name" ]; then
    "$build/bench_$name"
  fi
done
