#!/usr/bin/env bash
# The history store on the live demo path: broker, bin/choreoscope-gen (live, injected
# stalls, truth file), the daemon on config/demo.yaml with history.dir set. A stalled
# flow is abandoned at its deadline and retired; then it is found by correlation id
# through the API (list and timeline, which the engine no longer holds), the TUI
# (view 4, filter, Enter) and `choreoscope history` with the daemon running, and again
# after a daemon restart.
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

# the first abandoned flows retire ~deadline + lateness after the traffic starts
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
check "an injected stall was abandoned, retired and listed from the store" test -n "$found"
[ -n "$found" ] || finish
flow=${found%%/*}; corr=${found#*/}

timeline_ok() { # FILE: the stored timeline of $corr, abandoned, with its stall
  $PY - "$1" "$corr" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
assert t["correlation_id"] == sys.argv[2] and t["stored"] is True, t.get("error")
assert t["state"] == "abandoned" and t["outcome"] == "abandoned" and t["closed"], t["state"]
assert t["events"] and all(e["topic"] == "events" and e["partition"] >= 0 and e["offset"] >= 0
                           for e in t["events"]), t["events"]
stalled = [s["name"] for s in t["steps"] if s["status"] == "stalled"]
kinds = {a["kind"]: a["step"] for a in t["anomalies"]}
assert stalled and kinds.get("stalled") in stalled and "abandoned" in kinds, (stalled, kinds)
PY
}
curl -s "$U/api/v1/flows/$flow/$corr" >"$tmp/t1.json"
check "GET /api/v1/flows/$flow/$corr: the stored timeline (events, stalled step, verdicts)" \
  timeline_ok "$tmp/t1.json"
check "list by correlation_id= finds exactly it" bash -c \
  "curl -s '$U/api/v1/flows?state=all&correlation_id=$corr' | $PY -c 'import json,sys; d=json.load(sys.stdin); assert d[\"total\"]==1 and d[\"items\"][0][\"correlation_id\"]==\"$corr\", d'"
"$BIN/choreoscope" history --data "$tmp/data" --correlation-id "$corr" >"$tmp/cli.jsonl" 2>"$tmp/cli.err"
check "choreoscope history --correlation-id (daemon running): one line, the same flow" bash -c \
  "[ \$(wc -l <'$tmp/cli.jsonl') = 1 ] && head -1 '$tmp/cli.jsonl' >'$tmp/cli1.json'"
check "choreoscope history's document is the API's" timeline_ok "$tmp/cli1.json"
"$BIN/choreoscope" history --data "$tmp/data" --flow "$flow" --outcome abandoned --since 10m \
  --limit 3 >"$tmp/cli3.jsonl"
check "choreoscope history --flow --outcome --since --limit: 3 abandoned $flow flows" bash -c \
  "[ \$(wc -l <'$tmp/cli3.jsonl') = 3 ] && ! grep -v '\"flow\":\"$flow\",.*\"outcome\":\"abandoned\"' '$tmp/cli3.jsonl'"
# the TUI: view 4 lists retired flows; the filter finds this one; Enter opens it
TMUX_SOCK=$tmp/tmux.sock
t() { tmux -S "$TMUX_SOCK" "$@"; }
trap 't kill-server 2>/dev/null; cleanup' EXIT
wait_screen() { # REGEX: until the pane shows it (10 s)
  for _ in $(seq 100); do t capture-pane -p -t h | grep -Eq -- "$1" && return 0; sleep 0.1; done
  t capture-pane -p -t h; return 1
}
t new-session -d -s h -x 140 -y 40 "env LANG=C.UTF-8 $BIN/choreoscope-tui --url $U --no-color; sleep 30"
wait_screen "1 Overview" >/dev/null
t send-keys -t h 4
check "tui: view 4 lists retired flows" wait_screen "History: [0-9]+ rows of [0-9]+ retired flows"
t send-keys -t h / "$corr" Enter
check "tui: the filter finds $corr among them, abandoned" wait_screen "abandoned +$corr"
t send-keys -t h Enter
check "tui: Enter opens its stored timeline" wait_screen "$corr .*retired: from the history store"
t kill-server 2>/dev/null

curl -s "$U/metrics" >"$tmp/metrics.txt"
check "promtool check metrics passes with the history metrics" promtool check metrics <"$tmp/metrics.txt"
w=$(metric choreoscope_history_writes_total); e=$(metric choreoscope_history_errors_total)
b=$(metric choreoscope_history_bytes)
check "/metrics: writes counted ($w), no errors ($e), store bytes ($b)" \
  bash -c "[ $w -gt 0 ] && [ $e = 0 ] && [ $b -gt 0 ]"

kill -TERM "$daemon_pid"
for _ in $(seq 100); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
check "daemon stopped on SIGTERM" bash -c "! kill -0 $daemon_pid 2>/dev/null"
# the restarted daemon answers from the store at once, before its group rejoin
"$BIN/choreoscope" --config "$tmp/cfg.yaml" --brokers "$BROKER" 2>"$tmp/daemon2.err" &
pids+=($!)
wait_http "$U/-/healthy" 100
curl -s "$U/api/v1/flows/$flow/$corr" >"$tmp/t2.json"
check "after a restart the flow is still found (from the store)" timeline_ok "$tmp/t2.json"
check "daemon log names the store" grep -q 'msg="history store open"' "$tmp/daemon2.err"
finish
