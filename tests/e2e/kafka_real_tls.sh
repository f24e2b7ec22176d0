#!/usr/bin/env bash
# TLS and SASL against a real Apache Kafka broker (scripts/kafka.sh start-secure), with
# certificates this test makes (lib/tls.sh: a test CA, a server certificate for
# 127.0.0.1/localhost, and a second CA nobody trusts):
#  1. the Java kafka-clients producer sends the generator's events over SASL_SSL with
#     SCRAM-SHA-512; the daemon consumes them over SASL_SSL with PLAIN (Debian's
#     librdkafka 2.0.2 cannot do SCRAM with Kafka 4.x: checked here, so the day a newer
#     librdkafka passes it the test says so) and its records equal the generator's truth;
#  2. a daemon with a wrong password logs one clear authentication error, is not ready
#     (/-/ready says why), counts it in /metrics, keeps running, stops cleanly; restarted
#     with the right password (from kafka.sasl.password_file) in the same group it
#     consumes everything;
#  3. a daemon that does not trust the broker's CA logs a TLS error, counted, not ready;
#  4. mutual TLS (the broker's SSL listener requires a client certificate): the daemon
#     with kafka.tls.cert_file/key_file consumes everything; without them it logs a
#     TLS error, counted;
#  5. the password is in no log line.
source "$(dirname "$0")/lib/realkafka.sh"
source "$ROOT/tests/e2e/lib/tls.sh"
CFG=$ROOT/config/demo.yaml

make_ca "$tmp/kafka/tls" ca && make_cert "$tmp/kafka/tls" ca server && make_ca "$tmp/kafka/tls" other &&
  make_cert "$tmp/kafka/tls" ca client ||
  { echo "FAIL: openssl could not make the test certificates"; exit 1; }
start_kafka secure
check "Apache Kafka started with a SASL_SSL listener (${KAFKA_START_MS} ms cold)" [ -n "$BROKER" ]
topic tls 4
CA=$tmp/kafka/tls/ca.crt

# 1. Java over SCRAM-SHA-512 in, the daemon over PLAIN out
cat >"$tmp/java.properties" <<EOF
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="producer" password="producer-secret";
ssl.truststore.type=PEM
ssl.truststore.location=$CA
EOF
"$BIN/choreoscope-gen" --flows 2000 --faults 0.05 --seed 14 --truth "$tmp/truth.jsonl" \
  --out "$tmp/events.jsonl" --out-format jsonl 2>"$tmp/gen.err"
ce_lines "$tmp/events.jsonl" >"$tmp/lines"
java_produce tls "$tmp/java.properties" <"$tmp/lines" 2>"$tmp/java.err"
check "java: $(wc -l <"$tmp/lines") records sent over SASL_SSL with SCRAM-SHA-512 ($(tail -1 "$tmp/java.err"))" \
  grep -q "records, 0 failed" "$tmp/java.err"

# cfg FILE SETTINGS...: demo.yaml with these lines under kafka: and a free HTTP port
cfg() {
  local f=$1; shift
  HTTP_PORT=$(free_port)
  { sed -n '1,/^kafka:/p' "$CFG"; printf '  %s\n' "$@"; sed -n '/^kafka:/,$p' "$CFG" | sed 1d; } |
    sed "s/^  listen: .*/  listen: 127.0.0.1:$HTTP_PORT/" >"$f"
}
SASL_OK=("tls: { ca_file: $CA }" "sasl: { mechanism: plain, username: choreoscope, password_file: $tmp/pw }")
echo choreoscope-secret >"$tmp/pw"
cfg "$tmp/ok.yaml" "${SASL_OK[@]}"
timeout 60 "$BIN/choreoscope" --config "$tmp/ok.yaml" --brokers "$BROKER" --group tls-ok --topic tls \
  --clock event --until-end --records "$tmp/rec.jsonl" 2>"$tmp/ok.err"
check "daemon over SASL_SSL/PLAIN: --until-end exits 0 (rc=$?)" [ $? -eq 0 ]
jq -r '"\(.flow) \(.correlation_id) \(.kind) \(.step)"' "$tmp/truth.jsonl" | sort >"$tmp/want"
anomalies "$tmp/rec.jsonl" >"$tmp/got"
check "daemon over SASL_SSL: $(wc -l <"$tmp/want") injected faults, anomaly records equal the truth" \
  same_lines "$tmp/want" "$tmp/got"
"$BIN/choreoscope" replay --config "$CFG" "$tmp/events.jsonl" >"$tmp/replay.jsonl" 2>/dev/null
outcomes "$tmp/replay.jsonl" >"$tmp/want.flows"
outcomes "$tmp/rec.jsonl" >"$tmp/got.flows"
check "daemon over SASL_SSL: $(wc -l <"$tmp/want.flows") flow records equal replay's, none rejected" \
  all "same_lines $tmp/want.flows $tmp/got.flows &&
       [ \"\$(jq -r 'select(.record==\"summary\") | .rejected' $tmp/rec.jsonl)\" = 0 ]"

# librdkafka 2.0.2 and SCRAM on Kafka 4.x: the known failure (librdkafka#4895), a note,
# not a check (either answer is a fact about the installed library, not about us)
timeout 20 kcat -L -b "$BROKER" -m 5 -X security.protocol=SASL_SSL -X sasl.mechanism=SCRAM-SHA-512 \
  -X sasl.username=choreoscope -X sasl.password=choreoscope-secret -X ssl.ca.location="$CA" \
  >"$tmp/scram.out" 2>&1
if grep -q "invalid credentials with SASL mechanism SCRAM-SHA-512" "$tmp/scram.out"; then
  echo "note: librdkafka $(kcat -V 2>&1 | grep -o 'librdkafka [0-9.]*' | head -1 | cut -d' ' -f2) SCRAM-SHA-512 with the right password is refused by Kafka 4.1 (librdkafka#4895; the daemon uses PLAIN over TLS)"
else
  echo "note: librdkafka SCRAM-SHA-512 works here now: kafka.sasl.mechanism scram-sha-512 can be tested ($(head -c 200 "$tmp/scram.out"))"
fi

# daemon_up CFG NAME GROUP [BROKERS]: a live daemon (no --until-end), $dpid; waits for
# /-/healthy
daemon_up() {
  "$BIN/choreoscope" --config "$1" --brokers "${4:-$BROKER}" --group "$3" --topic tls \
    --records "$tmp/$2.rec" 2>"$tmp/$2.err" &
  dpid=$!; pids+=("$dpid")
  for _ in $(seq 100); do
    curl -sf -o /dev/null -m 1 "http://127.0.0.1:$HTTP_PORT/-/healthy" && return 0; sleep 0.1
  done
  return 1
}
# until_metric NAME REGEX: waits up to 15 s for /metrics to have a matching line
until_metric() {
  for _ in $(seq 150); do
    curl -s -m 1 "http://127.0.0.1:$HTTP_PORT/metrics" | grep -qE "$1" && return 0; sleep 0.1
  done
  return 1
}
ready() { curl -s -m 2 "http://127.0.0.1:$HTTP_PORT/-/ready"; }

# 2. a wrong password
cfg "$tmp/bad.yaml" "tls: { ca_file: $CA }" \
  "sasl: { mechanism: plain, username: choreoscope, password: wrong-password-42 }"
daemon_up "$tmp/bad.yaml" bad tls-retry
until_metric 'choreoscope_kafka_connection_failures_total\{cause="authentication"\} [1-9]'
check "wrong password: counted in choreoscope_kafka_connection_failures_total{cause=\"authentication\"}" [ $? -eq 0 ]
sleep 3   # it keeps retrying meanwhile
check "wrong password: one clear log line naming the cause" \
  all "grep -q 'kafka authentication failed (check kafka.sasl.username and the password); retrying.*cause=authentication' $tmp/bad.err &&
       [ \$(grep -c 'kafka authentication failed' $tmp/bad.err) = 1 ]"
ready >"$tmp/ready.bad"
check "wrong password: /-/ready is not ready and says why ($(head -c 160 "$tmp/ready.bad"))" \
  all "grep -q '\"not ready\"' $tmp/ready.bad && grep -q 'kafka authentication failed' $tmp/ready.bad"
check "wrong password: the daemon keeps running" kill -0 "$dpid"
kill -TERM "$dpid"; wait "$dpid"; rc=$?
check "wrong password: SIGTERM stops it cleanly (rc=$rc)" [ $rc -eq 0 ]
check "no log line holds a password" \
  all "! grep -h -e wrong-password-42 -e choreoscope-secret $tmp/bad.err $tmp/ok.err"
timeout 60 "$BIN/choreoscope" --config "$tmp/ok.yaml" --brokers "$BROKER" --group tls-retry --topic tls \
  --clock event --until-end --records "$tmp/retry.jsonl" 2>"$tmp/retry.err"
rc=$?
anomalies "$tmp/retry.jsonl" >"$tmp/got.retry"
check "restarted with the right password (same group): consumes everything, anomalies equal the truth (rc=$rc)" \
  all "[ $rc -eq 0 ] && same_lines $tmp/want $tmp/got.retry"

# 3. an untrusted CA
cfg "$tmp/untrusted.yaml" "tls: { ca_file: $tmp/kafka/tls/other.crt }" \
  "sasl: { mechanism: plain, username: choreoscope, password_file: $tmp/pw }"
daemon_up "$tmp/untrusted.yaml" untrusted tls-untrusted
until_metric 'choreoscope_kafka_connection_failures_total\{cause="tls"\} [1-9]'
check "untrusted CA: counted in choreoscope_kafka_connection_failures_total{cause=\"tls\"}" [ $? -eq 0 ]
check "untrusted CA: a log line naming the certificate ($(grep -m1 -o 'reason="[^"]*' "$tmp/untrusted.err" | head -c 160))" \
  grep -q 'kafka TLS handshake failed.*cause=tls.*certificate verify failed' "$tmp/untrusted.err"
ready >"$tmp/ready.untrusted"
check "untrusted CA: /-/ready is not ready, names TLS" grep -q 'kafka TLS handshake failed' "$tmp/ready.untrusted"
check "untrusted CA: the daemon keeps running" kill -0 "$dpid"
kill -TERM "$dpid"; wait "$dpid"

# an unreadable password file stops the daemon at start, naming the setting; replay
# with the same config (no Kafka) needs no password
cfg "$tmp/nopw.yaml" "tls: { ca_file: $CA }" \
  "sasl: { mechanism: plain, username: choreoscope, password_file: $tmp/missing-pw }"
timeout 20 "$BIN/choreoscope" --config "$tmp/nopw.yaml" --brokers "$BROKER" --topic tls 2>"$tmp/nopw.err"; rc=$?
check "unreadable password file: exit 2 at start naming it (rc=$rc: $(head -c 120 "$tmp/nopw.err"))" \
  all "[ $rc = 2 ] && grep -q 'kafka.sasl.password_file: cannot read $tmp/missing-pw' $tmp/nopw.err"
"$BIN/choreoscope" replay --config "$tmp/nopw.yaml" "$tmp/events.jsonl" >"$tmp/replay.nopw" 2>/dev/null; rc=$?
check "replay with that config needs no password (rc=$rc)" \
  all "[ $rc = 0 ] && [ \"\$(anomalies $tmp/replay.nopw)\" = \"\$(cat $tmp/want)\" ]"

# 4. mutual TLS: SSL, no SASL, the client certificate is the credential
MTLS=$(cat "$tmp/kafka/bootstrap-mtls")
T=$tmp/kafka/tls
cfg "$tmp/mtls.yaml" "tls: { ca_file: $CA, cert_file: $T/client.crt, key_file: $T/client.key }"
timeout 60 "$BIN/choreoscope" --config "$tmp/mtls.yaml" --brokers "$MTLS" --group tls-mtls --topic tls \
  --clock event --until-end --records "$tmp/mtls.jsonl" 2>"$tmp/mtls.err"
rc=$?
anomalies "$tmp/mtls.jsonl" >"$tmp/got.mtls"
check "mutual TLS with kafka.tls.cert_file/key_file: consumes everything, anomalies equal the truth (rc=$rc)" \
  all "[ $rc -eq 0 ] && same_lines $tmp/want $tmp/got.mtls"
cfg "$tmp/nocert.yaml" "tls: { ca_file: $CA }"
daemon_up "$tmp/nocert.yaml" nocert tls-nocert "$MTLS"
until_metric 'choreoscope_kafka_connection_failures_total\{cause="tls"\} [1-9]'; seen=$?
check "mutual TLS without a client certificate: a TLS failure, counted and logged ($(grep -m1 -o 'reason="[^"]*' "$tmp/nocert.err" | head -c 140))" \
  all "[ $seen -eq 0 ] && grep -q 'kafka TLS handshake failed.*cause=tls' $tmp/nocert.err && kill -0 $dpid"
kill -TERM "$dpid"; wait "$dpid"
finish
