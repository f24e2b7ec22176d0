#!/usr/bin/env bash
# Broker trouble and restarts, over real TCP:
#  1. broker unreachable at start: the daemon's bootstrap address (a TCP proxy to the
#     broker) is down; the daemon logs it and keeps retrying, and consumes once the
#     proxy is up;
#  2. broker lost mid-run: the broker process is frozen (SIGSTOP) past the daemon's
#     socket timeout (kafka.properties pass-through); the daemon logs the errors and,
#     once the broker is back, consumes what came after, losing and repeating nothing;
#  SIGHUP in between: an invalid config is kept out, a valid one reloaded.
#  3. restart: a daemon stopped with SIGTERM commits what it applied; the next one in
#     the group reads exactly the rest (no event lost, none counted twice);
#  4. SIGTERM while the broker is down: the daemon still exits, in bounded time.
source "$(dirname "$0")/lib/kafka.sh"

start_broker events:4
port=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$tmp/cfg.yaml" <<YAML
flows:
  - name: order
    steps:
      OrderPlaced:    { start: true }
      OrderConfirmed: { after: [OrderPlaced], end: completed }
kafka:
  brokers: 127.0.0.1:$port
  group_id: outage
  topics: [events]
  # session.timeout.ms: the mock cluster hands a stopped member's partitions to the next
  # one only after its session timeout (45 s by default), even after a LeaveGroup.
  properties: { "socket.timeout.ms": "1500", "reconnect.backoff.ms": "100",
                "session.timeout.ms": "6000" }
YAML
# orders FROM TO: two events per order, keyed by order id
orders() {
  for i in $(seq "$1" "$2"); do
    printf '{"event_id":"%s-a","correlation_id":"o%s","type":"OrderPlaced","source":"s","time":"2026-11-25T10:00:00Z"}\n' "$i" "$i"
    printf '{"event_id":"%s-b","correlation_id":"o%s","type":"OrderConfirmed","source":"s","time":"2026-11-25T10:00:01Z"}\n' "$i" "$i"
  done > "$tmp/batch"
  kcat -b "$BROKER" -P -t events -K: -l <(sed -E 's/^(.*"correlation_id":"(o[0-9]+)".*)$/\2:\1/' "$tmp/batch")
}
completed() { jq -r 'select(.record=="flow" and .outcome=="completed") | .correlation_id' "$1" | sort -u | wc -l; }
wait_grep() { for _ in $(seq "$3"); do grep -q "$1" "$2" && return 0; sleep 0.1; done; return 1; }

# 1. unreachable at start
"$BIN/choreoscope" --config "$tmp/cfg.yaml" --records "$tmp/rec1.jsonl" 2>"$tmp/d1.err" &
dp=$!; pids+=("$dp")
check "outage: unreachable broker at start is logged, daemon keeps running" \
  wait_grep 'msg="kafka error; retrying"' "$tmp/d1.err" 100
kill -0 "$dp" 2>/dev/null || echo "FAIL: outage: daemon exited while the broker was unreachable"
orders 1 50
IFS=: read -r bhost bport <<<"$BROKER"
$PY - "$port" "$bhost" "$bport" <<'PYEOF' &
import socket, sys, threading
lp, host, port = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", lp)); srv.listen(16)
def pipe(a, b):
    try:
        while (d := a.recv(65536)):
            b.sendall(d)
    except OSError:
        pass
    finally:
        a.close(); b.close()
while True:
    c, _ = srv.accept()
    u = socket.create_connection((host, port))
    threading.Thread(target=pipe, args=(c, u), daemon=True).start()
    threading.Thread(target=pipe, args=(u, c), daemon=True).start()
PYEOF
pids+=("$!")
check "outage: consumes once the bootstrap address answers" \
  wait_grep 'msg="partitions assigned"' "$tmp/d1.err" 150

# SIGHUP: an invalid config is reported and the running one kept; a valid one reloads
cp "$tmp/cfg.yaml" "$tmp/cfg.good"
printf 'flows: [\n' >"$tmp/cfg.yaml"
kill -HUP "$dp"
check "outage: SIGHUP with an invalid config keeps the running one" \
  wait_grep 'msg="config reload failed; keeping the running config"' "$tmp/d1.err" 50
cp "$tmp/cfg.good" "$tmp/cfg.yaml"
kill -HUP "$dp"
check "outage: SIGHUP with a valid config reloads it" wait_grep 'msg="config reloaded' "$tmp/d1.err" 50

# 2. broker frozen mid-run, past the socket timeout
kill -STOP "$broker_pid"
sleep 4
kill -CONT "$broker_pid"
orders 51 80
for _ in $(seq 100); do grep -q '"o80"' "$tmp/rec1.jsonl" 2>/dev/null && break; sleep 0.1; done
check "outage: the lost broker is logged (timeouts/disconnects)" \
  [ "$(grep -c 'msg="kafka error; retrying"' "$tmp/d1.err")" -ge 2 ]
kill -TERM "$dp"; wait "$dp"; rc=$?
check "outage: daemon exits 0 on SIGTERM after the outage (rc=$rc)" [ "$rc" -eq 0 ]
check "outage: all 80 orders completed, none lost" [ "$(completed "$tmp/rec1.jsonl")" -eq 80 ]
check "outage: 160 events counted once each" \
  [ "$(jq 'select(.record=="summary") | .events' "$tmp/rec1.jsonl")" = 160 ]

# 3. restart in the same group: only the new events
orders 81 120
timeout 60 "$BIN/choreoscope" --config "$tmp/cfg.yaml" --until-end --clock event \
  --records "$tmp/rec2.jsonl" 2>"$tmp/d2.err"
check "outage: restarted daemon reads exactly the 80 new events" \
  [ "$(jq 'select(.record=="summary") | .events' "$tmp/rec2.jsonl")" = 80 ]
check "outage: restarted daemon completes the 40 new orders" [ "$(completed "$tmp/rec2.jsonl")" -eq 40 ]

# 4. asked to stop while the broker is down: bounded shutdown (close gives up after 10 s)
sed -i 's/group_id: outage/group_id: outage-stop/' "$tmp/cfg.yaml"
"$BIN/choreoscope" --config "$tmp/cfg.yaml" 2>"$tmp/d3.err" &
dp=$!; pids+=("$dp")
wait_grep 'msg="partitions assigned"' "$tmp/d3.err" 150
kill -STOP "$broker_pid"
t0=$(date +%s)
kill -TERM "$dp"; wait "$dp"; rc=$?
secs=$(( $(date +%s) - t0 ))
kill -CONT "$broker_pid"
bounded() { [ "$rc" -eq 0 ] && [ "$secs" -le 15 ]; }
check "outage: SIGTERM while the broker is down exits 0 within 15 s (rc=$rc, ${secs}s)" bounded
[ $fails -eq 0 ] || tail -n 8 "$tmp/d1.err" "$tmp/d2.err"
finish
