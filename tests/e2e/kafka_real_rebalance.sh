#!/usr/bin/env bash
# Rebalance with durable state on a real Apache Kafka broker (scripts/kafka.sh), event
# time, 16 partitions (issue 9): daemon A judges a live stream alone; daemon B joins the
# group (A checkpoints and hands over the partitions B gets, B loads them), then leaves
# (B checkpoints, A loads them back); after the stream A stops (SIGTERM) and C finishes
# the group --until-end. The union of A's, B's and C's records, deduplicated by
# identity, equals an uninterrupted run's: 0 lost, 0 invented, completions once.
# ENGINE_THREADS: the daemons' engine.threads (default 2: each partition's checkpoint
# belongs to one of two engine shards, and moves with the partition).
ENGINE_THREADS=${ENGINE_THREADS:-2}
source "$(dirname "$0")/lib/realkafka.sh"

start_kafka
topic reb 16
{ sed -n '1,/^http:/p' "$ROOT/config/demo.yaml" | grep -v -e alert_topic -e dead_letter_topic -e '^http:'
  printf '  properties:\n    session.timeout.ms: "2000"\n    heartbeat.interval.ms: "300"\n'
  printf 'state:\n  dir: %s\n  checkpoint_interval: 500ms\n' "$tmp/state"
  [ -z "${ENGINE_THREADS:-}" ] || printf 'engine:\n  threads: %s\n' "$ENGINE_THREADS"
  sed -n '/^flows:/,$p' "$ROOT/config/demo.yaml"; } >"$tmp/state.yaml"
daemon() {   # NAME [ARGS...]: a daemon of group reb in the background, pid in $dp
  local n=$1; shift
  "$BIN/choreoscope" --config "$tmp/state.yaml" --brokers "$BROKER" --group reb --topic reb \
    --clock event --listen "127.0.0.1:$(free_port)" --records "$tmp/$n.jsonl" "$@" 2>"$tmp/$n.err" &
  dp=$!; pids+=("$dp")
}
waitlog() {  # FILE PATTERN COUNT
  for _ in $(seq 150); do [ "$(grep -c "$2" "$1" 2>/dev/null)" -ge "$3" ] 2>/dev/null && return 0; sleep 0.1; done; return 1
}

"$BIN/choreoscope-gen" --brokers "$BROKER" --topic reb --flows 8000 --faults 0.05 --seed 13 \
  --rate 4000 --tail 1 2>"$tmp/gen.err" &
gp=$!; pids+=("$gp")
daemon a; a=$dp
waitlog "$tmp/a.err" 'partitions assigned' 1
sleep 1.5
daemon b; b=$dp
check "rebalance: B joins and is assigned partitions" waitlog "$tmp/b.err" 'partitions assigned' 1
handed=$(grep -c 'partition revoked: flows checkpointed' "$tmp/a.err")
sleep 2
restored_b=$(grep -c 'partition restored from checkpoint' "$tmp/b.err")
check "rebalance: A checkpointed what it handed over ($handed revokes), B restored $restored_b partitions" \
  all '[ "$handed" -ge 8 ] && [ "$restored_b" -ge 8 ]'
kill -0 "$gp" 2>/dev/null; live=$?
kill -TERM "$b"; wait "$b"; rc=$?
check "rebalance: B leaves with SIGTERM mid-stream (rc=$rc, generator running: $([ $live = 0 ] && echo yes || echo no))" \
  all '[ "$rc" -eq 0 ] && [ "$live" -eq 0 ]'
# eager rebalances: A restored its own 8 after B joined, then all 16 after B left
check "rebalance: A gets all 16 partitions back from the checkpoints" waitlog "$tmp/a.err" 'partition restored from checkpoint' 24
wait "$gp"
check "rebalance: generator sent every event" grep -q "0 delivery failures" "$tmp/gen.err"
sleep 1
kill -TERM "$a"; wait "$a"; rc=$?
check "rebalance: A stops with SIGTERM (rc=$rc)" [ "$rc" -eq 0 ]
timeout 60 "$BIN/choreoscope" --config "$tmp/state.yaml" --brokers "$BROKER" --group reb --topic reb \
  --clock event --until-end --listen "127.0.0.1:$(free_port)" --records "$tmp/c.jsonl" 2>"$tmp/c.err"
rc=$?
check "rebalance: C resumes the group from the 16 checkpoints and ends (rc=$rc)" \
  all '[ "$rc" -eq 0 ] && [ "$(grep -c "partition restored from checkpoint" "$tmp/c.err")" -eq 16 ]'

timeout 60 "$BIN/choreoscope" --config "$ROOT/config/demo.yaml" --brokers "$BROKER" --group base \
  --topic reb --clock event --until-end --listen "127.0.0.1:$(free_port)" \
  --records "$tmp/base.jsonl" 2>"$tmp/base.err"
ident() { jq -c 'select(.record=="anomaly" or .record=="flow")' "$@" | sort; }
ident "$tmp/base.jsonl" >"$tmp/want"
ident "$tmp/a.jsonl" "$tmp/b.jsonl" "$tmp/c.jsonl" | sort -u >"$tmp/got"
lost=$(comm -23 "$tmp/want" "$tmp/got" | wc -l)
invented=$(comm -13 "$tmp/want" "$tmp/got" | wc -l)
check "rebalance: $(wc -l <"$tmp/want") records; across join and leave 0 lost ($lost), 0 invented ($invented)" \
  all '[ "$lost" -eq 0 ] && [ "$invented" -eq 0 ] && [ -s "$tmp/want" ]'
check "rebalance: completed flows counted once ($(completed_count "$tmp/got") = $(completed_count "$tmp/want"))" \
  [ "$(completed_count "$tmp/got")" -eq "$(completed_count "$tmp/want")" ]
[ $fails -eq 0 ] || { comm -3 "$tmp/want" "$tmp/got" | head -6; grep -hE 'level=(error|warn)' "$tmp"/[abc].err | head -5; }
finish
