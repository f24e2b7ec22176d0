#!/usr/bin/env bash
# A producer that is not librdkafka, on a real Apache Kafka broker (scripts/kafka.sh):
# the Java kafka-clients producer (default partitioner, keyed by correlation id,
# CloudEvents binary mode) sends the generator's events to an 8-partition topic;
#  1. every record sits on the partition Java's murmur2 of its key says;
#  2. the daemon (--clock event --until-end) stitches them exactly: its anomaly and flow
#     records equal `choreoscope replay` over the same events, and the generator's truth.
source "$(dirname "$0")/lib/realkafka.sh"
CFG=$ROOT/config/demo.yaml

start_kafka
check "Apache Kafka started and serves (${KAFKA_START_MS} ms cold)" [ -n "$BROKER" ]
topic java 8

"$BIN/choreoscope-gen" --flows 3000 --faults 0.05 --seed 21 --truth "$tmp/truth.jsonl" \
  --out "$tmp/events.jsonl" --out-format jsonl 2>"$tmp/gen.err"
ce_lines "$tmp/events.jsonl" >"$tmp/lines"
java_produce java <"$tmp/lines" 2>"$tmp/java.err"
check "java: kafka-clients producer sent $(wc -l <"$tmp/lines") records ($(tail -1 "$tmp/java.err"))" \
  grep -q "records, 0 failed" "$tmp/java.err"

# 1. partitions: Java's default partitioner is murmur2(key) % partitions
kcat -C -b "$BROKER" -t java -e -q -f '%k\t%p\n' >"$tmp/placed"
misplaced=$($PY - "$tmp/placed" <<'PY'
import sys
def murmur2(d):
    m, h = 0x5bd1e995, (0x9747b28c ^ len(d)) & 0xffffffff
    n4 = len(d) // 4
    for i in range(n4):
        k = int.from_bytes(d[4*i:4*i+4], "little")
        k = (k * m) & 0xffffffff; k ^= k >> 24; k = (k * m) & 0xffffffff
        h = ((h * m) & 0xffffffff) ^ k
    t = d[4*n4:]
    if len(t) >= 3: h ^= t[2] << 16
    if len(t) >= 2: h ^= t[1] << 8
    if len(t) >= 1: h ^= t[0]; h = (h * m) & 0xffffffff
    h ^= h >> 13; h = (h * m) & 0xffffffff; h ^= h >> 15
    return h
bad = total = 0
for line in open(sys.argv[1], "rb"):
    k, p = line.rstrip(b"\n").split(b"\t")
    total += 1
    bad += (murmur2(k) & 0x7fffffff) % 8 != int(p)
print(bad if total else -1)
PY
)
check "java: every record on murmur2(correlation id) % 8 (misplaced: $misplaced)" [ "$misplaced" = 0 ]

# 2. stitched exactly
full() { jq -c "select(.record==\"$2\") | del(.topic, .partition, .offset)" "$1" | sort; }
timeout 60 "$BIN/choreoscope" --config "$CFG" --brokers "$BROKER" --group java --topic java \
  --clock event --until-end --records "$tmp/rec.jsonl" 2>"$tmp/daemon.err"
check "java: daemon --until-end exits 0 (rc=$?)" [ $? -eq 0 ]
"$BIN/choreoscope" replay --config "$CFG" "$tmp/events.jsonl" >"$tmp/replay.jsonl" 2>/dev/null
for kind in anomaly flow; do
  full "$tmp/replay.jsonl" $kind >"$tmp/replay.$kind"
  full "$tmp/rec.jsonl" $kind >"$tmp/daemon.$kind"
  check "java: $(wc -l <"$tmp/replay.$kind") $kind records equal replay's on the same events" \
    same_lines "$tmp/replay.$kind" "$tmp/daemon.$kind"
done
jq -r '"\(.flow) \(.correlation_id) \(.kind) \(.step)"' "$tmp/truth.jsonl" | sort >"$tmp/want"
anomalies "$tmp/rec.jsonl" >"$tmp/got"
check "java: $(wc -l <"$tmp/want") injected faults, anomaly records equal the truth" same_lines "$tmp/want" "$tmp/got"
check "java: no message rejected" [ "$(jq -r 'select(.record=="summary") | .rejected' "$tmp/rec.jsonl")" = 0 ]
[ $fails -eq 0 ] || tail -n 5 "$tmp/daemon.err"
finish
