#!/usr/bin/python3
"""Compares verdict records with choreoscope-gen's --truth, as multisets of
(correlation_id, kind, step), the way tests/e2e/gen_truth.sh does: every injected
verdict found, nothing else, none twice.

  truth_cmp.py TRUTH RECORDS [--flow NAME]

RECORDS: JSON lines; only {"record":"anomaly",...} lines count. --flow keeps the truth
and the records of one flow (the peer judges only "order"). Prints one line; exit 0
when equal, 1 when not."""
import json
import sys
from collections import Counter


def main():
    args = sys.argv[1:]
    flow = None
    if "--flow" in args:
        i = args.index("--flow")
        flow = args[i + 1]
        del args[i:i + 2]
    truth, got = Counter(), Counter()
    for line in open(args[0]):
        d = json.loads(line)
        if flow is None or d.get("flow") == flow:
            truth[(d["correlation_id"], d["kind"], d["step"])] += 1
    for line in open(args[1]):
        line = line.strip()
        if not line:
            continue
        d = json.loads(line)
        if d.get("record") == "anomaly" and (flow is None or d.get("flow") == flow):
            got[(d["correlation_id"], d["kind"], d.get("step") or "")] += 1
    miss, extra = truth - got, got - truth
    if miss or extra or not truth:
        print("truth %d, records %d; not found %d %s; not injected %d %s" % (
            sum(truth.values()), sum(got.values()), sum(miss.values()), sorted(miss)[:3],
            sum(extra.values()), sorted(extra)[:3]))
        return 1
    kinds = Counter(k for (_, k, _) in truth.elements())
    print("%d verdicts equal (%s)" % (sum(truth.values()),
          " ".join("%s=%d" % kv for kv in sorted(kinds.items()))))
    return 0


sys.exit(main())
