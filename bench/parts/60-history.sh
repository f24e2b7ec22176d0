#!/usr/bin/env bash
# The history store (issue #11): protobuf replay with the store on vs off in one run
# (target >= 0.8x: one write per retired flow, on the writer thread), bytes per
# stored flow, the writer's sustained rate (HISTORY_BENCH_SECONDS, default 20, of
# filling through the engine), and lookups by correlation id and by linked key among
# HISTORY_BENCH_FLOWS (default 10,000,000) stored flows (target p99 < 5 ms).
set -euo pipefail
B=build/release
N=${BENCH_FLOWS:-1000000}
FILL=${HISTORY_BENCH_SECONDS:-20}
TOTAL=${HISTORY_BENCH_FLOWS:-10000000}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

$B/bench/mkevents "$N" protobuf "$dir/ev.pb"
echo "## History store"
echo
echo "Protobuf replay of $((N * 5)) events ($N flows), store off and on, alternating, 3 runs"
echo "each. With the store, judging time is the wall time less the final drain (the"
echo "writer finishing its queue after the summary line, \`drain_seconds\`); flows the"
echo "writer could not keep up with are dropped at the queue (counted), never waited for."
echo
echo '```'
echo "/usr/bin/time -f %e bin/choreoscope replay --config bench/flows.yaml --format protobuf FILE > /dev/null"
echo "/usr/bin/time -f %e bin/choreoscope replay --config bench/flows.yaml --format protobuf --history DIR FILE > /dev/null"
for i in 1 2 3; do
  /usr/bin/time -f '%e' -o "$dir/t" bin/choreoscope replay --config bench/flows.yaml \
    --format protobuf "$dir/ev.pb" > /dev/null
  echo "off $(cat "$dir/t")" | tee -a "$dir/off.txt"
  rm -rf "$dir/h"
  /usr/bin/time -f '%e' -o "$dir/t" bin/choreoscope replay --config bench/flows.yaml \
    --format protobuf --history "$dir/h" "$dir/ev.pb" > /dev/null 2> "$dir/h.err"
  line=$(grep '^history:' "$dir/h.err")
  drain=$(grep -o 'drain_seconds=[0-9.]*' <<<"$line" | cut -d= -f2)
  echo "on $(cat "$dir/t") $line"
  echo "$(cat "$dir/t") $drain $line" >> "$dir/on.txt"
done
echo '```'
off=$(awk '{print $2}' "$dir/off.txt" | median)
on=$(awk '{printf "%.3f\n", $1 - $2}' "$dir/on.txt" | median)
ratio=$(awk -v a="$off" -v b="$on" 'BEGIN {printf "%.2f", a / b}')
written=$(grep -o 'written=[0-9]*' "$dir/on.txt" | cut -d= -f2 | median)
dropped=$(grep -o 'dropped=[0-9]*' "$dir/on.txt" | cut -d= -f2 | median)
rbytes=$(grep -o 'bytes=[0-9]*' "$dir/on.txt" | cut -d= -f2 | median)

rm -rf "$dir/h"
echo
echo "A store of $TOTAL flows: filled through the engine and the writer for ${FILL} s (the"
echo "producer waits for the writer every 20,000 flows, so none is dropped: the writer's"
echo "sustained rate), then up to $TOTAL by copying the last stored flow (row, 5 events,"
echo "linked key; new ids, keys and times) into the same file with prepared statements in"
echo "one transaction, journal off. Then 10,000 lookups each, drawn uniformly over all the"
echo "stored flows, on a read-only connection: the timeline document by correlation id and"
echo "by payment id (a linked key), and a list page by key=:"
echo
echo '```'
echo "$B/bench/history_bench DIR $FILL $TOTAL"
$B/bench/history_bench "$dir/h" "$FILL" "$TOTAL" | tee "$dir/hb.txt"
echo '```'
flows=$(grep -o 'stored=[0-9]*' "$dir/hb.txt" | cut -d= -f2)
fps=$(grep -m1 -o 'flows_per_second=[0-9]*' "$dir/hb.txt" | cut -d= -f2)
bpf=$(grep -m1 -o 'bytes_per_flow=[0-9]*' "$dir/hb.txt" | cut -d= -f2)
lk() { grep "$1" "$dir/hb.txt" | grep -o "$2=[0-9.]*" | cut -d= -f2; }
echo
echo "| measure | value | target |"
echo "|---|---:|---:|"
echo "| replay off / on (judging seconds, medians) | $off s / $on s = ${ratio}x | >= 0.8x |"
echo "| flows stored / dropped in that replay (median) | $written / $dropped | |"
echo "| bytes per stored flow (replay; 5 events) | $(awk -v b="$rbytes" -v w="$written" 'BEGIN {printf "%.0f", w ? b / w : 0}') | |"
echo "| writer's sustained rate | $fps flows/s | |"
echo "| bytes per stored flow (fill) | $bpf | |"
echo "| bulk fill rate (to $flows) | $(grep "bulk flows=" "$dir/hb.txt" | grep -o "flows_per_second=[0-9]*" | cut -d= -f2) flows/s | |"
echo "| timeline by correlation id among $flows stored flows, p50 / p99 | $(lk by_correlation_id p50_ms) ms / $(lk by_correlation_id p99_ms) ms | p99 < 5 ms |"
echo "| timeline by payment id (linked key), p50 / p99 | $(lk by_payment_id p50_ms) ms / $(lk by_payment_id p99_ms) ms | p99 < 5 ms |"
echo "| list page by key=, p50 / p99 | $(lk list_by_key p50_ms) ms / $(lk list_by_key p99_ms) ms | |"
