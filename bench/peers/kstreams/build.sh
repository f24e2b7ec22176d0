#!/usr/bin/env bash
# Builds the Kafka Streams peer into build/peers/kstreams (classes + lib/) with Maven
# (pom.xml beside this file). The first build fetches from Maven Central into ~/.m2;
# later ones need no network, and nothing is done while the build is newer than the
# sources.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$here/../../../build/peers/kstreams
stamp=$out/classes/dev/choreoscope/peer/Peer.class
if [ -f "$stamp" ] && [ -d "$out/lib" ] && [ -z "$(find "$here" -type f -newer "$stamp")" ]; then
  exit 0
fi
echo "peers/kstreams: building into build/peers/kstreams" >&2
mvn -q -B -f "$here/pom.xml" compile dependency:copy-dependencies
