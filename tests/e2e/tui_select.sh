#!/usr/bin/env bash
# choreoscope-tui in tmux against the live demo (broker, generator at 300 events/s
# with 10 % stalled flows, the collector): the selection is an item, not a screen row.
# Checks: a row picked in the stalled view stays highlighted (same correlation id,
# kind and step) over 5 refreshes while the rows around it move; Enter then opens
# that instance; Enter on a graph edge lists the instances stalled on its step; when
# the selected one stops being stalled, the footer says it left the list.
# --no-color, so the highlighted row is the one in reverse video.
set -u
cd "$(dirname "$0")/../.."
. tests/e2e/lib/tui.sh
tui_setup

bin/choreoscope-broker --topic events:4 --address-file "$tmp/addr" >/dev/null 2>"$tmp/broker.err" &
pids+=($!)
wait_file "$tmp/addr" || { echo "FAIL: tui broker did not start"; exit 1; }
port=$(free_port)
url=http://127.0.0.1:$port
bin/choreoscope --config config/demo.yaml --brokers="$(cat "$tmp/addr")" --listen="127.0.0.1:$port" \
  --group="tui-select-$$" >"$tmp/collector.log" 2>&1 &
pids+=($!)
for _ in $(seq 150); do curl -sf -m 1 "$url/-/ready" >/dev/null && break; sleep 0.1; done
bin/choreoscope-gen --brokers="$(cat "$tmp/addr")" --clock=wall --rate=300 --seed=5 \
  --fault-rate=stalled=0.1 >/dev/null 2>"$tmp/gen.err" &
pids+=($!)

# selected NAME: the highlighted (reverse video) row of the pane, escapes removed
# (line 1 is the tab bar, whose current tab is reverse video too; column headers too)
selected() {
  t capture-pane -e -p -t "$1" | tail -n +2 | grep -a $'\x1b\[[0-9;]*7m' |
    sed 's/\x1b\[[0-9;]*m//g' | grep -av '^KIND ' | head -1
}
# rows NAME: "kind id step" of the stalled view's stalled rows, top to bottom
rows() { screen "$1" | awk '/^KIND/ { on = 1; next } /^q quit|left the list/ { on = 0 }
  on && $2 == "stalled" { print $2, $3, $5 }'; }

tui_start main 120 40 LANG=C.UTF-8 -- --url "$url" --no-color
check "the overview is up" wait_screen main "^order +[0-9]" 15
t send-keys -t main 2
enough() { [ "$(rows main | wc -l)" -ge 8 ]; }
for _ in $(seq 150); do enough && break; sleep 0.1; done
check "the stalled view lists at least 8 stalled instances" enough
# order stalls, least overdue first: the selected one stays stalled for the whole test
# (an order stall lasts up to ~9 s, to its 15 s deadline), while new ones arrive above it
t send-keys -t main / order Enter r
check "the view is filtered and reversed" wait_screen main "^Stalled & anomalies: .*sorted by overdue \(reversed\)" 5
for _ in $(seq 100); do enough && break; sleep 0.1; done
t send-keys -t main g j j  # from the first row (the cursor kept whatever it first had)
sleep 0.3
read -r _ kind cid flow step _ <<<"$(selected main)"
key="$kind $cid $step"
echo "selected: $(selected main)"
check "a stalled row is selected ($key)" [ "$kind" = stalled -a -n "$cid" ]
moved=0 same=1 pos0=$(rows main | grep -nxF "$key" | cut -d: -f1) order0=$(rows main | tr '\n' ' ')
for i in 1 2 3 4 5; do
  sleep 1.05  # one refresh (-d 1)
  got=$(selected main | awk '{ print $2, $3, $5 }')
  pos=$(rows main | grep -nxF "$key" | cut -d: -f1)
  order=$(rows main | tr '\n' ' ')
  echo "refresh $i: selected \"$got\", row ${pos:-(now a past verdict)} (was row $pos0)"
  [ "$got" = "$key" ] || same=0
  [ "$order" != "$order0" ] && moved=1
done
check "the rows moved over 5 refreshes" [ "$moved" = 1 ]
check "the selection stayed on $cid over 5 refreshes" [ "$same" = 1 ]
t send-keys -t main Enter
check "Enter opens the selected instance ($flow / $cid)" wait_screen main "^$flow / $cid  state " 5

# Graph: Enter on an edge into a stalled step lists that step's stalled instances.
t send-keys -t main Escape 3
check "graph view is up" wait_screen main "^order  deadline 15s" 5
stuck_edge() { selected main | grep -q 'STUCK'; }
for _ in $(seq 80); do stuck_edge && break; t send-keys -t main j; sleep 0.1; done
edge=$(selected main)
estep=$(sed -E 's/^.*▶ ([A-Za-z]+) .*$/\1/' <<<"$edge")
check "a STUCK edge is selected ($estep)" stuck_edge
t send-keys -t main Enter
check "Enter on it lists its stalled instances" wait_screen main "^Stalled on [a-z]+/$estep: [1-9][0-9]* rows" 5
only_step() { rows main | grep -q . && ! screen main | awk '/^KIND/ { on = 1; next } /^q quit|left the list/ { on = 0 }
    on && $1 ~ /^(#|■)$/' | grep -qv " stalled .* $estep "; }
check "... every one stalled on $estep" only_step
read -r _ _ lcid _ <<<"$(selected main)"
check "... and when the selected one ($lcid) stops being stalled, the footer says it left" \
  wait_screen main "$lcid stalled $estep left the list" 20
t send-keys -t main Escape
check "Esc goes back to the graph" wait_screen main "STUCK" 5
check "... and the graph cursor is still on that edge" bash -c "selected() { $(declare -f selected | tail -n +2); }; t() { tmux -S '$TMUX_SOCK' \"\$@\"; }; selected main | grep -q '▶ $estep '"

[ "$fails" -eq 0 ]
