#!/usr/bin/env bash
# choreoscope discover, round trip on the demo flows: generator traffic without faults
# -> discover -> --check-config accepts it -> the same steps and orderings as
# config/demo.yaml, every within and deadline within a factor of 2 -> replaying the
# traffic against it gives no anomaly. With 1 % of flows faulted per kind: the same
# graph (steps and orderings), and replay finds the injected faults: every
# structural fault exactly, none that was not injected; the timing faults that fall
# inside the timing observed in the (faulted) traffic are not found, and their share
# is printed (docs/discover.md says which and why).
set -u
cd "$(dirname "$0")/../.."
. tests/e2e/lib/common.sh
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
B=bin/choreoscope
diff_graph() { python3 tests/e2e/lib/graphdiff.py "$@" > "$tmp/diff"; local rc=$?; cat "$tmp/diff" | sed 's/^/  /'; return $rc; }
anomalies() { tail -1 "$1" | python3 -c 'import json,sys; print(sum(json.load(sys.stdin)["anomalies"].values()))'; }

bin/choreoscope-gen --flows 20000 --seed 3 --format json --out "$tmp/clean.jsonl" > /dev/null 2>&1
check "generator wrote the clean traffic" [ "$(wc -l < "$tmp/clean.jsonl")" -gt 90000 ]
$B discover --explain "$tmp/clean.jsonl" > "$tmp/clean.yaml" 2> "$tmp/explain"
check "discover exits 0" [ $? -eq 0 ]
check "--explain gives a reason per rule" grep -q '^order/OrderCancelled: after_any \[PaymentDeclined, PaymentRefunded\]: pairwise exclusive' "$tmp/explain"
check "the YAML carries the evidence" grep -q '# after InventoryReserved: with it in [0-9]* of [0-9]* flows (100.0%); contradicting: 0 without it, 0 with it later' "$tmp/clean.yaml"
check "--check-config accepts the discovered graph" $B --check-config "$tmp/clean.yaml"
check "same steps and orderings as config/demo.yaml, deadlines within 2x" diff_graph config/demo.yaml "$tmp/clean.yaml" --timing
$B replay --config "$tmp/clean.yaml" "$tmp/clean.jsonl" > "$tmp/clean.out"
check "replaying the clean traffic gives 0 anomalies" [ "$(anomalies "$tmp/clean.out")" = 0 ]
check "every demo flow closed completed or compensated" \
  [ "$(grep -c '"record":"flow".*"outcome":"\(completed\|compensated\)"' "$tmp/clean.out")" = 20000 ]

bin/choreoscope-gen --flows 20000 --seed 3 --format json --faults 0.01 --truth "$tmp/truth.jsonl" \
  --out "$tmp/faulty.jsonl" > /dev/null 2>&1
$B discover "$tmp/faulty.jsonl" > "$tmp/faulty.yaml" 2> /dev/null
check "faults 1 %: --check-config accepts" $B --check-config "$tmp/faulty.yaml"
check "faults 1 %: the same graph (steps and orderings)" diff_graph config/demo.yaml "$tmp/faulty.yaml"
$B replay --config "$tmp/faulty.yaml" "$tmp/faulty.jsonl" > "$tmp/faulty.out"
python3 - "$tmp/truth.jsonl" "$tmp/faulty.out" > "$tmp/recall" <<'PY'
import json, sys
truth, found = set(), set()
for l in open(sys.argv[1]):
    d = json.loads(l); truth.add((d["correlation_id"], d["kind"], d["step"]))
for l in open(sys.argv[2]):
    d = json.loads(l)
    if d.get("record") == "anomaly": found.add((d["correlation_id"], d["kind"], d["step"]))
for k in sorted({x[1] for x in truth | found}):
    t = {x for x in truth if x[1] == k}; f = {x for x in found if x[1] == k}
    print(k, len(t), len(t & f), len(f - t))
PY
sed 's/^/  injected, found, not injected: /' "$tmp/recall"
structural_ok() {
  for k in missing out_of_order duplicate double_step retry_storm unexpected; do
    awk -v k=$k '$1 == k && $2 > 0 && $2 == $3 {ok=1} END {exit !ok}' "$tmp/recall" || return 1
  done
}
check "faults 1 %: every structural fault found" structural_ok
check "faults 1 %: no anomaly that was not injected" awk '$4 != 0 {bad=1} END {exit bad}' "$tmp/recall"
check "faults 1 %: some timing faults found (stalled, abandoned)" \
  awk '($1 == "stalled" || $1 == "abandoned") && $3 > 0 {n++} END {exit n != 2}' "$tmp/recall"
[ $fails -eq 0 ]
