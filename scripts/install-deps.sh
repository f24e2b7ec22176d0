#!/usr/bin/env bash
# Installs the Debian packages choreoscope builds, tests and demos with, when missing.
# Runs apt-get only if something is absent (needs root then). Then fetches the Apache
# Kafka broker's jars (Maven, once) and builds the Java producer: scripts/kafka.sh install.
set -euo pipefail
pkgs=(build-essential pkg-config librdkafka-dev libprotobuf-c-dev protobuf-c-compiler
      libmicrohttpd-dev libncurses-dev libyaml-dev libyajl-dev libxxhash-dev libcmocka-dev
      libsqlite3-dev sqlite3
      libjansson-dev libcurl4-openssl-dev kcat prometheus tmux python3-confluent-kafka
      wrk hyperfine curl procps time jq python3-yaml prometheus-alertmanager
      clang libclang-rt-14-dev default-jdk-headless maven man-db groff-base bsdextrautils clang-format
      openssl)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing missing packages: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
"$(dirname "$0")/kafka.sh" install
