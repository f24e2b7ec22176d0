#!/usr/bin/env bash
# The whole metrics path against a real Prometheus: broker, bin/choreoscope-gen
# (live, wall clock, the demo flows, 20% of flows with an injected stall), the daemon
# on config/demo.yaml, and Prometheus scraping /metrics every second with our alert
# rules loaded. Checks: `promtool check metrics` on the
# live /metrics; every dashboard panel query and every alert expression (its query
# part) returns data through the Prometheus HTTP API; the stalled-saga alert
# expression fires for the injected stall, and Prometheus shows the alert active.
source "$(dirname "$0")/lib/http.sh"

start_broker events:4
HTTP_PORT=$(free_port)
demo_config "$tmp/cfg.yaml"
start_daemon "$tmp/cfg.yaml"
start_prometheus "$ROOT/dashboards/choreoscope-rules.yml"
start_gen --rate 300 --fault-rate stalled=0.2 --truth "$tmp/truth.jsonl"

# stalls show a few seconds (the step deadline) after the generator starts
for _ in $(seq 100); do [ "$(metric 'choreoscope_flows_stalled{')" -gt 0 ] && break; sleep 0.2; done
curl -s "http://127.0.0.1:$HTTP_PORT/metrics" >"$tmp/metrics.txt"
check "promtool check metrics passes on the live /metrics" promtool check metrics <"$tmp/metrics.txt"
check "live /metrics shows the injected stalls" [ "$(metric 'choreoscope_flows_stalled{')" -gt 0 ]

# wait until Prometheus has scraped enough for rate() windows (>= 2 samples + stalls)
for _ in $(seq 150); do
  [ "$(promq 'sum(choreoscope_flows_stalled) > 0')" = 1 ] &&
  [ "$(promq 'count_over_time(up{job="choreoscope"}[30s]) > 6')" = 1 ] && break
  sleep 0.2
done
check "Prometheus scrapes the collector (up == 1)" [ "$(promq 'up{job="choreoscope"} == 1')" = 1 ]

# every panel query of the dashboard, with the template variables at "All"
$PY - "$ROOT/dashboards/choreoscope-dashboard.json" >"$tmp/panels.txt" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for p in d["panels"]:
    for t in p.get("targets", []):
        e = t["expr"].replace("$job", ".+").replace("$instance", ".+").replace("$flow", ".+")
        print(p["title"] + "\t" + e.replace("$__rate_interval", "20s"))
PY
while IFS=$'\t' read -r title expr; do
  check "dashboard panel '$title' returns data: $expr" [ "$(promq "$expr")" -gt 0 ]
done <"$tmp/panels.txt"

# every alert: the query part (threshold comparison removed) returns data
$PY - "$ROOT/dashboards/choreoscope-rules.yml" >"$tmp/alerts.txt" <<'PY'
import re, sys, yaml
for g in yaml.safe_load(open(sys.argv[1]))["groups"]:
    for r in g["rules"]:
        # the comparison removed: a number, or a threshold series (on (...) group_left)
        q = re.sub(r"\s*(>|<|==|!=|>=|<=)\s*(on \(.*|[0-9.e+]+)\s*$", "", r["expr"])
        print(r["alert"] + "\t" + q + "\t" + r["expr"])
PY
while IFS=$'\t' read -r name q full; do
  check "alert $name: its query returns data: $q" [ "$(promq "$q")" -gt 0 ]
done <"$tmp/alerts.txt"
stalled=$(awk -F'\t' '$1=="ChoreoscopeSagasStalled"{print $3}' "$tmp/alerts.txt")
check "stalled-saga alert expression fires for the injected stall" [ "$(promq "$stalled")" -gt 0 ]
# the (flow, step) pairs it fires for are stalls the generator injected (its truth file)
curl -s -m 5 -G "$PROM_URL/api/v1/query" --data-urlencode "query=$stalled" >"$tmp/firing.json"
check "... and only for (flow, step) pairs the generator injected a stall into" $PY - "$tmp/firing.json" "$tmp/truth.jsonl" <<'PY'
import json, sys
got = {(r["metric"]["flow"], r["metric"]["step"]) for r in json.load(open(sys.argv[1]))["data"]["result"]}
truth = set()
for line in open(sys.argv[2]):
    try:
        v = json.loads(line)
    except ValueError:
        continue  # the generator is still writing its last line
    if v.get("kind") == "stalled":
        truth.add((v["flow"], v["step"]))
print("firing for", sorted(got), file=sys.stderr)
sys.exit(0 if got and got <= truth else 1)
PY
# Prometheus itself evaluates the rule (pending for its 'for' period, then firing)
for _ in $(seq 30); do
  curl -s "$PROM_URL/api/v1/alerts" | grep -q '"alertname":"ChoreoscopeSagasStalled"' && break; sleep 0.2
done
check "Prometheus lists ChoreoscopeSagasStalled as pending/firing" \
  bash -c "curl -s '$PROM_URL/api/v1/alerts' | grep -q '\"alertname\":\"ChoreoscopeSagasStalled\"'"
check "the healthy collector does not fire ChoreoscopeCollectorDown" \
  [ "$(promq "$(awk -F'\t' '$1=="ChoreoscopeCollectorDown"{print $3}' "$tmp/alerts.txt")")" = 0 ]
finish
