#!/usr/bin/env bash
# Host header and Bearer scheme on the live daemon (docs/http.md "Host and token").
# Without a token, /metrics and /api/v1 answer only a Host that is an IP literal, a
# localhost name or one of http.allowed_hosts (DNS rebinding: a page whose own name
# resolves to the collector is refused with 421); with a token, any Host, and the
# scheme `Bearer` in any letter case.
source "$(dirname "$0")/lib/http.sh"

start_broker events:1
status() { curl -s -m 5 -o "$tmp/body" -w '%{http_code}' "$@"; }
is() { local want=$1; shift; [ "$(status "$@")" = "$want" ]; }

# 1. no token, one allowed name
HTTP_PORT=$(free_port)
write_config "$tmp/open.yaml"
sed -i 's/^  listen: .*/&\n  allowed_hosts: [collector-1.example]/' "$tmp/open.yaml"
start_daemon "$tmp/open.yaml"
U="http://127.0.0.1:$HTTP_PORT"
check "Host 127.0.0.1:PORT: 200" is 200 "$U/api/v1/summary"
check "Host localhost: 200" is 200 -H "Host: localhost:$HTTP_PORT" "$U/api/v1/summary"
check "Host of http.allowed_hosts (other case): 200" is 200 -H "Host: Collector-1.Example:$HTTP_PORT" "$U/metrics"
check "foreign Host on /api/v1/summary: 421" is 421 -H "Host: rebind.attacker.example:$HTTP_PORT" "$U/api/v1/summary"
check "  ... with a JSON error naming http.allowed_hosts" \
  $PY -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["status"]==421 and "http.allowed_hosts" in d["error"]' "$tmp/body"
check "foreign Host on /metrics: 421" is 421 -H "Host: rebind.attacker.example" "$U/metrics"
check "foreign Host on a timeline: 421" is 421 -H "Host: 127.0.0.1.attacker.example" "$U/api/v1/flows/order/o-1"
check "foreign Host on /-/healthy (no data there): 200" is 200 -H "Host: rebind.attacker.example" "$U/-/healthy"
check "refusals counted: choreoscope_http_requests_total{code=\"421\"} = 3" \
  [ "$(metric 'choreoscope_http_requests_total{code="421"}')" = 3 ]
open_pid=$daemon_pid

# 2. a token: any Host; the scheme in any case, the token exactly
HTTP_PORT=$(free_port)
write_config "$tmp/tok.yaml"
sed -i 's/^  listen: .*/&\n  token: s3cret-token/; s/group_id: http-e2e/group_id: http-e2e-tok/' "$tmp/tok.yaml"
start_daemon "$tmp/tok.yaml"
U="http://127.0.0.1:$HTTP_PORT"
check "token: no Authorization: 401" is 401 "$U/api/v1/summary"
for scheme in Bearer bearer BEARER bEaReR; do
  check "token: '$scheme s3cret-token': 200" is 200 -H "Authorization: $scheme s3cret-token" "$U/api/v1/summary"
done
check "token: two spaces after the scheme: 200" is 200 -H "Authorization: Bearer  s3cret-token" "$U/metrics"
check "token: wrong token: 401" is 401 -H "Authorization: Bearer s3cret-tokeN" "$U/api/v1/summary"
check "token: token prefix: 401" is 401 -H "Authorization: Bearer s3cret" "$U/api/v1/summary"
check "token: no space after the scheme: 401" is 401 -H "Authorization: Bearers3cret-token" "$U/api/v1/summary"
check "token: Basic scheme: 401" is 401 -H "Authorization: Basic czNjcmV0LXRva2Vu" "$U/api/v1/summary"
check "token: foreign Host with the token: 200" is 200 -H "Host: rebind.attacker.example" \
  -H "Authorization: bearer s3cret-token" "$U/api/v1/summary"
check "both daemons still running" kill -0 "$open_pid" "$daemon_pid"
finish
