#!/usr/bin/env bash
# Every reject class (issue 14), through Kafka and through the replay path, between the
# good events of four flows (three complete, one stalls) sent as JSON, protobuf,
# CloudEvents structured and binary and with a traceparent (tests/e2e/lib/
# reject_classes.py makes them all): truncated protobuf, oversized, too deep, invalid
# UTF-8, wrong types, unknown content type, bad traceparent, no correlation id,
# malformed JSON, too many or too large attributes, too many headers, bad and
# out-of-range times, a missing field, an empty value, a header with a NUL.
#  - Kafka, live daemon: each counted under its own reason on /metrics (the new
#    reasons declared at 0 first), exactly;
#  - Kafka, --until-end: every bad message copied to the dead-letter topic (kcat reads
#    back the same offsets, reasons and sizes), the summary's rejected_by_reason equal
#    the expected counts, and the anomaly and flow records equal a replay of the good
#    events alone;
#  - replay, JSON lines and protobuf: the same classes a file can hold, the same
#    reasons in the summary, and the same records as the good events alone.
source "$(dirname "$0")/lib/kafka.sh"
RC="$PY $ROOT/tests/e2e/lib/reject_classes.py"

start_broker events:1 dlq:1
flows() {
  cat <<YAML
flows:
  - name: order
    steps:
      OrderPlaced:       { start: true }
      PaymentAuthorized: { after: [OrderPlaced], within: 10s }
      OrderConfirmed:    { after: [PaymentAuthorized], within: 10s, end: completed }
limits: { max_message_bytes: 4096, max_depth: 16, max_attributes: 4,
          max_attribute_bytes: 64, max_headers: 32 }
YAML
}
kafka_cfg() { # GROUP [DLQ]
  flows
  cat <<YAML
kafka:
  brokers: $BROKER
  group_id: $1
  topics: [events]
  correlation_from: ["field:correlation_id", ce_correlationid, traceparent]
${2:+  dead_letter_topic: $2}
YAML
}
kafka_cfg live >"$tmp/live.yaml"
kafka_cfg until-end dlq >"$tmp/end.yaml"
flows >"$tmp/replay.yaml"
full() { jq -c "select(.record==\"$2\") | del(.topic, .partition, .offset)" "$1" | sort; }
# counts FILE: "reason count" lines, sorted, of an "offset reason ..." file's bad rows
counts() { awk '$2 != "ok" {n[$2]++} END {for (r in n) print r, n[r]}' "$1" | sort; }
summary_counts() {
  jq -r 'select(.record=="summary") | .rejected_by_reason | to_entries[] | "\(.key) \(.value)"' "$1" | sort
}

# the good events alone: what every run below must judge
$RC good "$tmp/good.jsonl"
"$BIN/choreoscope" replay --config "$tmp/replay.yaml" "$tmp/good.jsonl" >"$tmp/good.rec" 2>"$tmp/good.err"
check "reject classes: the good events alone: three flows complete, o2 is left open" \
  [ "$(outcomes "$tmp/good.rec" | tr '\n' ,)" = "order 4bf92f3577b34da6a3ce929d0e0e4736 completed,order o1 completed,order o2 open,order o4 completed," ]
check "reject classes: and one stall (o2 awaits PaymentAuthorized)" \
  [ "$(anomalies "$tmp/good.rec")" = "order o2 stalled PaymentAuthorized" ]

# 1. live daemon, /metrics
port=$(free_port)
"$BIN/choreoscope" --config "$tmp/live.yaml" --clock event --listen "127.0.0.1:$port" \
  2>"$tmp/live.err" &
dpid=$!; pids+=("$dpid")
metric() { metric_at "$port" "$1"; }
for _ in $(seq 100); do
  curl -s -m 1 -o "$tmp/m0" "http://127.0.0.1:$port/metrics" 2>/dev/null
  grep -q '^choreoscope_events_rejected_total' "$tmp/m0" 2>/dev/null && break
  sleep 0.1
done
for r in too_deep attribute_too_large too_many_headers unknown_content_type bad_traceparent; do
  check "reject classes: $r declared on /metrics at 0 before any" \
    grep -q "^choreoscope_events_rejected_total{reason=\"$r\"} 0$" "$tmp/m0"
done

$RC kafka "$BROKER" events "$tmp/kafka.expect"
check "reject classes: produced $(wc -l <"$tmp/kafka.expect") messages, $(grep -vc ' ok ' "$tmp/kafka.expect") bad" \
  [ "$(grep -vc ' ok ' "$tmp/kafka.expect")" -ge 19 ]
total=$(wc -l <"$tmp/kafka.expect"); nbad=$(grep -vc ' ok ' "$tmp/kafka.expect")
for _ in $(seq 150); do
  [ "$(metric choreoscope_events_consumed_total)" -ge "$total" ] && break
  sleep 0.2
done
check "reject classes (kafka): $nbad rejected in all on /metrics" \
  [ "$(metric choreoscope_events_rejected_total)" = "$nbad" ]
while read -r r n; do
  check "reject classes (kafka): /metrics counts $n $r" \
    [ "$(metric "choreoscope_events_rejected_total{reason=\"$r\"}")" = "$n" ]
done < <(counts "$tmp/kafka.expect")
kill -TERM "$dpid"; wait "$dpid"; rc=$?
check "reject classes (kafka): live daemon stops cleanly (rc=$rc)" [ "$rc" -eq 0 ]

# 2. --until-end with the dead-letter topic: records, summary, dead letters
timeout 60 "$BIN/choreoscope" --config "$tmp/end.yaml" --clock event --until-end \
  --records "$tmp/end.rec" 2>"$tmp/end.err"
rc=$?
check "reject classes (kafka): --until-end exits 0 (rc=$rc)" [ "$rc" -eq 0 ]
counts "$tmp/kafka.expect" >"$tmp/want.counts"
summary_counts "$tmp/end.rec" >"$tmp/got.counts"
check "reject classes (kafka): summary rejected_by_reason as sent" same_lines "$tmp/want.counts" "$tmp/got.counts"
check "reject classes (kafka): summary counts $((total - nbad)) events, $nbad rejected" \
  [ "$(jq -c 'select(.record=="summary") | [.events, .rejected]' "$tmp/end.rec")" = "[$((total - nbad)),$nbad]" ]
for kind in anomaly flow; do
  full "$tmp/good.rec" $kind >"$tmp/want.$kind"
  full "$tmp/end.rec" $kind >"$tmp/got.$kind"
  check "reject classes (kafka): $(wc -l <"$tmp/want.$kind") $kind records equal the good events' alone" \
    same_lines "$tmp/want.$kind" "$tmp/got.$kind"
done
kcat -b "$BROKER" -C -t dlq -e -q -f '%h\t%S\n' >"$tmp/dlq" 2>/dev/null
sed -n 's/.*choreoscope\.reason=\([a-z0-9_]*\),.*choreoscope\.offset=\([0-9]*\)\t\([0-9]*\)$/\2 \1 \3/p' \
  "$tmp/dlq" >"$tmp/got.dlq"
grep -v ' ok ' "$tmp/kafka.expect" >"$tmp/want.dlq"
check "reject classes (kafka): $(wc -l <"$tmp/got.dlq") dead letters, their offsets, reasons and sizes as sent" \
  same_lines "$tmp/want.dlq" "$tmp/got.dlq"
check "reject classes (kafka): dead letters, one per bad message" [ "$(wc -l <"$tmp/dlq")" -eq "$nbad" ]

# 3. the replay path: JSON lines, then length-delimited protobuf
$RC jsonl "$tmp/bad.jsonl" "$tmp/jsonl.expect"
$RC protobuf "$tmp/bad.pb" "$tmp/pb.expect"
for f in jsonl pb; do
  "$BIN/choreoscope" replay --config "$tmp/replay.yaml" "$tmp/bad.$f" >"$tmp/$f.rec" 2>"$tmp/$f.err"
  rc=$?
  check "reject classes (replay $f): exits 0 (rc=$rc)" [ "$rc" -eq 0 ]
  awk '{n[$2]++} END {for (r in n) print r, n[r]}' "$tmp/$f.expect" | sort >"$tmp/want.$f.counts"
  summary_counts "$tmp/$f.rec" >"$tmp/got.$f.counts"
  check "reject classes (replay $f): summary rejected_by_reason: $(tr '\n' ' ' <"$tmp/want.$f.counts")" \
    same_lines "$tmp/want.$f.counts" "$tmp/got.$f.counts"
  LC_ALL=C sed -n 's/^[^:]*:\([0-9]*\): rejected (\([a-z0-9_]*\)).*/\1 \2/p' "$tmp/$f.err" >"$tmp/got.$f.pos"
  check "reject classes (replay $f): each rejection logged at its position" \
    same_lines "$tmp/$f.expect" "$tmp/got.$f.pos"
  for kind in anomaly flow; do
    full "$tmp/$f.rec" $kind >"$tmp/got.$f.$kind"
    check "reject classes (replay $f): $kind records equal the good events' alone" \
      same_lines "$tmp/want.$kind" "$tmp/got.$f.$kind"
  done
done
finish
