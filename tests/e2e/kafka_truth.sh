#!/usr/bin/env bash
# broker + generator + daemon over real TCP, on the demo flows (config/demo.yaml):
#  1. --clock event --until-end at full speed: the daemon's anomaly records equal the
#     generator's --truth (every injected fault found, nothing else), and its anomaly
#     and flow records equal `choreoscope replay` on the generator's --out file;
#  2. --clock wall, live, at 3000 events/s: anomaly records equal the truth.
# Each at every engine.threads count of ENGINE_THREADS (default "1 2 4": 2 and 4 engine
# shards find what one thread finds): one broker and one generator run per part; in
# part 1 the daemons read the topic one after the other (fresh groups), in part 2 they
# read the live stream side by side (one group each), so every count sees the same
# events.
source "$(dirname "$0")/lib/kafka.sh"
THREADS=${ENGINE_THREADS:-1 2 4}
for t in $THREADS; do
  { cat "$ROOT/config/demo.yaml"; printf '\nengine:\n  threads: %s\n' "$t"; } >"$tmp/demo$t.yaml"
done
CFG=$ROOT/config/demo.yaml

start_broker events:8 live:8

# truth FILE: the truth as sorted "flow corr kind step" lines.
truth() { jq -r '"\(.flow) \(.correlation_id) \(.kind) \(.step)"' "$1" | sort; }
# full FILE KIND: the records of one kind as sorted full JSON lines, without the
# Kafka provenance (topic/partition/offset) that a replay file does not have.
full() { jq -c "select(.record==\"$2\") | del(.topic, .partition, .offset)" "$1" | sort; }

# 1. event time, full speed, until the end
"$BIN/choreoscope-gen" --brokers "$BROKER" --topic events --flows 6000 --faults 0.05 \
  --seed 7 --truth "$tmp/truth.jsonl" --out "$tmp/events.pb" 2>"$tmp/gen.err"
check "event: generator produced (rc=$?)" grep -q "0 delivery failures" "$tmp/gen.err"
truth "$tmp/truth.jsonl" >"$tmp/want"
check "event: the truth is not empty" [ -s "$tmp/want" ]
"$BIN/choreoscope" replay --config "$CFG" "$tmp/events.pb" >"$tmp/replay.jsonl" 2>"$tmp/replay.err"
for kind in anomaly flow; do full "$tmp/replay.jsonl" $kind >"$tmp/replay.$kind"; done
for t in $THREADS; do
  T=@${t}t
  start=$(date +%s%N)
  timeout 90 "$BIN/choreoscope" --config "$tmp/demo$t.yaml" --brokers "$BROKER" --group "truth-event-$t" \
    --topic events --clock event --until-end --records "$tmp/rec$t.jsonl" 2>"$tmp/daemon$t.err"
  rc=$?
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  check "truth$T/event: daemon --until-end exits 0 (rc=$rc, ${ms} ms incl. group join)" [ "$rc" -eq 0 ]
  check "truth$T/event: engine_threads=$t in the daemon's log" grep -q "engine_threads=$t " "$tmp/daemon$t.err"
  anomalies "$tmp/rec$t.jsonl" >"$tmp/got$t"
  check "truth$T/event: $(wc -l <"$tmp/want") injected faults, anomaly records equal the truth" \
    same_lines "$tmp/want" "$tmp/got$t"
  for kind in anomaly flow; do
    full "$tmp/rec$t.jsonl" $kind >"$tmp/daemon$t.$kind"
    check "truth$T/event: $(wc -l <"$tmp/replay.$kind") $kind records equal replay's on the same events" \
      same_lines "$tmp/replay.$kind" "$tmp/daemon$t.$kind"
  done
done

# 2. wall clock, live at 3000 events/s, one daemon per thread count side by side
declare -A dp
for t in $THREADS; do
  "$BIN/choreoscope" --config "$tmp/demo$t.yaml" --brokers "$BROKER" --group "truth-wall-$t" --topic live \
    --records "$tmp/recw$t.jsonl" 2>"$tmp/daemonw$t.err" &
  dp[$t]=$!; pids+=("${dp[$t]}")
done
for t in $THREADS; do
  for _ in $(seq 150); do grep -q "partitions assigned" "$tmp/daemonw$t.err" && break; sleep 0.1; done
done
# The generator sends in real time and waits out its tail, so every deadline has
# passed on the wall clock when it exits.
"$BIN/choreoscope-gen" --brokers "$BROKER" --topic live --rate 3000 --clock wall --duration 4 \
  --faults 0.05 --seed 11 --truth "$tmp/truthw.jsonl" 2>"$tmp/genw.err"
sleep 2
truth "$tmp/truthw.jsonl" >"$tmp/wantw"
for t in $THREADS; do
  T=@${t}t
  kill -TERM "${dp[$t]}"; wait "${dp[$t]}"; rc=$?
  check "truth$T/wall: daemon stops on SIGTERM with 0 (rc=$rc)" [ "$rc" -eq 0 ]
  anomalies "$tmp/recw$t.jsonl" >"$tmp/gotw$t"
  check "truth$T/wall: $(wc -l <"$tmp/wantw") injected faults at 3000 events/s, anomaly records equal the truth" \
    same_lines "$tmp/wantw" "$tmp/gotw$t"
  check "truth$T/wall: summary written on SIGTERM" grep -q '"record":"summary"' "$tmp/recw$t.jsonl"
done
[ $fails -eq 0 ] && exit 0
for t in $THREADS; do tail -n 5 "$tmp/daemon$t.err" "$tmp/daemonw$t.err"; done
tail -n 5 "$tmp/genw.err"
finish
