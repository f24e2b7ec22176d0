#!/usr/bin/env bash
# Runs the Kafka Streams peer (builds it first when needed); arguments go to Peer:
#   bench/peers/kstreams/run.sh --brokers HOST:PORT --topic IN [--output OUT] [--app-id ID]
#                               [--state-dir DIR] [--threads N] [--store rocksdb|memory]
#   bench/peers/kstreams/run.sh --replay EVENTS.jsonl
# JVM: 1 GiB heap, the JVM's default collector (G1); RocksDB off-heap bounded to
# PEER_ROCKSDB_MIB (default 256) by BoundedRocksDb. Log level: PEER_LOG (default warn).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
"$here/build.sh"
out=$here/../../../build/peers/kstreams
exec java -Xmx${PEER_HEAP:-1g} -Dpeer.rocksdb.mib="${PEER_ROCKSDB_MIB:-256}" \
  -Dorg.slf4j.simpleLogger.defaultLogLevel="${PEER_LOG:-warn}" \
  -cp "$out/classes:$out/lib/*" dev.choreoscope.peer.Peer "$@"
