#!/usr/bin/env bash
# mkflows.sh N [1]: a config declaring N flows, the bench flow of bench/flows.yaml
# first, then N-1 idle 3-step flows (no event names their types). With a second
# argument 1 the idle flows take 50 different latenesses (50 clocks).
n=$1; dl=${2:-0}
echo "flows:"
echo "  - name: bench"
echo "    deadline: 10m"
echo "    steps:"
echo "      Placed:    { start: true }"
echo "      Paid:      { after: [Placed], within: 60s }"
echo "      Reserved:  { after: [Paid], within: 60s }"
echo "      Shipped:   { after: [Reserved], within: 60s }"
echo "      Delivered: { after: [Shipped], within: 60s, end: completed }"
for ((k=1;k<n;k++)); do
  echo "  - name: idle$k"
  echo "    deadline: 10m"
  [ "$dl" = 1 ] && echo "    lateness: $((k % 50 + 1))s"
  echo "    steps:"
  echo "      A$k: { start: true }"
  echo "      B$k: { after: [A$k], within: 60s }"
  echo "      C$k: { after: [B$k], within: 60s, end: completed }"
done
echo "limits:"
echo "  max_flows: 4000000"
