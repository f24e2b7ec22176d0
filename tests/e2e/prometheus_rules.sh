#!/usr/bin/env bash
# Alert rules and dashboards: promtool check/test on the committed files, the
# committed files equal `choreoscope gen-dashboards` output (no drift), and the
# tailored output for a real config is valid too.
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
check "tailored rules carry one stall-age alert per flow with the flow deadline" \
  grep -q "ChoreoscopeOldestStallOld_order.*" "$tmp/demo/choreoscope-rules.yml"
check "order's stall-age threshold is its 10m deadline" grep -q 'flow="order"}) > 600' "$tmp/demo/choreoscope-rules.yml"
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
