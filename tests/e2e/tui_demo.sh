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
. tests/e2e/lib/tui.sh
tui_setup
PY=/usr/bin/python3

bin/choreoscope-broker --topic events:8 --topic choreoscope.alerts:1 \
  --topic choreoscope.dead-letter:1 --address-file "$tmp/addr" >/dev/null 2>"$tmp/broker.err" &
pids+=($!)
for _ in $(seq 50); do [ -s "$tmp/addr" ] && break; sleep 0.1; done
addr=$(cat "$tmp/addr")
port=$(free_port)
url=http://127.0.0.1:$port

# Each start joins a fresh consumer group: the mock broker keeps a stopped member's
# partitions until its session times out (~45 s), which would only test the broker.
ngroup=0
start_collector() {
  ngroup=$((ngroup + 1))
  bin/choreoscope --config config/demo.yaml --brokers="$addr" --listen="127.0.0.1:$port" \
    --group="tui-e2e-$$-$ngroup" >>"$tmp/collector.log" 2>&1 &
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

# The newest stall in the collector's anomaly ring that the generator injected (the
# truth file has it as `stalled` with the same flow, id and step) and whose step never
# comes (not one that ends `late`: its event arrives 0.5-1.5 s after the stall, and the
# timeline would show it happened by the time the TUI opens it on a loaded machine).
pick_stall() {
  curl -sf -m 2 "$url/api/v1/anomalies?kind=stalled&limit=100" |
    $PY -c '
import json, sys
truth, late = set(), set()
for line in open(sys.argv[1]):
    try:
        t = json.loads(line)
    except ValueError:
        continue  # the generator may be mid-line
    if t["kind"] in ("stalled", "late"):
        (truth if t["kind"] == "stalled" else late).add((t["flow"], t["correlation_id"], t["step"]))
for a in json.load(sys.stdin)["items"]:
    k = (a["flow"], a["correlation_id"], a["step"])
    if k in truth and k not in late:
        print(a["flow"], a["correlation_id"], a["step"]); sys.exit(0)
sys.exit(1)' "$tmp/truth.jsonl" 2>/dev/null
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
check "stalled view lists stalled instances" wait_screen main "^■ stalled +[^ ]+ +[^ ]+ +[A-Za-z]+ "
t send-keys -t main / "$scid" Enter
check "filter shows in the header" wait_screen main "filter: $scid"
check "the injected stall is listed with its id and awaited step" \
  wait_screen main "^■ stalled +$scid +$sflow +$sstep "
only_that_flow() { # every data row between the column header and the footer names scid
  screen main | awk -v c="$scid" '/^KIND +CORRELATION ID/ { on = 1; next } /^q quit|left the list/ { on = 0 } /^ -- /{ next }
    on && NF { n++; if (index($0, c) == 0) bad = 1 } END { exit bad || n == 0 }'
}
check "filtering by the id leaves only that flow" only_that_flow
t send-keys -t main Enter
# The timeline needs the collector's flow table (/api/v1/flows/FLOW/ID); a collector
# built without it answers 503, and the TUI must then show that reason, not crash.
detail_status=$(curl -s -o /dev/null -w '%{http_code}' -m 2 "$url/api/v1/flows/$sflow/$scid")
if [ "$detail_status" = 503 ]; then
  echo "NOTE: the collector has no flow table API yet (503): checking the TUI shows the reason"
  check "Enter on the stall shows the collector's reason (503)" \
    wait_screen main "^$sflow / $scid: HTTP 503: "
else
  check "Enter opens its detail" wait_screen main "^$sflow / $scid  state "
  check "the timeline lists its events" wait_screen main "^ +[0-9.]+s ✓ [A-Za-z]+ \("
  check "the awaited step is marked stalled on the timeline" wait_screen main "^ +■ $sstep stalled"
  check "the expected graph marks it stalled" wait_screen main "■ $sstep stalled +overdue [0-9]"
  check "the expected graph names who owes it (learned from the events' source: ~)" \
    wait_screen main "■ $sstep stalled +overdue [0-9.a-z]+ *\$" && wait_screen main "^.* {4}owed by ~[a-z]+ *\$"
  check "the selected event's attributes are shown" wait_screen main "^ EVENT [^ ]+ +[A-Za-z]+ +from "
fi
t send-keys -t main Escape
check "Esc returns to the filtered stalled view" wait_screen main "^Stalled & anomalies: "
t send-keys -t main Escape 3
check "graph view draws the order flow" wait_screen main "^order  deadline 15s"
check "graph view has edges with counts and p95" wait_screen main "─▶ PaymentAuthorized +[0-9.kM]+ +p95 [0-9.]+s"
t send-keys -t main 1

down=http://127.0.0.1:$(free_port)   # a second collector that is not there
tui_start small 60 20 LANG=C.UTF-8 -- --url "$url" --url "$down"
check "60x20 shows the order flow" wait_screen small "^order +[0-9]"
check "two --url: the live one ready" wait_screen small "^● ready +$url"
check "two --url: the absent one disconnected" wait_screen small "^✗ disconnected +$down"
check "60x20 overview has no garbage" fits small 60 20
t send-keys -t small 2
check "60x20 stalled view shows stalls" wait_screen small "^■ stalled "
check "60x20 stalled view has no garbage" fits small 60 20

kill "$cpid"; wait "$cpid" 2>/dev/null
check "killing the collector shows disconnected" wait_screen main "^✗ disconnected +$url" 5
check "the last data stays on screen" wait_screen main "^order +[0-9]"
start_collector
check "restarted collector answers /-/ready" wait_ready
check "the TUI reconnects" wait_screen main "^(● ready|▲ not ready) +$url +ev/s" 10
check "the TUI shows it ready again" wait_screen main "^● ready +$url +ev/s" 10
check "no disconnected line after recovery" wait_gone main "disconnected"

# A collector that wants a bearer token: without one the TUI shows the 401 reason
# and keeps going; with --token it reads the API.
kill "$cpid"; wait "$cpid" 2>/dev/null
CHOREOSCOPE_TOKEN=s3cret start_collector
check "collector with a token answers /-/ready" wait_ready
check "without --token the 401 is shown" wait_screen main "^▲ bad answer +$url .*HTTP 401: " 10
tui_start tok 120 30 LANG=C.UTF-8 -- --url "$url" --token s3cret
check "with --token the API is read" wait_screen tok "^order +[0-9]"

[ "$fails" -eq 0 ]
