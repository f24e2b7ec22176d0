#!/usr/bin/env bash
# choreoscope-tui in tmux with no collector listening: flags, the disconnected
# header, every view and key that needs no data, help, pause, quitting, colour on and
# off (--no-color, NO_COLOR), ASCII fallback without UTF-8, and resizing to 60x20.
set -u
cd "$(dirname "$0")/../.."
. tests/e2e/lib/tui.sh
tui_setup

bin/choreoscope-tui --help >"$tmp/help" 2>&1; rc=$?
check "--help exits 0 and lists --url" grep -q -- '--url URL' "$tmp/help"
check "--help rc 0" [ "$rc" -eq 0 ]
bin/choreoscope-tui --nope >"$tmp/bad" 2>&1; rc=$?
check "unknown flag exits 2 with a reason (rc=$rc)" grep -q 'unknown option "--nope"' "$tmp/bad"
bin/choreoscope-tui -d 0.01 >"$tmp/bad" 2>&1; rc=$?
check "-d out of range exits 2 (rc=$rc)" [ "$rc" -eq 2 ]

port=$(free_port)   # nothing listens there
url=http://127.0.0.1:$port
tui_start a 120 40 LANG=C.UTF-8 -- --url "$url"
check "header shows the collector disconnected" wait_screen a "^✗ disconnected +$url"
check "overview says it waits for data" wait_screen a "no flows yet"
check "footer lists the keys" wait_screen a "^q quit +\? help +Tab view"
t send-keys -t a 2
check "2 shows the stalled view" wait_screen a "^Stalled & anomalies: 0 rows, sorted by overdue"
check "stalled view has its columns" wait_screen a "KIND +CORRELATION ID +FLOW +STEP +OVERDUE +AGE +OWNER +SOURCE"
t send-keys -t a s
check "s cycles the sort" wait_screen a "sorted by correlation id"
t send-keys -t a r
check "r reverses it" wait_screen a "sorted by correlation id \(reversed\)"
t send-keys -t a Tab
check "Tab goes to the graph view" wait_screen a "no flow graphs yet"
t send-keys -t a Tab
check "Tab goes to the history view" wait_screen a "^History: 0 rows"
t send-keys -t a Tab
check "Tab wraps to the overview" wait_screen a "^FLOW +IN FLIGHT"
t send-keys -t a '?'
check "? opens the help" wait_screen a "Keys \(\? abbreviations, Esc closes\)"
check "help lists p pause" wait_screen a "p +pause or resume refreshing"
t send-keys -t a '?'
check "? again explains the abbreviations" wait_screen a "Abbreviations \(\? closes"
check "... the kind abbreviations" wait_screen a "stl stalled +mis missing +ooo out_of_order"
check "... and OVERDUE and AGE" wait_screen a "AGE +time since the verdict"
t send-keys -t a '?'
check "? a third time closes it" wait_gone a "Abbreviations \("
t send-keys -t a '?'
t send-keys -t a Escape
check "Esc closes the help" wait_gone a "Keys \(\? abbrev"
t send-keys -t a / x y z
check "/ opens the filter prompt" wait_screen a "^Filter: xyz_"
t send-keys -t a Enter
check "Enter keeps the filter in the header" wait_screen a "filter: xyz"
check "filtered overview says nothing matches" wait_screen a "no flow matches the filter"
t send-keys -t a Escape
check "Esc clears the filter" wait_gone a "filter: xyz"
t send-keys -t a p
check "p pauses" wait_screen a "PAUSED"
t send-keys -t a p
check "p resumes" wait_gone a "PAUSED"

check "colour on by default" colours a
t resize-window -t a -x 60 -y 20
check "resized to 60x20 it redraws the footer on the last line" wait_screen a "^q quit +\? help"
sleep 0.5
check "60x20 has no garbage" fits a 60 20
check "60 columns: the overview keeps FLOW, IN FLIGHT, STALLED and ANOMALIES/min" \
  wait_screen a "^FLOW +IN FLIGHT +STALLED +ANOMALIES/min"
t send-keys -t a 2
check "60 columns: the stalled view keeps KIND, STEP, OVERDUE and AGE" \
  wait_screen a "^KIND +CORREL.* +STEP +OVERDUE +AGE *$"
t send-keys -t a 1
t resize-window -t a -x 80 -y 24
check "80 columns: the overview adds DONE/s, P95 and P99, no sparkline" \
  wait_screen a "^FLOW +IN FLIGHT +DONE/s +STALLED +P95 +P99 +ANOMALIES/min *$"
check "60x20 keeps the header on the first line" bash -c "tmux -S '$TMUX_SOCK' capture-pane -p -t a | head -1 | grep -q '^choreoscope-tui'"
pid=$(tui_pid a)
t send-keys -t a q
for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
check "q quits" bash -c "! kill -0 $pid 2>/dev/null"

tui_start b 60 20 LANG=C.UTF-8 -- --url "$url" --no-color
check "--no-color: disconnected shown" wait_screen b "disconnected"
check "--no-color: no colour escapes" no_colours b
check "--no-color: 60x20 has no garbage" fits b 60 20
tui_start c 80 24 LANG=C.UTF-8 NO_COLOR=1 -- --url "$url"
check "NO_COLOR: disconnected shown" wait_screen c "disconnected"
check "NO_COLOR: no colour escapes" no_colours c
tui_start d 80 24 LANG=C LC_ALL=C -- --url "$url"
check "without UTF-8 the glyphs are ASCII" wait_screen d "^X disconnected +$url"
check "without UTF-8 no byte is outside ASCII" bash -c "! tmux -S '$TMUX_SOCK' capture-pane -p -t d | LC_ALL=C grep -q '[^ -~]'"

[ "$fails" -eq 0 ]
