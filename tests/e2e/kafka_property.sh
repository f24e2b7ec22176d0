#!/usr/bin/env bash
# docs/semantics.md "Determinism" over the Kafka path: the cases of the seeded property
# test (tests/unit/test_engine_property.c, PROPTEST_DUMP mode) through the real broker,
# several partitions, and the daemon, with both clocks.
#  - The dump namespaces each case (flow pK, steps kK_*, correlation id cK), shifts it
#    to end at the same time as every other case (a stream's end of input is shared),
#    and merges all cases into one stream where each event comes as late as its case's
#    lateness allows, so the other cases push the clock as far as it may go.
#  - kcat produces the stream keyed by correlation id: a case lives on one partition,
#    the other partitions carry other cases. The daemon's clock is a minimum over
#    partitions of what was read from them (collector/source/partclock.c), never above
#    what was read before an event on its own partition: no event becomes late.
#  - --clock event --until-end: the records of each case equal its `alone` run.
#  - --clock wall --until-end: the times are in 2026-01-01's first hours, so while a
#    partition lags its clock is its last message's time, and once all are read the
#    clock is now, past every deadline: the records equal `alone` with its end of
#    input a day later (any time past all deadlines gives the same).
# KPROP_CASES (default 400; 10000 for the long run), KPROP_SEED (default 1),
# KPROP_PARTS (default 4; more for big runs: the mock broker keeps 5 MiB a partition),
# KPROP_SHOW (differing cases printed in full, default 3).
source "$(dirname "$0")/lib/kafka.sh"
N=${KPROP_CASES:-400}
SEED=${KPROP_SEED:-1}
PARTS=${KPROP_PARTS:-$(( N > 2000 ? 32 : 4 ))}
SHOW=${KPROP_SHOW:-3}
PROP=$ROOT/build/release/tests/test_engine_property
D=$tmp/dump
mkdir -p "$D"
[ -x "$PROP" ] || { echo "FAIL: kprop: $PROP not built (make tests-bin)"; exit 1; }

PROPTEST_DUMP=$D PROPTEST_SEED=$SEED PROPTEST_CASES=$N "$PROP" >"$tmp/dump.out" 2>&1
check "kprop: the property test wrote $N cases" grep -q '^\[  PASSED  \] 1 test' "$tmp/dump.out"
grep '^dump:' "$tmp/dump.out"
nev=$(wc -l <"$D/events.tsv")
# messages kept queued per partition: the daemon's 100 ms polls get ~40 batches a run
QUEUED=${KPROP_QUEUED:-$(( nev / (PARTS * 40) + 5 ))}

start_broker "events:$PARTS"
start=$(date +%s%N)
kcat -b "$BROKER" -P -t events -K $'\t' -X partitioner=murmur2_random -X linger.ms=5 -X batch.num.messages=8 \
  -l "$D/events.tsv" 2>"$tmp/kcat.err"
check "kprop: kcat produced $nev events (rc=$?)" [ ! -s "$tmp/kcat.err" ]
kcat -b "$BROKER" -C -t events -e -q -f '%p\t%o\t%k\t%s\n' >"$tmp/placed" 2>/dev/null
check "kprop: all $nev events on the broker" [ "$(wc -l <"$tmp/placed")" -eq "$nev" ]
used=$(cut -f1 "$tmp/placed" | sort -u | wc -l)
check "kprop: every one of the $PARTS partitions carries cases ($used used)" [ "$used" -eq "$PARTS" ]
check "kprop: each case lives on one partition" \
  [ "$(cut -f1,3 "$tmp/placed" | sort -u | cut -f2 | sort | uniq -d | wc -l)" -eq 0 ]

# Small fetches and a short local queue: the daemon gets the stream in many small
# batches from all partitions by turns, and its clock moves between them.
{ cat "$D/config.yaml"
  printf 'kafka:\n  properties: { "max.partition.fetch.bytes": "1024", "fetch.max.bytes": "1024",\n'
  printf '                "message.max.bytes": "1000", "queued.min.messages": "%s" }\n' "$QUEUED"; } >"$tmp/config.yaml"

# norm FILE: the anomaly and flow records as sorted JSON lines, without the Kafka
# provenance (topic/partition/offset) that the alone run has not.
norm() { jq -c 'select(.record=="anomaly" or .record=="flow") | del(.topic, .partition, .offset)' "$1" | sort; }

# show_case K WANT GOT: the case's number, its YAML, its events as produced, its records.
show_case() {
  local k=$1
  echo "---- case $k differs (PROPTEST_SEED=$SEED PROPTEST_CASE=$k $PROP prints it at engine level)"
  awk -v h="  # case $k " 'index($0, h) == 1 {on = 1; next} /^  # case / {on = 0} on' "$D/config.yaml"
  echo "  events (produced in this order, keyed c$k):"
  grep -P "^c$k\t" "$D/events.tsv" | cut -f2 | sed 's/^/    /'
  echo "  expected:"; grep "\"correlation_id\":\"c$k\"" "$2" | sed 's/^/    /'
  echo "  got:"; grep "\"correlation_id\":\"c$k\"" "$3" | sed 's/^/    /'
}

# run_clock CLOCK EXPECTED: one daemon run, compared case by case.
run_clock() {
  local clock=$1 want=$tmp/want.$1 got=$tmp/got.$1 t0 rc ms
  t0=$(date +%s%N)
  timeout 120 "$BIN/choreoscope" --config "$tmp/config.yaml" --brokers "$BROKER" --group "kprop-$clock" \
    --topic events --clock "$clock" --until-end --listen 127.0.0.1:0 --log-level warn \
    --records "$tmp/rec.$clock.jsonl" 2>"$tmp/daemon.$clock.err"
  rc=$?
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  check "kprop/$clock: daemon --until-end exits 0 (rc=$rc, ${ms} ms incl. group join)" [ "$rc" -eq 0 ]
  [ "$rc" -eq 0 ] || tail -n 5 "$tmp/daemon.$clock.err"
  check "kprop/$clock: the daemon applied all $nev events" \
    [ "$(jq -r 'select(.record=="summary") | .events' "$tmp/rec.$clock.jsonl")" = "$nev" ]
  norm "$2" >"$want"
  norm "$tmp/rec.$clock.jsonl" >"$got"
  comm -3 "$want" "$got" | jq -r '.correlation_id' | sort -u | sed 's/^c//' | sort -n >"$tmp/bad.$clock"
  local nbad
  nbad=$(wc -l <"$tmp/bad.$clock")
  check "kprop/$clock: $N cases over $PARTS partitions, $(wc -l <"$want") records, 0 differing cases (got $nbad)" \
    [ "$nbad" -eq 0 ]
  check "kprop/$clock: the records are not empty" [ -s "$want" ]
  # Verdicts that only the clock, moved by other cases' events, can have fired before
  # the stream ended (tests/e2e/lib/clockmoved.py says how it is told).
  local moved
  moved=$($PY "$ROOT/tests/e2e/lib/clockmoved.py" "$tmp/rec.$clock.jsonl" "$tmp/placed" "$D/config.yaml")
  check "kprop/$clock: other cases' traffic moved the clock ($moved verdicts fired by it mid-stream)" \
    [ "${moved:-0}" -gt 0 ]
  head -n "$SHOW" "$tmp/bad.$clock" | while read -r k; do show_case "$k" "$want" "$got"; done
}

run_clock event "$D/expected-event.jsonl"
far=$(date -d 2026-01-02T01:16:40Z +%s)
check "kprop/wall: the machine's clock is past every deadline of the cases ($(date -u +%FT%TZ))" \
  [ "$(date +%s)" -gt "$far" ]
run_clock wall "$D/expected-wall.jsonl"
differ() { ! cmp -s "$1" "$2"; }
check "kprop/wall: its expected records differ from the event clock's ($(comm -3 "$tmp/want.event" "$tmp/want.wall" | wc -l) lines)" \
  differ "$tmp/want.event" "$tmp/want.wall"
echo "kprop: $N cases, $nev events, $PARTS partitions, $(( ($(date +%s%N) - start) / 1000000 )) ms from produce to the last compare"
finish
