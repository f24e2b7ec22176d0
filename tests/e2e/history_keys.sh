#!/usr/bin/env bash
# Search by linked key on the live demo path: broker, bin/choreoscope-gen (live), the
# daemon on config/demo.yaml, which declares the order flow's payment id a linked key
# (`keys: [payment_id]`: PaymentAuthorized carries it) and history.dir set. An open
# order is found by its payment id in the engine (key=, and its timeline by the
# payment id); a retired one by its payment id through the API (list and timeline,
# from the store), `choreoscope history --key`, and again after a daemon restart.
source "$(dirname "$0")/lib/http.sh"

start_broker events:4
HTTP_PORT=$(free_port)
demo_config "$tmp/cfg.yaml"
cat >>"$tmp/cfg.yaml" <<YAML
history:
  dir: $tmp/data
  retention: 1h
YAML
check "the config declares the payment id a linked key" grep -q '^    keys: \[payment_id\]' "$tmp/cfg.yaml"
start_daemon "$tmp/cfg.yaml"
start_gen --rate 200
U="http://127.0.0.1:$HTTP_PORT"

# payid FILE: "CORR PAYMENT_ID" of a timeline whose PaymentAuthorized carries one
payid() {
  $PY - "$1" <<'PY'
import json, sys
try: t = json.load(open(sys.argv[1]))
except ValueError: sys.exit(0)
for e in t.get("events", []):
    p = e.get("attributes", {}).get("payment_id")
    if e["type"] == "PaymentAuthorized" and p:
        print(t["correlation_id"], p); break
PY
}
# key_list URL_QUERY CORR STORED: the list of key= has exactly CORR (stored: true|false)
key_list() {
  curl -s "$U/api/v1/flows?$1" | $PY -c '
import json, sys
d = json.load(sys.stdin)
it = d["items"]
assert d["total"] == 1 and len(it) == 1 and it[0]["correlation_id"] == sys.argv[1], d
assert bool(it[0].get("stored")) == (sys.argv[2] == "true"), it[0]' "$2" "$3"
}

# 1. live: an open order that has been paid, found by its payment id in the engine
live=
for _ in $(seq 100); do
  for c in $(curl -s "$U/api/v1/flows?state=open&flow=order&sort=age&order=asc&limit=20" |
             $PY -c 'import json,sys; print(" ".join(i["correlation_id"] for i in json.load(sys.stdin)["items"]))'); do
    curl -s "$U/api/v1/flows/order/$c" >"$tmp/live.json"
    live=$(payid "$tmp/live.json"); [ -n "$live" ] && break
  done
  [ -n "$live" ] && break; sleep 0.1
done
check "an open paid order is listed by the engine" test -n "$live"
[ -n "$live" ] || finish
lcorr=${live% *}; lpay=${live#* }
# it may close and retire meanwhile: then the store has it; either way exactly once
check "key=$lpay (state=all) finds $lcorr, once" bash -c "
  for _ in 1 2 3 4 5; do
    curl -s '$U/api/v1/flows?state=all&key=$lpay' | $PY -c 'import json,sys; d=json.load(sys.stdin); assert d[\"total\"]==1 and d[\"items\"][0][\"correlation_id\"]==\"$lcorr\"' && exit 0
    sleep 0.2
  done; exit 1"
check "GET /api/v1/flows/order/$lpay answers $lcorr's timeline, linked_keys has it" bash -c "
  curl -s '$U/api/v1/flows/order/$lpay' | $PY -c 'import json,sys; t=json.load(sys.stdin); assert t[\"correlation_id\"]==\"$lcorr\" and \"$lpay\" in t[\"linked_keys\"], t'"

# 2. stored: a completed order retired from the engine, found by its payment id
found=
for _ in $(seq 150); do
  for c in $(curl -s "$U/api/v1/flows?state=closed&flow=order&outcome=completed&limit=50" |
             $PY -c 'import json,sys; print(" ".join(i["correlation_id"] for i in json.load(sys.stdin)["items"] if i.get("stored")))'); do
    curl -s "$U/api/v1/flows/order/$c" >"$tmp/st.json"
    found=$(payid "$tmp/st.json"); [ -n "$found" ] && break
  done
  [ -n "$found" ] && break; sleep 0.2
done
check "a completed paid order was retired and stored" test -n "$found"
[ -n "$found" ] || finish
corr=${found% *}; pay=${found#* }
stored_ok() { # FILE: the stored timeline of $corr, reached by its payment id
  $PY - "$1" "$corr" "$pay" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
assert t["correlation_id"] == sys.argv[2] and t["stored"] is True, t.get("error")
assert t["linked_keys"] == [sys.argv[3]] and t["state"] == "completed", t
assert [e for e in t["events"] if e["attributes"].get("payment_id") == sys.argv[3]], t["events"]
assert all(e["key"] == sys.argv[2] for e in t["events"]), t["events"]  # all keyed by the order
PY
}
check "key=$pay (state=closed) lists exactly $corr, stored" key_list "state=closed&key=$pay" "$corr" true
check "key=$pay (state=all) too; key=$corr (its correlation id) too" bash -c \
  "$(declare -f key_list); U=$U PY=$PY; key_list 'state=all&key=$pay' '$corr' true && key_list 'state=all&key=$corr' '$corr' true"
check "correlation_id=$pay stays exact on the correlation id: none" bash -c \
  "curl -s '$U/api/v1/flows?state=all&correlation_id=$pay' | $PY -c 'import json,sys; assert json.load(sys.stdin)[\"total\"]==0'"
curl -s "$U/api/v1/flows/order/$pay" >"$tmp/t1.json"
check "GET /api/v1/flows/order/$pay: $corr's stored timeline" stored_ok "$tmp/t1.json"
"$BIN/choreoscope" history --data "$tmp/data" --key "$pay" >"$tmp/cli.jsonl" 2>"$tmp/cli.err"
check "choreoscope history --key $pay (daemon running): one line, $corr" bash -c \
  "[ \$(wc -l <'$tmp/cli.jsonl') = 1 ] && head -1 '$tmp/cli.jsonl' >'$tmp/cli1.json'"
check "choreoscope history --key's document is the API's" stored_ok "$tmp/cli1.json"

kill -TERM "$daemon_pid"
for _ in $(seq 100); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
check "daemon stopped on SIGTERM" bash -c "! kill -0 $daemon_pid 2>/dev/null"
"$BIN/choreoscope" --config "$tmp/cfg.yaml" --brokers "$BROKER" 2>"$tmp/daemon2.err" &
pids+=($!)
wait_http "$U/-/healthy" 100
curl -s "$U/api/v1/flows/order/$pay" >"$tmp/t2.json"
check "after a restart $pay still finds $corr (from the store)" stored_ok "$tmp/t2.json"
check "after a restart key=$pay lists it" key_list "state=closed&key=$pay" "$corr" true
finish
