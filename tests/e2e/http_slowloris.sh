#!/usr/bin/env bash
# Hostile clients on loopback against the live daemon (docs/http.md "Connections"):
#  1. slowloris: 128 connections (reconnecting when closed) each sending one header
#     line every 5 s, so none ever reaches the 10 s idle timeout;
#  2. a connection flood: 400 connections that send nothing at all (reconnecting).
# Meanwhile a prober asks /-/healthy and /metrics every 100 ms from the same address
# (1 s timeout each) and counts the answers and their latency; every probe must be
# answered, p99 under 100 ms (the issue's bound; $PROBE_P99_MS overrides it on a slow
# machine). The header deadline (4 s here) and the evictions are read back from
# /metrics.
source "$(dirname "$0")/lib/http.sh"

start_broker events:1
HTTP_PORT=$(free_port)
write_config "$tmp/cfg.yaml"
# a 4 s header deadline: the slow connections (a line every 5 s) meet it in the test
sed -i 's/^  listen: .*/&\n  header_timeout: 4s/' "$tmp/cfg.yaml"
start_daemon "$tmp/cfg.yaml"
P99_MS=${PROBE_P99_MS:-100}

# attack KIND SECONDS NCONN: runs the attack and the prober together; prints
# "answered total p50_ms p99_ms max_ms"
attack() {
  $PY - "$HTTP_PORT" "$1" "$2" "$3" <<'PY'
import socket, sys, threading, time, selectors
port, kind, secs, nconn = int(sys.argv[1]), sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
stop = time.time() + secs
def attacker():
    sel = selectors.DefaultSelector()
    socks = {}
    def open_one():
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=1)
        except OSError:
            return
        s.setblocking(False)
        try:
            if kind == "slowloris":
                s.send(b"GET /api/v1/summary HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        except OSError:
            s.close(); return
        socks[s] = 0
        sel.register(s, selectors.EVENT_READ)
    for _ in range(nconn):
        open_one()
    last = time.time()
    while time.time() < stop:
        for key, _ in sel.select(timeout=0.2):
            s = key.fileobj
            try:
                d = s.recv(4096)
            except OSError:
                d = b""
            if not d:
                sel.unregister(s); s.close(); del socks[s]
        if kind == "slowloris" and time.time() - last >= 5:
            last = time.time()
            for s in list(socks):
                socks[s] += 1
                try:
                    s.send(b"X-Slow-%d: x\r\n" % socks[s])
                except OSError:
                    pass
        while len(socks) < nconn and time.time() < stop:
            n = len(socks); open_one()
            if len(socks) == n:
                break
    for s in list(socks):
        s.close()
th = threading.Thread(target=attacker, daemon=True)
th.start()
time.sleep(1.0)   # let the attack take hold
lat, answered, total, i = [], 0, 0, 0
while time.time() < stop - 0.2:
    path = "/-/healthy" if i % 2 == 0 else "/metrics"
    i += 1; total += 1
    t0 = time.time()
    try:
        phase = "connect"
        s = socket.create_connection(("127.0.0.1", port), timeout=1)
        phase = "answer"
        s.settimeout(max(0.05, 1 - (time.time() - t0)))
        s.sendall(b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n" % path.encode())
        d = b""
        while True:
            c = s.recv(65536)
            if not c:
                break
            d += c
        s.close()
        if d.startswith(b"HTTP/1.1 200"):
            answered += 1
            lat.append((time.time() - t0) * 1000)
        else:
            print("probe %s after %.1f ms: %r" % (path, (time.time() - t0) * 1000, d[:60]), file=sys.stderr)
    except OSError as e:
        print("probe %s after %.1f ms (%s): %s" % (path, (time.time() - t0) * 1000, phase, e), file=sys.stderr)
    time.sleep(max(0, 0.1 - (time.time() - t0)))
th.join()
lat.sort()
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] if lat else -1
print(answered, total, "%.1f" % q(0.5), "%.1f" % q(0.99), "%.1f" % (lat[-1] if lat else -1))
PY
}

ok_probes() { # "answered total p50 p99 max"
  set -- $1
  [ "$1" = "$2" ] && [ "$2" -gt 0 ] && awk -v p="$4" -v b="$P99_MS" 'BEGIN { exit !(p >= 0 && p < b) }'
}

read -r a n p50 p99 mx <<<"$(attack slowloris 13 128)"
echo "slowloris: $a of $n probes answered, p50 ${p50} ms, p99 ${p99} ms, max ${mx} ms"
check "slowloris (128 conns, 1 header line / 5 s): every probe answered, p99 < ${P99_MS} ms ($a/$n, p99 ${p99} ms)" \
  ok_probes "$a $n $p50 $p99 $mx"
ht=$(metric 'choreoscope_http_connections_closed_total{reason="header_timeout"}')
ev1=$(metric 'choreoscope_http_connections_closed_total{reason="evicted"}')
# Probes evict the oldest header-waiting connection, so how many slow ones reach the 4 s
# deadline first depends on scheduling (0 to a few under a loaded CI machine); the
# deadline itself is pinned by test_http_api (http_guard). Here: the slow connections
# were cut, by the deadline or by eviction.
check "slow headers cut (closed header_timeout: $ht, evicted: $ev1)" [ $((ht + ev1)) -ge 1 ]

read -r a n p50 p99 mx <<<"$(attack flood 6 400)"
echo "flood: $a of $n probes answered, p50 ${p50} ms, p99 ${p99} ms, max ${mx} ms"
check "connection flood (400 idle conns): every probe answered, p99 < ${P99_MS} ms ($a/$n, p99 ${p99} ms)" \
  ok_probes "$a $n $p50 $p99 $mx"
ev=$(metric 'choreoscope_http_connections_closed_total{reason="evicted"}')
rf=$(metric 'choreoscope_http_connections_closed_total{reason="refused"}')
echo "flood: closed evicted $ev (slowloris $ev1), refused $rf"
check "idle connections evicted for newcomers (closed evicted: $ev)" [ "$ev" -ge 1 ]
check "daemon still running" kill -0 "$daemon_pid"
check "healthy after the attacks" wait_http "http://127.0.0.1:$HTTP_PORT/-/healthy" 20
finish
