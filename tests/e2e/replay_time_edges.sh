#!/usr/bin/env bash
# Hostile event times and strings through `choreoscope replay` (issue 16), JSONL and
# protobuf: times outside the accepted range (1970-01-01T00:00:00Z ..
# 2199-12-31T23:59:59.999999999Z; the int64 ends INT64_MAX / INT64_MIN, year 9999) are
# refused as time_out_of_range, each on its line; lone surrogate escapes as bad_utf8
# (never merged into one id); a protobuf time 0 that is set is the epoch, an unset one
# missing. Accepted times at both ends of the range, with durations of ~292 years,
# give sane records: closed never before opened, saturated deadlines never fire.
# When the sanitizer build exists (make asan) the same replays run under ASan+UBSan
# and must give the same records with no sanitizer report.
source "$(dirname "$0")/lib/kafka.sh"   # common helpers, $tmp, cleanup; no broker here

cat >"$tmp/cfg.yaml" <<'YAML'
flows:
  - name: order
    deadline: 10m
    steps:
      OrderPlaced:    { start: true }
      OrderConfirmed: { after: [OrderPlaced], within: 30s, end: completed }
  - name: far
    deadline: 2562047h
    lateness: 2562047h
    steps:
      FarStart: { start: true }
      FarMid:   { after: [FarStart], within: 2562047h }
      FarEnd:   { after: [FarMid], within: 2562047h, end: completed }
YAML
MAXT=2199-12-31T23:59:59.999999999Z
MAXT1=2199-12-31T23:59:59.999999998Z
# expected outcome (ok or a reason) | event
rows=(
  "ok|epoch|OrderPlaced|1970-01-01T00:00:00Z"
  "ok|span|OrderPlaced|1970-01-01T00:00:00Z"
  "time_out_of_range|max|OrderPlaced|2262-04-11T23:47:16.854775807Z"
  "time_out_of_range|min|OrderPlaced|1677-09-21T00:12:44Z"
  "time_out_of_range|min2|OrderPlaced|1677-09-21T00:12:43.145224192Z"
  "time_out_of_range|past|OrderPlaced|2200-01-01T00:00:00Z"
  "time_out_of_range|pre|OrderPlaced|1969-12-31T23:59:59.999999999Z"
  "time_out_of_range|y9999|OrderPlaced|9999-12-31T23:59:59Z"
  "bad_time|nozone|OrderPlaced|2262-04-11T23:47:16.854775807"
  "ok|span|OrderConfirmed|1970-01-01T00:00:20Z"
  'bad_utf8|\ud800|OrderPlaced|2026-11-25T10:00:00Z'
  'bad_utf8|\udbff|OrderPlaced|2026-11-25T10:00:00Z'
  'bad_utf8|\udc00|OrderPlaced|2026-11-25T10:00:00Z'
  'bad_utf8|\ud800\u0041|OrderPlaced|2026-11-25T10:00:00Z'
  'ok|\ud83d\ude00|OrderPlaced|2199-12-31T23:59:59Z'
  "ok|end|OrderPlaced|$MAXT1"
  "ok|far|FarStart|$MAXT1"
  "ok|end|OrderConfirmed|$MAXT"
  "ok|far|FarMid|$MAXT"
)
want_rej=
: >"$tmp/ev.jsonl"
for i in "${!rows[@]}"; do
  IFS='|' read -r want corr type t <<<"${rows[$i]}"
  printf '{"event_id":"e%d","correlation_id":"%s","type":"%s","source":"s","time":"%s"}\n' \
    "$i" "$corr" "$type" "$t" >>"$tmp/ev.jsonl"
  [ "$want" = ok ] || want_rej+="$tmp/ev.jsonl:$((i + 1)): rejected ($want):;"
done

# the protobuf table: ok or a reason | id corr type source time_unix_nano ('-': unset)
pbrows=(
  "ok|p0 pb0 OrderPlaced s 0"
  "time_out_of_range|p1 pbmax OrderPlaced s 9223372036854775807"
  "time_out_of_range|p2 pbmin OrderPlaced s -9223372036854775808"
  "missing_field|p3 pbunset OrderPlaced s -"
  "time_out_of_range|p4 pbneg OrderPlaced s -1"
  "time_out_of_range|p5 pbpast OrderPlaced s 7258118400000000000"
  "ok|p6 pbend OrderPlaced s 7258118399999999999"
)
pbargs=() want_pb=
for r in "${pbrows[@]}"; do
  IFS='|' read -r want ev <<<"$r"
  read -r -a f <<<"$ev"; pbargs+=("${f[@]}")
  [ "$want" = ok ] || want_pb+="($want);"
done
$PY tests/e2e/lib/pbevent.py "$tmp/ev.pb" --delimited "${pbargs[@]}"

replay() { # BIN TAG: runs both replays into $tmp/TAG.{js,pb}.{out,err}
  "$1" replay --config "$tmp/cfg.yaml" --format jsonl "$tmp/ev.jsonl" >"$tmp/$2.js.out" 2>"$tmp/$2.js.err"
  echo $? >"$tmp/$2.js.rc"
  "$1" replay --config "$tmp/cfg.yaml" --format protobuf "$tmp/ev.pb" >"$tmp/$2.pb.out" 2>"$tmp/$2.pb.err"
  echo $? >"$tmp/$2.pb.rc"
}
replay "$BIN/choreoscope" rel

check "time edges: replays exit 0" [ "$(cat "$tmp/rel.js.rc") $(cat "$tmp/rel.pb.rc")" = "0 0" ]
check "time edges: each refused JSONL line with its reason, in order" \
  [ "$(cut -d' ' -f1-3 "$tmp/rel.js.err" | tr '\n' ';')" = "$want_rej" ]
check "time edges: out-of-range detail names the range" \
  grep -q 'rejected (time_out_of_range): time "2262-04-11T23:47:16.854775807Z" is outside the accepted range 1970-01-01T00:00:00Z..2199-12-31T23:59:59.999999999Z' "$tmp/rel.js.err"
check "time edges: lone surrogate detail names the escape" \
  grep -q 'rejected (bad_utf8): lone surrogate escape \\udbff' "$tmp/rel.js.err"
nrej=$(grep -o 'rejected' <<<"$want_rej" | wc -l)
nok=$((${#rows[@]} - nrej))
check "time edges: JSONL summary counts $nok events, $nrej rejected" \
  [ "$(jq -c 'select(.record=="summary") | [.events, .rejected]' "$tmp/rel.js.out")" = "[$nok,$nrej]" ]
check "time edges: the range ends and a set epoch give exact records" [ "$(
  jq -r 'select(.record=="flow") | "\(.flow) \(.correlation_id) \(.outcome) \(.opened) \(.closed)"' \
    "$tmp/rel.js.out" | sort | tr '\n' ';')" = "$(printf '%s;' \
  "far far open $MAXT1 null" \
  "order end completed $MAXT1 $MAXT" \
  "order epoch abandoned 1970-01-01T00:00:00Z 1970-01-01T00:10:00Z" \
  "order span completed 1970-01-01T00:00:00Z 1970-01-01T00:00:20Z" \
  "order 😀 open 2199-12-31T23:59:59Z null")" ]
check "time edges: verdicts only where due (saturated deadlines never fire)" [ "$(
  jq -r 'select(.record=="anomaly") | "\(.flow) \(.correlation_id) \(.kind) \(.at)"' "$tmp/rel.js.out" |
    sort | tr '\n' ';')" = "order epoch abandoned 1970-01-01T00:10:00Z;order epoch stalled 1970-01-01T00:00:30Z;" ]
check "time edges: no flow closed before it opened" [ "$(jq -r 'select(.record=="flow" and .closed != null
  and .duration_seconds < 0) | .correlation_id' "$tmp/rel.js.out" | wc -l)" = 0 ]
check "time edges: no two surrogate ids merged into one flow" \
  [ "$(jq -r 'select(.record=="flow") | .correlation_id' "$tmp/rel.js.out" | grep -c '?')" = 0 ]

check "time edges: each refused protobuf record with its reason, in order" \
  [ "$(grep -o 'rejected ([a-z_]*)' "$tmp/rel.pb.err" | cut -d' ' -f2 | tr '\n' ';')" = "$want_pb" ]
check "time edges: protobuf time 0, set, is the epoch (stalls 30 s after it)" [ "$(
  jq -r 'select(.record=="anomaly") | "\(.correlation_id) \(.kind) \(.at)"' "$tmp/rel.pb.out" | sort |
    tr '\n' ';')" = "pb0 abandoned 1970-01-01T00:10:00Z;pb0 stalled 1970-01-01T00:00:30Z;" ]
check "time edges: protobuf range end accepted" \
  [ "$(jq -r 'select(.record=="flow" and .correlation_id=="pbend") | .opened' "$tmp/rel.pb.out")" = "$MAXT" ]

if [ -x build/asan/bin/choreoscope ]; then
  replay build/asan/bin/choreoscope asan
  check "time edges: ASan+UBSan replays exit 0 without a report" \
    [ "$(cat "$tmp/asan.js.rc") $(cat "$tmp/asan.pb.rc") $(cat "$tmp/asan."*.err | grep -c 'runtime error\|AddressSanitizer')" = "0 0 0" ]
  check "time edges: ASan+UBSan records identical" \
    [ "$(cat "$tmp/asan.js.out" "$tmp/asan.pb.out" | md5sum)" = "$(cat "$tmp/rel.js.out" "$tmp/rel.pb.out" | md5sum)" ]
else
  echo "PASS: time edges: (no build/asan: sanitizer replay skipped; run make asan)"
fi
finish
