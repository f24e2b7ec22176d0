#!/usr/bin/env bash
# Builds the Flink CEP peer into build/peers/flinkcep (classes + lib/) with Maven
# (pom.xml beside this file). The first build fetches from Maven Central into ~/.m2;
# later ones need no network, and nothing is done while build/peers/flinkcep/built is
# newer than every file here.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$here/../../../build/peers/flinkcep
stamp=$out/built
if [ -f "$stamp" ] && [ -z "$(find "$here" -type f -newer "$stamp")" ]; then
  exit 0
fi
echo "peers/flinkcep: building into build/peers/flinkcep" >&2
rm -rf "$out/lib" # copy-dependencies adds, never removes: no jar of an older pom stays on the class path
# stdout stays clean (callers capture it, e.g. scripts/kafka.sh start's address)
mvn -q -B -Dstyle.color=never -f "$here/pom.xml" compile dependency:copy-dependencies >&2
touch "$stamp"
