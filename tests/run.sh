#!/usr/bin/env bash
# The test runner: every unit test binary (release and ASan+UBSan builds), then every
# end-to-end script in tests/e2e/. Closes with one line: "N passed, N failed".
#
# Unit tests are cmocka binaries: their "[  PASSED  ] N test(s)." and
# "[  FAILED  ] N test(s)" lines are counted. An e2e script prints "PASS: name" or
# "FAIL: name" per check; a script that exits non-zero without printing a FAIL line
# counts as one failure, and one that prints nothing counts as a failure too (a test
# that checks nothing fails).
set -u
cd "$(dirname "$0")/.."
passed=0; failed=0
unit_only=0; [ "${1:-}" = "--unit-only" ] && unit_only=1
mkdir -p tests/out
log() { printf '%s\n' "$*"; }

run_unit() {   # $1 = binary
  local bin=$1 out rc p f
  out=$(timeout 300 "$bin" 2>&1); rc=$?
  p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
  f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
  p=${p:-0}; f=${f:-0}
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  if [ "$f" -ne 0 ]; then printf '%s\n' "$out" | tail -40; fi
  log "unit $(basename "$bin") [$2]: $p passed, $f failed"
  passed=$((passed + p)); failed=$((failed + f))
}

for variant in release asan; do
  for bin in build/$variant/tests/test_*; do
    [ -x "$bin" ] || continue
    run_unit "$bin" "$variant"
  done
done

if [ $unit_only -eq 0 ]; then
  for t in tests/e2e/*.sh; do
    [ -f "$t" ] || continue
    name=$(basename "$t" .sh)
    start=$(date +%s)
    out=$(timeout 600 bash "$t" 2>&1); rc=$?
    printf '%s\n' "$out" > "tests/out/$name.log"
    p=$(printf '%s\n' "$out" | grep -c '^PASS: ')
    f=$(printf '%s\n' "$out" | grep -c '^FAIL: ')
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; printf '%s\n' "$out" | tail -30; fi
    if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then f=1; log "e2e $name printed no checks"; fi
    printf '%s\n' "$out" | grep '^FAIL: ' || true
    log "e2e $name: $p passed, $f failed ($(( $(date +%s) - start ))s)"
    passed=$((passed + p)); failed=$((failed + f))
  done
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
