#!/usr/bin/env bash
# Runs each libFuzzer target of a SG_FUZZ build for a while. New inputs grow
# in a scratch corpus; copy the interesting ones into tests/fuzz/<name>/corpus.
set -euo pipefail
build=${1:-build-fuzz}
seconds=${2:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$build/crashes"
status=0
for bin in "$build"/fuzz_*; do
  [ -x "$bin" ] || continue
  name=${bin##*/fuzz_}
  work="$build/corpus/$name"
  mkdir -p "$work"
  echo "== fuzz $name for ${seconds}s"
  if ! "$bin" -max_total_time="$seconds" -artifact_prefix="$build/crashes/$name-" \
      -print_final_stats=1 "$work" "$root/tests/fuzz/$name/corpus" 2>"$build/fuzz-$name.log"; then
    echo "   CRASH: see $build/fuzz-$name.log and $build/crashes/"
    status=1
  fi
  grep -E 'stat::number_of_executed_units|stat::peak_rss_mb' "$build/fuzz-$name.log" | sed 's/^/   /' || true
done
exit $status
