#!/usr/bin/env python3
"""graphdiff: compares two flow graph YAMLs semantically (not textually).

  graphdiff.py WANT.yaml GOT.yaml [--timing]

Flows are matched by name, else by their set of steps. Per flow: the same steps; per step the same start,
after (as a set), after_any (set), instead_of (made symmetric, as the loader
does), optional, end outcome and retries; the same complete_when. With --timing,
also every `within` both declare and the flow `deadline` within a factor of 2.
Prints one line per difference and exits 1 when there is any; else prints
"same graph" and exits 0. join_within and lateness are not compared.
"""
import re
import sys

import yaml

UNITS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}


def seconds(d):
    total = 0.0
    for num, unit in re.findall(r"([0-9.]+)([a-z]+)", str(d)):
        total += float(num) * UNITS[unit]
    return total


def names(v):
    if v is None:
        return set()
    return {v} if isinstance(v, str) else set(v)


def norm(flow):
    steps = flow["steps"]
    alts = {s: set() for s in steps}
    for s, spec in steps.items():
        for a in names((spec or {}).get("instead_of")):
            alts[s].add(a)
            alts.setdefault(a, set()).add(s)
    out = {}
    for s, spec in steps.items():
        spec = spec or {}
        end = spec.get("end")
        out[s] = {
            "start": bool(spec.get("start")),
            "after": names(spec.get("after")),
            "after_any": names(spec.get("after_any")),
            "instead_of": alts[s],
            "optional": bool(spec.get("optional")),
            "end": "completed" if end is True else end,
            "retries": spec.get("retries", 0),
            "within": spec.get("within"),
        }
    return out


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    timing = "--timing" in sys.argv
    want, got = (yaml.safe_load(open(p))["flows"] for p in args)
    want = {f["name"]: f for f in want}
    got = {f["name"]: f for f in got}
    # flows whose names differ (no `flow` field in the events) match by their steps
    by_steps = {frozenset(f["steps"]): n for n, f in want.items() if n not in got}
    for n in [n for n in got if n not in want]:
        w = by_steps.get(frozenset(got[n]["steps"]))
        if w is not None:
            got[w] = got.pop(n)
    diffs = []
    for name in sorted(set(want) | set(got)):
        if name not in got or name not in want:
            diffs.append(f"flow {name}: only in {'want' if name in want else 'got'}")
            continue
        w, g = norm(want[name]), norm(got[name])
        if set(w) != set(g):
            diffs.append(f"{name}: steps differ: missing {sorted(set(w) - set(g))}, extra {sorted(set(g) - set(w))}")
        for s in sorted(set(w) & set(g)):
            for k in ("start", "after", "after_any", "instead_of", "optional", "end", "retries"):
                if w[s][k] != g[s][k]:
                    diffs.append(f"{name}/{s}: {k}: want {w[s][k]}, got {g[s][k]}")
            if timing and w[s]["within"] and g[s]["within"]:
                r = seconds(g[s]["within"]) / seconds(w[s]["within"])
                if not 0.5 <= r <= 2:
                    diffs.append(f"{name}/{s}: within {g[s]['within']} vs {w[s]['within']} (x{r:.2f})")
        if names(want[name].get("complete_when")) != names(got[name].get("complete_when")):
            diffs.append(f"{name}: complete_when differs")
        if timing and want[name].get("deadline") and got[name].get("deadline"):
            r = seconds(got[name]["deadline"]) / seconds(want[name]["deadline"])
            if not 0.5 <= r <= 2:
                diffs.append(f"{name}: deadline {got[name]['deadline']} vs {want[name]['deadline']} (x{r:.2f})")
    for d in diffs:
        print(d)
    if not diffs:
        print("same graph")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
