#!/usr/bin/env bash
# A real Apache Kafka broker (4.1.1, single-node KRaft) for the Kafka end-to-end tests.
#
#   scripts/kafka.sh install             fetch the broker's jars into build/kafka/lib (once,
#                                        with Maven: scripts/kafka/pom.xml) and build the Java
#                                        producer (tests/java/producer) and the Kafka Streams
#                                        peer (bench/peers/kstreams); offline afterwards
#   scripts/kafka.sh start [DIR]         format a KRaft log dir under DIR, start the broker on
#                                        a free loopback port, wait until it serves; prints the
#                                        bootstrap address (also in DIR/bootstrap)
#   scripts/kafka.sh start-secure [DIR]  the same, plus a SASL_SSL listener (TLS with a test CA
#                                        and server certificate under DIR/tls, made with
#                                        tests/e2e/lib/tls.sh unless present; SASL PLAIN and
#                                        SCRAM-SHA-512 for the users of $KAFKA_USERS, default
#                                        "choreoscope:choreoscope-secret producer:producer-secret");
#                                        prints the SASL_SSL address (DIR/bootstrap-secure);
#                                        also an SSL listener requiring a client certificate
#                                        signed by the same CA (DIR/bootstrap-mtls); the
#                                        PLAINTEXT one stays in DIR/bootstrap (admin, probes)
#   scripts/kafka.sh stop [DIR]          SIGTERM, then SIGKILL after 20 s; removes nothing
#   scripts/kafka.sh status [DIR]        "running HOST:PORT pid N" (exit 0) or "stopped" (exit 1)
#   scripts/kafka.sh kill [DIR]          SIGKILL (tests of crashes); `restart` starts it again
#   scripts/kafka.sh restart [DIR]       start again on the same port and log dir (keeps the log)
#   scripts/kafka.sh topic [DIR] NAME PARTITIONS   create a topic (python confluent-kafka admin)
#
# DIR defaults to build/kafka/run. The broker runs with -Xmx512m; its log is DIR/broker.log.
# Invariant: one broker per DIR; DIR/pid is the JVM's pid while it runs.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LIB=$ROOT/build/kafka/lib
JAVA=${JAVA:-java}
PY=/usr/bin/python3
KAFKA_USERS=${KAFKA_USERS:-choreoscope:choreoscope-secret producer:producer-secret}

usage() { sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }

install() {
  if ! ls "$LIB"/kafka_2.13-*.jar >/dev/null 2>&1; then
    echo "kafka.sh: fetching Apache Kafka into build/kafka/lib" >&2
    mvn -q -B -f "$ROOT/scripts/kafka/pom.xml" dependency:copy-dependencies
  fi
  if [ ! -f "$ROOT/build/java/producer/classes/dev/choreoscope/producer/Produce.class" ] ||
     [ "$ROOT/tests/java/producer/src/main/java/dev/choreoscope/producer/Produce.java" -nt \
       "$ROOT/build/java/producer/classes/dev/choreoscope/producer/Produce.class" ]; then
    echo "kafka.sh: building the Java producer into build/java/producer" >&2
    mvn -q -B -f "$ROOT/tests/java/producer/pom.xml" compile dependency:copy-dependencies
  fi
  "$ROOT/bench/peers/kstreams/build.sh"
  "$ROOT/bench/peers/flinkcep/build.sh"
}

free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

running() { [ -f "$1/pid" ] && kill -0 "$(cat "$1/pid")" 2>/dev/null; }

write_config() {   # DIR PORT CPORT [SPORT MPORT]: the SASL_SSL and mutual-TLS listeners (start-secure)
  cat >"$1/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$3
listeners=PLAINTEXT://127.0.0.1:$2,CONTROLLER://127.0.0.1:$3
advertised.listeners=PLAINTEXT://127.0.0.1:$2
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$1/data
num.partitions=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
# tests kill members with SIGKILL: let them set a short session timeout
group.min.session.timeout.ms=1000
num.network.threads=2
num.io.threads=2
num.recovery.threads.per.data.dir=1
log.segment.bytes=67108864
EOF
  [ -n "${4:-}" ] || return 0
  # SASL_SSL beside PLAINTEXT: the broker talks to itself and the probes (kcat -L) over
  # PLAINTEXT, clients under test over SASL_SSL, or SSL with a client certificate (MTLS).
  # No authorizer: authenticated is enough.
  local jaas="" u
  for u in $KAFKA_USERS; do jaas+=" user_${u%%:*}=\"${u#*:}\""; done
  sed -i -e "s|^listeners=.*|listeners=PLAINTEXT://127.0.0.1:$2,CONTROLLER://127.0.0.1:$3,SASL_SSL://127.0.0.1:$4,MTLS://127.0.0.1:$5|" \
    -e "s|^advertised.listeners=.*|advertised.listeners=PLAINTEXT://127.0.0.1:$2,SASL_SSL://127.0.0.1:$4,MTLS://127.0.0.1:$5|" \
    -e "s|^listener.security.protocol.map=.*|listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL,MTLS:SSL|" \
    "$1/server.properties"
  cat >>"$1/server.properties" <<EOF
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-512
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required$jaas;
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
ssl.keystore.type=PEM
ssl.keystore.location=$1/tls/server.pem
ssl.truststore.type=PEM
ssl.truststore.location=$1/tls/ca.crt
ssl.client.auth=none
listener.name.mtls.ssl.client.auth=required
EOF
}

launch() {   # DIR: start the JVM on DIR's config and wait until it serves
  local d=$1 bs
  bs=$(cat "$d/bootstrap")
  # Small heap, serial GC, C1 only: a JVM that starts fast on 2 shared cores.
  nohup "$JAVA" -Xms128m -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xss512k \
    -Djava.awt.headless=true -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
    -cp "$LIB/*" kafka.Kafka "$d/server.properties" >>"$d/broker.log" 2>&1 </dev/null &
  echo $! >"$d/pid"
  for _ in $(seq 600); do
    if ! running "$d"; then
      echo "kafka.sh: broker exited during start; last log lines:" >&2
      tail -20 "$d/broker.log" >&2
      return 1
    fi
    # serves: metadata lists the broker (it registered with its controller)
    if kcat -b "$bs" -L -m 1 2>/dev/null | grep -q " 1 brokers:"; then
      return 0
    fi
    sleep 0.1
  done
  echo "kafka.sh: broker did not serve within 60 s" >&2
  return 1
}

start() {   # DIR [secure]
  local d=$1 port cport sport="" mport="" id u scram=()
  install
  mkdir -p "$d"
  d=$(cd "$d" && pwd)
  if running "$d"; then echo "kafka.sh: already running ($(cat "$d/bootstrap"))" >&2; cat "$d/bootstrap"; return 0; fi
  rm -rf "$d/data" "$d/broker.log"
  port=$(free_port); cport=$(free_port)
  while [ "$cport" = "$port" ]; do cport=$(free_port); done
  if [ "${2:-}" = secure ]; then
    sport=$(free_port)
    while [ "$sport" = "$port" ] || [ "$sport" = "$cport" ]; do sport=$(free_port); done
    mport=$(free_port)
    while [ "$mport" = "$port" ] || [ "$mport" = "$cport" ] || [ "$mport" = "$sport" ]; do mport=$(free_port); done
    if [ ! -f "$d/tls/server.pem" ]; then
      # shellcheck source=../tests/e2e/lib/tls.sh
      source "$ROOT/tests/e2e/lib/tls.sh"
      make_ca "$d/tls" ca && make_cert "$d/tls" ca server || return 1
    fi
    # SCRAM credentials live in the metadata log: written by the format, before start
    for u in $KAFKA_USERS; do scram+=(--add-scram "SCRAM-SHA-512=[name=${u%%:*},password=${u#*:}]"); done
    echo "127.0.0.1:$sport" >"$d/bootstrap-secure"
    echo "127.0.0.1:$mport" >"$d/bootstrap-mtls"
  else
    rm -f "$d/bootstrap-secure" "$d/bootstrap-mtls"
  fi
  write_config "$d" "$port" "$cport" "$sport" "$mport"
  echo "127.0.0.1:$port" >"$d/bootstrap"
  # --cluster-id=ID, not -t ID: an id may start with "-" (base64url), which argparse
  # would take for an option (1 start in 64 failed)
  id=$($PY -c 'import base64,uuid; print(base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("="))')
  "$JAVA" -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
    -cp "$LIB/*" kafka.tools.StorageTool format --cluster-id="$id" -c "$d/server.properties" "${scram[@]}" >"$d/format.log" 2>&1 ||
    { cat "$d/format.log" >&2; return 1; }
  launch "$d"
  if [ -n "$sport" ]; then cat "$d/bootstrap-secure"; else cat "$d/bootstrap"; fi
}

stop() {
  local d=$1 pid
  running "$d" || { rm -f "$d/pid"; return 0; }
  pid=$(cat "$d/pid")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || { rm -f "$d/pid"; return 0; }; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$d/pid"
}

cmd=${1:-}; [ -n "$cmd" ] || usage; shift
case $cmd in
  install) install ;;
  start) start "${1:-$ROOT/build/kafka/run}" ;;
  start-secure) start "${1:-$ROOT/build/kafka/run}" secure ;;
  stop) stop "${1:-$ROOT/build/kafka/run}" ;;
  kill) d=${1:-$ROOT/build/kafka/run}; running "$d" && kill -KILL "$(cat "$d/pid")"; rm -f "$d/pid" ;;
  restart) d=${1:-$ROOT/build/kafka/run}; stop "$d"; launch "$d" ;;
  status)
    d=${1:-$ROOT/build/kafka/run}
    if running "$d"; then echo "running $(cat "$d/bootstrap") pid $(cat "$d/pid")"; else echo stopped; exit 1; fi ;;
  topic)
    [ $# -ge 2 ] || usage
    if [ $# -ge 3 ]; then d=$1; shift; else d=$ROOT/build/kafka/run; fi
    $PY - "$(cat "$d/bootstrap")" "$1" "$2" <<'EOF'
import sys
from confluent_kafka.admin import AdminClient, NewTopic
a = AdminClient({"bootstrap.servers": sys.argv[1]})
f = a.create_topics([NewTopic(sys.argv[2], int(sys.argv[3]), 1)], operation_timeout=30)
for t, fut in f.items():
    fut.result(30)
EOF
    ;;
  *) usage ;;
esac
