#!/usr/bin/env bash
# choreoscope-gen's ground truth against the engine: generate a few thousand flows
# with every fault kind (synthetic clock), replay them with `choreoscope replay`, and
# compare the anomaly records with the truth file exactly, as multisets of
# (correlation_id, kind, step): every injected verdict found, nothing else flagged,
# none reported twice. Run at three interleavings (sparse, dense, very dense
# simulated traffic) and in both replay formats, since verdicts must not depend on
# how flows interleave (docs/semantics.md, "Determinism").
set -u
cd "$(dirname "$0")/../.."
GEN=bin/choreoscope-gen
CFG=config/demo.yaml
PY=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
source tests/e2e/lib/common.sh

# compare TRUTH RECORDS: prints a one-line verdict, exits 0 when equal
cat >"$tmp/compare.py" <<'EOF'
import json, sys
from collections import Counter
truth, got = Counter(), Counter()
for line in open(sys.argv[1]):
    d = json.loads(line)
    truth[(d["correlation_id"], d["kind"], d["step"])] += 1
for line in open(sys.argv[2]):
    d = json.loads(line)
    if d.get("record") == "anomaly":
        got[(d["correlation_id"], d["kind"], d.get("step") or "")] += 1
miss, extra = truth - got, got - truth
kinds = Counter(k for (_, k, _) in truth.elements())
if miss or extra:
    print("truth %d, replay %d; not found %d %s; not injected %d %s" % (
        sum(truth.values()), sum(got.values()), sum(miss.values()),
        sorted(miss)[:3], sum(extra.values()), sorted(extra)[:3]))
    sys.exit(1)
print("%d verdicts equal (%s)" % (sum(truth.values()),
      " ".join("%s=%d" % kv for kv in sorted(kinds.items()))))
EOF

run() { # name gen-args...
  local name=$1; shift
  local ext=jsonl
  case " $* " in *" --out-format protobuf "*) ext=pb ;; esac
  if ! $GEN --out "$tmp/$name.$ext" --truth "$tmp/$name.truth" --faults 0.02 "$@" \
      2>"$tmp/$name.gen.err"; then
    say fail "gen $name: $(tail -1 "$tmp/$name.gen.err")"
    return
  fi
  if ! bin/choreoscope replay --config $CFG "$tmp/$name.$ext" >"$tmp/$name.rec" \
      2>"$tmp/$name.replay.err"; then
    say fail "replay $name: $(tail -1 "$tmp/$name.replay.err")"
    return
  fi
  local msg
  if msg=$($PY "$tmp/compare.py" "$tmp/$name.truth" "$tmp/$name.rec"); then
    say ok "gen truth = replay anomalies, $name: $msg"
  else
    say fail "gen truth = replay anomalies, $name: $msg"
  fi
}

run sparse-json --flows 1500 --seed 11 --sim-rate 50 --format json
run dense-protobuf --flows 4000 --seed 12 --sim-rate 5000 --format protobuf --out-format protobuf
run verydense-jsonl --flows 4000 --seed 13 --sim-rate 100000 --format cloudevents-binary

# every fault kind and every template variant is exercised
kinds=$(cat "$tmp"/*.truth | $PY -c 'import sys, json; print(" ".join(sorted({json.loads(l)["fault"] for l in sys.stdin})))')
want="abandoned double_step duplicate join_wait missing out_of_order retry_storm stalled unexpected"
[ "$kinds" = "$want" ] && say ok "every fault kind injected ($kinds)" || say fail "fault kinds: got '$kinds', want '$want'"
nvar=$(cat "$tmp"/*.truth | $PY -c 'import sys, json; print(len({json.loads(l)["variant"] for l in sys.stdin}))')
[ "$nvar" -eq 14 ] && say ok "all 14 fault templates used" || say fail "fault templates used: $nvar of 14"

# faultless traffic: no anomaly at all, every flow completed or compensated
$GEN --out "$tmp/clean.jsonl" --flows 3000 --seed 14 --format json --truth "$tmp/clean.truth" 2>/dev/null
bin/choreoscope replay --config $CFG "$tmp/clean.jsonl" >"$tmp/clean.rec" 2>/dev/null
n=$(grep -c '"record":"anomaly"' "$tmp/clean.rec")
[ "$n" -eq 0 ] && [ ! -s "$tmp/clean.truth" ] && say ok "faultless traffic: no anomaly, empty truth" \
  || say fail "faultless traffic: $n anomalies, truth $(wc -l <"$tmp/clean.truth") lines"
outcomes=$(grep '"record":"summary"' "$tmp/clean.rec" | $PY -c 'import sys, json; d = json.loads(sys.stdin.read()); print(sorted(k for k, v in d["outcomes"].items() if v))')
[ "$outcomes" = "['compensated', 'completed']" ] && say ok "faultless traffic: outcomes $outcomes" \
  || say fail "faultless traffic: outcomes $outcomes"

# same seed, same bytes (synthetic clock)
$GEN --out "$tmp/a.pb" --flows 500 --seed 5 --faults 0.05 2>/dev/null
$GEN --out "$tmp/b.pb" --flows 500 --seed 5 --faults 0.05 2>/dev/null
cmp -s "$tmp/a.pb" "$tmp/b.pb" && say ok "same seed, identical replay file" || say fail "same seed, different files"

[ "$fails" -eq 0 ]
