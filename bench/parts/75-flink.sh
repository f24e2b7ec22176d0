#!/usr/bin/env bash
# Side by side on a real Apache Kafka broker (scripts/kafka.sh, KRaft, one node): the
# choreoscope daemon (--clock event --until-end, a fresh group each round) and the Flink CEP
# peer (bench/peers/flinkcep: Flink 2.2.1 in a MiniCluster, parallelism 1) that does the
# order flow's job. Alternating rounds on the same pre-filled 64-partition JSON topic. Then
# memory per in-flight flow, as bench/parts/70-peers.sh measures it: a topic of M
# OrderPlaced events that open M orders and never finish them, against a baseline topic of
# M undeclared events of the same size (no flow opens).
#
# CPU: utime + stime of the reader process: for the daemon its rusage at exit (GNU time),
# for the peer /proc/self/stat read by the peer at its first record and once it has
# processed every record (the JVM's and MiniCluster's start-up are not in it; the JIT
# compiler is, and is also reported apart). Peak RSS: VmHWM / ru_maxrss. A figure of the
# peer is shown only when its verdicts of that round equal the truth's (order flow).
#
# Env: BENCH_QUICK=1 (a smaller run), BENCH_FLINK_FLOWS (default 150000), BENCH_FLINK_ROUNDS
# (3), BENCH_FLINK_INFLIGHT (1000000), BENCH_FLINK_SIMRATE (100000), as 70-peers.sh.
set -euo pipefail
if [ -n "${BENCH_QUICK:-}" ]; then
  FLOWS=${BENCH_FLINK_FLOWS:-42000}; ROUNDS=${BENCH_FLINK_ROUNDS:-1}; M=${BENCH_FLINK_INFLIGHT:-200000}
else
  FLOWS=${BENCH_FLINK_FLOWS:-150000}; ROUNDS=${BENCH_FLINK_ROUNDS:-3}; M=${BENCH_FLINK_INFLIGHT:-1000000}
fi
SIMRATE=${BENCH_FLINK_SIMRATE:-100000}
CFG=config/demo.yaml
PEER=bench/peers/flinkcep/run.sh
CMP=bench/peers/truth_cmp.py
dir=$(mktemp -d)
peer_pid=
cleanup() {
  [ -n "$peer_pid" ] && kill "$peer_pid" 2>/dev/null
  scripts/kafka.sh stop "$dir/kafka" >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
field() { grep -o "$1=[0-9.]*" | head -1 | cut -d= -f2; }   # field NAME < LINE
tm() { /usr/bin/time -f '%U %S %M %e' -o "$1" "${@:2}"; }   # tm OUT CMD...: user sys maxrss_kb wall

scripts/kafka.sh install >&2
addr=$(scripts/kafka.sh start "$dir/kafka")
for t in bench-json inflight base; do scripts/kafka.sh topic "$dir/kafka" $t 64; done
bin/choreoscope-gen --brokers "$addr" --flows "$FLOWS" --faults 0.01 --seed 7 --sim-rate "$SIMRATE" \
  --topic bench-json --format json --truth "$dir/truth" 2>"$dir/gen.err"
grep -q " 0 delivery failures" "$dir/gen.err" || { echo "75-flink: the generator failed: $(tail -1 "$dir/gen.err")" >&2; exit 1; }

# One reader, one round: appends "reader events seconds eps cpu rss_kb verdicts" to $dir/runs.
daemon() {   # daemon ROUND
  tm "$dir/t" bin/choreoscope --config $CFG --brokers "$addr" --topic bench-json --group "daemon-$1" \
    --clock event --until-end --records "$dir/rec" --log-level info 2>"$dir/o"
  read -r u s m _ <"$dir/t"
  local l v
  l=$(grep 'msg="stopped"' "$dir/o")
  v=$($CMP "$dir/truth" "$dir/rec" >/dev/null && echo equal || echo DIFFERENT)
  echo "daemon-json $(echo "$l" | field ' messages') $(echo "$l" | field seconds) $(echo "$l" | field msgs_per_sec) $(awk -v a="$u" -v b="$s" 'BEGIN {printf "%.2f", a + b}') $m $v" >>"$dir/runs"
}
# peer TOPIC ID: runs the peer until it has processed the whole topic and its verdicts
# stopped coming (three reads of its output topic a second apart agree); leaves its done
# line in $dir/peer.done and its verdicts in $dir/peer.rec.
peer() {
  $PEER --brokers "$addr" --topic "$1" --output "$2-verdicts" --group "$2" >"$dir/peer.out" 2>"$dir/peer.err" &
  peer_pid=$!
  for _ in $(seq 6000); do grep -q "peer: done" "$dir/peer.out" && break; kill -0 $peer_pid 2>/dev/null || break; sleep 0.1; done
  grep "peer: done" "$dir/peer.out" >"$dir/peer.done" || { echo "75-flink: the peer did not finish:" >&2; tail "$dir/peer.err" >&2; exit 1; }
  local n=-1 same=0 m
  for _ in $(seq 60); do
    sleep 1
    kcat -b "$addr" -C -t "$2-verdicts" -e -q -f '%s\n' >"$dir/peer.rec" 2>"$dir/kcat.err" || true
    m=$(wc -l <"$dir/peer.rec")
    if [ "$m" -eq "$n" ]; then same=$((same + 1)); else same=0; fi
    [ $same -ge 2 ] && break
    n=$m
  done
  kill -TERM $peer_pid; wait $peer_pid || true; peer_pid=
}
peer_round() {   # peer_round ROUND
  peer bench-json "flink-$1"
  local l v n
  l=$(cat "$dir/peer.done")
  v=$($CMP "$dir/truth" "$dir/peer.rec" --flow order >/dev/null && echo "equal_(order_flow)" || echo DIFFERENT)
  n=$(echo "$l" | field records)
  echo "flink-json $n $(echo "$l" | field seconds) $(echo "$l" | field events_per_sec) $(echo "$l" | field cpu_seconds) $(echo "$l" | field peak_rss_kb) $v" >>"$dir/runs"
  echo "flink-json-warm $((n - n / 2)) - $(echo "$l" | field second_half_events_per_sec) $(echo "$l" | field second_half_cpu_seconds) $(echo "$l" | field peak_rss_kb) $v" >>"$dir/runs"
  echo "flink-json-nojit $n - - $(awk -v c="$(echo "$l" | field cpu_seconds)" -v j="$(echo "$l" | field jit_cpu_seconds)" 'BEGIN {printf "%.2f", c - j}') $(echo "$l" | field peak_rss_kb) $v" >>"$dir/runs"
  echo "$l" >>"$dir/peer.lines"
}
: >"$dir/runs"
for r in $(seq "$ROUNDS"); do
  echo "75-flink: round $r" >&2
  daemon "$r"; peer_round "$r"
done
$CMP "$dir/truth" "$dir/rec" >"$dir/truth.all" || true
$CMP "$dir/truth" "$dir/peer.rec" --flow order >"$dir/truth.order" || true

# ---- in flight: M orders opened, never finished, against M events no flow declares ----
mk() {   # mk TYPE PREFIX: M JSON events, key TAB value; event times within one second
  awk -v m="$M" -v ty="$1" -v p="$2" 'BEGIN { for (i = 0; i < m; i++)
    printf "%s-%08d\t{\"event_id\":\"%s-e-%08d\",\"correlation_id\":\"%s-%08d\",\"type\":\"%s\",\"source\":\"orders\",\"time\":\"2026-01-01T00:00:00.%06dZ\"}\n",
      p, i, p, i, p, i, ty, int(i * 1000000 / m) }'
}
mk OrderPlaced ord | kcat -P -b "$addr" -t inflight -K $'\t' -X linger.ms=50 -X partitioner=murmur2_random
mk PriceQuoted prc | kcat -P -b "$addr" -t base -K $'\t' -X linger.ms=50 -X partitioner=murmur2_random
{ cat $CFG; printf 'limits:\n  max_flows: %d\n' $((M + M / 10)); } >"$dir/big.yaml"
mem_daemon() {   # mem_daemon TOPIC: peak RSS KiB, and the summary's open count
  tm "$dir/t" bin/choreoscope --config "$dir/big.yaml" --brokers "$addr" --topic "$1" --group "mem-$1" \
    --clock event --until-end --records "$dir/memrec" --log-level info 2>/dev/null
  read -r _ _ m _ <"$dir/t"
  echo "$m $(grep '"record":"summary"' "$dir/memrec" | grep -o '"open":[0-9]*' | head -1 | cut -d: -f2)"
}
read -r d_base _ < <(mem_daemon base)
read -r d_fl d_open < <(mem_daemon inflight)
export PEER_HEAP=2g   # every flow on the heap (hashmap state backend)
peer base flink-mem-base; p_base=$(field peak_rss_kb <"$dir/peer.done")
peer inflight flink-mem; p_fl=$(field peak_rss_kb <"$dir/peer.done")
unset PEER_HEAP
per() { awk -v b="$1" -v k="$2" -v m="$M" 'BEGIN {printf "%.1f", (k - b) * 1024 / m}'; }   # per BASE_KB KB: bytes per flow

# ---- the section ----
med() { awk -v r="$1" '$1 == r' "$dir/runs" | awk "{print \$$2}" | median; }
echo "## Flink CEP peer: choreoscope and a Flink CEP job on real Kafka"
echo
echo "Apache Kafka 4.1.1 (scripts/kafka.sh: one KRaft node, -Xmx512m) on this machine, one"
echo "64-partition topic of JSON events (\`choreoscope-gen --flows $FLOWS --faults 0.01 --seed 7"
echo "--sim-rate $SIMRATE\`: the demo flows, every fault kind). $ROUNDS alternating rounds; each"
echo "round each reader reads the whole topic with a fresh consumer group. The Flink peer"
echo "(bench/peers/flinkcep/README.md) is Flink 2.2.1 in a MiniCluster in one JVM (1 GiB heap,"
echo "parallelism 1, heap state backend, no checkpoints): CEP patterns with \`within\` detect the"
echo "stalls, a keyed process function judges the rest. CPU-seconds per million events"
echo "(utime+stime of the reader) is the figure that holds on a shared machine. Medians over"
echo "the rounds; a peer figure is shown only when its verdicts equal the truth."
echo
echo '```'
echo "bin/choreoscope --config $CFG --brokers ADDR --topic bench-json --group daemon-N --clock event --until-end --records FILE"
echo "$PEER --brokers ADDR --topic bench-json --output flink-N-verdicts --group flink-N"
echo '```'
echo
echo "| reader | events | events/s | CPU-s per M events | events per CPU-s | peak RSS | verdicts |"
echo "|---|---:|---:|---:|---:|---:|---|"
for r in daemon-json flink-json flink-json-warm flink-json-nojit; do
  n=$(med $r 2) eps=$(med $r 4) cpu=$(med $r 5) rss=$(med $r 6)
  v=$(awk -v r=$r '$1 == r {print $7}' "$dir/runs" | sort -u | tr '\n' ' ' | sed 's/_/ /g;s/ $//')
  case $r in
    daemon-*) what="choreoscope daemon, 1 engine thread" ;;
    *-warm) what="same, second half of the records (warmer JVM)" ;;
    *-nojit) what="same, all records, less the JIT compiler threads' CPU" ;;
    *) what="Flink CEP peer, parallelism 1" ;;
  esac
  cpm=$(awk -v c="$cpu" -v n="$n" 'BEGIN {printf "%.2f", c * 1e6 / n}')
  epc=$(awk -v a="$n" -v b="$cpu" 'BEGIN {printf "%.0f", a / b}')
  if [ "$v" = DIFFERENT ] || { [ "${r%%-*}" = flink ] && [ "$v" != "equal (order flow)" ]; }; then
    eps="-" cpm="-" epc="-"   # unequal work: no figure
  fi
  echo "| $what | $n | $eps | $cpm | $epc | $((rss / 1024)) MiB | $v |"
  eval "EPC_${r//-/_}=$epc"
done
echo
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b == "-" || a == "-") print "-"; else printf "%.1fx", a / b}'; }
echo "| ratio | measured |"
echo "|---|---:|"
echo "| choreoscope / Flink peer, events per CPU-second, whole run | $(ratio "$EPC_daemon_json" "$EPC_flink_json") |"
echo "| same, against the peer less its JIT compiler (a warm JVM) | $(ratio "$EPC_daemon_json" "$EPC_flink_json_nojit") |"
echo
echo "In flight: $M orders opened and never finished (one OrderPlaced each, event times"
echo "within one second, so no deadline passes), against a baseline topic of $M events of a"
echo "type no flow declares. Per flow = (peak RSS in flight - peak RSS baseline) / $M. The"
echo "daemon ran with \`limits.max_flows: $((M + M / 10))\` and reported $d_open flows open; the"
echo "peer with a 2 GiB heap (every flow's OrderFlow and CEP's partial match on it)."
echo
echo "| reader | baseline peak RSS | peak RSS, $M in flight | RSS per in-flight flow |"
echo "|---|---:|---:|---:|"
echo "| choreoscope daemon | $((d_base / 1024)) MiB | $((d_fl / 1024)) MiB | $(per "$d_base" "$d_fl") B |"
echo "| Flink CEP peer, heap state | $((p_base / 1024)) MiB | $((p_fl / 1024)) MiB | $(per "$p_base" "$p_fl") B |"
echo
echo "Verdicts against the generator's truth (\`$CMP\`): choreoscope on every flow:"
echo "$(cat "$dir/truth.all"); the Flink peer on the order flow: $(cat "$dir/truth.order")."
echo
echo "What bounds each reader, and what the figures do not say:"
echo
echo "- **Flink peer**: its task threads (source with the Kafka fetcher and JSON parsing, two CEP"
echo "  operators that buffer every order event until the watermark passes it and run an NFA per"
echo "  key, OrderChecks, the sink) and, in a run of this size, the JIT compiler; the row less"
echo "  the compiler threads' CPU is what a warm, long-running job would spend at most. Records"
echo "  cross three keyed exchanges (serialized between tasks even in one JVM), and each CEP"
echo "  operator keeps its keys' NFA state and buffered events in Flink's keyed state."
echo "- **Equal work?** The peer judges only the order flow (it parses and skips the quote and"
echo "  shipment events), choreoscope all three flows and every kind; the peer keeps no durable"
echo "  state here (no checkpoints; \`--checkpoint-ms\` turns them on), the daemon none either in"
echo "  this run. Both favour the peer."
echo "- **Memory**: heap state, so RSS per flow is the peer's real cost of holding an open order"
echo "  (its OrderFlow and CEP's partial match with the buffered OrderPlaced), with a 2 GiB heap;"
echo "  the JVM's heap sizing adds noise to it."
echo
echo "Every run (reader events seconds events/s cpu_s peak_rss_kb verdicts), then the peer's own lines:"
echo
echo '```'
cat "$dir/runs" "$dir/peer.lines"
echo '```'
