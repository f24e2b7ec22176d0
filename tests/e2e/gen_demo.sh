#!/usr/bin/env bash
# The one-command demo (scripts/demo.sh, what `make run` starts) in a real terminal
# (tmux): broker, generator and, once built, collector and TUI come up; traffic
# flows; Ctrl-C stops every one of them, in order, and leaves nothing running.
set -u
cd "$(dirname "$0")/../.."
sock=gen-demo-$$
tmp=$(mktemp -d)
port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
logs=$tmp/logs
progs="bin/choreoscope[-a-z]* .*$logs"  # our programs name files in $logs
cleanup() {
  tmux -L "$sock" kill-server 2>/dev/null
  for p in $(pgrep -f -- "$progs"); do kill -KILL "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
fails=0
source tests/e2e/lib/common.sh

# the demo runs in the foreground of a real terminal, as `make run` does (the TUI,
# once built, takes the screen; what the script says also goes to demo.log)
tmux -L "$sock" new-session -d -x 120 -y 40 \
  "cd '$PWD' && LANG=C.UTF-8 DEMO_LOGS='$logs' DEMO_LISTEN=127.0.0.1:$port DEMO_RATE=300 scripts/demo.sh; sleep 60"
for _ in $(seq 100); do grep -q 'generator ' "$logs/demo.log" 2>/dev/null && break; sleep 0.1; done
out=$logs/demo.log
grep -q "^choreoscope demo: logs in $logs" "$out" && say ok "demo prints its log dir" \
  || say fail "demo log dir: $(head -3 "$out" 2>&1)"

# traffic flows: the generator reports progress (every 5 s)
for _ in $(seq 120); do grep -q 'choreoscope-gen: t=5s' "$logs/gen.log" 2>/dev/null && break; sleep 0.1; done
grep -q 'choreoscope-gen: t=5s' "$logs/gen.log" && say ok "generator runs ($(grep 'choreoscope-gen: t=' "$logs/gen.log" | tail -1))" \
  || say fail "generator: $(tail -2 "$logs/gen.log")"
grep -Eq '^127\.0\.0\.1:[0-9]+$' "$logs/broker.addr" && say ok "broker serves on $(cat "$logs/broker.addr")" \
  || say fail "broker: $(cat "$logs/broker.log")"
kcat -b "$(cat "$logs/broker.addr")" -L -t events -m 5 2>/dev/null | grep -q 'with 8 partitions' \
  && say ok "topic events has 8 partitions" || say fail "topic events metadata"
if grep -q 'collector  http' "$out"; then
  n=$(pgrep -fc -- "--records $logs/records.jsonl")
  [ "$n" -eq 1 ] && say ok "collector runs" || say fail "collector not running: $(tail -3 "$logs/collector.log")"
else
  grep -q 'collector  skipped' "$out" && say ok "collector skipped with a message (daemon not built)" \
    || say fail "collector neither started nor skipped"
fi
if grep -q 'collector  http' "$out" && [ -x bin/choreoscope-tui ]; then
  for _ in $(seq 50); do tmux -L "$sock" capture-pane -p | grep -q "127.0.0.1:$port" && break; sleep 0.1; done
  tmux -L "$sock" capture-pane -p | grep -q "127.0.0.1:$port" && say ok "the TUI is in the foreground, watching the collector" \
    || say fail "TUI not on screen: $(tmux -L "$sock" capture-pane -p | head -5)"
fi
running=$(pgrep -fc -- "$progs")
[ "$running" -ge 2 ] && say ok "$running demo programs running" || say fail "only $running demo programs running"

tmux -L "$sock" send-keys C-c
for _ in $(seq 150); do [ "$(pgrep -fc -- "$progs")" -eq 0 ] && break; sleep 0.1; done
left=$(pgrep -fa -- "$progs")
[ -z "$left" ] && say ok "Ctrl-C stops every demo program" || say fail "still running after Ctrl-C: $left"
grep -q '(stopped)$' "$logs/gen.log" && grep -q 'SIGTERM, stopping' "$logs/broker.log" \
  && say ok "generator and broker stopped cleanly (SIGTERM from the demo, not Ctrl-C)" \
  || say fail "shutdown: gen '$(tail -1 "$logs/gen.log")' broker '$(tail -1 "$logs/broker.log")'"

[ "$fails" -eq 0 ]
