# Helpers of the tests/e2e/kafka_real_*.sh scripts, which run against a real Apache Kafka
# broker (scripts/kafka.sh; sourced, not a test). Sources lib/kafka.sh (scratch $tmp,
# start_bg pids, record helpers) and adds:
#   start_kafka [secure] starts one broker for the whole script under $tmp/kafka, sets $BROKER;
#                       stopped on exit (before $tmp goes). `secure`: scripts/kafka.sh
#                       start-secure, $BROKER is the SASL_SSL address, $BROKER_PLAIN the
#                       PLAINTEXT one (certificates in $tmp/kafka/tls unless put there first)
#   topic NAME PARTS    creates a topic
#   java_produce TOPIC [PROPS]  the Java kafka-clients producer, lines on stdin (see
#                       Produce.java); PROPS, a properties file of client settings
#   ce_lines FILE       events (JSON lines) as Produce lines: key = correlation id,
#                       CloudEvents binary-mode headers
source "$(dirname "${BASH_SOURCE[0]}")/kafka.sh"
KAFKA_SH=$ROOT/scripts/kafka.sh
kafka_cleanup() {
  [ -d "$tmp/kafka" ] && "$KAFKA_SH" stop "$tmp/kafka" >/dev/null 2>&1
  cleanup
}
trap kafka_cleanup EXIT
start_kafka() {
  local s
  s=$(date +%s%N)
  "$KAFKA_SH" install >/dev/null || { echo "FAIL: kafka.sh install"; exit 1; }
  BROKER=$("$KAFKA_SH" "start${1:+-$1}" "$tmp/kafka") || { echo "FAIL: Apache Kafka did not start"; tail -20 "$tmp/kafka/broker.log"; exit 1; }
  KAFKA_START_MS=$(( ($(date +%s%N) - s) / 1000000 ))
  BROKER_PLAIN=$(cat "$tmp/kafka/bootstrap")
}
topic() { "$KAFKA_SH" topic "$tmp/kafka" "$1" "$2"; }
java_produce() {
  java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
    -cp "$ROOT/build/java/producer/classes:$ROOT/build/java/producer/lib/*" \
    dev.choreoscope.producer.Produce "$BROKER" "$@"
}
ce_lines() {
  jq -r '[.correlation_id, "ce_specversion=1.0", "ce_id=\(.event_id)", "ce_type=\(.type)",
          "ce_source=\(.source)", "ce_time=\(.time)", "ce_correlationid=\(.correlation_id)"]
         + (if .flow then ["ce_flow=\(.flow)"] else [] end)
         + [(.attributes // {}) | to_entries[] | "ce_\(.key)=\(.value)"]
         + ["content-type=application/json", "value={}"] | join("\t")' "$1"
}
# all 'CONDITION && CONDITION ...': for check, which runs one command (eval'd here).
all() { eval "$1"; }
