#!/usr/bin/env bash
# bench/compare_rev.sh REV [ROUNDS]: today's build against the build of git revision REV,
# on the same machine in one run, rounds alternating old/new so that load and
# frequency changes hit both alike (issue #8: "make bench figures within noise of
# today's" across the restructuring). Measures
#   - engine_bench (the engine alone): events/s;
#   - replay of the same JSONL and protobuf files (read, decode, judge, records to
#     /dev/null): CPU-seconds (user+sys, from /usr/bin/time), so the figure holds on a
#     loaded machine; the records of both are compared byte for byte;
#   - Kafka ingest: the daemon reading the same pre-filled 64-partition protobuf topic
#     on choreoscope-broker with --clock event --until-end, fresh group each round:
#     CPU-seconds of the daemon process.
# Prints a markdown section (medians and new/old ratios) on stdout.
# REV is built in a temporary worktree under build/ (deleted at exit).
set -euo pipefail
cd "$(dirname "$0")/.."
REV=${1:?usage: bench/compare_rev.sh REV [ROUNDS]}
ROUNDS=${2:-3}
N=${COMPARE_FLOWS:-1000000}
KFLOWS=${COMPARE_KAFKA_FLOWS:-200000}
ROOT=$PWD
B=$ROOT/build/release
old=$ROOT/build/compare-old
dir=$(mktemp -d)
bp=
cleanup() {
  [ -n "$bp" ] && kill "$bp" 2>/dev/null
  wait 2>/dev/null || true
  git worktree remove --force "$old" >/dev/null 2>&1 || rm -rf "$old"
  [ -n "${KEEP:-}" ] && echo "kept $dir" >&2 || rm -rf "$dir"
}
trap cleanup EXIT
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}'; }

rev=$(git rev-parse --short "$REV")
git worktree remove --force "$old" >/dev/null 2>&1 || rm -rf "$old"
git worktree add --detach -q "$old" "$rev"
make -C "$old" -s -j2 all build/release/bench/engine_bench >"$dir/old-build.log" 2>&1 ||
  { tail -20 "$dir/old-build.log" >&2; exit 1; }
make -s -j2 all build/release/bench/engine_bench build/release/bench/mkevents >/dev/null
OB=$old/build/release

$B/bench/mkevents "$N" jsonl "$dir/ev.jsonl"
$B/bench/mkevents "$N" protobuf "$dir/ev.pb"

for r in $(seq "$ROUNDS"); do
  for side in old new; do
    bb=$B; [ $side = old ] && bb=$OB
    "$bb/bench/engine_bench" "$N" | grep -o 'events_per_second=[0-9]*' | cut -d= -f2 | tail -1 \
      >>"$dir/$side.engine"
    for f in jsonl pb; do
      fmt=$([ $f = pb ] && echo protobuf || echo jsonl)
      /usr/bin/time -f '%U %S' -o "$dir/time" "$bb/bin/choreoscope" replay --config bench/flows.yaml \
        --format $fmt "$dir/ev.$f" >"$dir/$side.$f.out" 2>/dev/null
      awk '{print $1 + $2}' "$dir/time" >>"$dir/$side.$f.cpu"
    done
  done
done

# Kafka ingest: one broker, one pre-filled topic, both daemons in alternation.
$B/bin/choreoscope-broker --topic cmp:64 >"$dir/broker.addr" 2>/dev/null &
bp=$!
for _ in $(seq 50); do [ -s "$dir/broker.addr" ] && break; sleep 0.1; done
addr=$(head -1 "$dir/broker.addr")
$B/bin/choreoscope-gen --brokers "$addr" --topic cmp --format protobuf --flows "$KFLOWS" \
  --faults 0.01 2>"$dir/gen.err"
msgs=$(sed -n 's/.* \([0-9]*\) events + \([0-9]*\) ticks.*/\1 \2/p' "$dir/gen.err" | awk '{print $1 + $2}')
for r in $(seq "$ROUNDS"); do
  for side in old new; do
    bb=$B; [ $side = old ] && bb=$OB
    /usr/bin/time -f '%U %S %e' -o "$dir/time" "$bb/bin/choreoscope" --config config/demo.yaml \
      --brokers "$addr" --topic cmp --group "cmp-$side-$r" --clock event --until-end \
      --listen 127.0.0.1:0 --records "$dir/$side.k.out" 2>"$dir/$side.k.err" || true
    awk '{print $1 + $2}' "$dir/time" >>"$dir/$side.k.cpu"
    awk '{print $3}' "$dir/time" >>"$dir/$side.k.wall"
  done
done

# Records compared byte for byte, except the summary's rejected_by_reason (added
# since by issue #14: a new field, not a changed verdict) and, for Kafka, the order
# of lines (partitions interleave differently from run to run).
norm() { sed 's/"rejected_by_reason":{[^}]*},//' "$1"; }
same() { cmp -s <(norm "$dir/old.$1.out") <(norm "$dir/new.$1.out") && echo identical || echo DIFFER; }
ksame=$(cmp -s <(norm "$dir/old.k.out" | sort) <(norm "$dir/new.k.out" | sort) && echo identical || echo DIFFER)

oe=$(median <"$dir/old.engine"); ne=$(median <"$dir/new.engine")
echo "## Before and after the restructuring (issue #8)"
echo
echo "Today's build against revision $rev ($(git log -1 --format='%cs: %s' "$rev" | cut -c1-90)),"
echo "built from the same tree in a temporary worktree, on the same machine in one run,"
echo "$ROUNDS rounds alternating old and new. Engine: events/s (higher is better); replay"
echo "and Kafka ingest: CPU-seconds of the process (user+sys, lower is better). Files of"
echo "$N flows ($((N * 5)) events); the Kafka topic holds ${msgs:-?} messages of $KFLOWS demo flows."
echo
echo '```'
echo "bench/compare_rev.sh $REV $ROUNDS"
echo '```'
echo
echo "| measure | old ($rev) | new | new / old | records |"
echo "|---|---:|---:|---:|---|"
echo "| engine events/s | $oe | $ne | $(ratio "$ne" "$oe") | - |"
for f in jsonl pb; do
  o=$(median <"$dir/old.$f.cpu"); n=$(median <"$dir/new.$f.cpu")
  echo "| replay $f CPU-s | $o | $n | $(ratio "$n" "$o") | $(same $f) |"
done
o=$(median <"$dir/old.k.cpu"); n=$(median <"$dir/new.k.cpu")
echo "| Kafka ingest CPU-s (daemon) | $o | $n | $(ratio "$n" "$o") | $ksame (sorted) |"
ow=$(median <"$dir/old.k.wall"); nw=$(median <"$dir/new.k.wall")
echo "| Kafka ingest wall s | $ow | $nw | $(ratio "$nw" "$ow") | - |"
echo
echo "Every round (old engine, new engine; CPU-s old/new for jsonl, pb, kafka):"
echo
echo '```'
paste -d' ' "$dir/old.engine" "$dir/new.engine" "$dir/old.jsonl.cpu" "$dir/new.jsonl.cpu" \
  "$dir/old.pb.cpu" "$dir/new.pb.cpu" "$dir/old.k.cpu" "$dir/new.k.cpu"
echo '```'
