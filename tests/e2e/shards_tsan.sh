#!/usr/bin/env bash
# Engine shards (engine.threads, collector/cmd/shards.c) under ThreadSanitizer: the
# daemon built with -fsanitize=thread (make tsan-daemon; librdkafka is not
# instrumented: tests/tsan/librdkafka.supp) judges the demo flows from the mock broker
# at 2 and 4 engine threads, with durable state (checkpoint writer), the history store
# (its writer) and the HTTP server, which is asked for /metrics, the flow list and a
# flow's detail while the shards run. No ThreadSanitizer report, exit 0, and the
# records equal the 1-thread daemon's on the same events.
source "$(dirname "$0")/lib/kafka.sh"
TSAN_BIN=$ROOT/build/tsan/choreoscope
if ! make -s tsan-daemon >"$tmp/build.log" 2>&1; then
  tail -20 "$tmp/build.log"; echo "FAIL: shards_tsan: make tsan-daemon"; exit 1
fi
CFG=$ROOT/config/demo.yaml
start_broker events:8
"$BIN/choreoscope-gen" --brokers "$BROKER" --topic events --flows 1500 --faults 0.05 \
  --seed 5 --truth "$tmp/truth.jsonl" 2>"$tmp/gen.err"
check "shards_tsan: generator produced (rc=$?)" grep -q "0 delivery failures" "$tmp/gen.err"
full() { jq -c 'select(.record=="anomaly" or .record=="flow") | del(.topic, .partition, .offset)' "$1" | sort; }
truth() { jq -r '"\(.flow) \(.correlation_id) \(.kind) \(.step)"' "$1" | sort; }

# run THREADS BINARY NAME: one --until-end run in its own group; HTTP asked meanwhile.
run() {
  local n=$1 bin=$2 name=$3 port rc
  port=$(free_port)
  { sed -n '1,/^flows:/{/^flows:/!p}' "$CFG"
    printf 'engine:\n  threads: %s\nstate:\n  dir: %s\n  checkpoint_interval: 100ms\n' "$n" "$tmp/state.$name"
    sed -n '/^flows:/,$p' "$CFG"; } >"$tmp/$name.yaml"
  TSAN_OPTIONS="suppressions=$ROOT/tests/tsan/librdkafka.supp halt_on_error=0 second_deadlock_stack=1" \
    timeout 300 "$bin" --config "$tmp/$name.yaml" --brokers "$BROKER" --group "tsan-$name" \
    --topic events --clock event --until-end --listen "127.0.0.1:$port" \
    --records "$tmp/$name.jsonl" 2>"$tmp/$name.err" &
  local dp=$!
  pids+=("$dp")
  : >"$tmp/$name.http"
  while kill -0 "$dp" 2>/dev/null; do
    curl -s -m 2 "http://127.0.0.1:$port/metrics" | grep -c '^choreoscope_' >>"$tmp/$name.http"
    curl -s -m 2 "http://127.0.0.1:$port/api/v1/flows?state=all&limit=5" >/dev/null
    curl -s -m 2 "http://127.0.0.1:$port/api/v1/flows/order/order-000001" >/dev/null
    sleep 0.2
  done
  wait "$dp"; rc=$?
  check "shards_tsan/$name: daemon --until-end exits 0 (rc=$rc)" [ "$rc" -eq 0 ]
}

run 1 "$BIN/choreoscope" ref
truth "$tmp/truth.jsonl" >"$tmp/want.truth"
anomalies "$tmp/ref.jsonl" >"$tmp/ref.truth"
check "shards_tsan/ref: 1 thread, anomaly records equal the truth ($(wc -l <"$tmp/want.truth"))" \
  same_lines "$tmp/want.truth" "$tmp/ref.truth"
full "$tmp/ref.jsonl" >"$tmp/ref.full"
for n in 2 4; do
  run "$n" "$TSAN_BIN" "t$n"
  check "shards_tsan/t$n: the daemon ran $n engine threads" grep -q "engine_threads=$n" "$tmp/t$n.err"
  check "shards_tsan/t$n: no ThreadSanitizer report ($(grep -c 'WARNING: ThreadSanitizer' "$tmp/t$n.err"))" \
    bash -c "! grep -q ThreadSanitizer '$tmp/t$n.err'"
  grep -A30 -m1 'WARNING: ThreadSanitizer' "$tmp/t$n.err" | head -40
  check "shards_tsan/t$n: /metrics answered while the shards ran" \
    bash -c "sort -n '$tmp/t$n.http' | tail -1 | awk '{exit !(\$1 > 10)}'"
  full "$tmp/t$n.jsonl" >"$tmp/t$n.full"
  check "shards_tsan/t$n: $(wc -l <"$tmp/ref.full") anomaly and flow records equal 1 thread's" \
    same_lines "$tmp/ref.full" "$tmp/t$n.full"
  check "shards_tsan/t$n: summary counts equal 1 thread's" \
    [ "$(jq -c 'select(.record=="summary") | [.events, .unmatched, .anomalies]' "$tmp/t$n.jsonl")" = \
      "$(jq -c 'select(.record=="summary") | [.events, .unmatched, .anomalies]' "$tmp/ref.jsonl")" ]
done
finish
