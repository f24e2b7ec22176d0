#!/usr/bin/env bash
# choreoscope-broker over real TCP, driven by kcat (a client we did not write):
# address on stdout and in --address-file, pre-created topics in metadata, a message
# with key and headers round-trips, several brokers, bad flags, SIGTERM/SIGINT exit 0.
set -u
cd "$(dirname "$0")/../.."
BROKER=bin/choreoscope-broker
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
source tests/e2e/lib/common.sh
CHECK_PREFIX="broker "


$BROKER --topic events:8 --topic alerts:1 --address-file "$tmp/addr" >"$tmp/out" 2>"$tmp/err" &
bp=$!; pids+=("$bp")
check "writes --address-file" wait_file "$tmp/addr"
wait_file "$tmp/out"
addr=$(cat "$tmp/addr")
check "prints the same address on stdout" [ "$(cat "$tmp/out")" = "$addr" ]
check "address is host:port" grep -Eq '^127\.0\.0\.1:[0-9]+$' "$tmp/addr"

kcat -b "$addr" -L -m 5 >"$tmp/meta" 2>&1
check "metadata lists events with 8 partitions" grep -q 'topic "events" with 8 partitions' "$tmp/meta"
check "metadata lists alerts with 1 partition" grep -q 'topic "alerts" with 1 partitions' "$tmp/meta"

printf '{"n":1}' | kcat -b "$addr" -P -t events -k order-42 -H ce_type=OrderPlaced \
  -H ce_id=e-1 -m 5 2>"$tmp/perr"
kcat -b "$addr" -C -t events -e -q -m 5 -f '%k|%h|%s\n' >"$tmp/got" 2>&1
check "key, headers and value round-trip" \
  grep -qx 'order-42|ce_type=OrderPlaced,ce_id=e-1|{"n":1}' "$tmp/got"

kill -TERM "$bp"; wait "$bp"; rc=$?
check "SIGTERM exits 0 (rc=$rc)" [ "$rc" -eq 0 ]

$BROKER --brokers 3 --topic t:6 >"$tmp/out3" 2>/dev/null &
bp3=$!; pids+=("$bp3")
wait_file "$tmp/out3"
kcat -b "$(head -1 "$tmp/out3")" -L -m 5 >"$tmp/meta3" 2>&1
check "--brokers 3 gives 3 brokers" grep -q ' 3 brokers:' "$tmp/meta3"
kill -INT "$bp3"; wait "$bp3"; rc=$?
check "SIGINT exits 0 (rc=$rc)" [ "$rc" -eq 0 ]

rejected() { [ "$1" -eq 2 ] && grep -q '^choreoscope-broker: ' "$2"; }
for bad in "--topic events" "--topic events:0" "--topic :3" "--topic a/b:1" \
    "--brokers 0" "--brokers x" "--nope" "--topic"; do
  # shellcheck disable=SC2086
  timeout 5 $BROKER $bad >/dev/null 2>"$tmp/bad"; rc=$?
  check "rejects '$bad' with a reason (rc=$rc)" rejected "$rc" "$tmp/bad"
done
check "--help exits 0" timeout 5 $BROKER --help >/dev/null

[ "$fails" -eq 0 ]
