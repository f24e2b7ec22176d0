#!/usr/bin/env bash
# Bad HTTP input against the live daemon while it ingests: unknown paths, bad and
# unknown parameters, wrong methods, request bodies, oversized headers and URLs, bytes
# that are not HTTP, and 100 concurrent clients. Every refusal is a 4xx with a JSON
# error body; the daemon stays up and consumes every produced event.
source "$(dirname "$0")/lib/http.sh"

start_broker events:4
HTTP_PORT=$(free_port)
write_config "$tmp/cfg.yaml"
start_daemon "$tmp/cfg.yaml"
U="http://127.0.0.1:$HTTP_PORT"
produce 8 60 7 &
pids+=($!)

# json4xx WANT_STATUS CURL_ARGS...: status is WANT and the body is {"error":..,"status":WANT}
json4xx() {
  local want=$1; shift
  local got
  got=$(curl -s -m 5 -o "$tmp/body" -w '%{http_code}' "$@")
  [ "$got" = "$want" ] && $PY -c 'import json,sys
d=json.load(open(sys.argv[1])); assert d["status"]==int(sys.argv[2]) and d["error"]' "$tmp/body" "$want"
}
check "unknown path: 404 JSON" json4xx 404 "$U/nope"
check "unknown API version: 404 JSON" json4xx 404 "$U/api/v2/summary"
check "unknown flow in a timeline path: 404 JSON" json4xx 404 "$U/api/v1/flows/nope/o-1"
check "unknown flow instance: 404 JSON" json4xx 404 "$U/api/v1/flows/order/o-does-not-exist"
check "bad state value: 400 JSON" json4xx 400 "$U/api/v1/flows?state=weird"
check "limit out of range: 400 JSON" json4xx 400 "$U/api/v1/flows?limit=100000"
check "limit not a number: 400 JSON" json4xx 400 "$U/api/v1/flows?limit=1e3"
check "unknown anomaly kind: 400 JSON" json4xx 400 "$U/api/v1/anomalies?kind=nope"
check "unknown query parameter: 400 JSON" json4xx 400 "$U/api/v1/summary?debug=1"
check "POST: 405 JSON" json4xx 405 -X POST "$U/api/v1/summary"
check "request body: 413 JSON" json4xx 413 -X GET --data-binary @"$ROOT/dashboards/choreoscope-rules.yml" "$U/api/v1/summary"
big=$(head -c 12000 /dev/zero | tr '\0' a)
check "12 KB header: 431 JSON" json4xx 431 -H "X-Big: $big" "$U/api/v1/summary"
check "9 KB URL: 431 JSON" json4xx 431 "$U/api/v1/flows?q=${big:0:9000}"
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' -H "X-Huge: $(head -c 100000 /dev/zero | tr '\0' a)" "$U/metrics")
check "100 KB header refused by the server's memory bound (4xx, got $code)" [ "${code:0:1}" = 4 ]
rawbad() { # BYTES [hold]: the answer's status line is 4xx, or the connection is closed
  # (with "hold": or still waiting for a request line after 2 s; the idle timeout ends it)
  $PY - "$HTTP_PORT" "$1" "${2:-}" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin-1"))
try:
    d = s.recv(200)
except socket.timeout:
    sys.exit(0 if sys.argv[3] == "hold" else 1)
sys.exit(0 if d == b"" or d[:9] in (b"HTTP/1.1 ", b"HTTP/1.0 ") and d[9:10] == b"4" else 1)
PY
}
check "garbage bytes: 4xx or closed" rawbad 'GARBAGE\r\n\r\n'
check "missing URL: 4xx or closed" rawbad 'GET\r\n\r\n'
check "binary junk: never 2xx (held until the idle timeout)" rawbad '\x00\x01\x02\xff\r\n\r\n' hold
check "header without colon: 4xx or closed" rawbad 'GET /metrics HTTP/1.1\r\nHost: x\r\nBroken\r\n\r\n'

# 100 concurrent clients on the flow-table and published endpoints
seq 100 | xargs -P 100 -I{} sh -c \
  'curl -s -m 10 -o /dev/null -w "%{http_code}\n" "'"$U"'/$( [ $(({} % 3)) = 0 ] && echo metrics || ([ $(({} % 3)) = 1 ] && echo api/v1/summary || echo "api/v1/anomalies?limit=50"))"' \
  >"$tmp/codes"
check "100 concurrent clients: all answered 200 ($(sort "$tmp/codes" | uniq -c | tr '\n' ' '))" \
  [ "$(grep -c '^200$' "$tmp/codes")" = 100 ]

# ingestion was not disturbed: every produced message consumed, daemon alive
wait $! 2>/dev/null
wait_file "$tmp/produced" 200
want=$(cat "$tmp/produced")
for _ in $(seq 100); do [ "$(metric choreoscope_events_consumed_total)" = "$want" ] && break; sleep 0.1; done
check "every produced event consumed ($(metric choreoscope_events_consumed_total)/$want)" \
  [ "$(metric choreoscope_events_consumed_total)" = "$want" ]
check "no input rejected" [ "$(metric choreoscope_events_rejected_total)" = 0 ]
check "daemon still running" kill -0 "$daemon_pid"
check "refusals counted in choreoscope_http_requests_total{code=\"404\"}" \
  [ "$(metric 'choreoscope_http_requests_total{code="404"}')" -ge 4 ]

# a second daemon whose HTTP address is taken: with --listen it exits with the reason;
# from the config it runs on (records and verdicts do not need HTTP) and logs an error
timeout 20 "$BIN/choreoscope" --config "$tmp/cfg.yaml" --brokers "$BROKER" --group other \
  --listen "127.0.0.1:$HTTP_PORT" 2>"$tmp/busy1.err"; rc=$?
check "--listen on a taken port: exits non-zero with the reason (rc=$rc)" \
  bash -c "[ $rc -ne 0 ] && grep -q 'Address already in use' '$tmp/busy1.err'"
"$BIN/choreoscope" --config "$tmp/cfg.yaml" --brokers "$BROKER" --group other 2>"$tmp/busy2.err" &
p2=$!; pids+=("$p2")
for _ in $(seq 100); do grep -q "partitions assigned" "$tmp/busy2.err" && break; sleep 0.1; done
check "http.listen taken: keeps consuming, logs the HTTP error" \
  bash -c "kill -0 $p2 && grep -q 'HTTP server not started' '$tmp/busy2.err' && grep -q 'partitions assigned' '$tmp/busy2.err'"
finish
