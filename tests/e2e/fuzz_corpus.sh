#!/usr/bin/env bash
# Replays every seed and regression input of tests/fuzz/corpus/NAME through the fuzz
# target NAME built as a plain program (tests/fuzz/replay_main.c), the ASan+UBSan build
# when present (make asan), else release. One PASS/FAIL per target: no crash, no
# sanitizer report, no input slower than FUZZ_REPLAY_MAX_MS.
set -u
cd "$(dirname "$0")/../.."
. tests/e2e/lib/common.sh
B=build/asan; [ -d $B/fuzz ] || B=build/release
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
for dir in tests/fuzz/corpus/*/; do
  n=$(basename "$dir")
  out=$("$B/fuzz/$n" "$dir" 2>&1); rc=$?
  [ $rc -ne 0 ] && printf '%s\n' "$out" | tail -20
  check "fuzz corpus $n ($B): $(printf '%s\n' "$out" | tail -1)" [ $rc -eq 0 ]
done
exit $((fails > 0))
