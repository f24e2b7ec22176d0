#!/usr/bin/env bash
# What the daemon logs about its config and its bounds, on the live daemon:
#  - SIGHUP with a config that has several problems: one log line, the problems
#    escaped inside it (\n between them, quotes backslashed), the running config kept;
#  - flows evicted at limits.max_flows: logged, rate-limited (at most 10 lines per
#    10 s; the counter has them all);
#  - a --listen that does not parse names the flag; a bad http.listen in the file
#    names the key at file:line:col (settings are parsed once, by the config).
source "$(dirname "$0")/lib/http.sh"

start_broker events:1
HTTP_PORT=$(free_port)
write_config "$tmp/cfg.yaml"
sed -i 's/^http:/limits: { max_flows: 3 }\n&/' "$tmp/cfg.yaml"
start_daemon "$tmp/cfg.yaml"

# 1. reload with two problems
cp "$tmp/cfg.yaml" "$tmp/good.yaml"
sed -i 's/^  listen: .*/  listen: "nohost:x"\n  max_connections: 0/' "$tmp/cfg.yaml"
kill -HUP "$daemon_pid"
for _ in $(seq 50); do grep -q 'config reload failed' "$tmp/daemon.err" && break; sleep 0.1; done
line=$(grep 'config reload failed' "$tmp/daemon.err")
check "reload failure: exactly one log line" [ "$(grep -c 'config reload failed' "$tmp/daemon.err")" = 1 ]
check "  ... naming both problems, escaped (\\n between them, \\\" around keys)" \
  $PY -c 'import sys; l=sys.argv[1]; assert l.count("\\n")>=1 and "\\\"http.listen\\\"" in l and "\\\"http.max_connections\\\"" in l, l' "$line"
check "  ... and the daemon still serves" wait_http "http://127.0.0.1:$HTTP_PORT/-/healthy" 20
cp "$tmp/good.yaml" "$tmp/cfg.yaml"

# 2. 40 orders that all stay open (each stops after PaymentAuthorized) through a
#    table of 3: evictions counted, the log rate-limited
produce 2 20 1 &
pids+=($!)
wait $!
for _ in $(seq 100); do
  [ "$(metric choreoscope_flows_evicted_total)" -ge 30 ] && break; sleep 0.1
done
ev=$(metric choreoscope_flows_evicted_total)
nlog=$(grep -c 'msg="flow evicted: limits.max_flows reached"' "$tmp/daemon.err")
check "evictions counted ($ev) and logged ($nlog lines)" [ "$ev" -ge 30 ] && [ "$nlog" -ge 1 ]
check "eviction log rate-limited: at most 10 lines in the first 10 s ($nlog)" [ "$nlog" -le 10 ]
check "  ... a logged eviction names flow and corr" \
  grep -q 'msg="flow evicted: limits.max_flows reached" flow=order corr="o-' "$tmp/daemon.err"

# 3. where a bad address came from
"$BIN/choreoscope" --config "$tmp/good.yaml" --brokers "$BROKER" --listen "nohost:1" \
  >/dev/null 2>"$tmp/flag.err"; rc=$?
check "--listen that does not parse: exit $rc, names the flag" \
  grep -q '^choreoscope: --listen nohost:1: bad host' "$tmp/flag.err"
sed 's/^  listen: .*/  listen: "nohost:1"/' "$tmp/good.yaml" >"$tmp/badkey.yaml"
"$BIN/choreoscope" --config "$tmp/badkey.yaml" --brokers "$BROKER" >/dev/null 2>"$tmp/key.err"
check "http.listen that does not parse: names the key at its position" \
  grep -q "badkey.yaml:[0-9]*:[0-9]*: \"http.listen\": expected HOST:PORT" "$tmp/key.err"
check "  ... and never says --listen" bash -c "! grep -q -- '--listen' '$tmp/key.err'"
finish
