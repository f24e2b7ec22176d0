#!/usr/bin/env bash
# Kafka ingest: the daemon with --until-end against a raw librdkafka consumer
# (bench/consume_bench.c: same fetch settings, no decoding, no engine) on the same
# pre-filled 64-partition topic of choreoscope-broker, alternating, in the same run.
# Both are timed from their first message to the end of the last partition (the
# consumer-group join before it is not counted); the daemon's time includes the
# final engine_finish and summary. Target (issue 3): daemon >= 0.8x raw for protobuf.
set -euo pipefail
B=build/release
FLOWS=${BENCH_KAFKA_FLOWS:-210000}
ROUNDS=${BENCH_KAFKA_ROUNDS:-3}
dir=$(mktemp -d)
bp=
trap '[ -n "$bp" ] && kill $bp 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "## Kafka ingest: daemon vs raw consumer"
echo
echo "choreoscope-broker (librdkafka mock cluster, loopback TCP) with a 64-partition topic"
echo "pre-filled by \`choreoscope-gen --flows $FLOWS --faults 0.01\` (the demo flows), then"
echo "$ROUNDS alternating rounds of each reader, each round a fresh consumer group reading"
echo "the whole topic. Producer, broker and readers share the machine's cores. msgs/s are"
echo "medians; the ratio is daemon median / raw median."
echo
echo '```'
echo "bin/choreoscope-broker --topic bench-FORMAT:64"
echo "bin/choreoscope-gen --brokers ADDR --topic bench-FORMAT --format FORMAT --flows $FLOWS --faults 0.01"
echo "$B/bench/consume_bench --brokers ADDR --topic bench-FORMAT --group raw-N"
echo "bin/choreoscope --config config/demo.yaml --brokers ADDR --topic bench-FORMAT --group daemon-N --clock event --until-end"
echo '```'
echo
echo "| format | messages | MB | raw msgs/s | daemon msgs/s | daemon / raw | target |"
echo "|---|---:|---:|---:|---:|---:|---:|"
bin/choreoscope-broker --topic bench-protobuf:64 --topic bench-json:64 \
  --address-file "$dir/addr" >/dev/null 2>&1 &
bp=$!
for _ in $(seq 50); do [ -s "$dir/addr" ] && break; sleep 0.1; done
addr=$(cat "$dir/addr")
for fmt in protobuf json; do
  bin/choreoscope-gen --brokers "$addr" --topic "bench-$fmt" --format "$fmt" --flows "$FLOWS" \
    --faults 0.01 2>"$dir/gen-$fmt.err"
  for r in $(seq "$ROUNDS"); do
    $B/bench/consume_bench --brokers "$addr" --topic "bench-$fmt" --group "raw-$fmt-$r" \
      >>"$dir/raw-$fmt"
    bin/choreoscope --config config/demo.yaml --brokers "$addr" --topic "bench-$fmt" \
      --group "daemon-$fmt-$r" --clock event --until-end --log-level info 2>&1 |
      grep 'msg="stopped"' >>"$dir/daemon-$fmt"
  done
  msgs=$(grep -o 'messages=[0-9]*' "$dir/raw-$fmt" | head -1 | cut -d= -f2)
  mb=$(grep -o 'bytes=[0-9]*' "$dir/raw-$fmt" | head -1 | awk -F= '{printf "%.0f", $2 / 1e6}')
  raw=$(grep -o 'msgs_per_sec=[0-9]*' "$dir/raw-$fmt" | cut -d= -f2 | median)
  dmn=$(grep -o 'msgs_per_sec=[0-9]*' "$dir/daemon-$fmt" | cut -d= -f2 | median)
  dmsgs=$(grep -o ' messages=[0-9]*' "$dir/daemon-$fmt" | head -1 | cut -d= -f2)
  [ "$dmsgs" = "$msgs" ] || echo "daemon read $dmsgs of $msgs messages" >&2
  ratio=$(awk -v d="$dmn" -v r="$raw" 'BEGIN {printf "%.2f", d / r}')
  target=$([ "$fmt" = protobuf ] && echo ">= 0.80" || echo "-")
  echo "| $fmt | $msgs | $mb | $raw | $dmn | $ratio | $target |"
  for f in raw daemon; do sed "s/^/$f $fmt: /" "$dir/$f-$fmt" >>"$dir/all"; done
done
echo
echo "Every run:"
echo
echo '```'
sed -E 's/^(daemon [a-z]+: ).*msg="stopped" /\1/' "$dir/all"
echo '```'
