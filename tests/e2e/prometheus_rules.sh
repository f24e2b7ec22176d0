#!/usr/bin/env bash
# Alert rules and dashboards: promtool check/test on the committed files, the
# committed files equal `choreoscope gen-dashboards` output (no drift), and the
# tailored output for a real config is valid too, with per-step thresholds and a
# severity per flow, and promtool tests of the demo's tailored rules.
set -u
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fails=0
check() { # name, command...
  local name=$1; shift
  if out=$("$@" 2>&1); then echo "PASS: $name"; else printf '%s\n' "$out" | tail -20; echo "FAIL: $name"; fails=$((fails+1)); fi
}
check "promtool check rules dashboards/choreoscope-rules.yml" promtool check rules dashboards/choreoscope-rules.yml
check "promtool test rules dashboards/choreoscope-rules_test.yml" bash -c 'cd dashboards && promtool test rules choreoscope-rules_test.yml'
bin/choreoscope gen-dashboards --out "$tmp/generic" >/dev/null
check "committed dashboard JSON equals gen-dashboards output" cmp dashboards/choreoscope-dashboard.json "$tmp/generic/choreoscope-dashboard.json"
check "committed alert rules equal gen-dashboards output" cmp dashboards/choreoscope-rules.yml "$tmp/generic/choreoscope-rules.yml"
bin/choreoscope gen-dashboards --config tests/fixtures/config/demo.yaml --out "$tmp/demo" --job 'choreoscope|collectors' >/dev/null
check "tailored rules (demo.yaml) pass promtool check rules" promtool check rules "$tmp/demo/choreoscope-rules.yml"
check "tailored rules: stalled, abandoned and stall-age alerts per flow" bash -c \
  "[ \$(grep -cE 'alert: Choreoscope(SagasStalled|SagasAbandoned|OldestStallOld)_(order|shipment)\$' '$tmp/demo/choreoscope-rules.yml') = 6 ]"
# tests/fixtures/config/demo.yaml: order deadline 10m, InventoryReserved within 10s:
# threshold (600 - 10) / 2; optional ShippingQuoted never stalls, so has no threshold
check "order/InventoryReserved's stall-age threshold is (deadline - within) / 2 = 295 s" \
  grep -q 'flow="order",step="InventoryReserved"}) > 295 or' "$tmp/demo/choreoscope-rules.yml"
check "the optional step ShippingQuoted has no stall-age threshold" \
  bash -c "! grep -q 'oldest_stall_age_seconds{[^}]*step=\"ShippingQuoted\"' '$tmp/demo/choreoscope-rules.yml'"
check "no generic stall rule beside the per-flow ones" \
  bash -c "! grep -qE 'alert: Choreoscope(SagasStalled|OldestStallOld)\$' '$tmp/demo/choreoscope-rules.yml'"
# the real demo (config/demo.yaml) with a severity per flow, tested by promtool
bin/choreoscope gen-dashboards --config config/demo.yaml --severity shipment=info --out "$tmp/live" >/dev/null
cp tests/fixtures/rules/demo-rules_test.yml "$tmp/live/"
check "promtool test rules on the demo's tailored rules (short stalls quiet, long ones fire)" \
  bash -c "cd '$tmp/live' && promtool test rules demo-rules_test.yml"
check "every rule has a runbook_url and an api or tui annotation" /usr/bin/python3 - "$tmp/live/choreoscope-rules.yml" dashboards/choreoscope-rules.yml <<'PY'
import sys, yaml
for f in sys.argv[1:]:
    for g in yaml.safe_load(open(f))["groups"]:
        for r in g["rules"]:
            a = r["annotations"]
            assert a["runbook_url"].startswith("https://"), r["alert"]
            assert a["tui"].startswith("choreoscope-tui --url http://"), r["alert"]
            assert "api" in a or r["alert"] == "ChoreoscopeCollectorDown", r["alert"]
PY
check "--severity with an unknown flow exits 2" bash -c \
  'bin/choreoscope gen-dashboards --config config/demo.yaml --severity nope=info --out '"$tmp"'/y 2>/dev/null; [ $? -eq 2 ]'
check "--severity with a bad level exits 2" bash -c \
  'bin/choreoscope gen-dashboards --severity order=loud --out '"$tmp"'/y 2>/dev/null; [ $? -eq 2 ]'
check "--runbook-url is used" bash -c \
  'bin/choreoscope gen-dashboards --runbook-url https://wiki.acme/rb --out '"$tmp"'/z >/dev/null && grep -q "runbook_url: \"https://wiki.acme/rb#choreoscopesagasstalled\"" '"$tmp"'/z/choreoscope-rules.yml'
check "tailored dashboard: variables datasource/job/instance/flow and a row per flow" /usr/bin/python3 - "$tmp/demo/choreoscope-dashboard.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
names = [v["name"] for v in d["templating"]["list"]]
assert names == ["datasource", "job", "instance", "flow"], names
flow = d["templating"]["list"][3]
assert flow["query"] == "order,shipment", flow["query"]
rows = [p["title"] for p in d["panels"] if p["type"] == "row"]
assert rows == ["Flow order", "Flow shipment"], rows
ids = [p["id"] for p in d["panels"]]
assert len(ids) == len(set(ids)), "duplicate panel ids"
PY
check "gen-dashboards reports a broken config and exits 2" bash -c \
  'bin/choreoscope gen-dashboards --config tests/fixtures/config/broken-many.yaml --out '"$tmp"'/x; [ $? -eq 2 ]'
[ $fails -eq 0 ]
