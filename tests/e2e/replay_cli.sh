#!/usr/bin/env bash
# bin/choreoscope replay and --check-config as a user runs them: exact records for a
# small recorded stream, rejections with positions, the same verdicts from JSONL,
# protobuf and stdin, and config errors as FILE:LINE:COL with a non-zero exit.
set -u
cd "$(dirname "$0")/../.."
F=tests/fixtures/replay
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fails=0
source tests/e2e/lib/common.sh

bin/choreoscope replay --config $F/order.yaml $F/mixed.jsonl > "$tmp/out" 2> "$tmp/err"
check_eq "replay exits 0 despite bad lines" "$?" "0"
# --fail-on: the fixture has join_wait, stalled and duplicate verdicts, no missing one
bin/choreoscope replay --config $F/order.yaml --fail-on missing,abandoned $F/mixed.jsonl > "$tmp/fo1" 2>/dev/null
check_eq "--fail-on missing,abandoned: none found, exit 0" "$?" "0"
bin/choreoscope replay --config $F/order.yaml --fail-on missing,duplicate $F/mixed.jsonl > "$tmp/fo2" 2>/dev/null
check_eq "--fail-on missing,duplicate: a duplicate found, exit 3" "$?" "3"
check_eq "--fail-on: the records are written all the same" "$(md5sum < "$tmp/fo2")" "$(md5sum < "$tmp/out")"
bin/choreoscope replay --config $F/order.yaml --fail-on stalld $F/mixed.jsonl > /dev/null 2> "$tmp/fo3"
check_eq "--fail-on an unknown kind: exit 2 with the reason" "$?:$(cat "$tmp/fo3")" '2:choreoscope replay: --fail-on: unknown kind "stalld"'
check_eq "anomalies in order" "$(grep '"anomaly"' "$tmp/out" | sed 's/.*"correlation_id":"\([^"]*\)","kind":"\([^"]*\)","step":"\([^"]*\)","at":"\([^"]*\)".*/\1 \2 \3 \4/' | tr '\n' ';')" \
  "o1 join_wait OrderConfirmed 2026-01-01T00:00:05Z;o1 stalled InventoryReserved 2026-01-01T00:00:11.5Z;o3 duplicate OrderPlaced 2026-01-01T00:01:00Z;"
check_eq "flow records" "$(grep '"record":"flow"' "$tmp/out" | sed 's/.*"correlation_id":"\([^"]*\)","outcome":"\([^"]*\)".*"events":\([0-9]*\),"awaiting":\(.*\)}/\1 \2 \3 \4/' | tr '\n' ';')" \
  'o1 open 3 ["InventoryReserved"];o3 open 2 ["PaymentAuthorized","PaymentDeclined"];'
check_eq "summary counts" "$(tail -1 "$tmp/out" | grep -o '"events":[0-9]*,"rejected":[0-9]*,"unmatched":[0-9]*')" '"events":6,"rejected":3,"unmatched":1'
check_eq "rejections name line and reason" "$(cut -d' ' -f1-3 "$tmp/err" | tr '\n' ';')" \
  "$F/mixed.jsonl:5: rejected (malformed_json):;$F/mixed.jsonl:6: rejected (missing_field):;$F/mixed.jsonl:7: rejected (bad_time):;"

# owner: a declared owner rides on the awaited-step verdicts and changes nothing else
sed 's/InventoryReserved: { after: \[PaymentAuthorized\], within: 10s }/InventoryReserved: { after: [PaymentAuthorized], within: 10s, owner: inventory-service }/' \
  $F/order.yaml > "$tmp/owner.yaml"
bin/choreoscope replay --config "$tmp/owner.yaml" $F/mixed.jsonl > "$tmp/owner.out" 2>/dev/null
check_eq "owner: the stalled verdict names it" \
  "$(grep '"kind":"stalled"' "$tmp/owner.out" | grep -o '"step":"InventoryReserved".*"owner":"[^"]*"' | grep -o '"owner":"[^"]*"')" '"owner":"inventory-service"'
check_eq "owner: every other record unchanged" \
  "$(sed 's/,"owner":"inventory-service"//' "$tmp/owner.out" | md5sum)" "$(md5sum < "$tmp/out")"
bin/choreoscope replay --config $F/order.yaml - < $F/mixed.jsonl > "$tmp/stdin" 2>/dev/null
check_eq "stdin gives the same records" "$(md5sum < "$tmp/stdin")" "$(md5sum < "$tmp/out")"

# the same valid events as length-delimited protobuf: identical records
build/release/bench/mkevents 3000 protobuf "$tmp/ev.pb"
build/release/bench/mkevents 3000 jsonl "$tmp/ev.jsonl"
bin/choreoscope replay --config bench/flows.yaml "$tmp/ev.pb" > "$tmp/pb.out"
bin/choreoscope replay --config bench/flows.yaml --format jsonl "$tmp/ev.jsonl" > "$tmp/js.out"
check_eq "protobuf and JSONL replays agree" "$(md5sum < "$tmp/pb.out")" "$(md5sum < "$tmp/js.out")"
check_eq "3000 flows completed" "$(grep -c '"outcome":"completed"' "$tmp/pb.out")" "3000"
# a truncated final record: reported at its byte offset, the rest still judged
size=$(stat -c %s "$tmp/ev.pb")
head -c $((size - 3)) "$tmp/ev.pb" > "$tmp/cut.pb"
bin/choreoscope replay --config bench/flows.yaml "$tmp/cut.pb" > "$tmp/cut.out" 2> "$tmp/cut.err"
check_eq "truncated protobuf reported with its offset" "$(grep -c 'cut.pb:[0-9]*: rejected (truncated)' "$tmp/cut.err")" "1"
check_eq "truncated protobuf: the rest judged" "$(tail -1 "$tmp/cut.out" | grep -o '"events":[0-9]*,"rejected":[0-9]*')" '"events":14999,"rejected":1'

bin/choreoscope --check-config $F/order.yaml > "$tmp/cc" 2>&1
check_eq "check-config ok" "$?:$(cat "$tmp/cc")" "0:$F/order.yaml: ok (1 flow, 7 steps)"
printf 'flows:\n  - name: x\n    steps:\n      A: { start: true }\n      B: { after: [C], withn: 5s, end: done }\n      D: { after: [A], within: 5 }\n' > "$tmp/bad.yaml"
bin/choreoscope --check-config "$tmp/bad.yaml" > /dev/null 2> "$tmp/cc"
rc=$?
check_eq "check-config fails non-zero" "$rc" "2"
check_eq "unknown step with position" "$(grep -c "bad.yaml:5:20: unknown step \"C\"" "$tmp/cc")" "1"
check_eq "unknown key suggests the nearest" "$(grep -c 'did you mean "within"' "$tmp/cc")" "1"
check_eq "bad duration with position" "$(grep -c 'bad.yaml:6:' "$tmp/cc")" "1"
bin/choreoscope replay --config "$tmp/bad.yaml" $F/mixed.jsonl > "$tmp/o" 2>/dev/null
check_eq "a bad config never starts the engine" "$?:$(wc -c < "$tmp/o")" "2:0"
[ $fails -eq 0 ]
