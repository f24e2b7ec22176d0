#!/usr/bin/env bash
# Cost per event independent of how many flows are declared (issue #15): the same
# events with 1, 100, 1,000 and 10,000 declared flows (the extra flows idle), engine
# alone and the whole replay; config load + check of 10,000 flows. Targets: 10,000
# flows within 1.2x of 1 flow's time; load + check of 10,000 flows under 1 s.
set -euo pipefail
B=build/release
N=${BENCH_DECLARED_FLOWS:-500000}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
secs() { local s e; s=$(date +%s.%N); "$@" > /dev/null; e=$(date +%s.%N); echo "$e - $s" | bc; }

for n in 1 100 1000 10000; do bash bench/mkflows.sh $n > "$dir/f$n.yaml"; done
bash bench/mkflows.sh 10000 1 > "$dir/f10000-lat.yaml"
$B/bench/mkevents "$N" jsonl "$dir/ev.jsonl"

echo "## Declared flows"
echo
echo "The bench flow ($N flows of 5 steps, $((N * 5)) events) under configs declaring"
echo "1, 100, 1,000 and 10,000 flows: bench/mkflows.sh N adds idle 3-step flows that no"
echo "event names. \"10000/50 clocks\" gives the idle flows 50 different latenesses"
echo "(one clock per distinct lateness). Engine alone: events already decoded; replay:"
echo "the whole path from the JSONL file, config load included. Median of 3 runs each."
echo
echo '```'
echo "bash bench/mkflows.sh N > fN.yaml"
echo "$B/bench/engine_bench $N fN.yaml"
echo "bin/choreoscope replay --config fN.yaml --format jsonl FILE > /dev/null"
echo "bin/choreoscope --check-config fN.yaml"
echo '```'
echo
echo "| declared flows | engine s | engine work/event | replay s | replay / 1 flow | load + check s |"
echo "|---:|---:|---:|---:|---:|---:|"
base=""
for n in 1 100 1000 10000 10000-lat; do
  cfg="$dir/f$n.yaml"
  for i in 1 2 3; do $B/bench/engine_bench "$N" "$cfg"; done > "$dir/eng$n.txt"
  es=$(grep -o ' seconds=[0-9.]*' "$dir/eng$n.txt" | cut -d= -f2 | median)
  wpe=$(grep -o 'work_per_event=[0-9.]*' "$dir/eng$n.txt" | tail -1 | cut -d= -f2)
  rs=$(for i in 1 2 3; do secs $B/bin/choreoscope replay --config "$cfg" --format jsonl "$dir/ev.jsonl"; done | median)
  cs=$(for i in 1 2 3; do secs $B/bin/choreoscope --check-config "$cfg"; done | median)
  [ -z "$base" ] && base=$rs
  label=$n; [ "$n" = 10000-lat ] && label="10000/50 clocks"
  printf '| %s | %.3f | %s | %.3f | %.2fx | %.3f |\n' "$label" "$es" "$wpe" "$rs" "$(echo "$rs / $base" | bc -l)" "$cs"
done
echo
echo "Targets: replay with 10,000 declared flows within 1.2x of 1 flow; load + check of"
echo "10,000 flows under 1 s. Work per event counts clocks advanced and flows asked"
echo "(engine_work); tests/unit/test_engine_cost.c fails if it grows with declared flows."
