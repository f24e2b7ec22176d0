#!/usr/bin/env bash
# choreoscope discover over 10,000,000 events (issue 13: >= 1,000,000 events/s, memory
# independent of the number of flows). The demo traffic of choreoscope-gen as
# length-delimited protobuf, at two sizes: the peak RSS must not grow with the flows
# (the counters grow with types and pairs; the in-flight table is bounded by
# --max-flows, default 100,000).
set -euo pipefail
EVENTS=${BENCH_DISCOVER_EVENTS:-10000000}
FLOWS=$((EVENTS * 20100 / 92704))   # the demo flows average 4.64 events (+0.5 %: at least EVENTS)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "## Discover"
echo
echo "\`choreoscope discover\` over the demo traffic (\`choreoscope-gen --format protobuf\`, no"
echo "faults), read from a file: whole path (read, decode, stitch, fold, YAML). Two sizes,"
echo "$((FLOWS / 2)) and $FLOWS flows; seconds are the median of 3 runs."
echo
bin/choreoscope-gen --flows $((FLOWS / 2)) --seed 7 --format protobuf --out "$dir/half.pb" > /dev/null 2>&1
bin/choreoscope-gen --flows $FLOWS --seed 7 --format protobuf --out "$dir/full.pb" > /dev/null 2>&1
echo '```'
echo "bin/choreoscope-gen --flows N --seed 7 --format protobuf --out FILE"
echo "/usr/bin/time -f '%e s %M KiB' bin/choreoscope discover --out /dev/null FILE"
for f in half full; do
  for i in 1 2 3; do
    /usr/bin/time -f '%e %M' -o "$dir/t" bin/choreoscope discover --out /dev/null "$dir/$f.pb" 2> "$dir/$f.err"
    cat "$dir/t"
  done > "$dir/$f.txt"
  grep -o '[0-9]* events, [0-9]* flows.*' "$dir/$f.err" | cut -d, -f1-3
  cat "$dir/$f.txt"
done
echo '```'
echo
echo "| flows | events | median seconds | events/s | peak RSS | target |"
echo "|---:|---:|---:|---:|---:|---:|"
for f in half full; do
  ev=$(grep -o '[0-9]* events' "$dir/$f.err" | cut -d' ' -f1)
  fl=$(grep -o '[0-9]* flows' "$dir/$f.err" | head -1 | cut -d' ' -f1)
  s=$(awk '{print $1}' "$dir/$f.txt" | median)
  rss=$(awk '{print $2}' "$dir/$f.txt" | median)
  evs=$(awk -v n="$ev" -v s="$s" 'BEGIN {printf "%.0f", n / s}')
  echo "| $fl | $ev | $s | $evs | $((rss / 1024)) MiB | $([ $f = full ] && echo '>= 1,000,000 events/s' || echo '-') |"
done
r1=$(awk '{print $2}' "$dir/half.txt" | median); r2=$(awk '{print $2}' "$dir/full.txt" | median)
echo
/usr/bin/time -f '%e %M' -o "$dir/t" bin/choreoscope discover --idle 1m --out /dev/null "$dir/full.pb" 2> /dev/null
read -r s rss < "$dir/t"
echo
echo "The peak RSS is the in-flight table at --max-flows (100,000 flows; the default --idle 1h"
echo "keeps every demo flow until then). With \`--idle 1m\` (the demo flows last < 20 s) it"
echo "holds only the flows really in flight: $FLOWS flows in $s s, peak RSS $((rss / 1024)) MiB."
echo
echo "Peak RSS ratio, twice the flows / half: $(awk -v a="$r1" -v b="$r2" 'BEGIN {printf "%.2f", b / a}') (target: about 1.00)."
