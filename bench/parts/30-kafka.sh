#!/usr/bin/env bash
# Kafka ingest: the raw librdkafka consumer (bench/consume_bench.c: the daemon's fetch
# settings, no decoding, no engine), the daemon (--clock event --until-end, a fresh
# consumer group each round) and `choreoscope replay` of the same events from a file,
# on the same pre-filled 64-partition topics of choreoscope-broker, protobuf and JSON,
# in alternating rounds of one run.
#
# Time: raw and daemon from their first message to the end of the last partition (the
# group join before it is not counted; the daemon's includes its final engine_finish
# and summary); replay from start to exit. CPU: utime + stime of the reader process
# (its rusage at exit, the counters of /proc/PID/stat, via GNU time: group join and
# start-up included), so the figure holds on a loaded machine. Engine thread: the
# daemon's main thread's run time from /proc/PID/task/PID/schedstat, sampled every
# 20 ms until it exits (the last sample; the rest of the process CPU is librdkafka's
# threads). Peak RSS: ru_maxrss. Verdicts: bench/peers/truth_cmp.py against the
# generator's --truth. Targets (issue 12): daemon >= 0.8x replay (events/s, protobuf).
#
# Env: BENCH_KAFKA_FLOWS (default 150000), BENCH_KAFKA_ROUNDS (3).
set -euo pipefail
B=build/release
FLOWS=${BENCH_KAFKA_FLOWS:-150000}
ROUNDS=${BENCH_KAFKA_ROUNDS:-3}
CFG=config/demo.yaml
CMP=bench/peers/truth_cmp.py
dir=$(mktemp -d)
bp=
trap '[ -n "$bp" ] && kill $bp 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
field() { grep -o "$1=[0-9.]*" | head -1 | cut -d= -f2; } # field NAME < LINE

# timed OUT CMD...: runs CMD under GNU time (OUT: "user sys maxrss_kb wall") and writes
# the run time (s) of CMD's main thread, sampled until it exits, to OUT.main.
timed() {
  /usr/bin/time -f '%U %S %M %e' -o "$1" "${@:2}" &
  local tp=$! p= m=0 x
  while [ -z "$p" ] && kill -0 $tp 2>/dev/null; do p=$(pgrep -P $tp | head -1) || sleep 0.005; done
  while [ -n "$p" ] && [ -r /proc/$p/task/$p/schedstat ]; do
    x=$(cut -d' ' -f1 /proc/$p/task/$p/schedstat 2>/dev/null) || break
    m=$x
    sleep 0.02
  done
  wait $tp
  awk -v m="$m" 'BEGIN {printf "%.3f\n", m / 1e9}' >"$1.main"
}
cpu() { awk '{printf "%.2f", $1 + $2}' "$1"; }

bin/choreoscope-broker --topic bench-protobuf:64 --topic bench-json:64 \
  --address-file "$dir/addr" >/dev/null 2>&1 &
bp=$!
for _ in $(seq 50); do [ -s "$dir/addr" ] && break; sleep 0.1; done
addr=$(cat "$dir/addr")
gen=(bin/choreoscope-gen --brokers "$addr" --flows "$FLOWS" --faults 0.01 --seed 7 --sim-rate 100000)
"${gen[@]}" --topic bench-protobuf --format protobuf --out "$dir/events.protobuf" --truth "$dir/truth" \
  2>"$dir/gen-protobuf.err"
"${gen[@]}" --topic bench-json --format json --out "$dir/events.json" --out-format jsonl \
  2>"$dir/gen-json.err"
for f in protobuf json; do
  grep -q " 0 delivery failures" "$dir/gen-$f.err" ||
    { echo "30-kafka: the generator failed: $(tail -1 "$dir/gen-$f.err")" >&2; exit 1; }
done

# One reader, one round: appends "reader events seconds eps cpu_s rss_kb engine_s verdicts".
raw() { # raw FMT ROUND
  timed "$dir/t" $B/bench/consume_bench --brokers "$addr" --topic "bench-$1" --group "raw-$1-$2" >"$dir/o"
  echo "raw-$1 $(field messages <"$dir/o") $(field seconds <"$dir/o") $(field msgs_per_sec <"$dir/o") $(cpu "$dir/t") $(cut -d' ' -f3 "$dir/t") - -" >>"$dir/runs"
}
daemon() { # daemon FMT ROUND
  timed "$dir/t" bin/choreoscope --config $CFG --brokers "$addr" --topic "bench-$1" --group "daemon-$1-$2" \
    --clock event --until-end --records "$dir/rec" --log-level info 2>"$dir/o"
  local l v
  l=$(grep 'msg="stopped"' "$dir/o")
  v=$($CMP "$dir/truth" "$dir/rec" >/dev/null && echo equal || echo DIFFERENT)
  echo "daemon-$1 $(echo "$l" | field ' messages') $(echo "$l" | field seconds) $(echo "$l" | field msgs_per_sec) $(cpu "$dir/t") $(cut -d' ' -f3 "$dir/t") $(cat "$dir/t.main") $v" >>"$dir/runs"
}
replay() { # replay FMT ROUND
  local ff=$([ "$1" = protobuf ] && echo protobuf || echo jsonl)
  timed "$dir/t" bin/choreoscope replay --config $CFG --format $ff "$dir/events.$1" >"$dir/rec" 2>/dev/null
  local n e v
  n=$(grep '"record":"summary"' "$dir/rec" | grep -o '"events":[0-9]*' | head -1 | cut -d: -f2)
  e=$(cut -d' ' -f4 "$dir/t")
  v=$($CMP "$dir/truth" "$dir/rec" >/dev/null && echo equal || echo DIFFERENT)
  echo "replay-$1 $n $e $(awk -v a="$n" -v b="$e" 'BEGIN {printf "%.0f", a / b}') $(cpu "$dir/t") $(cut -d' ' -f3 "$dir/t") $(cat "$dir/t.main") $v" >>"$dir/runs"
}
: >"$dir/runs"
for r in $(seq "$ROUNDS"); do
  echo "30-kafka: round $r" >&2
  for f in protobuf json; do raw $f "$r"; daemon $f "$r"; replay $f "$r"; done
done

med() { awk -v r="$1" '$1 == r' "$dir/runs" | awk "{print \$$2}" | median; }
per_m() { awk -v c="$1" -v n="$2" 'BEGIN {printf "%.2f", c * 1e6 / n}'; }
echo "## Kafka ingest: raw consumer, daemon and replay of the same events"
echo
echo "choreoscope-broker (librdkafka's mock cluster, loopback TCP, in its own process) with"
echo "two 64-partition topics pre-filled with the same events (\`choreoscope-gen --flows $FLOWS"
echo "--faults 0.01 --seed 7 --sim-rate 100000\`: the demo flows, every fault kind), one as"
echo "protobuf, one as JSON; the generator's \`--out\` of the same events is replay's input."
echo "$ROUNDS alternating rounds; each round every reader reads a whole topic (a fresh consumer"
echo "group) or file. The broker, the readers and other work on the machine share its cores,"
echo "so events/s moves with the load; CPU-seconds per million events (utime+stime of the"
echo "reader, start-up and group join included) is the figure that holds. \"Engine thread\":"
echo "the run time of the daemon's one engine thread (/proc/PID/task/PID/schedstat); the"
echo "rest of its CPU is librdkafka's fetch threads. Medians over the rounds."
echo
echo '```'
echo "bin/choreoscope-broker --topic bench-protobuf:64 --topic bench-json:64"
echo "bin/choreoscope-gen --brokers ADDR --topic bench-FMT --format FMT --flows $FLOWS --faults 0.01 --seed 7 --sim-rate 100000 --out EVENTS"
echo "$B/bench/consume_bench --brokers ADDR --topic bench-FMT --group raw-FMT-N"
echo "bin/choreoscope --config $CFG --brokers ADDR --topic bench-FMT --group daemon-FMT-N --clock event --until-end --records FILE"
echo "bin/choreoscope replay --config $CFG --format protobuf|jsonl EVENTS"
echo '```'
echo
echo "| reader | input | events | events/s | CPU-s per M events | engine thread CPU-s per M events | peak RSS | verdicts |"
echo "|---|---|---:|---:|---:|---:|---:|---|"
for r in raw-protobuf daemon-protobuf replay-protobuf raw-json daemon-json replay-json; do
  n=$(med $r 2) eps=$(med $r 4) c=$(med $r 5) rss=$(med $r 6) m=$(med $r 7)
  v=$(awk -v r=$r '$1 == r {print $8}' "$dir/runs" | sort -u | tr '\n' ' ' | sed 's/ $//')
  case $r in
  raw-*) what="raw librdkafka consumer" v="(none)" mm=- ;;
  daemon-*) what="choreoscope daemon, 1 engine thread" mm=$(per_m "$m" "$n") ;;
  replay-*) what="choreoscope replay (file)" mm=$(per_m "$m" "$n") ;;
  esac
  echo "| $what | ${r#*-} | $n | $eps | $(per_m "$c" "$n") | $mm | $((rss / 1024)) MiB | $v |"
done
echo
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
echo "| ratio (medians) | protobuf | JSON | target |"
echo "|---|---:|---:|---:|"
echo "| daemon / replay, events/s | $(ratio "$(med daemon-protobuf 4)" "$(med replay-protobuf 4)") | $(ratio "$(med daemon-json 4)" "$(med replay-json 4)") | >= 0.80 (protobuf) |"
echo "| daemon / replay, CPU-s per event | $(ratio "$(med daemon-protobuf 5)" "$(med replay-protobuf 5)") | $(ratio "$(med daemon-json 5)" "$(med replay-json 5)") | - |"
echo "| daemon / replay, engine thread CPU-s per event | $(ratio "$(med daemon-protobuf 7)" "$(med replay-protobuf 7)") | $(ratio "$(med daemon-json 7)" "$(med replay-json 7)") | - |"
echo "| daemon / raw consumer, events/s | $(ratio "$(med daemon-protobuf 4)" "$(med raw-protobuf 4)") | $(ratio "$(med daemon-json 4)" "$(med raw-json 4)") | - |"
echo
echo "Every run (reader events seconds events/s cpu_s peak_rss_kb engine_thread_s verdicts):"
echo
echo '```'
cat "$dir/runs"
echo '```'
