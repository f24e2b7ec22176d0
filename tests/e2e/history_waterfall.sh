#!/usr/bin/env bash
# `choreoscope history` formats (docs/history.md): a store written by a replay of the
# mixed fixture; piped, the output is JSON lines, the same bytes as --format json, each
# the stored timeline; on a terminal (a pty from script(1)) or with --format waterfall,
# each flow is a header and its rows: the known flow o1 is checked row by row.
source "$(dirname "$0")/lib/http.sh"

"$BIN/choreoscope" replay --config "$ROOT/tests/fixtures/replay/order.yaml" \
  --history "$tmp/data" "$ROOT/tests/fixtures/replay/mixed.jsonl" >/dev/null 2>"$tmp/replay.err"
check "a replay wrote a history store" test -s "$tmp/data/history.db"

"$BIN/choreoscope" history --data "$tmp/data" >"$tmp/piped.jsonl"
"$BIN/choreoscope" history --data "$tmp/data" --format json >"$tmp/json.jsonl"
check "piped: JSON lines, byte for byte those of --format json" cmp "$tmp/piped.jsonl" "$tmp/json.jsonl"
check "the JSON is the stored timeline of each flow (o3 then o1, newest first)" $PY - "$tmp/json.jsonl" <<'PY'
import json, sys
docs = [json.loads(l) for l in open(sys.argv[1])]
assert [d["correlation_id"] for d in docs] == ["o3", "o1"], [d["correlation_id"] for d in docs]
o1 = docs[1]
assert o1["stored"] is True and o1["flow"] == "order" and o1["state"] == "open"
assert [(e["event_id"], e["type"], e["offset"]) for e in o1["events"]] == \
    [("e1", "OrderPlaced", 1), ("e2", "PaymentAuthorized", 2), ("e3", "ShippingQuoted", 4)]
assert [a["kind"] for a in o1["anomalies"]] == ["join_wait", "stalled"]
PY

"$BIN/choreoscope" history --data "$tmp/data" --correlation-id o1 --format waterfall >"$tmp/o1.txt"
cat >"$tmp/o1.want" <<'TXT'
order o1  outcome open  duration -  anomalies join_wait,stalled
  awaiting InventoryReserved stalled (owner unknown)
  from 2026-01-01T00:00:00Z, bars scaled to 11s; events 3, 3 stored
     +TIME |                                        | EVENT             SOURCE TOPIC/PARTITION@OFFSET
     0.00s |=                                       | OrderPlaced       shop   -/-@1
      1.5s |======                                  | PaymentAuthorized pay    -/-@2
      2.0s |     ===                                | ShippingQuoted    ship   -/-@4
      5.0s |                 !                      | ! join_wait OrderConfirmed
       11s |                                       !| ! stalled InventoryReserved
TXT
check "--format waterfall: o1's header and rows (events at their offset, verdicts at theirs)" \
  diff "$tmp/o1.want" "$tmp/o1.txt"
script -qec "$BIN/choreoscope history --data $tmp/data" /dev/null >"$tmp/tty.txt" </dev/null
check "on a terminal the default is the waterfall: both flows, no JSON" bash -c \
  "grep -q '^order o3  outcome open' '$tmp/tty.txt' && grep -q '^order o1  outcome open' '$tmp/tty.txt' && ! grep -q '{\"flow\"' '$tmp/tty.txt'"
"$BIN/choreoscope" history --data "$tmp/data" --format yaml >/dev/null 2>"$tmp/bad.err"; rc=$?
check "--format yaml: usage error (exit 2) naming the formats" bash -c \
  "[ $rc = 2 ] && grep -q 'expected json or waterfall, found \"yaml\"' '$tmp/bad.err'"
finish
