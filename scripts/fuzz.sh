#!/usr/bin/env bash
# Runs each libFuzzer target (build/fuzz/lf_NAME, from `make fuzz-bin`) for SECONDS on a
# scratch copy of its seed corpus tests/fuzz/corpus/NAME (the committed corpus is not
# grown); findings go to build/fuzz/crashes/NAME/. Prints per target: runs, execs/s,
# coverage, corpus size, findings. Usage: scripts/fuzz.sh SECONDS NAME...
set -u
cd "$(dirname "$0")/.."
secs=$1; shift
found=0
for n in "$@"; do
  work=build/fuzz/work/$n; crashes=build/fuzz/crashes/$n
  rm -rf "$work"; mkdir -p "$work" "$crashes"
  cp tests/fuzz/corpus/$n/* "$work"/ 2>/dev/null
  log=build/fuzz/$n.log
  build/fuzz/lf_$n -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 -max_len=65536 \
    -artifact_prefix="$crashes/" -print_final_stats=1 "$work" >"$log" 2>&1
  rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
  nf=$(ls "$crashes" | wc -l)
  echo "$n: ${secs}s, ${runs:-?} runs, ${eps:-?} execs/s, ${cov:-cov: ?}, corpus $(ls "$work" | wc -l) files, $nf findings (rc $rc)"
  [ "$rc" -ne 0 ] || [ "$nf" -ne 0 ] && found=1
done
exit $found
