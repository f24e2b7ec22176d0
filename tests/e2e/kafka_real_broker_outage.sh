#!/usr/bin/env bash
# The broker itself fails, on a real Apache Kafka broker (scripts/kafka.sh), live
# wall-clock judging (issue 9). The generator sends the demo traffic in real time
# (--clock wall) while the daemon judges it; mid-run the broker is
#  1. killed with SIGKILL and restarted on the same port and log dir (Kafka recovers
#     its log), then
#  2. frozen with SIGSTOP for 30 s and thawed with SIGCONT.
# During each outage the daemon says it is cut off: a log line, /-/ready 503 with the
# reason, choreoscope_kafka_cut_off 1 (and broker errors counted). Afterwards it is
# ready again, and its anomaly records equal the generator's truth exactly: the clock
# was held while cut off and for kafka.outage_grace after, so no stall was flagged
# for an event that sat in the generator's producer queue meanwhile.
# The generator's producer reconnects within 1 s (reconnect.backoff.max.ms=1000, the
# Java client's default; librdkafka's is 10 s, longer than the default grace).
source "$(dirname "$0")/lib/realkafka.sh"

start_kafka
topic out 8
grep -v -e alert_topic -e dead_letter_topic "$ROOT/config/demo.yaml" >"$tmp/cfg.yaml"
port=$(free_port)
"$BIN/choreoscope" --config "$tmp/cfg.yaml" --brokers "$BROKER" --group out --topic out \
  --clock wall --listen "127.0.0.1:$port" --records "$tmp/rec.jsonl" 2>"$tmp/daemon.err" &
dp=$!; pids+=("$dp")
for _ in $(seq 150); do grep -q 'partitions assigned' "$tmp/daemon.err" && break; sleep 0.1; done
"$BIN/choreoscope-gen" --brokers "$BROKER" --topic out --clock wall --rate 600 --duration 50 \
  --tail 17 --faults 0.05 --seed 5 --truth "$tmp/truth.jsonl" \
  --property reconnect.backoff.max.ms=1000 2>"$tmp/gen.err" &
gp=$!; pids+=("$gp")

ready() { curl -s -o "$tmp/ready.body" -w '%{http_code}' "http://127.0.0.1:$port/-/ready"; }
metric() { curl -s "http://127.0.0.1:$port/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
# cut_off_seen WHAT: the daemon reports the outage on every channel
cut_off_seen() {
  local code
  for _ in $(seq 100); do [ "$(metric choreoscope_kafka_cut_off)" = 1 ] && break; sleep 0.1; done
  code=$(ready)
  check "$1: /-/ready 503 with the reason ($code $(cut -c1-90 "$tmp/ready.body"))" \
    all '[ "$code" = 503 ] && grep -q "cut off from the Kafka brokers" "$tmp/ready.body"'
  check "$1: choreoscope_kafka_cut_off 1" [ "$(metric choreoscope_kafka_cut_off)" = 1 ]
  check "$1: logged (warn, cut off)" grep -q 'level=warn msg="cut off from the Kafka brokers' "$tmp/daemon.err"
}
# back WHAT N: until the Nth "reachable again" line, then ready (once the group has
# assigned the partitions again: a restarted coordinator makes the members rejoin) and
# not cut off
back() {
  local code
  for _ in $(seq 300); do [ "$(grep -c 'Kafka brokers reachable again' "$tmp/daemon.err")" -ge "$2" ] && break; sleep 0.1; done
  # /-/ready and /metrics are published separately (every 250 ms): wait for both
  for _ in $(seq 200); do
    code=$(ready); [ "$code" = 200 ] && [ "$(metric choreoscope_kafka_cut_off)" = 0 ] && break
    sleep 0.1
  done
  check "$1: contact regained ($(grep 'reachable again' "$tmp/daemon.err" | tail -1 | grep -o 'outage_ms=[0-9]*')), ready ($code $(cut -c1-60 "$tmp/ready.body")), cut_off 0" \
    all '[ "$code" = 200 ] && [ "$(metric choreoscope_kafka_cut_off)" = 0 ]'
}

sleep 4
check "before: ready, in contact" all '[ "$(ready)" = 200 ] && [ "$(metric choreoscope_kafka_cut_off)" = 0 ]'
"$KAFKA_SH" kill "$tmp/kafka"
cut_off_seen "broker SIGKILL"
check "broker SIGKILL: broker errors counted ($(metric choreoscope_kafka_broker_errors_total))" \
  [ "$(metric choreoscope_kafka_broker_errors_total)" -gt 0 ]
sleep 2
"$KAFKA_SH" restart "$tmp/kafka" >/dev/null || { echo "FAIL: broker restart"; exit 1; }
back "broker restarted (same log dir)" 1
sleep 3
kill -STOP "$(cat "$tmp/kafka/pid")"
stopped=$(date +%s)
cut_off_seen "broker SIGSTOP"
sleep $(( 30 - ($(date +%s) - stopped) ))
kill -CONT "$(cat "$tmp/kafka/pid")"
back "broker SIGCONT after 30 s" 2
wait "$gp"
check "generator sent every event through both outages ($(grep -m1 'delivery failures' "$tmp/gen.err" | cut -c1-80)...)" \
  grep -q " 0 delivery failures" "$tmp/gen.err"
sleep 3
kill -TERM "$dp"; wait "$dp"; rc=$?
check "daemon stops with 0 (rc=$rc)" [ "$rc" -eq 0 ]
jq -r '"\(.flow) \(.correlation_id) \(.kind) \(.step)"' "$tmp/truth.jsonl" | sort >"$tmp/truth"
anomalies "$tmp/rec.jsonl" >"$tmp/got"
nstall() { grep -c ' stalled ' "$1"; }
check "no false stall: $(nstall "$tmp/got") stalled verdicts = $(nstall "$tmp/truth") injected" \
  [ "$(nstall "$tmp/got")" -eq "$(nstall "$tmp/truth")" ]
check "after both outages the anomaly records equal the truth ($(wc -l <"$tmp/truth") injected)" \
  all 'same_lines "$tmp/truth" "$tmp/got" && [ -s "$tmp/truth" ]'
[ $fails -eq 0 ] || grep -E 'level=(warn|error)' "$tmp/daemon.err" | head -8
finish
