#!/usr/bin/env bash
# The one-command demo (`make run`): a local Kafka-protocol broker, saga traffic with
# injected faults, the collector judging it live, and the TUI in the foreground.
# Ctrl-C (or quitting the TUI) stops everything. Logs go to a temp dir printed first.
#
# Knobs (environment): DEMO_RATE events/s (default 200), DEMO_FAULTS fraction of flows
# per fault kind (default 0.01, nine kinds), DEMO_FORMAT wire format (default
# protobuf), DEMO_LISTEN collector HTTP address (default 127.0.0.1:9717), DEMO_SEED,
# DEMO_LOGS log directory (default: a new temp dir). What this script prints also
# goes to DEMO_LOGS/demo.log.
set -u
cd "$(dirname "$0")/.."
rate=${DEMO_RATE:-200}
faults=${DEMO_FAULTS:-0.01}
format=${DEMO_FORMAT:-protobuf}
listen=${DEMO_LISTEN:-127.0.0.1:9717}
seed=${DEMO_SEED:-$RANDOM}
logs=${DEMO_LOGS:-$(mktemp -d "${TMPDIR:-/tmp}/choreoscope-demo.XXXXXX")}
mkdir -p "$logs" || exit 1
say() { printf '%s\n' "$*" | tee -a "$logs/demo.log"; }
say "choreoscope demo: logs in $logs"

names=() pids=()
start() { # NAME LOGFILE CMD... : runs CMD in the background, remembered for cleanup.
  # setsid: Ctrl-C reaches only this script, which then stops the programs in order
  # (traffic, collector, broker), so none loses its broker while still draining.
  local name=$1 log=$2; shift 2
  setsid "$@" >"$log" 2>&1 </dev/null &
  names+=("$name"); pids+=($!)
}
stop_all() { # newest first: generator before collector before broker
  local i p n
  trap - INT TERM
  trap '' PIPE  # the terminal side may be gone (e.g. piped into tee)
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    p=${pids[i]}
    kill -0 "$p" 2>/dev/null || continue
    kill -TERM "$p" 2>/dev/null
    for n in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$p" 2>/dev/null; then
      say "  ${names[i]} did not stop in 5 s; killing it"
      kill -KILL "$p" 2>/dev/null
    fi
    wait "$p" 2>/dev/null
  done
  say "choreoscope demo: stopped; logs in $logs"
}
trap stop_all EXIT
trap 'exit 130' INT TERM

need() { [ -x "$1" ] || { say "choreoscope demo: $1 is missing (run 'make')" >&2; exit 1; }; }
need bin/choreoscope-broker
need bin/choreoscope-gen

# 1. the broker (random port; the address comes back through a file)
start broker "$logs/broker.log" bin/choreoscope-broker --topic events:8 \
  --topic choreoscope.alerts:1 --topic choreoscope.dead-letter:1 --address-file "$logs/broker.addr"
for _ in $(seq 100); do [ -s "$logs/broker.addr" ] && break; sleep 0.05; done
[ -s "$logs/broker.addr" ] || { say "choreoscope demo: the broker did not start:"; cat "$logs/broker.log"; exit 1; }
brokers=$(cat "$logs/broker.addr")
say "  broker     $brokers   (topics events:8, choreoscope.alerts, choreoscope.dead-letter)"

# 2. the collector, when the live daemon is built
collector=0
if bin/choreoscope --config config/demo.yaml --help 2>&1 | grep -q 'not built yet'; then
  say "  collector  skipped: the live daemon is not built yet (bin/choreoscope)"
else
  # the demo's flows plus a history store in the demo's dir, so that a flow that
  # closed can still be opened from the TUI (Enter, view 4 History)
  { cat config/demo.yaml; printf '\nhistory:\n  dir: %s\n  retention: 1h\n' "$logs"; } \
    > "$logs/demo.yaml"
  start collector "$logs/collector.log" bin/choreoscope --config "$logs/demo.yaml" \
    --brokers "$brokers" --listen "$listen" --records "$logs/records.jsonl"
  collector=1
  say "  collector  http://$listen  (/metrics, /api/v1/summary; records in $logs/records.jsonl;"
  say "             retired flows in $logs/history.db)"
fi

# 3. the traffic, forever, with faults of every kind
start generator "$logs/gen.log" bin/choreoscope-gen --brokers "$brokers" --topic events \
  --clock wall --rate "$rate" --faults "$faults" --format "$format" --seed "$seed" \
  --truth "$logs/truth.jsonl"
say "  generator  $rate events/s, $format, fault rate $faults per kind, seed $seed"
say "             (what it injected: $logs/truth.jsonl)"
say "  watch raw: kcat -b $brokers -C -t events -o end"

sleep 1
for i in "${!pids[@]}"; do
  if ! kill -0 "${pids[i]}" 2>/dev/null; then
    say "choreoscope demo: ${names[i]} exited early:"; tail -5 "$logs/${names[i]/generator/gen}.log"
    exit 1
  fi
done

# 4. the foreground: the TUI if there is one and a terminal, else a status line
if [ $collector -eq 1 ] && [ -x bin/choreoscope-tui ] && [ -t 0 ] && [ -t 1 ]; then
  for _ in $(seq 50); do curl -fsS "http://$listen/-/healthy" >/dev/null 2>&1 && break; sleep 0.1; done
  bin/choreoscope-tui --url "http://$listen"
  exit 0
fi
[ -x bin/choreoscope-tui ] || say "  tui        not built yet (bin/choreoscope-tui); showing a status line"
if [ -x bin/choreoscope-tui ] && { [ ! -t 0 ] || [ ! -t 1 ]; }; then
  say "  tui        not started: $([ -t 0 ] || echo "stdin")$([ -t 0 ] || [ -t 1 ] || echo " and ")$([ -t 1 ] || echo "stdout") not a terminal; showing a status line"
  [ $collector -eq 1 ] && say "             watch it from a terminal: bin/choreoscope-tui --url http://$listen"
fi
say "Ctrl-C stops the demo."
while :; do
  sleep 5
  line=$(grep 'choreoscope-gen: t=' "$logs/gen.log" | tail -1 | sed 's/^choreoscope-gen: //')
  anomalies=0
  [ -f "$logs/records.jsonl" ] && anomalies=$(grep -c '"record":"anomaly"' "$logs/records.jsonl")
  injected=$(wc -l <"$logs/truth.jsonl" 2>/dev/null || echo 0)
  say "  [$(date +%H:%M:%S)] generator: ${line:-starting}; verdicts injected $injected, found $anomalies"
  for i in "${!pids[@]}"; do
    kill -0 "${pids[i]}" 2>/dev/null || { say "choreoscope demo: ${names[i]} stopped; see $logs"; exit 1; }
  done
done
