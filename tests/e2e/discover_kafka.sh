#!/usr/bin/env bash
# choreoscope discover over a live topic: choreoscope-broker (real Kafka protocol on
# loopback), the demo traffic produced by choreoscope-gen in three wire formats
# (protobuf, JSON, CloudEvents binary), then `discover --brokers --topic --until-end`:
# the same graph as config/demo.yaml and as discover over the generator's own replay
# file; --duration stops a run on an idle topic; SIGTERM stops it with a graph written.
source "$(dirname "$0")/lib/kafka.sh"
start_broker pb:4 js:4 ceb:4 idle:1
for f in pb:protobuf:pb js:json:jsonl ceb:cloudevents-binary:jsonl; do
  IFS=: read -r t fmt ext <<< "$f"
  "$BIN/choreoscope-gen" --brokers "$BROKER" --topic "$t" --flows 3000 --seed 5 \
    --format "$fmt" --out "$tmp/$t.$ext" 2>"$tmp/gen.$t.err"
  timeout 60 "$BIN/choreoscope" discover --brokers "$BROKER" --topic "$t" --group d-$t --until-end \
    --out "$tmp/$t.yaml" 2>"$tmp/d.$t.err"
  check "$t: discover --until-end exits 0 (rc=$?)" grep -q "messages consumed, 0 undecodable" "$tmp/d.$t.err"
  check "$t: --check-config accepts it" "$BIN/choreoscope" --check-config "$tmp/$t.yaml"
  check "$t: the same graph as config/demo.yaml" $PY tests/e2e/lib/graphdiff.py config/demo.yaml "$tmp/$t.yaml"
  "$BIN/choreoscope" discover --out "$tmp/$t.file.yaml" "$tmp/$t.$ext" 2>/dev/null
  # (CloudEvents binary carries no `flow`: the flows are then named after their start step)
  strip() { grep -v -e '^ *#' -e '- name:' "$1" | sed 's/ *#.*//'; }
  check "$t: the same YAML as discover over the replay file (names aside)" \
    same_lines <(strip "$tmp/$t.file.yaml") <(strip "$tmp/$t.yaml")
done
start=$(date +%s%N)
"$BIN/choreoscope" discover --brokers "$BROKER" --topic idle --duration 1500ms --out "$tmp/idle.yaml" 2>"$tmp/idle.err"
rc=$?; ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "--duration 1500ms on an empty topic stops in time (${ms} ms) and says nothing was learned" \
  eval '[ $rc -eq 1 ] && [ $ms -ge 1500 ] && [ $ms -lt 8000 ] && grep -q "nothing learned" "$tmp/idle.err"'
"$BIN/choreoscope" discover --brokers "$BROKER" --topic pb --group d-term --duration 10m --out "$tmp/term.yaml" 2>"$tmp/term.err" &
dp=$!; pids+=("$dp")
for _ in $(seq 100); do [ "$(grep -c . "$tmp/term.err")" -gt 0 ] && break; sleep 0.1; done
sleep 3
kill -TERM "$dp"; wait "$dp"; rc=$?
check "SIGTERM: exits 0 with the graph learned so far (rc=$rc)" \
  eval '[ $rc -eq 0 ] && grep -q "stopped by a signal" "$tmp/term.err" && $PY tests/e2e/lib/graphdiff.py config/demo.yaml "$tmp/term.yaml" > /dev/null'
check "live and file inputs exclude each other" eval '! "$BIN/choreoscope" discover --brokers "$BROKER" --topic pb --until-end "$tmp/pb.pb" 2>/dev/null'
check "a live topic needs --duration or --until-end" eval '"$BIN/choreoscope" discover --brokers x --topic pb 2>&1 | grep -q "needs --duration DUR or --until-end"'
finish
