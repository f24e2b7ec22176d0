#!/usr/bin/env bash
# Undecodable messages over Kafka: garbage bytes, broken JSON, a CloudEvent with a bad
# time and an event without any correlation id are each counted by reason, logged
# with topic/partition/offset/reason, copied to the dead-letter topic (headers name the
# reason) and do not stop consumption: the valid events around them are judged.
source "$(dirname "$0")/lib/kafka.sh"

start_broker events:1 dlq:1
cat >"$tmp/cfg.yaml" <<YAML
flows:
  - name: order
    steps:
      OrderPlaced:    { start: true }
      OrderConfirmed: { after: [OrderPlaced], within: 30s, end: completed }
kafka:
  brokers: $BROKER
  group_id: malformed
  topics: [events]
  correlation_from: ["field:correlation_id"]
  dead_letter_topic: dlq
YAML
ev() { printf '{"event_id":"%s","correlation_id":"o1","type":"%s","source":"s","time":"2026-11-25T10:00:0%sZ"}' "$@"; }

ev e1 OrderPlaced 0 | kcat -b "$BROKER" -P -t events -k o1
printf '\x00\xff\xfe garbage \x01' | kcat -b "$BROKER" -P -t events -k o1
printf '{"event_id":"x","type":' | kcat -b "$BROKER" -P -t events -k o1
printf '{}' | kcat -b "$BROKER" -P -t events -k o1 -H ce_id=c1 -H ce_type=OrderPlaced \
  -H ce_source=s -H ce_time=yesterday
printf '{"event_id":"e9","type":"OrderPlaced","source":"s","time":"2026-11-25T10:00:00Z"}' |
  kcat -b "$BROKER" -P -t events
ev e2 OrderConfirmed 1 | kcat -b "$BROKER" -P -t events -k o1

timeout 60 "$BIN/choreoscope" --config "$tmp/cfg.yaml" --clock event --until-end \
  --records "$tmp/rec.jsonl" 2>"$tmp/daemon.err"
rc=$?
check "malformed: daemon exits 0 (rc=$rc)" [ "$rc" -eq 0 ]
check "malformed: consumption went on past them (o1 completed)" \
  [ "$(outcomes "$tmp/rec.jsonl")" = "order o1 completed" ]
check "malformed: summary counts 2 events and 4 rejected" \
  [ "$(jq -c 'select(.record=="summary") | [.events, .rejected]' "$tmp/rec.jsonl")" = "[2,4]" ]
for want in "offset=1 reason=malformed_json" "offset=2 reason=malformed_json" \
    "offset=3 reason=bad_time" "offset=4 reason=no_correlation_id"; do
  check "malformed: logged 'topic=events partition=0 $want'" \
    grep -q "msg=\"undecodable message\" topic=events partition=0 $want" "$tmp/daemon.err"
done
kcat -b "$BROKER" -C -t dlq -e -q -f '%h\n' >"$tmp/dlq" 2>/dev/null
check "malformed: dead-letter topic got all 4" [ "$(wc -l <"$tmp/dlq")" -eq 4 ]
check "malformed: dead letters carry reason, topic, partition, offset headers" \
  grep -q 'choreoscope.reason=bad_time,choreoscope.topic=events,choreoscope.partition=0,choreoscope.offset=3' "$tmp/dlq"
check "malformed: dead letters keep the original headers" grep -q '^ce_id=c1,' "$tmp/dlq"
kcat -b "$BROKER" -C -t dlq -e -q -c 1 -f '%s' 2>/dev/null | od -An -tx1 | tr -d ' \n' >"$tmp/first"
garbage=$(printf '\x00\xff\xfe garbage \x01' | od -An -tx1 | tr -d ' \n')
check "malformed: the garbage bytes are copied as they were" [ "$(cat "$tmp/first")" = "$garbage" ]
finish
