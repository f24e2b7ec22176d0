#!/usr/bin/env bash
# Overload (issue 9): ten times more never-ending flows than limits.max_flows. The
# generator starts every flow stalled (--fault-rate stalled=1) within a few seconds of
# event time (--sim-rate 5000000, no tail), so on the event clock no flow reaches its
# deadline and every one stays in flight unless evicted. The daemon reads the topic
# --until-end with limits.max_flows 20000 over 2x, 5x and 10x that many flows:
#  - peak RSS levels off (the daemon's 10x within 20% of 5x; the same traffic replayed
#    from files, without the Kafka client's buffers, 10x within 10% of 2x), while the
#    same 10x traffic with a bound 10x larger takes far more memory (the bound is what
#    holds it);
#  - every flow beyond the bound is evicted and counted: flow records with outcome
#    `evicted`, the log's eviction lines rate-limited (at most 10 per 10 s).
source "$(dirname "$0")/lib/kafka.sh"
all() { eval "$1"; }

BOUND=20000
start_broker o2:64 o5:64 o10:64
for k in 2 5 10; do
  "$BIN/choreoscope-gen" --brokers "$BROKER" --topic "o$k" --flows $((BOUND * k)) --seed $k \
    --sim-rate 5000000 --tail 0 --fault-rate stalled=1 2>"$tmp/gen$k.err" ||
    { echo "FAIL: generator o$k"; exit 1; }
done
mkcfg() {   # MAX_FLOWS OUT: a small consumer queue, so that RSS is mostly flows
  grep -v -e alert_topic -e dead_letter_topic "$ROOT/config/demo.yaml" |
    sed "s/^http:/limits:\n  max_flows: $1\n&/" |
    sed 's/^  topics: \[events\]/&\n  properties:\n    queued.max.messages.kbytes: "8192"\n    fetch.max.bytes: "4194304"\n    max.partition.fetch.bytes: "262144"/' >"$2"
}
mkcfg $BOUND "$tmp/bound.yaml"
mkcfg $((BOUND * 10)) "$tmp/big.yaml"
run() {   # NAME TOPIC CONFIG: peak RSS (KiB) of a --until-end run in $tmp/NAME.rss
  /usr/bin/time -f '%M' -o "$tmp/$1.rss" timeout 120 "$BIN/choreoscope" --config "$3" \
    --brokers "$BROKER" --group "$1" --topic "$2" --clock event --until-end \
    --listen "127.0.0.1:$(free_port)" --records "$tmp/$1.jsonl" 2>"$tmp/$1.err"
}
for k in 2 5 10; do run "x$k" "o$k" "$tmp/bound.yaml"; done
run big o10 "$tmp/big.yaml"
r2=$(cat "$tmp/x2.rss"); r5=$(cat "$tmp/x5.rss"); r10=$(cat "$tmp/x10.rss"); rb=$(cat "$tmp/big.rss")
check "overload: daemon peak RSS levels off at the bound: 2x $((r2 / 1024)) MiB, 5x $((r5 / 1024)) MiB, 10x $((r10 / 1024)) MiB (10x within 20% of 5x; the flow table alone is flat, see the replay check)" \
  [ $((r10 * 10)) -le $((r5 * 12)) ]
# the same traffic replayed from files (no Kafka client): the flow table alone
for k in 2 10; do
  "$BIN/choreoscope-gen" --flows $((BOUND * k)) --seed $k --sim-rate 5000000 --tail 0 \
    --fault-rate stalled=1 --format protobuf --out "$tmp/r$k.pb" 2>/dev/null
  /usr/bin/time -f '%M' -o "$tmp/r$k.rss" "$BIN/choreoscope" replay --config "$tmp/bound.yaml" \
    "$tmp/r$k.pb" >"$tmp/r$k.jsonl"
done
p2=$(cat "$tmp/r2.rss"); p10=$(cat "$tmp/r10.rss")
check "overload: replay peak RSS plateaus: 2x $((p2 / 1024)) MiB, 10x $((p10 / 1024)) MiB (within 10%), $(grep -c '"outcome":"evicted"' "$tmp/r10.jsonl") evicted at 10x" \
  all '[ $((p10 * 10)) -le $((p2 * 11)) ] && grep -q "\"outcome\":\"evicted\"" "$tmp/r10.jsonl"'
check "overload: the same 10x traffic with a 10x bound takes more ($((rb / 1024)) MiB vs $((r10 / 1024)) MiB: at least 150 B for each of the 180000 more flows held)" \
  [ $(( (rb - r10) * 1024 )) -ge $(( 9 * BOUND * 150 )) ]
for k in 2 5 10; do
  f=$tmp/x$k.jsonl
  started=$(grep -c '"record":"flow"' "$f")
  ev=$(grep -c '"record":"flow".*"outcome":"evicted"' "$f")
  done_=$(grep -c '"record":"flow".*"outcome":"completed"' "$f")
  open=$(grep -c '"record":"flow".*"outcome":"open"' "$f")
  sev=$(jq -r 'select(.record=="summary").outcomes.evicted' "$f")
  nlog=$(grep -c 'msg="flow evicted: limits.max_flows reached"' "$tmp/x$k.err")
  check "overload ${k}x: $started flows ($done_ completed), $ev evicted, $open in flight at the end (<= $BOUND); summary counts $sev evicted; eviction log rate-limited ($nlog lines)" \
    all '[ "$open" -le $BOUND ] && [ "$ev" -ge $((started - done_ - BOUND)) ] && [ "$ev" -gt 0 ] && [ "$sev" = "$ev" ] && [ "$nlog" -ge 1 ] && [ "$nlog" -le 10 ]'
done
bev=$(grep -c '"record":"flow".*"outcome":"evicted"' "$tmp/big.jsonl")
check "overload: nothing evicted under the 10x bound ($bev)" [ "$bev" -eq 0 ]
finish
