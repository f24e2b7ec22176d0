#!/usr/bin/env bash
# The test runner: every unit test binary (release and ASan+UBSan builds), then every
# end-to-end script in tests/e2e/. Closes with one line: "N passed, N failed".
#
# Unit tests are cmocka binaries: their "[  PASSED  ] N test(s)." and
# "[  FAILED  ] N test(s)" lines are counted. An e2e script prints "PASS: name" or
# "FAIL: name" per check; a script that exits non-zero without printing a FAIL line
# counts as one failure, and one that prints nothing counts as a failure too (a test
# that checks nothing fails).
# e2e scripts run in E2E_JOBS parallel lanes (default 2; E2E_JOBS=1 runs them one by
# one), except the SOLO ones below, which run alone afterwards. --unit-only and
# --e2e-only run one half. Each script's output is in tests/out/NAME.log.
set -u
cd "$(dirname "$0")/.."
passed=0; failed=0
unit_only=0; [ "${1:-}" = "--unit-only" ] && unit_only=1
e2e_only=0; [ "${1:-}" = "--e2e-only" ] && e2e_only=1
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
  [ $e2e_only -eq 1 ] && break
  for bin in build/$variant/tests/test_*; do
    [ -x "$bin" ] || continue
    run_unit "$bin" "$variant"
  done
done

# One e2e script: its log in tests/out/NAME.log, "P F SECONDS" in tests/out/NAME.result.
run_e2e() {   # $1 = script
  local t=$1 name out rc p f start
  name=$(basename "$t" .sh)
  start=$(date +%s)
  out=$(timeout 600 bash "$t" 2>&1); rc=$?
  printf '%s\n' "$out" > "tests/out/$name.log"
  p=$(printf '%s\n' "$out" | grep -c '^PASS: ')
  f=$(printf '%s\n' "$out" | grep -c '^FAIL: ')
  { if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; printf '%s\n' "$out" | tail -30; fi
    if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then f=1; echo "e2e $name printed no checks"; fi
    printf '%s\n' "$out" | grep '^FAIL: ' || true
  } > "tests/out/$name.report"
  echo "$p $f $(( $(date +%s) - start ))" > "tests/out/$name.result"
}

# e2e scripts whose checks time what the machine does (guard deadlines, SIGKILL
# points, ThreadSanitizer's slowdown) run alone, after the others; the others run in
# E2E_JOBS lanes (default 2), most of their time is spent waiting on brokers and
# daemons. A lane takes the longest script left (durations of the last run, in
# tests/out/NAME.result), so the lanes end together.
SOLO="http_slowloris http_tsan shards_tsan kafka_real_crash kafka_real_rebalance kafka_real_group_kill"
if [ $unit_only -eq 0 ]; then
  jobs=${E2E_JOBS:-2}
  all=(); solo=()
  for t in tests/e2e/*.sh; do
    [ -f "$t" ] || continue
    name=$(basename "$t" .sh)
    secs=$(cut -d' ' -f3 "tests/out/$name.result" 2>/dev/null || echo 10)
    rm -f "tests/out/$name.result" "tests/out/$name.report"
    case " $SOLO " in *" $name "*) solo+=("$t"); continue;; esac
    all+=("${secs:-10} $t")
  done
  declare -a load lane_list
  for ((j = 0; j < jobs; j++)); do load[j]=0; lane_list[j]=""; done
  while read -r secs t; do
    [ -n "$t" ] || continue
    best=0
    for ((j = 1; j < jobs; j++)); do [ "${load[j]}" -lt "${load[best]}" ] && best=$j; done
    load[best]=$(( load[best] + secs )); lane_list[best]="${lane_list[best]} $t"
  done < <(printf '%s\n' "${all[@]}" | sort -rn)
  for ((j = 0; j < jobs; j++)); do
    ( for t in ${lane_list[j]}; do run_e2e "$t"; done ) &
  done
  wait
  for t in "${solo[@]}"; do run_e2e "$t"; done
  for t in tests/e2e/*.sh; do
    name=$(basename "$t" .sh)
    if [ ! -f "tests/out/$name.result" ]; then   # killed by something outside it
      log "e2e $name: no result"; failed=$((failed + 1)); continue
    fi
    read -r p f secs < "tests/out/$name.result"
    cat "tests/out/$name.report"
    log "e2e $name: $p passed, $f failed (${secs}s)"
    passed=$((passed + p)); failed=$((failed + f))
  done
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
