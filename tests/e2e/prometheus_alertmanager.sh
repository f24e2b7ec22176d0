#!/usr/bin/env bash
# Alerts end to end, every piece real: choreoscope-broker, the daemon on the demo flows
# (config/demo.yaml), the rules `choreoscope gen-dashboards --config` writes for them,
# Prometheus (scrape and evaluation every 1 s), Alertmanager (Debian's
# prometheus-alertmanager, group_wait 1 s) and a webhook receiver of this test's own
# (python3 http.server, one JSON line per notification with its arrival time).
# Checks: a clean run of the generator (no faults, long enough for every demo deadline)
# notifies nothing; then an injected stall notifies, within a bound, naming the flow,
# the step and an example correlation id that the generator injected a stall into
# (its truth file), with an API link that answers for that instance. Prints the time
# from the stall (its deadline, the verdict's `at`) to the notification.
source "$(dirname "$0")/lib/http.sh"
BOUND_S=10  # stall deadline -> webhook; expected ~3 s (publish 0.25 + scrape 1 + eval 1 + group_wait 1)

start_broker events:4
HTTP_PORT=$(free_port)
demo_config "$tmp/cfg.yaml"
start_daemon "$tmp/cfg.yaml"
"$BIN/choreoscope" gen-dashboards --config "$tmp/cfg.yaml" --out "$tmp/rules" >/dev/null

HOOK_PORT=$(free_port)
$PY - "$HOOK_PORT" "$tmp/hooks.jsonl" 2>"$tmp/hook.err" <<'PY' &
import http.server, json, sys, time
port, out = int(sys.argv[1]), sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with open(out, "a") as f:
            f.write(json.dumps({"received": time.time(), "body": body}) + "\n")
        self.send_response(200); self.end_headers()
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
PY
pids+=($!)
touch "$tmp/hooks.jsonl"

AM_PORT=$(free_port)
cat >"$tmp/alertmanager.yml" <<YAML
route:
  receiver: hook
  group_by: [alertname, flow, step]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs: [{ url: "http://127.0.0.1:$HOOK_PORT/", send_resolved: false }]
YAML
prometheus-alertmanager --config.file="$tmp/alertmanager.yml" --storage.path="$tmp/am" \
  --web.listen-address="127.0.0.1:$AM_PORT" --cluster.listen-address= \
  >"$tmp/alertmanager.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$AM_PORT/-/ready" 100 || { echo "FAIL: alertmanager not ready"; tail "$tmp/alertmanager.log"; exit 1; }
start_prometheus "$tmp/rules/choreoscope-rules.yml" "127.0.0.1:$AM_PORT"
for _ in $(seq 100); do
  curl -s "$PROM_URL/api/v1/alertmanagers" | grep -q "$AM_PORT" && break; sleep 0.1
done
check "Prometheus sends to the Alertmanager" bash -c "curl -s '$PROM_URL/api/v1/alertmanagers' | grep -q ':$AM_PORT'"

# Clean run: 10 s of flows, every one finished (past every step deadline of the demo,
# 2-4 s; an abandonment needs a stall first, so none can come later).
"$BIN/choreoscope-gen" --brokers "$BROKER" --clock wall --rate 200 --seed 3 --duration 10 \
  --tail 0 >/dev/null 2>"$tmp/gen-clean.err" &
clean_pid=$!; pids+=("$clean_pid")
for _ in $(seq 300); do kill -0 "$clean_pid" 2>/dev/null || break; sleep 0.1; done
sleep 3  # a verdict at the end would need scrape + evaluation + group_wait to show
started=$(metric 'choreoscope_flows_started_total{')
check "clean run: the collector saw its flows ($started started)" [ "$started" -gt 100 ]
check "clean run: no verdict of any kind" [ "$(metric 'choreoscope_anomalies_total{')" = 0 ]
check "clean run: no notification at all" [ ! -s "$tmp/hooks.jsonl" ]
[ -s "$tmp/hooks.jsonl" ] && head -c 600 "$tmp/hooks.jsonl"

# Injected stalls: the first stalled notification, and when it came.
t0=$(date +%s.%N)
start_gen --rate 200 --seed 11 --fault-rate stalled=0.05 --truth "$tmp/truth.jsonl"
for _ in $(seq 300); do
  grep -q '"alertname": "ChoreoscopeSagasStalled_' "$tmp/hooks.jsonl" && break; sleep 0.1
done
check "an injected stall notifies the webhook (ChoreoscopeSagasStalled_<flow>)" \
  grep -q '"alertname": "ChoreoscopeSagasStalled_' "$tmp/hooks.jsonl"
$PY - "$tmp/hooks.jsonl" >"$tmp/first.txt" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    n = json.loads(line)
    for a in n["body"]["alerts"]:
        if a["labels"]["alertname"].startswith("ChoreoscopeSagasStalled_"):
            l, an = a["labels"], a["annotations"]
            print(n["received"], l["flow"], l["step"], an["example_correlation_id"], an["example"])
            sys.exit(0)
PY
read -r received flow step corr link <"$tmp/first.txt" || true
echo "first stalled notification: flow=${flow:-} step=${step:-} example=${corr:-} link=${link:-}"
check "the notification names a flow and a step of the demo graph" \
  grep -q "^      ${step:-none}:" "$ROOT/config/demo.yaml"
sleep 0.5  # the truth line may be a moment behind the event it describes
check "its example correlation id is a stall the generator injected into that flow and step" \
  $PY -c 'import json, sys
f, s, c = sys.argv[2:5]
sys.exit(0 if any(t.get("kind") == "stalled" and (t["flow"], t["step"], t["correlation_id"]) == (f, s, c)
    for t in map(json.loads, filter(str.strip, open(sys.argv[1])))) else 1)' "$tmp/truth.jsonl" "${flow:-}" "${step:-}" "${corr:-}"
check "its example link answers with that instance" \
  bash -c "curl -sf -m 2 '${link:-none}' | grep -q '\"correlation_id\":\"${corr:-none}\"'"
# latency: the stall's deadline (the verdict's `at`, wall clock) -> the webhook received it
at=$(curl -s -m 2 "http://127.0.0.1:$HTTP_PORT/api/v1/anomalies?kind=stalled&flow=${flow:-x}&limit=1024" |
  $PY -c 'import json, sys, datetime
c = sys.argv[1]
for a in json.load(sys.stdin)["items"]:
    if a["correlation_id"] == c and a["kind"] == "stalled":
        print(datetime.datetime.fromisoformat(a["at"].replace("Z", "+00:00")).timestamp()); break' "${corr:-}")
lat=$($PY -c "print('%.2f' % (${received:-0} - ${at:-0}))" 2>/dev/null || echo 999)
echo "stall deadline -> webhook notification: ${lat} s (generator start -> notification: $($PY -c "print('%.1f' % (${received:-0} - $t0))") s)"
check "notified within ${BOUND_S} s of the stall's deadline (${lat} s)" \
  $PY -c "import sys; sys.exit(0 if 0 <= ${lat} <= ${BOUND_S} else 1)"
finish
