#!/usr/bin/env bash
# Durable state on a real Apache Kafka broker (scripts/kafka.sh), event-time judging on
# a 16-partition topic (issue 9):
#  1. crash: the generator sends ~37k events with faults of every kind in real time;
#     a daemon with state.dir judges them live and is killed with SIGKILL six times
#     mid-stream, restarted each time in the same group; the last one runs --until-end.
#     Four kills fall at random points of ingest; two fall inside a checkpoint write
#     (CHOREOSCOPE_TEST_CKPT_STALL_MS holds each file half-written for a while; the kill
#     comes while the daemon's temporary file exists): the previous checkpoint must stay
#     valid (the next daemon, with on_bad_checkpoint: fail, restores all 16 partitions)
#     and the orphaned temporary file is removed at the next start. The union of the
#     runs' records, deduplicated by identity (the whole record), equals an
#     uninterrupted run's over the same topic and the generator's truth: 0 lost,
#     0 invented, completions counted once.
#  2. a damaged checkpoint is refused with exit 3 naming the file; with
#     state.on_bad_checkpoint: fresh it is moved aside and the daemon runs.
# ENGINE_THREADS: the daemons' engine.threads (default 2: each partition's checkpoint
# belongs to one of two engine shards, and moves with the partition).
ENGINE_THREADS=${ENGINE_THREADS:-2}
source "$(dirname "$0")/lib/realkafka.sh"

start_kafka
topic crash 16

# config: the demo flows, no alert topics, state in $tmp/state (checkpoint every 200 ms),
# a 2 s session timeout (a member killed with SIGKILL leaves the group after it)
mkcfg() {   # OUT [EXTRA STATE LINES]
  { sed -n '1,/^http:/p' "$ROOT/config/demo.yaml" | grep -v -e alert_topic -e dead_letter_topic -e '^http:'
    printf '  properties:\n    session.timeout.ms: "2000"\n    heartbeat.interval.ms: "300"\n'
    printf 'state:\n  dir: %s\n  checkpoint_interval: 200ms\n%s' "$tmp/state" "${2:-}"
    [ -z "${ENGINE_THREADS:-}" ] || printf 'engine:\n  threads: %s\n' "$ENGINE_THREADS"
    sed -n '/^flows:/,$p' "$ROOT/config/demo.yaml"; } >"$1"
}
mkcfg "$tmp/state.yaml"
daemon() {   # GROUP RECORDS [CONFIG] [ARGS...]: a daemon in the background, $dp its pid
  local g=$1 r=$2 c=${3:-$tmp/state.yaml}; shift 3 || shift $#
  "$BIN/choreoscope" --config "$c" --brokers "$BROKER" --group "$g" --topic crash --clock event \
    --listen "127.0.0.1:$(free_port)" --records "$r" "$@" 2>>"$tmp/daemon.err" &
  dp=$!; pids+=("$dp")
}

# assigned: until the daemon's log shows its Nth assignment
assigned() { for _ in $(seq 150); do [ "$(grep -c 'partitions assigned' "$tmp/daemon.err" 2>/dev/null)" -ge "${1}" ] 2>/dev/null && return 0; sleep 0.1; done; return 1; }
# midwrite PID: until PID's temporary checkpoint file exists (a write in progress)
midwrite() { for _ in $(seq 400); do ls "$tmp/state/crash/"*.ckpt.tmp."$1" >/dev/null 2>&1 && return 0; sleep 0.02; done; return 1; }
"$BIN/choreoscope-gen" --brokers "$BROKER" --topic crash --flows 8000 --faults 0.05 --seed 9 \
  --rate 1600 --tail 1 --truth "$tmp/truth.jsonl" 2>"$tmp/gen.err" &
gp=$!; pids+=("$gp")
kills=""; midstream=0; midwrites=0; nkill=6
for run in $(seq $nkill); do
  if [ "$run" = 3 ] || [ "$run" = 5 ]; then
    # each file stalls 300 ms half-written: the kill lands inside a checkpoint write
    CHOREOSCOPE_TEST_CKPT_STALL_MS=300 daemon crash "$tmp/run$run.jsonl"
    assigned "$run"
    midwrite "$dp" && midwrites=$((midwrites + 1))
    kills="$kills mid-write"
  else
    daemon crash "$tmp/run$run.jsonl"
    assigned "$run"
    t=$(( 500 + RANDOM % 1200 ))            # a random point 0.5-1.7 s into the run
    sleep "$(printf '%d.%03d' $((t / 1000)) $((t % 1000)))"
    kills="$kills ${t}ms"
  fi
  kill -0 "$gp" 2>/dev/null && midstream=$((midstream + 1))
  kill -KILL "$dp"; wait "$dp" 2>/dev/null
  [ "$run" = 1 ] && ck1=$(ls "$tmp/state/crash" | grep -c '\.ckpt$')
done
wait "$gp"
# a tick on every partition at 60 s of event time, past every deadline of the stream
# (~25 s of it): the truth's `abandoned` verdicts fire before the end of input
"$BIN/choreoscope-gen" --brokers "$BROKER" --topic crash --flows 0 --tail 60 2>>"$tmp/gen.err"
check "crash: generator sent every event ($(grep -m1 'delivery failures' "$tmp/gen.err" | cut -c1-70)...)" \
  [ "$(grep -c "0 delivery failures" "$tmp/gen.err")" -eq 2 ]
daemon crash "$tmp/run$((nkill + 1)).jsonl" "$tmp/state.yaml" --until-end
timeout 60 tail --pid="$dp" -f /dev/null; wait "$dp"; rc=$?
check "crash: $nkill SIGKILLs mid-stream (after assignment:$kills; generator still sending at $midstream)" [ "$midstream" -eq $nkill ]
check "crash: 2 of them inside a checkpoint write (the daemon's temporary file existed at the kill: $midwrites)" [ "$midwrites" -eq 2 ]
check "crash: last daemon resumes and ends with 0 (rc=$rc)" [ "$rc" -eq 0 ]
check "crash: checkpoints of the 16 partitions existed at the first SIGKILL ($ck1 files)" [ "$ck1" -eq 16 ]
restored=$(grep -c 'partition restored from checkpoint' "$tmp/daemon.err")
check "crash: every restart resumed from valid checkpoints, none refused ($restored partition restores, want $((16 * nkill)))" \
  all '[ "$restored" -eq $((16 * nkill)) ] && ! grep -q "checkpoint refused" "$tmp/daemon.err"'
stale=$(grep -o 'stale_temp_files_removed=[0-9]*' "$tmp/daemon.err" | cut -d= -f2 | paste -sd+ | bc)
check "crash: the temporary files of the killed writers removed at the next start ($stale), none left" \
  all '[ "$stale" -ge 2 ] && ! ls "$tmp/state/crash/" | grep -q "\.tmp\."'

# the uninterrupted run, without state, over the same (now complete) topic
timeout 60 "$BIN/choreoscope" --config "$ROOT/config/demo.yaml" --brokers "$BROKER" --group base \
  --topic crash --clock event --until-end --listen "127.0.0.1:$(free_port)" \
  --records "$tmp/base.jsonl" 2>"$tmp/base.err"
check "crash: uninterrupted run exits 0" [ $? -eq 0 ]

ident() { jq -c 'select(.record=="anomaly" or .record=="flow")' "$@" | sort; }
runs=$(for r in $(seq $((nkill + 1))); do echo "$tmp/run$r.jsonl"; done)
ident "$tmp/base.jsonl" >"$tmp/want"
ident $runs | sort -u >"$tmp/got"
lost=$(comm -23 "$tmp/want" "$tmp/got" | wc -l)
invented=$(comm -13 "$tmp/want" "$tmp/got" | wc -l)
repeated=$(( $(cat $runs | grep -c '"record":"\(anomaly\|flow\)"') - $(wc -l <"$tmp/got") ))
check "crash: uninterrupted run has no duplicate record" [ -z "$(uniq -d "$tmp/want")" ]
check "crash: $(wc -l <"$tmp/want") records; after $nkill SIGKILLs 0 lost ($lost), 0 invented ($invented); $repeated re-written with the same identity" \
  all '[ "$lost" -eq 0 ] && [ "$invented" -eq 0 ] && [ -s "$tmp/want" ]'
jq -r '"\(.flow) \(.correlation_id) \(.kind) \(.step)"' "$tmp/truth.jsonl" | sort >"$tmp/truth"
anomalies "$tmp/got" >"$tmp/got.anomalies"
check "crash: the anomalies of the deduplicated union equal the generator's truth ($(wc -l <"$tmp/truth") injected)" \
  all 'same_lines "$tmp/truth" "$tmp/got.anomalies" && [ -s "$tmp/truth" ]'
check "crash: completed flows counted once ($(completed_count "$tmp/got") = $(completed_count "$tmp/want"))" \
  [ "$(completed_count "$tmp/got")" -eq "$(completed_count "$tmp/want")" ]
check "crash: the runs wrote anomalies of several kinds ($(jq -r 'select(.record=="anomaly").kind' "$tmp/got" | sort -u | wc -l))" \
  [ "$(jq -r 'select(.record=="anomaly").kind' "$tmp/got" | sort -u | wc -l)" -ge 5 ]

# 2. a damaged checkpoint: refused (exit 3, names the file), or moved aside with `fresh`
f=$(ls "$tmp/state/crash/"*.ckpt | head -1)
# (inside the state blob: the files are small at the end, every flow closed)
printf 'garbage' | dd of="$f" bs=1 seek=78 conv=notrunc 2>/dev/null
"$BIN/choreoscope" --config "$tmp/state.yaml" --brokers "$BROKER" --group crash --topic crash \
  --clock event --until-end --listen "127.0.0.1:$(free_port)" --records /dev/null 2>"$tmp/bad.err"
rc=$?
check "damaged checkpoint: refused, exit 3 (rc=$rc)" [ "$rc" -eq 3 ]
check "damaged checkpoint: the error names the file and the fallback" \
  grep -q "checkpoint $f refused: damaged (checksum mismatch).*state.on_bad_checkpoint: fresh" "$tmp/bad.err"
mkcfg "$tmp/fresh.yaml" "  on_bad_checkpoint: fresh
"
timeout 60 "$BIN/choreoscope" --config "$tmp/fresh.yaml" --brokers "$BROKER" --group crash --topic crash \
  --clock event --until-end --listen "127.0.0.1:$(free_port)" --records /dev/null 2>"$tmp/fresh.err"
rc=$?
check "damaged checkpoint with on_bad_checkpoint=fresh: moved aside, runs (rc=$rc)" \
  all '[ "$rc" -eq 0 ] && [ -f "$f.bad" ] && grep -q "moved aside" "$tmp/fresh.err"'
[ $fails -eq 0 ] || { grep -E 'level=(error|warn)' "$tmp/daemon.err" | head -5; }
finish
