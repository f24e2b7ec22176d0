#!/usr/bin/env bash
# Scale-out: two daemons in one consumer group split the partitions of a topic (the
# generator keys every event by correlation id, so a flow lives on one partition), and
# together they report exactly the generator's truth, each fault once. Live, on the
# wall clock: with --clock event and traffic still being produced, a partition that is
# momentarily at its end stops holding the clock back (docs/semantics.md: event time is for
# backfills), so flows still in flight would be judged early.
source "$(dirname "$0")/lib/kafka.sh"
# The demo config, with a short session timeout: the mock cluster completes a rebalance
# only when every member it knows rejoined or timed out.
CFG=$tmp/demo.yaml
sed 's/^kafka:$/kafka:\n  properties: { "session.timeout.ms": "6000" }/' "$ROOT/config/demo.yaml" >"$CFG"

start_broker events:8
for n in 1 2; do
  "$BIN/choreoscope" --config "$CFG" --brokers "$BROKER" --group scale --topic events \
    --records "$tmp/rec$n.jsonl" 2>"$tmp/d$n.err" &
  pids+=("$!"); dpids[$n]=$!
  # let the first join alone, then the second one forces the split
  for _ in $(seq 150); do grep -q 'msg="partitions assigned"' "$tmp/d$n.err" && break; sleep 0.1; done
done
split() { grep 'msg="partitions assigned"' "$tmp/d$1.err" | tail -1 | grep -q 'count=4'; }
for _ in $(seq 200); do split 1 && split 2 && break; sleep 0.1; done
check "scaleout: two daemons in one group get 4 of the 8 partitions each" split 1
# real time at 3000 events/s; the generator waits out its tail, so every deadline has
# passed on the wall clock when it exits
"$BIN/choreoscope-gen" --brokers "$BROKER" --topic events --rate 3000 --clock wall --duration 4 \
  --faults 0.05 --seed 5 --truth "$tmp/truth.jsonl" 2>"$tmp/gen.err"
jq -r '"\(.flow) \(.correlation_id) \(.kind) \(.step)"' "$tmp/truth.jsonl" | sort >"$tmp/want"
# (complete lines only: the daemons may be writing)
union() { cat "$tmp/rec1.jsonl" "$tmp/rec2.jsonl" 2>/dev/null | grep '}$' >"$tmp/all.jsonl"; anomalies "$tmp/all.jsonl"; }
for _ in $(seq 200); do [ "$(union | wc -l)" -ge "$(wc -l <"$tmp/want")" ] && break; sleep 0.1; done
for n in 1 2; do kill -TERM "${dpids[$n]}"; wait "${dpids[$n]}"; done
union >"$tmp/got"
check "scaleout: $(wc -l <"$tmp/want") injected faults, the union of both daemons' anomalies equals the truth" \
  same_lines "$tmp/want" "$tmp/got"
both() { [ "$(anomalies "$tmp/rec1.jsonl" | wc -l)" -gt 0 ] && [ "$(anomalies "$tmp/rec2.jsonl" | wc -l)" -gt 0 ]; }
check "scaleout: both daemons judged a share" both
finish
