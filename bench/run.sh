#!/usr/bin/env bash
# make bench: runs every bench/parts/*.sh in order and writes BENCHMARKS.md. Each
# part prints a Markdown section (its commands, its numbers); this script adds the
# machine header. Figures are medians or ratios measured within one run.
set -euo pipefail
cd "$(dirname "$0")/.."
out=BENCHMARKS.md
tmp=$(mktemp)
{
  echo "# choreoscope benchmarks"
  echo
  echo "Written by \`make bench\` (bench/run.sh) on $(date -u +%Y-%m-%dT%H:%M:%SZ)."
  echo
  echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'),"
  echo "$(free -g | awk '/Mem:/{print $2}') GiB RAM, $(. /etc/os-release; echo "$PRETTY_NAME"), kernel $(uname -r)."
  echo "Other load on the machine during the run is not controlled; ratios are taken within one run."
  echo
} > "$tmp"
for part in bench/parts/*.sh; do
  echo "== $part" >&2
  bash "$part" >> "$tmp"
  echo >> "$tmp"
done
mv "$tmp" "$out"
echo "wrote $out" >&2
