#!/usr/bin/env bash
# A member of the group killed and never restarted, on a real Apache Kafka broker
# (scripts/kafka.sh), event time, 16 partitions (issue 9): daemons A, B and C share
# group `trio` and judge a live stream with state.dir; once the three hold partitions,
# B is killed with SIGKILL and not restarted. After B's session timeout (2 s) A and C
# split B's partitions, load them from the checkpoints B wrote, and go on from the
# offsets those cover. After the stream (and a tick past every deadline) A and C stop
# with SIGTERM. The group's records (what B wrote before it died, then A's and C's),
# deduplicated by identity, equal an uninterrupted run's and the generator's truth:
# 0 lost, 0 invented, completions once.
source "$(dirname "$0")/lib/realkafka.sh"

start_kafka
topic trio 16
{ sed -n '1,/^http:/p' "$ROOT/config/demo.yaml" | grep -v -e alert_topic -e dead_letter_topic -e '^http:'
  printf '  properties:\n    session.timeout.ms: "2000"\n    heartbeat.interval.ms: "300"\n'
  printf 'state:\n  dir: %s\n  checkpoint_interval: 300ms\n' "$tmp/state"
  sed -n '/^flows:/,$p' "$ROOT/config/demo.yaml"; } >"$tmp/state.yaml"
daemon() {   # NAME: a daemon of group trio in the background, pid in $dp, port in $tmp/NAME.port
  local port; port=$(free_port); echo "$port" >"$tmp/$1.port"
  "$BIN/choreoscope" --config "$tmp/state.yaml" --brokers "$BROKER" --group trio --topic trio \
    --clock event --listen "127.0.0.1:$port" --records "$tmp/$1.jsonl" 2>"$tmp/$1.err" &
  dp=$!; pids+=("$dp")
}
# gauge NAME METRIC: the sum of METRIC's series on NAME's /metrics
gauge() { curl -s "http://127.0.0.1:$(cat "$tmp/$1.port")/metrics" | awk -v m="$2" '$1 ~ "^"m"({|$)" {s += $2} END {printf "%d", s}'; }
waitlog() {  # FILE PATTERN COUNT
  for _ in $(seq 200); do [ "$(grep -c "$2" "$1" 2>/dev/null)" -ge "$3" ] 2>/dev/null && return 0; sleep 0.1; done; return 1
}
# held NAME: partitions NAME's last assignment gave it
held() { grep 'partitions assigned' "$tmp/$1.err" | tail -1 | grep -o 'count=[0-9]*' | cut -d= -f2; }

"$BIN/choreoscope-gen" --brokers "$BROKER" --topic trio --flows 8000 --faults 0.05 --seed 21 \
  --rate 2500 --tail 1 --truth "$tmp/truth.jsonl" 2>"$tmp/gen.err" &
gp=$!; pids+=("$gp")
daemon a; a=$dp
waitlog "$tmp/a.err" 'partitions assigned' 1
daemon b; b=$dp
waitlog "$tmp/b.err" 'partitions assigned' 1
daemon c; c=$dp
waitlog "$tmp/c.err" 'partitions assigned' 1
# the three-member generation: each member's last assignment, summing to 16
for _ in $(seq 50); do
  [ $(( $(held a) + $(held b) + $(held c) )) -eq 16 ] && [ "$(held b)" -gt 0 ] && break; sleep 0.1
done
nb=$(held b)
check "trio: A, B and C share the 16 partitions ($(held a) + $nb + $(held c))" \
  [ $(( $(held a) + nb + $(held c) )) -eq 16 ]
sleep 1.2    # B judges and checkpoints its partitions for a while
kill -0 "$gp" 2>/dev/null; live=$?
kill -KILL "$b"; wait "$b" 2>/dev/null
check "trio: B killed with SIGKILL mid-stream (generator running: $([ $live = 0 ] && echo yes || echo no)), never restarted" \
  [ "$live" -eq 0 ]
# A and C take B's partitions after its session timeout
for _ in $(seq 150); do [ $(( $(held a) + $(held c) )) -eq 16 ] && break; sleep 0.1; done
check "trio: A and C hold all 16 partitions after B's session timeout ($(held a) + $(held c))" \
  [ $(( $(held a) + $(held c) )) -eq 16 ]
wait "$gp"
"$BIN/choreoscope-gen" --brokers "$BROKER" --topic trio --flows 0 --tail 60 2>>"$tmp/gen.err"
check "trio: generator sent every event ($(grep -m1 'delivery failures' "$tmp/gen.err" | cut -c1-70)...)" \
  [ "$(grep -c "0 delivery failures" "$tmp/gen.err")" -eq 2 ]
# A and C until caught up: no lag, and every flow closed (the ticks at 60 s fire every
# deadline)
for _ in $(seq 200); do
  [ $(( $(gauge a choreoscope_consumer_lag) + $(gauge c choreoscope_consumer_lag) )) -eq 0 ] &&
    [ $(( $(gauge a choreoscope_flows_in_flight) + $(gauge c choreoscope_flows_in_flight) )) -eq 0 ] && break
  sleep 0.1
done
kill -TERM "$a" "$c"; wait "$a"; ra=$?; wait "$c"; rc=$?
check "trio: A and C stop with SIGTERM (rc=$ra, $rc)" all '[ "$ra" -eq 0 ] && [ "$rc" -eq 0 ]'
restored=$(cat "$tmp/a.err" "$tmp/c.err" | grep -c 'partition restored from checkpoint')
check "trio: A and C resumed partitions from checkpoints ($restored restores; B held $nb)" [ "$restored" -ge "$nb" ]

timeout 60 "$BIN/choreoscope" --config "$ROOT/config/demo.yaml" --brokers "$BROKER" --group base \
  --topic trio --clock event --until-end --listen "127.0.0.1:$(free_port)" \
  --records "$tmp/base.jsonl" 2>"$tmp/base.err"
check "trio: uninterrupted run exits 0" [ $? -eq 0 ]
ident() { jq -c 'select(.record=="anomaly" or .record=="flow")' "$@" | sort; }
ident "$tmp/base.jsonl" >"$tmp/want"
ident "$tmp/a.jsonl" "$tmp/b.jsonl" "$tmp/c.jsonl" | sort -u >"$tmp/got"
lost=$(comm -23 "$tmp/want" "$tmp/got" | wc -l)
invented=$(comm -13 "$tmp/want" "$tmp/got" | wc -l)
check "trio: $(wc -l <"$tmp/want") records; with B dead 0 lost ($lost), 0 invented ($invented)" \
  all '[ "$lost" -eq 0 ] && [ "$invented" -eq 0 ] && [ -s "$tmp/want" ]'
jq -r '"\(.flow) \(.correlation_id) \(.kind) \(.step)"' "$tmp/truth.jsonl" | sort >"$tmp/truth"
anomalies "$tmp/got" >"$tmp/got.anomalies"
check "trio: the group's anomalies equal the generator's truth ($(wc -l <"$tmp/truth") injected)" \
  all 'same_lines "$tmp/truth" "$tmp/got.anomalies" && [ -s "$tmp/truth" ]'
check "trio: completed flows counted once ($(completed_count "$tmp/got") = $(completed_count "$tmp/want"))" \
  [ "$(completed_count "$tmp/got")" -eq "$(completed_count "$tmp/want")" ]
[ $fails -eq 0 ] || { comm -3 "$tmp/want" "$tmp/got" | head -6; grep -hE 'level=(error|warn)' "$tmp"/[abc].err | head -5; }
finish
