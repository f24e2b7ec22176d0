#!/usr/bin/python3
"""Counts the verdicts that show the daemon's clock moved by other cases' traffic
(tests/e2e/kafka_property.sh).

usage: clockmoved.py RECORDS PLACED CONFIG
  RECORDS  the daemon's --records file (lines in the order the engine wrote them)
  PLACED   "partition TAB offset TAB key TAB payload" per message, as kcat consumed them
  CONFIG   the config with one flow per case (name pK, lateness: Nms)

A clock verdict (stalled, missing, abandoned, join_wait: no event of its own) of case
A with deadline D counts when
  - a record triggered by an event comes after it in RECORDS, so it was written while
    the stream was still being applied, not by the end-of-input flush; and
  - every event of A that could have fired it on its own (the engine fires an
    instance's due deadlines when its event at time t proves the clock >= t - lateness)
    was applied after it: its partition's offset is at or above the lowest offset of
    that partition among event records written after the verdict.
Then only the daemon's clock, moved by what other cases put on the partitions, fired
it. Prints the count.
"""
import json
import re
import sys
from datetime import datetime


def ms(t):
    return int(datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp() * 1000)


def main():
    recs = [json.loads(line) for line in open(sys.argv[1])]
    events = {}                      # key -> [(partition, offset, time_ms)]
    for line in open(sys.argv[2]):
        p, o, k, payload = line.rstrip("\n").split("\t", 3)
        events.setdefault(k, []).append((int(p), int(o), ms(json.loads(payload)["time"])))
    lateness, flow = {}, None
    for line in open(sys.argv[3]):
        m = re.match(r"\s+- name: (p\d+)$", line)
        flow = m.group(1) if m else flow
        m = re.match(r"\s+lateness: (\d+)ms$", line)
        if m:
            lateness[flow] = int(m.group(1))
    # lowest offset per partition among event records from line i on
    after = [None] * (len(recs) + 1)
    low = {}
    for i in range(len(recs) - 1, -1, -1):
        r = recs[i]
        if "offset" in r:
            p = r["partition"]
            low[p] = min(low.get(p, r["offset"]), r["offset"])
        after[i] = dict(low)
    n = 0
    for i, r in enumerate(recs):
        if r.get("record") != "anomaly" or "event_id" in r or r["kind"] not in (
                "stalled", "missing", "abandoned", "join_wait"):
            continue
        later = after[i + 1]
        if not later:
            continue                 # no event record after it: the end-of-input flush
        d, lat = ms(r["at"]), lateness[r["flow"]]
        own = [e for e in events[r["correlation_id"]] if e[2] - lat >= d]
        if all(e[0] in later and e[1] >= later[e[0]] for e in own):
            n += 1
    print(n)


main()
