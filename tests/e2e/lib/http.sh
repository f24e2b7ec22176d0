# Shared helpers of tests/e2e/http_*.sh and prometheus_*.sh (sourced; not a test).
# Starts the real programs (broker, daemon, Prometheus) on free loopback ports; every
# process started here is stopped on exit (Prometheus through POST /-/quit first).
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
ROOT=$PWD
source "$ROOT/tests/e2e/lib/common.sh"
BIN=$ROOT/bin
PY=/usr/bin/python3
tmp=$(mktemp -d)
pids=()
PROM_URL=
cleanup() {
  [ -n "$PROM_URL" ] && curl -s -m 2 -X POST "$PROM_URL/-/quit" >/dev/null 2>&1
  local i
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[i]}" 2>/dev/null; done
  for _ in $(seq 30); do
    alive=0; for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive -eq 0 ] && break; sleep 0.1
  done
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

# wait_http URL [TENTHS]: until URL answers 200.
wait_http() {
  for _ in $(seq "${2:-100}"); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' -m 1 "$1")" = 200 ] && return 0; sleep 0.1
  done; return 1
}

start_broker() { # TOPIC:PARTS...
  local args=()
  for t in "$@"; do args+=(--topic "$t"); done
  "$BIN/choreoscope-broker" "${args[@]}" --address-file "$tmp/broker.addr" >/dev/null 2>"$tmp/broker.err" &
  pids+=($!)
  wait_file "$tmp/broker.addr" || { echo "FAIL: broker did not start"; exit 1; }
  BROKER=$(cat "$tmp/broker.addr")
}

# write_config FILE: the order flow with short deadlines, served on $HTTP_PORT.
write_config() {
  cat >"$1" <<YAML
flows:
  - name: order
    deadline: 1m
    lateness: 1s
    steps:
      OrderPlaced:       { start: true }
      PaymentAuthorized: { after: [OrderPlaced], within: 2s, retries: 1 }
      PaymentDeclined:   { after: [OrderPlaced], within: 2s, instead_of: [PaymentAuthorized] }
      InventoryReserved: { after: [PaymentAuthorized], within: 2s }
      ShippingQuoted:    { after: [PaymentAuthorized], within: 2s }
      OrderConfirmed:    { after: [InventoryReserved, ShippingQuoted], within: 2s, end: completed }
      OrderCancelled:    { after: [PaymentDeclined], within: 2s, end: compensated }
kafka:
  brokers: $BROKER
  group_id: http-e2e
  topics: [events]
  properties: { "fetch.wait.max.ms": 10 }
http:
  listen: 127.0.0.1:$HTTP_PORT
metrics:
  latency_buckets: [0.001, 0.01, 0.1, 0.5, 1, 2, 5]
  duration_buckets: [0.01, 0.1, 0.5, 1, 5, 30, 60]
YAML
}

# demo_config FILE: config/demo.yaml served on $HTTP_PORT, without alert topics.
demo_config() {
  sed -e "s/^  listen: .*/  listen: 127.0.0.1:$HTTP_PORT/" \
      -e 's/^  alert_topic:.*//; s/^  dead_letter_topic:.*//' "$ROOT/config/demo.yaml" >"$1"
}

# start_gen ARGS...: bin/choreoscope-gen live (wall clock) into $BROKER.
start_gen() {
  "$BIN/choreoscope-gen" --brokers "$BROKER" --clock wall "$@" 2>"$tmp/gen.err" &
  pids+=($!)
}

start_daemon() { # CONFIG
  "$BIN/choreoscope" --config "$1" --brokers "$BROKER" 2>"$tmp/daemon.err" &
  daemon_pid=$!; pids+=("$daemon_pid")
  wait_http "http://127.0.0.1:$HTTP_PORT/-/ready" 150 || {
    echo "FAIL: daemon not ready"; tail -20 "$tmp/daemon.err"; exit 1; }
}

# produce SECONDS RATE STALL_EVERY: live orders (wall-clock times) from python
# confluent_kafka, keyed by correlation id; every STALL_EVERY-th order stops after
# PaymentAuthorized (InventoryReserved and ShippingQuoted stall); every 13th is
# declined and cancelled. Writes the number of messages to $tmp/produced.
produce() {
  exec $PY - "$BROKER" "$1" "$2" "$3" "$tmp/produced" <<'PYEOF'
import json, sys, time, datetime
from confluent_kafka import Producer
broker, secs, rate, stall_every, out = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
p = Producer({"bootstrap.servers": broker, "linger.ms": 5, "partitioner": "murmur2_random"})
def now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")
n = 0; i = 0; t0 = time.time()
while time.time() - t0 < secs:
    i += 1
    corr = "o-%06d" % i
    if i % 13 == 0:
        steps = ["OrderPlaced", "PaymentDeclined", "OrderCancelled"]
    elif i % stall_every == 0:
        steps = ["OrderPlaced", "PaymentAuthorized"]
    else:
        steps = ["OrderPlaced", "PaymentAuthorized", "InventoryReserved", "ShippingQuoted", "OrderConfirmed"]
    for j, s in enumerate(steps):
        ev = {"event_id": "%s-%d" % (corr, j), "correlation_id": corr, "type": s,
              "source": "shop" if j == 0 else "svc-%d" % j, "time": now()}
        p.produce("events", key=corr, value=json.dumps(ev).encode())
        n += 1
    p.poll(0)
    time.sleep(1.0 / rate)
p.flush(10)
open(out, "w").write(str(n))
PYEOF
}

start_prometheus() { # RULES_FILE [ALERTMANAGER_HOST:PORT]
  PROM_PORT=$(free_port)
  local alerting=
  [ -n "${2:-}" ] && alerting="alerting: { alertmanagers: [{ static_configs: [{ targets: [\"$2\"] }] }] }"
  cat >"$tmp/prometheus.yml" <<YAML
global: { scrape_interval: 1s, evaluation_interval: 1s }
rule_files: ["$1"]
$alerting
scrape_configs:
  - job_name: choreoscope
    static_configs: [{ targets: ["127.0.0.1:$HTTP_PORT"] }]
YAML
  prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/tsdb" \
    --storage.tsdb.retention.time=1h --web.listen-address="127.0.0.1:$PROM_PORT" \
    --web.enable-lifecycle >"$tmp/prometheus.log" 2>&1 &
  pids+=($!)
  PROM_URL="http://127.0.0.1:$PROM_PORT"
  wait_http "$PROM_URL/-/ready" 100 || { echo "FAIL: prometheus not ready"; tail "$tmp/prometheus.log"; exit 1; }
}

# promq EXPR: the instant query's result count (-1 on error).
promq() {
  curl -s -m 5 -G "$PROM_URL/api/v1/query" --data-urlencode "query=$1" |
    $PY -c 'import json,sys
d=json.load(sys.stdin)
print(len(d["data"]["result"]) if d.get("status")=="success" else -1)' 2>/dev/null || echo -1
}

metric() { metric_at "$HTTP_PORT" "$1"; } # NAME_WITH_LABELS: the live value (common.sh)

finish() { exit $((fails > 0)); }
