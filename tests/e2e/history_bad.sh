#!/usr/bin/env bash
# The history store when its disk or file is bad: four daemons (own consumer groups,
# own ports) read the same live demo traffic, each with history.dir on a bad place:
#   readonly  a read-only tmpfs (a path below a regular file when mounting is not allowed)
#   full      a 384 KiB tmpfs that fills up (skipped when mounting is not allowed)
#   garbage   a history.db that is not a database
#   truncated a real store cut to half its size
# Judging goes on in every one (flows closed, verdicts counted on /metrics), the
# problem is logged and counted, and a damaged file is moved aside and recreated.
source "$(dirname "$0")/lib/http.sh"

mounts=()
cleanup_mounts() { # the daemons hold files on the mounts: stop them first
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for _ in $(seq 30); do
    alive=0; for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive -eq 0 ] && break; sleep 0.1
  done
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  wait 2>/dev/null
  for m in "${mounts[@]}"; do umount "$m" 2>/dev/null; done
  cleanup
}
trap cleanup_mounts EXIT
can_mount() { # DIR OPTIONS
  mkdir -p "$1" && mount -t tmpfs -o "$2" tmpfs "$1" 2>/dev/null && mounts+=("$1")
}

start_broker events:4
mkdir -p "$tmp/readonly" "$tmp/full" "$tmp/garbage" "$tmp/truncated"
if can_mount "$tmp/readonly" size=1m,ro; then ro_dir=$tmp/readonly/data; ro_how="read-only tmpfs"
else touch "$tmp/readonly/file"; ro_dir=$tmp/readonly/file/data; ro_how="below a regular file"; fi
full_ok=0; can_mount "$tmp/full" size=384k && full_ok=1
head -c 200000 /dev/urandom >"$tmp/garbage/history.db"
# a real store of the replay fixture, then cut in half
"$BIN/choreoscope" replay --config "$ROOT/tests/fixtures/replay/order.yaml" \
  --history "$tmp/truncated" "$ROOT/tests/fixtures/replay/mixed.jsonl" >/dev/null 2>&1
sz=$(stat -c %s "$tmp/truncated/history.db"); truncate -s $((sz / 2)) "$tmp/truncated/history.db"

declare -A port dir
dir[readonly]=$ro_dir; dir[full]=$tmp/full; dir[garbage]=$tmp/garbage; dir[truncated]=$tmp/truncated
cases="readonly garbage truncated"; [ $full_ok = 1 ] && cases="$cases full"
for c in $cases; do
  port[$c]=$(free_port); HTTP_PORT=${port[$c]}
  demo_config "$tmp/$c.yaml"
  sed -i "s/group_id: .*/group_id: bad-$c/" "$tmp/$c.yaml"
  printf 'history:\n  dir: %s\n' "${dir[$c]}" >>"$tmp/$c.yaml"
  "$BIN/choreoscope" --config "$tmp/$c.yaml" --brokers "$BROKER" 2>"$tmp/$c.err" &
  pids+=($!)
done
for c in $cases; do
  wait_http "http://127.0.0.1:${port[$c]}/-/ready" 200 || { echo "FAIL: $c daemon not ready"; tail "$tmp/$c.err"; exit 1; }
done
start_gen --rate 300 --fault-rate stalled=0.1

m() { # CASE NAME: the metric's value on that daemon
  curl -s -m 2 "http://127.0.0.1:${port[$1]}/metrics" | awk -v k="$2" 'index($0,k)==1 {s+=$NF} END {print s+0}'
}
want() { # CASE: what that case must show on /metrics
  case $1 in
    readonly|full) [ "$(m $1 choreoscope_history_errors_total)" -gt 0 ] ;;
    *) [ "$(m $1 choreoscope_history_recreated_total)" = 1 ] && [ "$(m $1 choreoscope_history_writes_total)" -gt 0 ] ;;
  esac
}
for _ in $(seq 150); do
  ok=1; for c in $cases; do want $c || ok=0; done
  [ $ok = 1 ] && break; sleep 0.2
done

for c in $cases; do
  closed=$(m $c 'choreoscope_flows_closed_total{'); an=$(m $c 'choreoscope_anomalies_total{')
  check "$c: judging goes on (flows closed $closed, verdicts $an)" bash -c "[ $closed -gt 0 ] && [ $an -gt 0 ]"
done
check "readonly ($ro_how): errors counted on /metrics, nothing written" bash -c \
  "[ $(m readonly choreoscope_history_errors_total) -gt 0 ] && [ $(m readonly choreoscope_history_writes_total) = 0 ] && [ $(m readonly choreoscope_history_drops_total) -gt 0 ]"
check "readonly: the failure is logged with the path" \
  grep -q "msg=\"history store: write failed; judging goes on\" path=$ro_dir/history.db" "$tmp/readonly.err"
if [ $full_ok = 1 ]; then
  check "full disk: errors counted after some writes, the daemon still serves the API" bash -c \
    "[ $(m full choreoscope_history_errors_total) -gt 0 ] && [ $(m full choreoscope_history_writes_total) -gt 0 ] && curl -sf 'http://127.0.0.1:${port[full]}/api/v1/flows?state=closed&limit=1' >/dev/null"
  check "full disk: logged" grep -q 'what=write error=".*full' "$tmp/full.err"
fi
for c in garbage truncated; do
  check "$c: moved aside and recreated (logged, counted), new flows written" bash -c \
    "grep -q 'msg=\"history store damaged: moved aside, starting a new one\"' '$tmp/$c.err' && ls '$tmp/$c'/history.db.bad-* >/dev/null && [ $(m $c choreoscope_history_recreated_total) = 1 ] && [ $(m $c choreoscope_history_writes_total) -gt 0 ]"
done
check "garbage: the recreated store answers choreoscope history" bash -c \
  "'$BIN/choreoscope' history --data '$tmp/garbage' --limit 1 | grep -q '\"stored\":true'"
finish
