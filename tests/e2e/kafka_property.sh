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
# KPROP_CASES (default 400; KPROP_CASES=10000 for the long run), KPROP_ROUND (cases
# per daemon run, default 1000: a run's config has one flow per case, and one run per
# round keeps each under a minute on a shared machine), KPROP_SEED (default 1),
# KPROP_PARTS (partitions, default 4), KPROP_SHOW (differing cases printed in full per
# round, default 3), KPROP_FIRST (the first case, default 0), ENGINE_THREADS (the
# daemon's engine.threads; unset: every count of KPROP_THREADS, default "1 2 4", each
# over the same cases: verdicts of 2 and 4 engine shards equal one thread's).
# Case K is case K of test_engine_property with the same seed.
source "$(dirname "$0")/lib/kafka.sh"
N=${KPROP_CASES:-400}
FIRST=${KPROP_FIRST:-0}
ROUND=${KPROP_ROUND:-1000}
SEED=${KPROP_SEED:-1}
PARTS=${KPROP_PARTS:-4}
SHOW=${KPROP_SHOW:-3}
PROP=$ROOT/build/release/tests/test_engine_property
[ -x "$PROP" ] || { echo "FAIL: kprop: $PROP not built (make tests-bin)"; exit 1; }
far=$(date -d 2026-01-02T01:16:40Z +%s)
check "kprop: the machine's clock is past every deadline of the cases ($(date -u +%FT%TZ))" \
  [ "$(date +%s)" -gt "$far" ]
nrounds=$(( (N + ROUND - 1) / ROUND ))
THREADS=${ENGINE_THREADS:-${KPROP_THREADS:-1 2 4}}
topics=()
for t in $THREADS; do
  for r in $(seq 0 $((nrounds - 1))); do topics+=("events$t-$r:$PARTS"); done
done
start_broker "${topics[@]}"

# norm FILE: the anomaly and flow records as sorted JSON lines, without the Kafka
# provenance (topic/partition/offset) that the alone run has not.
norm() { jq -c 'select(.record=="anomaly" or .record=="flow") | del(.topic, .partition, .offset)' "$1" | sort; }
differ() { ! cmp -s "$1" "$2"; }

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

# run_clock CLOCK EXPECTED: one daemon run over the round's topic, compared case by case.
run_clock() {
  local clock=$1 want=$R/want.$1 got=$R/got.$1 t0 rc ms nbad moved
  t0=$(date +%s%N)
  timeout 120 "$BIN/choreoscope" --config "$R/config.yaml" --brokers "$BROKER" --group "kprop-$clock-$TOPIC" \
    --topic "$TOPIC" --clock "$clock" --until-end --listen 127.0.0.1:0 --log-level warn \
    --records "$R/rec.$clock.jsonl" 2>"$R/daemon.$clock.err"
  rc=$?
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  check "$L/$clock: daemon --until-end exits 0 (rc=$rc, ${ms} ms incl. group join)" [ "$rc" -eq 0 ]
  [ "$rc" -eq 0 ] || tail -n 5 "$R/daemon.$clock.err"
  check "$L/$clock: the daemon applied all $nev events" \
    [ "$(jq -r 'select(.record=="summary") | .events' "$R/rec.$clock.jsonl")" = "$nev" ]
  norm "$2" >"$want"
  norm "$R/rec.$clock.jsonl" >"$got"
  comm -3 "$want" "$got" | jq -r '.correlation_id' | sort -u | sed 's/^c//' | sort -n >"$R/bad.$clock"
  nbad=$(wc -l <"$R/bad.$clock")
  total_bad=$((total_bad + nbad))
  check "$L/$clock: $n cases over $PARTS partitions, $(wc -l <"$want") records, 0 differing cases (got $nbad)" \
    [ "$nbad" -eq 0 ]
  check "$L/$clock: the records are not empty" [ -s "$want" ]
  # Verdicts that only the clock, moved by other cases' events, can have fired before
  # the stream ended (tests/e2e/lib/clockmoved.py says how it is told).
  moved=$($PY "$ROOT/tests/e2e/lib/clockmoved.py" "$R/rec.$clock.jsonl" "$R/placed" "$D/config.yaml")
  check "$L/$clock: other cases' traffic moved the clock ($moved verdicts fired by it mid-stream)" \
    [ "${moved:-0}" -gt 0 ]
  head -n "$SHOW" "$R/bad.$clock" | while read -r k; do show_case "$k" "$want" "$got"; done
}

# round R FIRST COUNT: dump, produce to topic eventsR, run both clocks, compare.
round() {
  R=$tmp/t$ENGINE_THREADS/r$1; D=$R/dump; TOPIC=events$ENGINE_THREADS-$1; n=$3
  L="kprop[$2..$(($2 + $3 - 1))]@${ENGINE_THREADS}t"
  mkdir -p "$D"
  PROPTEST_DUMP=$D PROPTEST_SEED=$SEED PROPTEST_FIRST=$2 PROPTEST_CASES=$n "$PROP" >"$R/dump.out" 2>&1
  check "$L: the property test wrote $n cases" grep -q '^\[  PASSED  \] 1 test' "$R/dump.out"
  grep '^dump:' "$R/dump.out"
  nev=$(wc -l <"$D/events.tsv")
  total_ev=$((total_ev + nev))
  # Small producer batches, small fetches and a short local queue: the daemon gets the
  # stream in small batches from all partitions by turns (~40 polls of 100 ms a run),
  # and its clock moves between them.
  local queued=${KPROP_QUEUED:-$(( nev / (PARTS * 40) + 5 ))}
  kcat -b "$BROKER" -P -t "$TOPIC" -K $'\t' -X partitioner=murmur2_random -X linger.ms=5 \
    -X batch.num.messages=8 -l "$D/events.tsv" 2>"$R/kcat.err"
  check "$L: kcat produced $nev events (rc=$?)" [ ! -s "$R/kcat.err" ]
  kcat -b "$BROKER" -C -t "$TOPIC" -e -q -f '%p\t%o\t%k\t%s\n' >"$R/placed" 2>/dev/null
  check "$L: all $nev events on the broker" [ "$(wc -l <"$R/placed")" -eq "$nev" ]
  local used
  used=$(cut -f1 "$R/placed" | sort -u | wc -l)
  check "$L: every one of the $PARTS partitions carries cases ($used used)" [ "$used" -eq "$PARTS" ]
  check "$L: each case lives on one partition" \
    [ "$(cut -f1,3 "$R/placed" | sort -u | cut -f2 | sort | uniq -d | wc -l)" -eq 0 ]
  { cat "$D/config.yaml"
    printf 'kafka:\n  properties: { "max.partition.fetch.bytes": "1024", "fetch.max.bytes": "1024",\n'
    printf '                "message.max.bytes": "1000", "queued.min.messages": "%s" }\n' "$queued"
    printf 'engine:\n  threads: %s\n' "$ENGINE_THREADS"
  } >"$R/config.yaml"
  run_clock event "$D/expected-event.jsonl"
  run_clock wall "$D/expected-wall.jsonl"
  check "$L/wall: its expected records differ from the event clock's ($(comm -3 "$R/want.event" "$R/want.wall" | wc -l) lines)" \
    differ "$R/want.event" "$R/want.wall"
}

start=$(date +%s%N)
total_bad=0; total_ev=0
for ENGINE_THREADS in $THREADS; do
  for r in $(seq 0 $((nrounds - 1))); do
    k=$((r * ROUND))
    round "$r" $((FIRST + k)) $(( N - k < ROUND ? N - k : ROUND ))
  done
done
echo "kprop: $N cases from $FIRST (seed $SEED), $total_ev events, $nrounds round(s) over $PARTS partitions, both clocks, engine.threads $THREADS:" \
  "$total_bad differing, $(( ($(date +%s%N) - start) / 1000000 )) ms"
finish
