#!/usr/bin/env bash
# The JSON API of docs/API.md against the live daemon: broker, bin/choreoscope-gen
# (live, injected stalls, truth file), the daemon on config/demo.yaml. Checks the
# summary against /metrics, the stalled-flows list against the generator's truth,
# one stalled instance's timeline (events with Kafka provenance, step statuses,
# verdicts), the graphs, filters and 404s.
source "$(dirname "$0")/lib/http.sh"

start_broker events:4
HTTP_PORT=$(free_port)
demo_config "$tmp/cfg.yaml"
start_daemon "$tmp/cfg.yaml"
start_gen --rate 200 --fault-rate stalled=0.2 --truth "$tmp/truth.jsonl"
U="http://127.0.0.1:$HTTP_PORT"
for _ in $(seq 100); do [ "$(metric 'choreoscope_flows_stalled{')" -gt 0 ] && break; sleep 0.2; done
sleep 0.5   # one more publish interval

curl -s "$U/api/v1/flows?state=stalled&sort=overdue&limit=1000" >"$tmp/stalled.json"
curl -s "$U/api/v1/summary" >"$tmp/summary.json"
curl -s "$U/api/v1/graphs" >"$tmp/graphs.json"
check "stalled list: every item is stalled on a step the generator made stall" $PY - "$tmp/stalled.json" "$tmp/truth.jsonl" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
truth = set()
for line in open(sys.argv[2]):
    try: v = json.loads(line)
    except ValueError: continue
    if v.get("kind") == "stalled": truth.add((v["flow"], v["correlation_id"], v["step"]))
assert d["total"] > 0 and d["total"] == len(d["items"]), (d["total"], len(d["items"]))
for it in d["items"]:
    assert it["state"] == "stalled" and it["stalled"], it
    for s in it["stalled"]:
        assert (it["flow"], it["correlation_id"], s["step"]) in truth, (it["correlation_id"], s)
        assert s["overdue_seconds"] >= 0
over = [it["stalled"][0]["overdue_seconds"] for it in d["items"]]
assert over == sorted(over, reverse=True), "sort=overdue"
PY
first=$($PY -c 'import json,sys; i=json.load(open(sys.argv[1]))["items"][0]; print(i["flow"]+"/"+i["correlation_id"])' "$tmp/stalled.json")
curl -s "$U/api/v1/flows/$first" >"$tmp/timeline.json"
check "timeline of $first: stalled step, events with topic/partition/offset, verdicts" $PY - "$tmp/timeline.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
assert t["state"] == "stalled" and t["outcome"] is None, t["state"]
st = [s for s in t["steps"] if s["status"] == "stalled"]
assert st and all("deadline" in s and s["overdue_seconds"] >= 0 for s in st), st
assert t["events"] and all(e["topic"] == "events" and e["partition"] >= 0 and e["offset"] >= 0 for e in t["events"])
assert any(s["status"] == "happened" for s in t["steps"])
assert any(a["kind"] == "stalled" and a["step"] == st[0]["name"] for a in t["anomalies"]), t["anomalies"]
PY
check "summary: ready, events counted, the demo flows, stalls now" $PY - "$tmp/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert s["collector"]["ready"] is True and s["collector"]["events_total"] > 0
names = [f["name"] for f in s["flows"]]
assert names == ["order", "quote", "shipment"], names
assert (s["total"], s["offset"], s["limit"]) == (3, 0, 100), s
assert sum(f["stalled_now"] for f in s["flows"]) > 0
PY
curl -s "$U/api/v1/summary?limit=1&offset=2" >"$tmp/page.json"
curl -s "$U/api/v1/summary?flow=quote" >"$tmp/quote.json"
curl -s "$U/api/v1/graphs?flow=order&limit=5" >"$tmp/gorder.json"
check "summary and graphs in pages: limit/offset, flow=" $PY - "$tmp/page.json" "$tmp/quote.json" "$tmp/gorder.json" <<'PY'
import json, sys
p, q, g = (json.load(open(f)) for f in sys.argv[1:4])
assert (p["total"], p["offset"], p["limit"]) == (3, 2, 1) and [f["name"] for f in p["flows"]] == ["shipment"], p
assert p["collector"]["ready"] is True
assert q["total"] == 1 and [f["name"] for f in q["flows"]] == ["quote"], q
assert (g["total"], g["limit"]) == (1, 5) and [f["name"] for f in g["flows"]] == ["order"], g
assert g["flows"][0]["edges"], g
PY
check "graphs: the demo flows with edges and counts" $PY - "$tmp/graphs.json" <<'PY'
import json, sys
g = json.load(open(sys.argv[1]))
order = [f for f in g["flows"] if f["name"] == "order"][0]
assert order["deadline_seconds"] == 15 and order["lateness_seconds"] == 1
e = [x for x in order["edges"] if x["from"] == "OrderPlaced" and x["to"] == "PaymentAuthorized"][0]
assert e["count"] > 0 and e["p50_seconds"] is not None, e
PY
c=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["items"][0]["correlation_id"][:12])' "$tmp/stalled.json")
check "q= filter finds instances by correlation id substring" \
  bash -c "curl -s '$U/api/v1/flows?state=all&q=$c' | grep -q '\"correlation_id\":\"$c'"
check "awaiting= filter" bash -c "curl -s '$U/api/v1/flows?awaiting=PaymentAuthorized&limit=5' | $PY -c 'import json,sys; d=json.load(sys.stdin); assert all(\"PaymentAuthorized\" in i[\"awaiting\"] for i in d[\"items\"])'"
code=$(curl -s -o "$tmp/nf.json" -w '%{http_code}' "$U/api/v1/flows/order/no-such-order")
check "unknown instance: 404 JSON" bash -c "[ $code = 404 ] && grep -q '\"status\":404' '$tmp/nf.json'"
check "anomalies ring filtered by kind" bash -c \
  "curl -s '$U/api/v1/anomalies?kind=stalled&limit=5' | $PY -c 'import json,sys; d=json.load(sys.stdin)[\"items\"]; assert len(d)==5 and all(a[\"kind\"]==\"stalled\" for a in d)'"# GET /: the table of contents, rendered from the routing table, so every path it
# lists is served and documented (docs/http.md and the man page)
curl -s "$U/" >"$tmp/index.json"
check "GET /: every endpoint it lists answers (not 404) and is in docs/http.md and choreoscope(1)" \
  $PY - "$tmp/index.json" "$U" <<'PY'
import json, sys, urllib.request, urllib.error
d = json.load(open(sys.argv[1])); base = sys.argv[2]
paths = [e["path"] for e in d["endpoints"]]
assert len(paths) >= 9 and "/metrics" in paths and "/api/v1/flows" in paths, paths
http = open("docs/http.md").read(); man = open("docs/man/choreoscope.1").read().replace("\\-", "-")
for e in d["endpoints"]:
    p = e["path"]
    assert "GET " + p.split("{")[0] in http, ("docs/http.md lacks", p)
    assert p.split("{")[0].rstrip("/") in man or p == "/", ("man page lacks", p)
    url = base + p.replace("{flow}", "order").replace("{correlation_id}", "x")
    try:
        code = urllib.request.urlopen(url).status
    except urllib.error.HTTPError as err:
        code = err.code
        assert code != 404 or "{" in p, (p, code)   # an unknown instance is a 404 of its own
    assert code in (200, 404, 503), (p, code)
PY

finish
