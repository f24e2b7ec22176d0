#!/usr/bin/env bash
# Engine alone and the whole replay path (issue: engine >= 2M events/s on one core,
# <= 256 B RSS per in-flight flow at 1M flows, protobuf replay >= 1.5M events/s,
# JSON replay >= 500k events/s).
set -euo pipefail
B=build/release
N=${BENCH_FLOWS:-1000000}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "## Engine and replay"
echo
echo "5-step flows, $N distinct correlation ids in flight at the peak (step k of every"
echo "flow before step k+1 of any), $((N * 5)) events. Median of 3 runs."
echo
echo '```'
echo "$B/bench/engine_bench $N"
for i in 1 2 3; do $B/bench/engine_bench "$N"; done > "$dir/engine.txt"
grep events_per_second "$dir/engine.txt" | tail -1
grep rss_growth "$dir/engine.txt" | tail -1
echo '```'
eps=$(grep -o 'events_per_second=[0-9]*' "$dir/engine.txt" | cut -d= -f2 | median)
bpf=$(grep -o 'rss_growth_bytes_per_flow=[0-9.]*' "$dir/engine.txt" | cut -d= -f2 | median)
echo
echo "| measure | median | target |"
echo "|---|---:|---:|"
echo "| engine events/s (one core) | $eps | >= 2,000,000 |"
echo "| RSS per in-flight flow at $N flows | $bpf B | <= 256 B |"

$B/bench/mkevents "$N" jsonl "$dir/ev.jsonl"
$B/bench/mkevents "$N" protobuf "$dir/ev.pb"
echo
echo "Replay, the whole path (read, decode, engine, records to /dev/null), files of"
echo "$(du -m "$dir/ev.jsonl" | cut -f1) MiB (JSONL) and $(du -m "$dir/ev.pb" | cut -f1) MiB (protobuf):"
echo
echo '```'
for fmt in jsonl pb; do
  fmtname=$([ $fmt = pb ] && echo protobuf || echo jsonl)
  echo "/usr/bin/time -f '%e s %M KiB' bin/choreoscope replay --config bench/flows.yaml --format $fmtname FILE > /dev/null"
  for i in 1 2 3; do
    /usr/bin/time -f '%e %M' -o "$dir/t" bin/choreoscope replay --config bench/flows.yaml --format "$fmtname" "$dir/ev.$fmt" > /dev/null
    cat "$dir/t"
  done > "$dir/$fmt.txt"
  cat "$dir/$fmt.txt"
done
echo '```'
echo
echo "| replay | median seconds | events/s | peak RSS | target |"
echo "|---|---:|---:|---:|---:|"
for fmt in pb jsonl; do
  s=$(awk '{print $1}' "$dir/$fmt.txt" | median)
  rss=$(awk '{print $2}' "$dir/$fmt.txt" | median)
  evs=$(awk -v n=$((N * 5)) -v s="$s" 'BEGIN {printf "%.0f", n / s}')
  tgt=$([ $fmt = pb ] && echo ">= 1,500,000" || echo ">= 500,000")
  echo "| $([ $fmt = pb ] && echo protobuf || echo JSONL) | $s | $evs | $((rss / 1024)) MiB | $tgt |"
done
