# Shared helpers of the tests/e2e/kafka_*.sh scripts (sourced; not a test itself).
# Every process started through start_bg is killed on exit; scratch lives in $tmp.
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
ROOT=$PWD
source "$ROOT/tests/e2e/lib/common.sh"
BIN=$ROOT/bin
PY=/usr/bin/python3
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT



# start_broker TOPIC:PARTS...: sets $BROKER (bootstrap address) and $broker_pid.
start_broker() {
  local args=()
  for t in "$@"; do args+=(--topic "$t"); done
  "$BIN/choreoscope-broker" "${args[@]}" --address-file "$tmp/broker.addr" \
    >/dev/null 2>"$tmp/broker.err" &
  broker_pid=$!; pids+=("$broker_pid")
  wait_file "$tmp/broker.addr" || { echo "FAIL: broker did not start"; exit 1; }
  BROKER=$(cat "$tmp/broker.addr")
}

# anomalies FILE: the anomaly records as sorted "flow corr kind step" lines.
anomalies() {
  jq -r 'select(.record=="anomaly") | "\(.flow) \(.correlation_id) \(.kind) \(.step)"' "$1" | sort
}
# outcomes FILE: the flow records as sorted "flow corr outcome" lines.
outcomes() {
  jq -r 'select(.record=="flow") | "\(.flow) \(.correlation_id) \(.outcome)"' "$1" | sort
}
# same_lines A B: two files with equal content; prints a diff otherwise.
same_lines() { diff "$1" "$2" >"$tmp/diff" && return 0; head -20 "$tmp/diff"; return 1; }

finish() { exit $((fails > 0)); }
