#!/usr/bin/env bash
# broker + generator + daemon over real TCP, on the demo flows (config/demo.yaml):
#  1. --clock event --until-end at full speed: the daemon's anomaly records equal the
#     generator's --truth (every injected fault found, nothing else), and its anomaly
#     and flow records equal `choreoscope replay` on the generator's --out file;
#  2. --clock wall, live, at 3000 events/s: anomaly records equal the truth.
# ENGINE_THREADS sets the daemon's engine.threads; unset, the script runs itself once
# per count of KTRUTH_THREADS (default "1 2 4": 2 and 4 engine shards find what one
# thread finds).
if [ -z "${ENGINE_THREADS:-}" ]; then
  rc=0
  for t in ${KTRUTH_THREADS:-1 2 4}; do ENGINE_THREADS=$t bash "$0" || rc=1; done
  exit $rc
fi
source "$(dirname "$0")/lib/kafka.sh"
CFG=$ROOT/config/demo.yaml
T=${ENGINE_THREADS:+@${ENGINE_THREADS}t}
if [ -n "${ENGINE_THREADS:-}" ]; then
  { cat "$CFG"; printf '\nengine:\n  threads: %s\n' "$ENGINE_THREADS"; } >"$tmp/demo.yaml"
  CFG=$tmp/demo.yaml
fi

start_broker events:8 live:8

# truth FILE: the truth as sorted "flow corr kind step" lines.
truth() { jq -r '"\(.flow) \(.correlation_id) \(.kind) \(.step)"' "$1" | sort; }
# full FILE KIND: the records of one kind as sorted full JSON lines, without the
# Kafka provenance (topic/partition/offset) that a replay file does not have.
full() { jq -c "select(.record==\"$2\") | del(.topic, .partition, .offset)" "$1" | sort; }

# 1. event time, full speed, until the end
"$BIN/choreoscope-gen" --brokers "$BROKER" --topic events --flows 6000 --faults 0.05 \
  --seed 7 --truth "$tmp/truth.jsonl" --out "$tmp/events.pb" 2>"$tmp/gen.err"
check "truth$T/event: generator produced (rc=$?)" grep -q "0 delivery failures" "$tmp/gen.err"
start=$(date +%s%N)
timeout 90 "$BIN/choreoscope" --config "$CFG" --brokers "$BROKER" --group truth-event \
  --topic events --clock event --until-end --records "$tmp/rec.jsonl" 2>"$tmp/daemon.err"
rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "truth$T/event: daemon --until-end exits 0 (rc=$rc, ${ms} ms incl. group join)" [ "$rc" -eq 0 ]
truth "$tmp/truth.jsonl" >"$tmp/want"
anomalies "$tmp/rec.jsonl" >"$tmp/got"
check "truth$T/event: $(wc -l <"$tmp/want") injected faults, anomaly records equal the truth" \
  same_lines "$tmp/want" "$tmp/got"
check "truth$T/event: the truth is not empty" [ -s "$tmp/want" ]
"$BIN/choreoscope" replay --config "$CFG" "$tmp/events.pb" >"$tmp/replay.jsonl" 2>"$tmp/replay.err"
for kind in anomaly flow; do
  full "$tmp/replay.jsonl" $kind >"$tmp/replay.$kind"
  full "$tmp/rec.jsonl" $kind >"$tmp/daemon.$kind"
  check "truth$T/event: $(wc -l <"$tmp/replay.$kind") $kind records equal replay's on the same events" \
    same_lines "$tmp/replay.$kind" "$tmp/daemon.$kind"
done

# 2. wall clock, live at 3000 events/s
"$BIN/choreoscope" --config "$CFG" --brokers "$BROKER" --group truth-wall --topic live \
  --records "$tmp/recw.jsonl" 2>"$tmp/daemonw.err" &
dp=$!; pids+=("$dp")
for _ in $(seq 150); do grep -q "partitions assigned" "$tmp/daemonw.err" && break; sleep 0.1; done
# The generator sends in real time and waits out its tail, so every deadline has
# passed on the wall clock when it exits.
"$BIN/choreoscope-gen" --brokers "$BROKER" --topic live --rate 3000 --clock wall --duration 4 \
  --faults 0.05 --seed 11 --truth "$tmp/truthw.jsonl" 2>"$tmp/genw.err"
sleep 2
kill -TERM "$dp"; wait "$dp"; rc=$?
check "truth$T/wall: daemon stops on SIGTERM with 0 (rc=$rc)" [ "$rc" -eq 0 ]
truth "$tmp/truthw.jsonl" >"$tmp/wantw"
anomalies "$tmp/recw.jsonl" >"$tmp/gotw"
check "truth$T/wall: $(wc -l <"$tmp/wantw") injected faults at 3000 events/s, anomaly records equal the truth" \
  same_lines "$tmp/wantw" "$tmp/gotw"
check "truth$T/wall: summary written on SIGTERM" grep -q '"record":"summary"' "$tmp/recw.jsonl"
[ $fails -eq 0 ] && exit 0
tail -n 5 "$tmp/daemon.err" "$tmp/daemonw.err" "$tmp/genw.err"
finish
