#!/usr/bin/env bash
# A row never leads to "no such flow" (docs/tui.md, Search): against the live demo
# with NO history store, a stalled flow is found with `/` in the Overview while live;
# the TUI is paused (its rows stay) until the collector has abandoned and retired the
# flow (the API answers 404 for it); Enter then shows the flow as its list last showed
# it, titled as retired, and no 404.
source "$(dirname "$0")/lib/http.sh"

start_broker events:4
HTTP_PORT=$(free_port)
demo_config "$tmp/cfg.yaml"
start_daemon "$tmp/cfg.yaml"
start_gen --rate 100 --fault-rate stalled=0.2
U="http://127.0.0.1:$HTTP_PORT"

# a flow stalled now: it stays live until its deadline abandons it
found=
for _ in $(seq 150); do
  found=$(curl -s "$U/api/v1/flows?state=stalled&sort=age&order=asc&limit=1" | $PY -c '
import json, sys
d = json.load(sys.stdin)
for it in d.get("items", []): print(it["flow"] + "/" + it["correlation_id"])')
  [ -n "$found" ] && break; sleep 0.2
done
check "a stalled flow is listed live" test -n "$found"
[ -n "$found" ] || finish
flow=${found%%/*}; corr=${found#*/}

TMUX_SOCK=$tmp/tmux.sock
t() { tmux -S "$TMUX_SOCK" "$@"; }
trap 't kill-server 2>/dev/null; cleanup' EXIT
wait_screen() { # REGEX [TENTHS]: until the pane shows it
  for _ in $(seq "${2:-100}"); do t capture-pane -p -t r | grep -Eq -- "$1" && return 0; sleep 0.1; done
  t capture-pane -p -t r; return 1
}
t new-session -d -s r -x 140 -y 40 "env LANG=C.UTF-8 $BIN/choreoscope-tui --url $U --no-color; sleep 60"
wait_screen "IN FLIGHT" >/dev/null
t send-keys -t r / "$corr" Enter
check "tui: / $corr lists the live flow, stalled" wait_screen "stalled +$corr +$flow"
t send-keys -t r p
check "tui: paused, the row stays" wait_screen "PAUSED"
gone=0
for _ in $(seq 400); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$U/api/v1/flows/$flow/$corr")" = 404 ] && { gone=1; break; }
  sleep 0.1
done
check "the collector retired $corr (404, it keeps no history)" test $gone = 1
check "tui: the paused list still shows it" wait_screen "stalled +$corr +$flow" 10
t send-keys -t r Enter p
check "tui: Enter shows its last listed state, titled as retired" \
  wait_screen "$flow / $corr +\(retired: its last state in the list"
check "tui: with the state and step the list showed" wait_screen "^  state stalled .*events [0-9]+"
no_screen() { ! t capture-pane -p -t r | grep -Eq -- "$1"; }
check "tui: no 'no such flow', no HTTP 404" no_screen "no such flow|HTTP 404"
t capture-pane -p -t r | head -8
t kill-server 2>/dev/null
finish
