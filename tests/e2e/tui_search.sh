#!/usr/bin/env bash
# `/` searches flows live and retired from every view (docs/tui.md): the live demo
# path (broker, bin/choreoscope-gen with injected stalls and a truth file, the daemon
# on config/demo.yaml with a history store); once an injected stall was abandoned and
# retired into the store, the TUI finds it by correlation id from the Overview and from
# the Graph view, lists it among "Flows matching", and Enter opens its stored timeline
# with the stalled step; `/` in the detail goes back to the list it came from.
source "$(dirname "$0")/lib/http.sh"

start_broker events:4
HTTP_PORT=$(free_port)
demo_config "$tmp/cfg.yaml"
cat >>"$tmp/cfg.yaml" <<YAML
history:
  dir: $tmp/data
  retention: 1h
YAML
start_daemon "$tmp/cfg.yaml"
start_gen --rate 200 --fault-rate stalled=0.2 --truth "$tmp/truth.jsonl"
U="http://127.0.0.1:$HTTP_PORT"

# a retired (stored) flow the truth file says was stalled, and that the engine no
# longer holds: only the history store can answer for it
found=
for _ in $(seq 150); do
  curl -s "$U/api/v1/flows?state=closed&outcome=abandoned&limit=50" >"$tmp/closed.json"
  found=$($PY - "$tmp/closed.json" "$tmp/truth.jsonl" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
stalled = set()
for line in open(sys.argv[2]):
    try: v = json.loads(line)
    except ValueError: continue
    if v.get("kind") == "stalled": stalled.add((v["flow"], v["correlation_id"]))
for it in d.get("items", []):
    if it.get("stored") and (it["flow"], it["correlation_id"]) in stalled:
        print(it["flow"] + "/" + it["correlation_id"]); break
PY
)
  [ -n "$found" ] && break; sleep 0.2
done
check "an injected stall was abandoned, retired and stored" test -n "$found"
[ -n "$found" ] || finish
flow=${found%%/*}; corr=${found#*/}
check "the engine no longer lists $corr as open or stalled" bash -c \
  "curl -s '$U/api/v1/flows?state=open&correlation_id=$corr' | $PY -c 'import json,sys; assert json.load(sys.stdin)[\"total\"]==0'"

# the same stored flow drawn by `choreoscope history` as a waterfall: its header and one
# row per stored event, checked against the JSON document of the same command
"$BIN/choreoscope" history --data "$tmp/data" --correlation-id "$corr" --format json >"$tmp/h.json"
"$BIN/choreoscope" history --data "$tmp/data" --correlation-id "$corr" --format waterfall >"$tmp/h.txt"
check "choreoscope history --format waterfall: header and rows agree with its JSON" \
  $PY - "$tmp/h.json" "$tmp/h.txt" <<'PY'
import json, re, sys
d = json.loads(open(sys.argv[1]).readline())
lines = open(sys.argv[2]).read().splitlines()
assert lines[0].startswith("%s %s  outcome abandoned  duration " % (d["flow"], d["correlation_id"])), lines[0]
kinds = ",".join(a["kind"] for a in d["anomalies"])
assert lines[0].endswith("anomalies " + kinds), lines[0]
stalled = [s for s in d["steps"] if s["status"] == "stalled"]
for s in stalled:
    owner = s.get("owner")
    who = ("~" if s.get("owner_learned") else "") + owner if owner else "unknown"
    assert "%s stalled (owner %s)" % (s["name"], who) in lines[1], (lines[1], s)
rows = [l for l in lines[4:] if not re.search(r"\| ! ", l)]
assert len(rows) == len(d["events"]), (rows, len(d["events"]))
for row, e in zip(rows, d["events"]):
    cells = row.split("|")[2].split()
    assert cells == [e["type"], e["source"], "%s/%d@%d" % (e["topic"], e["partition"], e["offset"])], (cells, e)
verdicts = [l for l in lines[4:] if re.search(r"\| ! ", l)]
assert sorted(v.split("| ! ")[1].split()[0] for v in verdicts) == sorted(
    a["kind"] for a in d["anomalies"]), verdicts
PY

head -3 "$tmp/h.txt" | sed "s/^/  waterfall: /"
TMUX_SOCK=$tmp/tmux.sock
t() { tmux -S "$TMUX_SOCK" "$@"; }
trap 't kill-server 2>/dev/null; cleanup' EXIT
wait_screen() { # REGEX: until the pane shows it (10 s)
  for _ in $(seq 100); do t capture-pane -p -t s | grep -Eq -- "$1" && return 0; sleep 0.1; done
  t capture-pane -p -t s; return 1
}
no_screen() { ! t capture-pane -p -t s | grep -Eq -- "$1"; }
t new-session -d -s s -x 140 -y 40 "env LANG=C.UTF-8 $BIN/choreoscope-tui --url $U --no-color; sleep 30"
check "tui: the overview is up" wait_screen "IN FLIGHT"

# the overview: no flow name contains the id, the search section lists the flow
t send-keys -t s / "$corr" Enter
check "tui overview: / $corr lists it under Flows matching" \
  wait_screen "Flows matching \"$corr\", live and retired, newest first: [1-9]"
check "tui overview: its row says abandoned" wait_screen "abandoned +$corr +$flow"
t send-keys -t s Enter
check "tui overview: Enter opens its stored timeline" \
  wait_screen "$flow / $corr .*retired: from the history store"
check "tui overview: the timeline marks its stalled step" wait_screen "■ [A-Za-z]+ stalled +overdue"
check "tui overview: no 'no such flow'" no_screen "no such flow|HTTP 404"
t send-keys -t s Escape
check "tui: Esc returns to the overview, the search kept" wait_screen "abandoned +$corr"

# the graph view: the same search, under the graphs (none is named like the id)
t send-keys -t s 3
check "tui graph: the search lists $corr" wait_screen "abandoned +$corr +$flow"
t send-keys -t s Enter
check "tui graph: Enter on the hit opens its stored timeline" \
  wait_screen "$flow / $corr .*retired: from the history store"
t send-keys -t s /
check "tui detail: / goes back to the graph view, prompt open" wait_screen "^Filter: $corr"
t send-keys -t s Escape
check "tui graph: Esc clears the search, the graphs are back" wait_screen "deadline .*steps.*edges"
check "tui graph: no hits section without a filter" no_screen "Flows matching"
t kill-server 2>/dev/null
finish
