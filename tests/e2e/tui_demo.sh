#!/usr/bin/env bash
# choreoscope-tui in tmux against the real demo: choreoscope-broker, choreoscope-gen
# (wall clock, injected stalls, --truth) and the collector daemon with its HTTP API.
# Checks: the overview shows every demo flow with non-zero counts; a stall the
# generator injected (its correlation id is in the truth file as `stalled`) appears in
# the stalled view with its id and awaited step; `/` filtering by that id leaves only
# its rows; Enter shows its timeline with the awaited step marked stalled; the graph
# view draws the demo graph with edge counts; killing the collector shows
# "disconnected" and restarting it recovers; 60x20 renders without garbage.
set -u
cd "$(dirname "$0")/../.."
. tests/e2e/tui_lib.sh
tui_setup
PY=/usr/bin/python3

bin/choreoscope-broker --topic events:8 --topic choreoscope.alerts:1 \
  --topic choreoscope.dead-letter:1 --address-file "$tmp/addr" >/dev/null 2>"$tmp/broker.err" &
pids+=($!)
for _ in $(seq 50); do [ -s "$tmp/addr" ] && break; sleep 0.1; done
addr=$(cat "$tmp/addr")
port=$(free_port)
url=http://127.0.0.1:$port

start_collector() {
  bin/choreoscope --config config/demo.yaml --brokers="$addr" --listen="127.0.0.1:$port" \
    >>"$tmp/collector.log" 2>&1 &
  cpid=$!
  pids+=("$cpid")
}
ready() { curl -sf -m 1 "$url/-/ready" >/dev/null; }
wait_ready() { for _ in $(seq 200); do ready && return 0; sleep 0.1; done; return 1; }

start_collector
check "collector answers /-/ready" wait_ready
bin/choreoscope-gen --brokers="$addr" --clock=wall --rate=300 --seed=7 \
  --fault-rate=stalled=0.08 --truth="$tmp/truth.jsonl" >/dev/null 2>"$tmp/gen.err" &
pids+=($!)

# The most recently stalled instance that the generator injected as a stall: it has
# the longest time left before its flow deadline closes it.
pick_stall() {
  curl -sf -m 2 "$url/api/v1/flows?state=stalled&sort=overdue&order=asc&limit=50" |
    $PY -c '
import json, sys
truth = set()
for line in open(sys.argv[1]):
    t = json.loads(line)
    if t["kind"] == "stalled":
        truth.add((t["flow"], t["correlation_id"], t["step"]))
for it in json.load(sys.stdin)["items"]:
    for s in it["stalled"]:
        if (it["flow"], it["correlation_id"], s["step"]) in truth:
            print(it["flow"], it["correlation_id"], s["step"]); sys.exit(0)
sys.exit(1)' "$tmp/truth.jsonl"
}
stall=""
for _ in $(seq 150); do stall=$(pick_stall) && break; sleep 0.2; done
read -r sflow scid sstep <<<"$stall"
check "an injected stall is reported by the collector ($sflow $scid $sstep)" [ -n "$stall" ]

tui_start main 120 40 LANG=C.UTF-8 -- --url "$url"
check "header shows the collector ready" wait_screen main "^● ready +$url +ev/s"
flows=$($PY -c 'import re,sys; print(" ".join(re.findall(r"^  - name: (\S+)", open("config/demo.yaml").read(), re.M)))')
nonzero_row() { # FLOW: its overview row has a non-zero in-flight or started/s count
  screen main | awk -v f="$1" '$1 == f && ($2 != "0" || $3 != "0") { ok = 1 } END { exit !ok }'
}
for f in $flows; do
  check "overview shows flow $f" wait_screen main "^$f +[0-9]"
  check "overview row of $f has non-zero counts" nonzero_row "$f"
done
check "overview has the percentile and sparkline columns" wait_screen main "P99 ANOMALIES/min +THROUGHPUT"

t send-keys -t main 2
check "stalled view lists stalled instances" wait_screen main "^■ stalled +[^ ]+ +[^ ]+ +[A-Za-z]+ +[0-9.]+[smhd]"
t send-keys -t main / "$scid" Enter
check "filter shows in the header" wait_screen main "filter: $scid"
check "the injected stall is listed with its id and awaited step" \
  wait_screen main "^■ stalled +$scid +$sflow +$sstep "
only_that_flow() { # every data row between the column header and the footer names scid
  screen main | awk -v c="$scid" '/^KIND +CORRELATION ID/ { on = 1; next } /^q quit/ { on = 0 }
    on && NF { n++; if (index($0, c) == 0) bad = 1 } END { exit bad || n == 0 }'
}
check "filtering by the id leaves only that flow" only_that_flow
t send-keys -t main Enter
check "Enter opens its detail" wait_screen main "^$sflow / $scid  state "
check "the timeline lists its events" wait_screen main "^ +[0-9.]+s ✓ [A-Za-z]+ \("
check "the awaited step is marked stalled on the timeline" wait_screen main "^ +■ $sstep stalled"
check "the expected graph marks it stalled" wait_screen main "■ $sstep stalled +overdue [0-9]"
check "the selected event's attributes are shown" wait_screen main "^ EVENT [^ ]+ +[A-Za-z]+ +from "
t send-keys -t main Escape
check "Esc returns to the filtered stalled view" wait_screen main "^Stalled & anomalies: "
t send-keys -t main Escape 3
check "graph view draws the order flow" wait_screen main "^order  deadline 15s"
check "graph view has edges with counts and p95" wait_screen main "─▶ PaymentAuthorized +[0-9.kM]+ +p95 [0-9.]+s"
t send-keys -t main 1

tui_start small 60 20 LANG=C.UTF-8 -- --url "$url"
check "60x20 shows the order flow" wait_screen small "^order +[0-9]"
check "60x20 overview has no garbage" fits small 60 20
t send-keys -t small 2
check "60x20 stalled view shows stalls" wait_screen small "^■ stalled "
check "60x20 stalled view has no garbage" fits small 60 20

kill "$cpid"; wait "$cpid" 2>/dev/null
check "killing the collector shows disconnected" wait_screen main "^✗ disconnected +$url" 5
check "the last data stays on screen" wait_screen main "^order +[0-9]"
start_collector
check "restarted collector answers /-/ready" wait_ready
check "the TUI recovers: ready again" wait_screen main "^● ready +$url +ev/s" 10
check "no disconnected line after recovery" wait_gone main "disconnected"

[ "$fails" -eq 0 ]
