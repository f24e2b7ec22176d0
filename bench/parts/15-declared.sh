#!/usr/bin/env bash
# Cost per event independent of how many flows are declared (issue #15): the same
# events with 1, 100, 1,000 and 10,000 declared flows (the extra flows idle), engine
# alone and the whole replay; config load + check of 10,000 flows, of a 1,000-step
# flow and of a mapping of 40,000 keys; the periodic work of the daemon (metrics sync,
# /metrics render and bytes, the summary and graphs publish) and the HTTP answers at
# 1 to 10,000 declared flows. Targets: 10,000 flows within 1.2x of 1 flow's time;
# load + check of 10,000 flows under 1 s.
set -euo pipefail
B=build/release
N=${BENCH_DECLARED_FLOWS:-500000}
R=${BENCH_DECLARED_ROUNDS:-5}
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
echo "the whole path from the JSONL file, config load included. Median of $R rounds."
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
# rounds interleave the configs, so that a burst of other load on the shared
# machine lands on every config alike instead of on one of them
CFGS="1 100 1000 10000 10000-lat"
for ((i=1;i<=R;i++)); do
  for n in $CFGS; do
    cfg="$dir/f$n.yaml"
    $B/bench/engine_bench "$N" "$cfg" >> "$dir/eng$n.txt"
    secs $B/bin/choreoscope replay --config "$cfg" --format jsonl "$dir/ev.jsonl" >> "$dir/rep$n.txt"
    secs $B/bin/choreoscope --check-config "$cfg" >> "$dir/chk$n.txt"
  done
done
base=""
for n in $CFGS; do
  es=$(grep -o ' seconds=[0-9.]*' "$dir/eng$n.txt" | cut -d= -f2 | median)
  wpe=$(grep -o 'work_per_event=[0-9.]*' "$dir/eng$n.txt" | tail -1 | cut -d= -f2)
  rs=$(median < "$dir/rep$n.txt")
  cs=$(median < "$dir/chk$n.txt")
  [ -z "$base" ] && base=$rs
  label=$n; [ "$n" = 10000-lat ] && label="10000/50 clocks"
  printf '| %s | %.3f | %s | %.3f | %.2fx | %.3f |\n' "$label" "$es" "$wpe" "$rs" "$(echo "$rs / $base" | bc -l)" "$cs"
done
echo
echo "Replay runs, seconds (rounds in order; each round runs every config once):"
echo
echo '```'
for n in $CFGS; do echo "$n: $(tr '\n' ' ' < "$dir/rep$n.txt")"; done
echo '```'
echo
echo "Targets: replay with 10,000 declared flows within 1.2x of 1 flow; load + check of"
echo "10,000 flows under 1 s. Work per event counts watermark advances, clocks run (only"
echo "those with a deadline due) and flows asked (engine_work); tests/unit/test_engine_cost.c"
echo "fails if it grows with the declared flows or their distinct latenesses."
echo

# config checks that were quadratic or unbounded: a 1,000-step flow (refused at its
# 65th step), one mapping of 40,000 keys (duplicate keys through a hash table)
{
  echo "flows:"; echo "  - name: big"; echo "    steps:"; echo "      S0: { start: true }"
  for ((i=1;i<1000;i++)); do echo "      S$i: { after: [S$((i-1))], within: 60s$([ $i = 999 ] && echo ', end: completed') }"; done
} > "$dir/steps1000.yaml"
{
  echo "flows:"; echo "  - name: f"; echo "    steps:"; echo "      A: { start: true }"
  echo "      B:"; echo "        after: [A]"; echo "        end: completed"
  for ((i=0;i<40000;i++)); do echo "        x$i: 1"; done
} > "$dir/keys40k.yaml"
echo '```'
echo "bin/choreoscope --check-config FILE"
echo '```'
echo
echo "| config | bytes | check s (median of 3) | answer |"
echo "|---|---:|---:|---|"
for c in f10000 steps1000 keys40k; do
  f="$dir/$c.yaml"
  cs=$(for i in 1 2 3; do s=$(date +%s.%N); $B/bin/choreoscope --check-config "$f" > /dev/null 2>&1 || true; e=$(date +%s.%N); echo "$e - $s" | bc; done | median)
  ans=$($B/bin/choreoscope --check-config "$f" 2>&1 | head -1 | sed "s|$dir/||" | cut -c1-90 || true)
  label=$c; [ $c = f10000 ] && label="10,000 flows"; [ $c = steps1000 ] && label="a 1,000-step flow"; [ $c = keys40k ] && label="40,000 keys in one step"
  printf '| %s | %s | %.3f | %s |\n' "$label" "$(stat -c %s "$f")" "$cs" "$ans"
done
echo

# the daemon's periodic work and the HTTP answers at N declared flows (bench/http_bench.c,
# 1,000 instances of the bench flow in flight, documents only)
for n in 1 100 1000 10000; do
  BENCH_DOCS_ONLY=1 BENCH_CONFIG="$dir/f$n.yaml" $B/bench/http_bench 1000 1 > "$dir/http$n.txt"
done
hv() { grep "$1" "$dir/http$2.txt" | head -1 | tr ' ' '\n' | grep "^$3=" | cut -d= -f2; }
echo "The daemon's periodic work with N declared flows (one flow in use, 1,000 instances"
echo "in flight; the others idle): every 100 ms the counters are synced from the engine,"
echo "every 250 ms \`/metrics\`, the summary and the graphs are rendered and published;"
echo "then HTTP answers over loopback (keep-alive, 2,000 requests; graphs 200)."
echo
echo '```'
echo "BENCH_DOCS_ONLY=1 BENCH_CONFIG=fN.yaml $B/bench/http_bench 1000 1"
echo '```'
echo
echo "| declared flows | sync us | /metrics render us | /metrics bytes | publish us (all three) | GET /metrics p50 ms | GET /api/v1/summary p50 / p99 ms (bytes) | GET /api/v1/graphs p50 ms (bytes) |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
for n in 1 100 1000 10000; do
  printf '| %s | %s | %s | %s | %s | %s | %s / %s (%s) | %s (%s) |\n' "$n" "$(hv metrics_sync_us $n metrics_sync_us)" \
    "$(hv metrics_render_us $n metrics_render_us)" "$(hv metrics_render_us $n metrics_bytes)" "$(hv publish_us $n publish_us)" \
    "$(hv 'latency metrics ' $n p50_ms)" "$(hv 'latency summary ' $n p50_ms)" "$(hv 'latency summary ' $n p99_ms)" \
    "$(hv 'latency summary ' $n bytes)" "$(hv 'latency graphs ' $n p50_ms)" "$(hv 'latency graphs ' $n bytes)"
done
echo
echo "A \`/metrics\` render hashes each flow's values and prints again only the flows"
echo "that changed; what grows is the document (every declared series at 0 from the"
echo "start, about 11 KB per idle 3-step flow). At 10,000 flows it would pass the 64 MiB"
echo "the bench gives it (32 MiB in the daemon), so it holds the flows in use only, with"
echo "a comment saying how many were left out. The summary and the graphs are pages"
echo "(default \`limit=100\`): an answer copies one page, whatever the declared flows."
