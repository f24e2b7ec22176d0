#!/usr/bin/env bash
# Engine shards (issue 12): the daemon at engine.threads 1, 2 and 4 on the same
# pre-filled 64-partition topic of choreoscope-broker (protobuf, the demo flows, every
# fault kind), --clock event --until-end, a fresh consumer group per run, thread counts
# alternating within each round.
#
# Time: the daemon's own "stopped" line (first message to the end of the last
# partition, final flush included; the group join is not). CPU: utime + stime of the
# daemon process (its rusage at exit via GNU time: the /proc/PID/stat counters of every
# thread, librdkafka's included, start-up and group join included). Records: every
# anomaly and flow record of each run (sorted) equals the 1-thread run's of the same
# round, and its verdicts equal the generator's --truth. Per thread kind: the run time
# of the daemon's own threads (main + shard threads) and of librdkafka's (rdk:*), from
# /proc/PID/task/*/schedstat sampled every 20 ms. Target (issue 12): CPU-seconds
# per million events at N threads within 1.15x of 1 thread.
#
# Env: BENCH_SHARDS_FLOWS (default 150000), BENCH_SHARDS_ROUNDS (3),
# BENCH_SHARDS_THREADS ("1 2 4").
set -euo pipefail
FLOWS=${BENCH_SHARDS_FLOWS:-150000}
ROUNDS=${BENCH_SHARDS_ROUNDS:-3}
THREADS=${BENCH_SHARDS_THREADS:-1 2 4}
CMP=bench/peers/truth_cmp.py
dir=$(mktemp -d)
bp=
trap '[ -n "$bp" ] && kill $bp 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
field() { grep -o "$1=[0-9.]*" | head -1 | cut -d= -f2; } # field NAME < LINE

bin/choreoscope-broker --topic bench-shards:64 --address-file "$dir/addr" >/dev/null 2>&1 &
bp=$!
for _ in $(seq 50); do [ -s "$dir/addr" ] && break; sleep 0.1; done
addr=$(cat "$dir/addr")
bin/choreoscope-gen --brokers "$addr" --flows "$FLOWS" --faults 0.01 --seed 7 --sim-rate 100000 \
  --topic bench-shards --format protobuf --truth "$dir/truth" 2>"$dir/gen.err"
grep -q " 0 delivery failures" "$dir/gen.err" ||
  { echo "32-shards: the generator failed: $(tail -1 "$dir/gen.err")" >&2; exit 1; }
for n in $THREADS; do
  { cat config/demo.yaml; printf '\nengine:\n  threads: %s\n' "$n"; } >"$dir/cfg$n.yaml"
done

# threads_cpu PARENT OUT: samples the run time (schedstat, ns) of every thread of
# PARENT's child every 20 ms until it exits; writes "engine_s librdkafka_s": the
# daemon's own threads (main and shard threads) and librdkafka's (named rdk:*), each
# thread's last sample.
threads_cpu() {
  local tp=$1 p= t x c id
  local -A last=() kind=()
  while [ -z "$p" ] && kill -0 "$tp" 2>/dev/null; do p=$(pgrep -P "$tp" | head -1) || sleep 0.005; done
  while [ -n "$p" ] && [ -d "/proc/$p" ]; do
    for t in /proc/"$p"/task/*; do
      id=${t##*/}
      { read -r x _ <"$t/schedstat" && read -r c <"$t/comm"; } 2>/dev/null || continue
      last[$id]=$x kind[$id]=$c
    done
    sleep 0.02
  done
  local e=0 r=0
  for id in "${!last[@]}"; do
    case ${kind[$id]} in rdk:*) r=$((r + last[$id])) ;; *) e=$((e + last[$id])) ;; esac
  done
  awk -v e="$e" -v r="$r" 'BEGIN {printf "%.3f %.3f\n", e / 1e9, r / 1e9}' >"$2"
}

# run N ROUND: appends "threads events seconds eps cpu_s rss_kb verdicts records
# engine_threads_s librdkafka_threads_s".
run() {
  /usr/bin/time -f '%U %S %M' -o "$dir/t" bin/choreoscope --config "$dir/cfg$1.yaml" \
    --brokers "$addr" --topic bench-shards --group "shards-$1-$2" --clock event --until-end \
    --records "$dir/rec" --log-level info 2>"$dir/o" &
  threads_cpu $! "$dir/th"
  wait $!
  local l v r
  l=$(grep 'msg="stopped"' "$dir/o")
  grep -q "engine_threads=$1 " "$dir/o" || { echo "32-shards: not $1 engine threads" >&2; exit 1; }
  v=$($CMP "$dir/truth" "$dir/rec" >/dev/null && echo equal || echo DIFFERENT)
  grep -v '"record":"summary"' "$dir/rec" | sort >"$dir/rec.$1"
  r=$(cmp -s "$dir/rec.$1" "$dir/rec.1" && echo equal || echo DIFFERENT)
  echo "$1 $(echo "$l" | field ' messages') $(echo "$l" | field seconds) $(echo "$l" | field msgs_per_sec) $(awk '{printf "%.2f", $1 + $2}' "$dir/t") $(cut -d' ' -f3 "$dir/t") $v $r $(cat "$dir/th")" >>"$dir/runs"
}
: >"$dir/runs"
for r in $(seq "$ROUNDS"); do
  echo "32-shards: round $r" >&2
  for n in $THREADS; do run "$n" "$r"; done
done

med() { awk -v t="$1" '$1 == t' "$dir/runs" | awk "{print \$$2}" | median; }
per_m() { awk -v c="$1" -v n="$2" 'BEGIN {printf "%.2f", c * 1e6 / n}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
echo "## Engine shards: the daemon at 1, 2 and 4 engine threads"
echo
echo "choreoscope-broker (librdkafka's mock cluster, loopback TCP, its own process) with one"
echo "64-partition topic pre-filled once (\`choreoscope-gen --flows $FLOWS --faults 0.01 --seed 7"
echo "--sim-rate 100000\`, protobuf, the demo flows). $ROUNDS rounds; in each the daemon reads the"
echo "whole topic once per thread count ($THREADS, alternating, a fresh consumer group each"
echo "run). Events/s from the daemon's \"stopped\" line; CPU-seconds per million events from"
echo "utime+stime of the whole daemon (rusage at exit: every thread, librdkafka's fetch"
echo "threads, start-up and group join included). The broker and the daemon share the $(nproc)"
echo "cores. \"records\": every anomaly and flow record equals the 1-thread run's of the"
echo "same round (sorted: shards write in their own order). Medians over the rounds."
echo
echo '```'
echo "bin/choreoscope-broker --topic bench-shards:64"
echo "bin/choreoscope-gen --brokers ADDR --topic bench-shards --format protobuf --flows $FLOWS --faults 0.01 --seed 7 --sim-rate 100000"
echo "bin/choreoscope --config demo.yaml+engine.threads=N --brokers ADDR --topic bench-shards --group shards-N-R --clock event --until-end --records FILE"
echo '```'
echo
echo "| engine.threads | events | events/s | CPU-s per M events | vs 1 thread: events/s | vs 1 thread: CPU-s per M | target CPU | engine threads CPU-s per M (vs 1) | librdkafka threads CPU-s per M (vs 1) | peak RSS | verdicts | records |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"
for n in $THREADS; do
  ev=$(med "$n" 2) eps=$(med "$n" 4) c=$(med "$n" 5) rss=$(med "$n" 6)
  v=$(awk -v t="$n" '$1 == t {print $7}' "$dir/runs" | sort -u | tr '\n' ' ' | sed 's/ $//')
  rc=$(awk -v t="$n" '$1 == t {print $8}' "$dir/runs" | sort -u | tr '\n' ' ' | sed 's/ $//')
  echo "| $n | $ev | $eps | $(per_m "$c" "$ev") | $(ratio "$eps" "$(med 1 4)") | $(ratio "$(per_m "$c" "$ev")" "$(per_m "$(med 1 5)" "$(med 1 2)")") | $([ "$n" = 1 ] && echo - || echo "<= 1.15") | $(per_m "$(med "$n" 9)" "$ev") ($(ratio "$(med "$n" 9)" "$(med 1 9)")) | $(per_m "$(med "$n" 10)" "$ev") ($(ratio "$(med "$n" 10)" "$(med 1 10)")) | $((rss / 1024)) MiB | $v | $rc |"
done
echo
echo "Every run (threads events seconds events/s cpu_s peak_rss_kb verdicts records engine_threads_s librdkafka_threads_s):"
echo
echo '```'
cat "$dir/runs"
echo '```'
