#!/usr/bin/env bash
# Runs every libFuzzer harness of test/Fuzz for SECONDS each (make fuzz
# FUZZ_SECONDS=N), starting from its checked-in seed corpus; new inputs go to
# a scratch corpus under the build directory, crashes to $dir/fuzz/crashes.
# A crash reproduces with: $dir/fuzz/fuzz-NAME CRASH_FILE
# FUZZERS (a list of names) restricts the run to some harnesses.
set -euo pipefail
dir=${1:?usage: fuzz.sh BUILD_DIR SECONDS}
seconds=${2:-30}
root=$(cd "$(dirname "$0")/.." && pwd)
# allow_user_poisoning=0: see scripts/sanitize.sh.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allow_user_poisoning=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
mkdir -p "$dir/fuzz/crashes"
status=0
for name in ${FUZZERS:-json npy safetensors config image video}; do
  work="$dir/fuzz/corpus-$name"
  mkdir -p "$work"
  log="$dir/fuzz/$name.log"
  echo "== fuzz-$name for ${seconds}s"
  if ! "$dir/fuzz/fuzz-$name" -max_total_time="$seconds" -rss_limit_mb=4096 \
      -timeout=20 -max_len=65536 -print_final_stats=1 \
      -artifact_prefix="$dir/fuzz/crashes/$name-" \
      "$work" "$root/test/Fuzz/corpus/$name" >"$log" 2>&1; then
    echo "fuzz-$name: FAILED (see $log and $dir/fuzz/crashes)"
    tail -30 "$log"
    status=1
  fi
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$log" | tr '\n' ' '
  echo
done
rm -rf /tmp/fovea-fuzz-*
exit $status
