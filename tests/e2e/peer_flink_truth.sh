#!/usr/bin/env bash
# The Flink CEP peer of the benchmarks (bench/peers/flinkcep) on a real Apache Kafka
# broker: its verdicts on the order flow equal the generator's truth, so the figures of
# bench/parts/75-flink.sh compare equal work.
#  1. 2,000 flows with every fault kind (JSON, 16 partitions): the peer's verdict records on
#     its output topic equal the truth's order-flow verdicts, every kind of the order flow
#     present. Its stalled verdicts are CEP's: each needs a timed-out partial match
#     (StallPatterns) as well as the flow's state (OrderChecks), so patterns that never
#     time out, or time out wrongly, fail 1 as much as a wrong state machine does.
source "$(dirname "$0")/lib/realkafka.sh"
PEER=$ROOT/bench/peers/flinkcep/run.sh
CMP=$ROOT/bench/peers/truth_cmp.py

start_kafka
check "Apache Kafka started and serves (${KAFKA_START_MS} ms cold)" [ -n "$BROKER" ]
topic flink 16
"$BIN/choreoscope-gen" --brokers "$BROKER" --topic flink --format json --flows 2000 --faults 0.05 \
  --seed 31 --truth "$tmp/truth.jsonl" 2>"$tmp/gen.err"
check "generator produced 2000 flows to Kafka ($(tail -1 "$tmp/gen.err" | cut -c1-60))" \
  grep -q "^choreoscope-gen: 2000 flows .* 0 delivery failures" "$tmp/gen.err"

"$PEER" --brokers "$BROKER" --topic flink --output flink-verdicts --group flink-e2e \
  >"$tmp/peer.out" 2>"$tmp/peer.err" &
pp=$!; pids+=("$pp")
for _ in $(seq 900); do grep -q "peer: done" "$tmp/peer.out" && break; kill -0 $pp 2>/dev/null || break; sleep 0.1; done
check "peer processed the whole topic: $(grep -o 'records=[0-9]*' "$tmp/peer.out")" grep -q "peer: done" "$tmp/peer.out"
# The last records' verdicts: the watermark they move is emitted every 200 ms, then the
# CEP and OrderChecks timers fire and the sink's producer sends. Read until three reads,
# a second apart, agree.
n=-1 same=0
for _ in $(seq 30); do
  sleep 1
  kcat -b "$BROKER" -C -t flink-verdicts -e -q -f '%s\n' >"$tmp/peer.rec" 2>/dev/null
  m=$(wc -l <"$tmp/peer.rec")
  if [ "$m" -eq "$n" ]; then same=$((same + 1)); else same=0; fi
  [ $same -ge 2 ] && break
  n=$m
done
kill -TERM $pp; wait $pp
msg=$($CMP "$tmp/truth.jsonl" "$tmp/peer.rec" --flow order)
check "Flink peer on Kafka: $msg" $CMP "$tmp/truth.jsonl" "$tmp/peer.rec" --flow order
kinds=$(jq -r 'select(.flow == "order") | .kind' "$tmp/truth.jsonl" | sort -u | tr '\n' ' ')
check "every order-flow kind injected ($kinds)" \
  [ "$kinds" = "abandoned double_step duplicate late missing out_of_order stalled unexpected " ]
[ $fails -eq 0 ] || tail -n 20 "$tmp/peer.err"
finish
