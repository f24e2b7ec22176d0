#!/usr/bin/env bash
# Runs the Flink CEP peer (builds it first when needed); arguments go to Peer:
#   bench/peers/flinkcep/run.sh --brokers HOST:PORT --topic IN [--output OUT] [--group ID]
#                               [--parallelism N] [--checkpoint-ms MS]
# JVM: PEER_HEAP (default 1g) heap, the JVM's default collector (G1); the job runs in a
# MiniCluster in this JVM. Log level: PEER_LOG (default warn).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
"$here/build.sh"
out=$here/../../../build/peers/flinkcep
# What Flink's own launcher passes on Java 17 (its config's env.java.opts.all): Flink and
# Kryo reflect into these packages.
opens=()
for p in java.lang java.net java.io java.nio sun.nio.ch java.lang.reflect java.text java.time java.util \
  java.util.concurrent java.util.concurrent.atomic java.util.concurrent.locks; do
  opens+=("--add-opens=java.base/$p=ALL-UNNAMED")
done
exec java -Xmx${PEER_HEAP:-1g} "${opens[@]}" \
  -Dorg.slf4j.simpleLogger.defaultLogLevel="${PEER_LOG:-warn}" \
  -cp "$out/classes:$out/lib/*" dev.choreoscope.flinkpeer.Peer "$@"
