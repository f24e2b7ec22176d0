#!/usr/bin/env bash
# Hostile event times and strings through Kafka (issue 16), against the mock broker:
# JSON, protobuf and CloudEvents (structured and binary) messages whose time is past
# the accepted range (the int64 ends, 2200, before 1970) are refused as
# time_out_of_range, lone surrogate escapes as bad_utf8, an unset protobuf time as
# missing_field; each is counted by reason on /metrics and copied to the dead-letter
# topic with its reason. A protobuf time 0 that is set is the epoch: its flow stalls
# 30 s after 1970-01-01T00:00:00Z. Consumption goes on past all of them.
source "$(dirname "$0")/lib/kafka.sh"

start_broker events:1 dlq:1
cat >"$tmp/cfg.yaml" <<YAML
flows:
  - name: order
    deadline: 2562047h
    steps:
      OrderPlaced:    { start: true }
      OrderConfirmed: { after: [OrderPlaced], within: 30s, end: completed }
kafka:
  brokers: $BROKER
  group_id: time-edges
  topics: [events]
  correlation_from: ["field:correlation_id", ce_correlationid]
  dead_letter_topic: dlq
YAML
js() { printf '{"event_id":"%s","correlation_id":"%s","type":"OrderPlaced","source":"s","time":"%s"}' "$@"; }
ce() { printf '{"specversion":"1.0","id":"%s","correlationid":"%s","type":"OrderPlaced","source":"s","time":"%s"}' "$@"; }
CT=content-type=application/cloudevents+json
MAXT=2199-12-31T23:59:59.999999999Z

port=$(free_port)
"$BIN/choreoscope" --config "$tmp/cfg.yaml" --clock event --listen "127.0.0.1:$port" \
  --records "$tmp/rec.jsonl" 2>"$tmp/daemon.err" &
dpid=$!; pids+=("$dpid")
metric() { metric_at "$port" "$1"; }
for _ in $(seq 100); do
  curl -s -m 1 -o "$tmp/m0" "http://127.0.0.1:$port/metrics"; grep -q '^choreoscope_events_rejected_total' "$tmp/m0" 2>/dev/null && break
  sleep 0.1
done
check "time edges (kafka): time_out_of_range declared on /metrics at 0 before any" \
  grep -q '^choreoscope_events_rejected_total{reason="time_out_of_range"} 0$' "$tmp/m0"

# expected (ok or a reason) | kind | arguments; produced in this order (offset = index)
rows=(
  "ok|json|j0 epoch 1970-01-01T00:00:00Z"
  "time_out_of_range|json|j1 max 2262-04-11T23:47:16.854775807Z"
  "time_out_of_range|json|j2 min 1677-09-21T00:12:44Z"
  "bad_utf8|json|j3 \\ud800 2026-11-25T10:00:00Z"
  "bad_utf8|json|j4 \\udbff 2026-11-25T10:00:00Z"
  "ok|pb|p0 pb0 OrderPlaced s 0"
  "time_out_of_range|pb|p1 pbmax OrderPlaced s 9223372036854775807"
  "time_out_of_range|pb|p2 pbmin OrderPlaced s -9223372036854775808"
  "missing_field|pb|p3 pbunset OrderPlaced s -"
  "time_out_of_range|ce|c1 cemax 2262-04-11T23:47:16.854775807Z"
  "bad_utf8|ce|c2 \\udc00 2026-11-25T10:00:00Z"
  "time_out_of_range|cebin|c3 cebin 1677-09-21T00:12:44Z"
  "time_out_of_range|cebin|c4 cebin2 2200-01-01T00:00:00Z"
  "ok|json|j9 end $MAXT"
)
nrej=0; declare -A want_count
for i in "${!rows[@]}"; do
  IFS='|' read -r want kind a <<<"${rows[$i]}"
  read -r -a f <<<"$a"
  case $kind in
    json) js "${f[@]}" | kcat -b "$BROKER" -P -t events -k "k$i" ;;
    ce) ce "${f[@]}" | kcat -b "$BROKER" -P -t events -k "k$i" -H "$CT" ;;
    cebin) printf '{}' | kcat -b "$BROKER" -P -t events -k "k$i" -H ce_specversion=1.0 \
      -H "ce_id=${f[0]}" -H ce_type=OrderPlaced -H ce_source=s -H "ce_correlationid=${f[1]}" \
      -H "ce_time=${f[2]}" ;;
    pb) $PY tests/e2e/lib/pbevent.py "$tmp/m$i.pb" "${f[@]}"
      kcat -b "$BROKER" -P -t events -k "k$i" "$tmp/m$i.pb" ;;
  esac
  if [ "$want" != ok ]; then
    nrej=$((nrej + 1)); want_count[$want]=$((${want_count[$want]:-0} + 1))
    want_dlq+="offset=$i reason=$want;"
  fi
done
nok=$((${#rows[@]} - nrej))

for _ in $(seq 150); do
  [ "$(metric choreoscope_events_rejected_total)" = "$nrej" ] && [ "$(metric choreoscope_events_consumed_total)" -ge "${#rows[@]}" ] && break
  sleep 0.2
done
check "time edges (kafka): $nrej rejected in all on /metrics" [ "$(metric choreoscope_events_rejected_total)" = "$nrej" ]
for r in "${!want_count[@]}"; do
  check "time edges (kafka): /metrics counts ${want_count[$r]} $r" \
    [ "$(metric "choreoscope_events_rejected_total{reason=\"$r\"}")" = "${want_count[$r]}" ]
done
kill -TERM "$dpid"; wait "$dpid"; rc=$?
check "time edges (kafka): daemon stops cleanly (rc=$rc)" [ "$rc" -eq 0 ]
check "time edges (kafka): summary counts $nok events, $nrej rejected" \
  [ "$(jq -c 'select(.record=="summary") | [.events, .rejected]' "$tmp/rec.jsonl")" = "[$nok,$nrej]" ]
check "time edges (kafka): a set protobuf time 0 is the epoch (pb0 stalls at 00:00:30Z)" \
  grep -q '"correlation_id":"pb0","kind":"stalled","step":"OrderConfirmed","at":"1970-01-01T00:00:30Z"' "$tmp/rec.jsonl"
check "time edges (kafka): the JSON epoch event too" \
  grep -q '"correlation_id":"epoch","kind":"stalled","step":"OrderConfirmed","at":"1970-01-01T00:00:30Z"' "$tmp/rec.jsonl"
check "time edges (kafka): no verdict outside the range" [ "$(jq -r 'select(.record=="anomaly") | .at' \
  "$tmp/rec.jsonl" | grep -vc '^19[7-9]\|^2[01]')" = 0 ]
kcat -b "$BROKER" -C -t dlq -e -q -f '%h\n' >"$tmp/dlq" 2>/dev/null
check "time edges (kafka): every refused message dead-lettered with its reason" \
  [ "$(sed -n 's/.*choreoscope\.reason=\([a-z0-9_]*\),.*choreoscope\.offset=\([0-9]*\).*/offset=\2 reason=\1/p' "$tmp/dlq" | tr '\n' ';')" = "$want_dlq" ]
finish
