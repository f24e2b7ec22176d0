#!/usr/bin/env bash
# The Kafka Streams peer of the benchmarks (bench/peers/kstreams) on a real Apache Kafka
# broker: its verdicts on the order flow equal the generator's truth, so the figures of
# bench/parts/70-peers.sh compare equal work. Also under its own file mode (same checks,
# no Kafka) on the same events.
#  1. 2,000 flows with every fault kind (JSON, 16 partitions): the peer's verdict records on
#     its output topic equal the truth's order-flow verdicts, every kind of the order flow present;
#  2. the peer's file mode on the same events gives the same verdicts.
source "$(dirname "$0")/lib/realkafka.sh"
PEER=$ROOT/bench/peers/kstreams/run.sh
CMP=$ROOT/bench/peers/truth_cmp.py

start_kafka
check "Apache Kafka started and serves (${KAFKA_START_MS} ms cold)" [ -n "$BROKER" ]
topic peer 16
"$BIN/choreoscope-gen" --brokers "$BROKER" --topic peer --format json --flows 2000 --faults 0.05 \
  --seed 31 --truth "$tmp/truth.jsonl" --out "$tmp/events.jsonl" 2>"$tmp/gen.err"
check "generator produced 2000 flows to Kafka ($(tail -1 "$tmp/gen.err" | cut -c1-60))" \
  grep -q "^choreoscope-gen: 2000 flows .* 0 delivery failures" "$tmp/gen.err"

"$PEER" --brokers "$BROKER" --topic peer --output peer-verdicts --app-id peer-e2e \
  --state-dir "$tmp/state" >"$tmp/peer.out" 2>"$tmp/peer.err" &
pp=$!; pids+=("$pp")
for _ in $(seq 600); do grep -q "peer: done" "$tmp/peer.out" && break; kill -0 $pp 2>/dev/null || break; sleep 0.1; done
check "peer processed the whole topic: $(grep -o 'records=[0-9]*' "$tmp/peer.out")" grep -q "peer: done" "$tmp/peer.out"
sleep 2 # the punctuation after the last record
kill -TERM $pp; wait $pp
kcat -b "$BROKER" -C -t peer-verdicts -e -q -f '%s\n' >"$tmp/peer.rec" 2>/dev/null
msg=$($CMP "$tmp/truth.jsonl" "$tmp/peer.rec" --flow order)
check "peer on Kafka: $msg" $CMP "$tmp/truth.jsonl" "$tmp/peer.rec" --flow order
kinds=$(jq -r 'select(.flow == "order") | .kind' "$tmp/truth.jsonl" | sort -u | tr '\n' ' ')
check "every order-flow kind injected ($kinds)" \
  [ "$kinds" = "abandoned double_step duplicate late missing out_of_order stalled unexpected " ]

"$PEER" --replay "$tmp/events.jsonl" >"$tmp/file.rec" 2>"$tmp/file.err"
msg=$($CMP "$tmp/truth.jsonl" "$tmp/file.rec" --flow order)
check "peer file mode: $msg" $CMP "$tmp/truth.jsonl" "$tmp/file.rec" --flow order
[ $fails -eq 0 ] || tail -n 5 "$tmp/peer.err" "$tmp/file.err"
finish
