#!/usr/bin/env bash
# HTTPS for /metrics and /api/v1 (http.tls_cert_file, http.tls_key_file), with a test CA
# and server certificate this test makes (lib/tls.sh):
#  - curl --cacert gets /metrics and /-/ready over https; without the CA curl refuses
#    the certificate; plain http to the TLS port gets no HTTP answer and the daemon
#    goes on serving https;
#  - a real Prometheus scrapes it (scheme: https, tls_config.ca_file): up == 1;
#  - a key that is not the certificate's: an error line naming the settings; the daemon
#    runs on without HTTP, as for an address that cannot be bound.
source "$(dirname "$0")/lib/http.sh"
source "$ROOT/tests/e2e/lib/tls.sh"
all() { eval "$1"; }   # all "CONDITION && ...": one command for check

make_ca "$tmp/tls" ca && make_cert "$tmp/tls" ca server && make_cert "$tmp/tls" ca other ||
  { echo "FAIL: openssl could not make the test certificates"; exit 1; }
start_broker events:2
HTTP_PORT=$(free_port)
write_config "$tmp/cfg.yaml"
sed -i "s|^http:|&\n  tls_cert_file: $tmp/tls/server.crt\n  tls_key_file: $tmp/tls/server.key|" "$tmp/cfg.yaml"
"$BIN/choreoscope" --config "$tmp/cfg.yaml" --brokers "$BROKER" 2>"$tmp/daemon.err" &
daemon_pid=$!; pids+=("$daemon_pid")
URL=https://127.0.0.1:$HTTP_PORT
for _ in $(seq 150); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' -m 1 --cacert "$tmp/tls/ca.crt" "$URL/-/ready")" = 200 ] && break
  sleep 0.1
done
# /metrics is published every 250 ms: the gauge may follow /-/ready by one round
for _ in $(seq 30); do
  code=$(curl -s -o "$tmp/metrics.txt" -w '%{http_code}' -m 5 --cacert "$tmp/tls/ca.crt" "$URL/metrics")
  grep -q '^choreoscope_ready 1' "$tmp/metrics.txt" && break; sleep 0.1
done
check "https: /metrics answers 200 with the CA (code=$code)" \
  all "[ $code = 200 ] && grep -q '^choreoscope_ready 1' $tmp/metrics.txt"
code=$(curl -s -o /dev/null -w '%{http_code}' -m 5 --cacert "$tmp/tls/ca.crt" "https://localhost:$HTTP_PORT/-/healthy")
check "https: the certificate is valid for localhost too (code=$code)" [ "$code" = 200 ]
curl -s -o /dev/null -m 5 "$URL/metrics"; rc=$?
check "https: without the CA curl refuses the certificate (curl exit $rc: 60 = peer certificate)" [ $rc = 60 ]
out=$(curl -s -o "$tmp/plain.out" -w '%{http_code}' -m 5 "http://127.0.0.1:$HTTP_PORT/metrics"); rc=$?
check "plain http to the TLS port: no HTTP answer (curl exit $rc, code $out)" \
  all "[ $rc != 0 ] && [ '$out' = 000 ] && [ ! -s $tmp/plain.out ]"
code=$(curl -s -o /dev/null -w '%{http_code}' -m 5 --cacert "$tmp/tls/ca.crt" "$URL/api/v1/summary")
check "https: still serving after the plain request (/api/v1/summary code=$code)" \
  all "[ $code = 200 ] && kill -0 $daemon_pid"

# a real Prometheus, scraping over https
PROM_PORT=$(free_port)
cat >"$tmp/prometheus.yml" <<YAML
global: { scrape_interval: 1s }
scrape_configs:
  - job_name: choreoscope
    scheme: https
    tls_config: { ca_file: "$tmp/tls/ca.crt" }
    static_configs: [{ targets: ["127.0.0.1:$HTTP_PORT"] }]
YAML
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/tsdb" \
  --web.listen-address="127.0.0.1:$PROM_PORT" >"$tmp/prometheus.log" 2>&1 &
pids+=($!)
PROM_URL="http://127.0.0.1:$PROM_PORT"
wait_http "$PROM_URL/-/ready" 100 || { echo "FAIL: prometheus not ready"; tail "$tmp/prometheus.log"; }
for _ in $(seq 100); do [ "$(promq 'up{job="choreoscope"} == 1')" = 1 ] && break; sleep 0.2; done
check "Prometheus scrapes /metrics over https (up == 1)" [ "$(promq 'up{job="choreoscope"} == 1')" = 1 ]
check "Prometheus has the collector's series over https" [ "$(promq 'choreoscope_ready == 1')" = 1 ]
kill -TERM "$daemon_pid"; wait "$daemon_pid"
check "daemon stops cleanly" [ $? = 0 ]

# a key that is not the certificate's: like an address that cannot be bound, the
# daemon runs on without HTTP (verdicts and records do not depend on it), at error level
sed -i "s|tls_key_file: .*|tls_key_file: $tmp/tls/other.key|" "$tmp/cfg.yaml"
"$BIN/choreoscope" --config "$tmp/cfg.yaml" --brokers "$BROKER" 2>"$tmp/badkey.err" &
daemon_pid=$!; pids+=("$daemon_pid")
for _ in $(seq 100); do grep -q "HTTP server not started" "$tmp/badkey.err" && break; sleep 0.1; done
check "wrong key: one error line naming the settings ($(grep -o 'libmicrohttpd did not start[^\\]*' "$tmp/badkey.err" | head -c 140))" \
  all "grep 'level=error' $tmp/badkey.err | grep -q 'not the key of http.tls_cert_file'"
sleep 1
check "wrong key: the daemon runs on, nothing listens on the port" \
  all "kill -0 $daemon_pid && ! curl -sk -m 2 -o /dev/null https://127.0.0.1:$HTTP_PORT/-/healthy"
finish
