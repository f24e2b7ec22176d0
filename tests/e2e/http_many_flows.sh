#!/usr/bin/env bash
# A collector declaring 5,003 flows (issue #15): the demo flows with live traffic
# (broker, bin/choreoscope-gen, the daemon on config/demo.yaml) plus 5,000 idle
# 3-step flows that no event names. Every series of every declared flow would make
# /metrics about 55 MB, past its 32 MiB bound: the exposition keeps the flows in
# use, leaves out the idle ones with a comment, and stays valid (promtool). The
# summary and the graphs answer in pages of the declared flows (docs/API.md), and
# choreoscope-tui (in a private tmux) shows the first page and says there are more.
source "$(dirname "$0")/lib/http.sh"

start_broker events:4
HTTP_PORT=$(free_port)
demo_config "$tmp/cfg.yaml"
for ((k = 0; k < 5000; k++)); do
  printf '  - name: idle%d\n    steps:\n      A%d: { start: true }\n      B%d: { after: [A%d], within: 60s }\n      C%d: { after: [B%d], within: 60s, end: completed }\n' \
    $k $k $k $k $k $k
done >>"$tmp/cfg.yaml"
check "--check-config: 5,003 flows" bash -c "'$BIN/choreoscope' --check-config '$tmp/cfg.yaml' | grep -q 'ok (5003 flows'"
start_daemon "$tmp/cfg.yaml"
start_gen --rate 200
U="http://127.0.0.1:$HTTP_PORT"
for _ in $(seq 100); do
  curl -s "$U/metrics" >"$tmp/metrics.txt"
  grep -q '^choreoscope_flows_started_total{flow="order"} [1-9]' "$tmp/metrics.txt" && break
  sleep 0.2
done

check "promtool check metrics passes on /metrics" promtool check metrics <"$tmp/metrics.txt"
check "/metrics: the flows in use with their series" bash -c \
  "grep -q '^choreoscope_flows_started_total{flow=\"order\"} [1-9]' '$tmp/metrics.txt' &&
   grep -q '^choreoscope_step_latency_seconds_bucket{flow=\"order\",step=\"PaymentAuthorized\",le=\"+Inf\"} ' '$tmp/metrics.txt'"
check "/metrics: the idle flows left out, a comment says how many" bash -c \
  "! grep -q 'flow=\"idle' '$tmp/metrics.txt' &&
   grep -Eq '^# choreoscope: 500[0-3] of 5003 declared flows never held an instance' '$tmp/metrics.txt'"
check "/metrics: under the 32 MiB bound" bash -c "[ \$(wc -c <'$tmp/metrics.txt') -lt 33554432 ]"

curl -s "$U/api/v1/summary" >"$tmp/s0.json"
curl -s "$U/api/v1/summary?offset=5000" >"$tmp/s1.json"
curl -s "$U/api/v1/summary?flow=order" >"$tmp/s2.json"
curl -s "$U/api/v1/graphs?flow=idle4999" >"$tmp/g.json"
check "summary and graphs: pages of the 5,003 declared flows" $PY - "$tmp/s0.json" "$tmp/s1.json" "$tmp/s2.json" "$tmp/g.json" <<'PY'
import json, sys
s0, s1, s2, g = (json.load(open(f)) for f in sys.argv[1:5])
assert (s0["total"], s0["offset"], s0["limit"], len(s0["flows"])) == (5003, 0, 100, 100), s0["total"]
assert [f["name"] for f in s0["flows"][:4]] == ["order", "quote", "shipment", "idle0"]
assert [f["name"] for f in s1["flows"]] == ["idle4997", "idle4998", "idle4999"], s1["flows"]
assert s2["total"] == 1 and s2["flows"][0]["name"] == "order" and s2["flows"][0]["started_total"] > 0
assert g["total"] == 1 and [f["name"] for f in g["flows"]] == ["idle4999"] and len(g["flows"][0]["steps"]) == 3
PY

# the TUI asks for pages of 64 flows and says there are more (a private tmux server)
sock="$tmp/tmux.sock"
tmux -S "$sock" new-session -d -s tui -x 120 -y 40 "env LANG=C.UTF-8 $BIN/choreoscope-tui --url $U; sleep 30"
pids+=("$(tmux -S "$sock" display -p -t tui '#{pid}')")
seen=0
for _ in $(seq 100); do
  tmux -S "$sock" capture-pane -p -t tui >"$tmp/screen.txt"
  grep -q "(the first 64 of 5003 declared flows)" "$tmp/screen.txt" && { seen=1; break; }
  sleep 0.1
done
check "tui overview: the first 64 of the 5,003 declared flows, and says so" bash -c \
  "[ $seen = 1 ] && grep -q '^idle0  ' '$tmp/screen.txt'"
[ $seen = 1 ] || cat "$tmp/screen.txt"
finish
