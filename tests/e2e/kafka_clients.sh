#!/usr/bin/env bash
# Events from clients we did not write, over real TCP to choreoscope-broker:
# kcat producing CloudEvents binary mode (ce_* headers) and plain JSON values, and
# python confluent_kafka producing structured CloudEvents. One order is stitched from
# all three; the others take their correlation id from ce_correlationid, a header,
# a payload field, the message key and the W3C traceparent. The daemon
# (--clock event --until-end) must give exactly the expected verdicts.
source "$(dirname "$0")/lib/kafka.sh"

start_broker events:4 alerts:1 alerts-pb:1
cat >"$tmp/cfg.yaml" <<YAML
flows:
  - name: order
    deadline: 10m
    lateness: 5s
    steps:
      OrderPlaced:       { start: true }
      PaymentAuthorized: { after: [OrderPlaced], within: 30s }
      OrderConfirmed:    { after: [PaymentAuthorized], within: 30s, end: completed }
kafka:
  brokers: $BROKER
  group_id: clients
  topics: [events]
  correlation_from: [ce_correlationid, "header:x-order-id", "field:correlation_id",
                     "field:data.order_id", key, traceparent]
  alert_topic: alerts
  alert_format: json
YAML

# ce KEY ID TYPE TIME [extra kcat args]: a binary-mode CloudEvent from kcat.
ce() {
  local key=$1 id=$2 type=$3 t=$4 k=(); shift 4
  [ -n "$key" ] && k=(-k "$key")
  printf '{"amount":5}\n' | kcat -b "$BROKER" -P -t events "${k[@]}" -H ce_specversion=1.0 \
    -H "ce_id=$id" -H "ce_type=$type" -H ce_source=/kcat -H "ce_time=$t" "$@"
}
# js KEY JSON [extra kcat args]: a plain JSON value from kcat.
js() { local key=$1 v=$2; shift 2; printf '%s\n' "$v" | kcat -b "$BROKER" -P -t events -k "$key" "$@"; }
# py KEY JSON...: structured CloudEvents from python confluent_kafka, in order.
py() {
  $PY - "$BROKER" "$@" <<'PYEOF'
import sys
from confluent_kafka import Producer
p = Producer({"bootstrap.servers": sys.argv[1]})
key = sys.argv[2]
for ev in sys.argv[3:]:
    p.produce("events", key=key, value=ev.encode(),
              headers=[("content-type", b"application/cloudevents+json; charset=utf-8")])
    p.flush(10)
PYEOF
}
sce() { # structured event JSON: ID TYPE TIME EXTRA-MEMBERS
  printf '{"specversion":"1.0","id":"%s","type":"%s","source":"/python","time":"%s"%s}' "$@"
}

# 1. one order stitched from three clients
ce mixed-1 m1 OrderPlaced 2026-11-25T10:00:00Z -H ce_correlationid=mixed-1
py mixed-1 "$(sce m2 PaymentAuthorized 2026-11-25T10:00:01Z ',"correlationid":"mixed-1","data":{"x":1}')"
js mixed-1 '{"event_id":"m3","correlation_id":"mixed-1","type":"OrderConfirmed","source":"kcat","time":"2026-11-25T10:00:02Z"}'
# 2. binary mode without a key, correlation id from the W3C traceparent only
#    (no key: pinned to partition 0 so the two keep their order)
tp=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
ce "" t2a OrderPlaced 2026-11-25T10:00:00Z -H "traceparent=$tp" -p 0
ce "" t2b PaymentAuthorized 2026-11-25T10:00:05Z -H "traceparent=$tp" -p 0
# 3. plain JSON, correlation id from the message key
js key-3 '{"event_id":"k3a","type":"OrderPlaced","source":"kcat","time":"2026-11-25T10:00:00Z"}'
# 4. plain JSON, correlation id from a header
for s in OrderPlaced:10:00:00 PaymentAuthorized:10:00:03 OrderConfirmed:10:00:04; do
  js h4 "{\"event_id\":\"h4-${s%%:*}\",\"type\":\"${s%%:*}\",\"source\":\"kcat\",\"time\":\"2026-11-25T${s#*:}Z\"}" \
    -H x-order-id=hdr-4
done
# 5. structured, correlation id from a payload field; PaymentAuthorized redelivered
py py-5 "$(sce p1 OrderPlaced 2026-11-25T10:00:00Z ',"data":{"order_id":"py-5"}')" \
  "$(sce p2 PaymentAuthorized 2026-11-25T10:00:02Z ',"data":{"order_id":"py-5"}')" \
  "$(sce p2 PaymentAuthorized 2026-11-25T10:00:02Z ',"data":{"order_id":"py-5"}')" \
  "$(sce p3 OrderConfirmed 2026-11-25T10:00:09Z ',"data":{"order_id":"py-5"}')"
# 6. a later event moves event time past every deadline above
py tick-6 "$(sce t6 OrderPlaced 2026-11-25T10:02:00Z ',"correlationid":"tick-6"')"

timeout 60 "$BIN/choreoscope" --config "$tmp/cfg.yaml" --clock event --until-end \
  --records "$tmp/rec.jsonl" 2>"$tmp/daemon.err"
rc=$?
check "kafka clients: daemon --until-end exits 0 (rc=$rc)" [ "$rc" -eq 0 ]

cat >"$tmp/want_anomalies" <<TXT
order 4bf92f3577b34da6a3ce929d0e0e4736 stalled OrderConfirmed
order key-3 stalled PaymentAuthorized
order py-5 duplicate PaymentAuthorized
TXT
cat >"$tmp/want_outcomes" <<TXT
order 4bf92f3577b34da6a3ce929d0e0e4736 open
order hdr-4 completed
order key-3 open
order mixed-1 completed
order py-5 completed
order tick-6 open
TXT
anomalies "$tmp/rec.jsonl" >"$tmp/got_anomalies"
outcomes "$tmp/rec.jsonl" >"$tmp/got_outcomes"
check "kafka clients: anomalies as expected (traceparent, key, duplicate)" \
  same_lines "$tmp/want_anomalies" "$tmp/got_anomalies"
check "kafka clients: one order stitched from kcat binary CE, python structured CE and kcat JSON" \
  grep -qx "order mixed-1 completed" "$tmp/got_outcomes"
check "kafka clients: flow outcomes as expected" same_lines "$tmp/want_outcomes" "$tmp/got_outcomes"
check "kafka clients: summary counts 14 events, 0 rejected" \
  [ "$(jq -c 'select(.record=="summary") | [.events, .rejected]' "$tmp/rec.jsonl")" = "[14,0]" ]

# Alerts: JSON (the anomaly record lines, keyed by correlation id), then protobuf
# (choreoscope.v1.Anomaly) from a second pass in another group.
kcat -b "$BROKER" -C -t alerts -e -q -f '%k %s\n' 2>/dev/null | sort >"$tmp/alerts_json"
jq -c 'select(.record=="anomaly")' "$tmp/rec.jsonl" | jq -r '"\(.correlation_id) \(tojson)"' |
  sort >"$tmp/want_alerts_json"
check "kafka clients: JSON alert topic holds the anomaly records keyed by correlation id" \
  same_lines "$tmp/want_alerts_json" "$tmp/alerts_json"
sed -e 's/group_id: clients/group_id: clients-pb/' -e 's/alert_topic: alerts/alert_topic: alerts-pb/' \
  -e 's/alert_format: json/alert_format: protobuf/' "$tmp/cfg.yaml" >"$tmp/cfg-pb.yaml"
timeout 60 "$BIN/choreoscope" --config "$tmp/cfg-pb.yaml" --clock event --until-end \
  2>"$tmp/daemon-pb.err"
kcat -b "$BROKER" -C -t alerts-pb -e -q -f '%S:%s' 2>/dev/null >"$tmp/alerts.pb"
# A small reader of the protobuf wire format (messages as SIZE:BYTES): fields 1-4
# (flow, correlation_id, kind, step).
$PY - "$tmp/alerts.pb" <<'PYEOF' | sort >"$tmp/got_pb"
import sys
def varint(b, i):
    v = s = 0
    while True:
        c = b[i]; i += 1; v |= (c & 0x7f) << s; s += 7
        if c < 0x80: return v, i
data, j = open(sys.argv[1], "rb").read(), 0
while j < len(data):
    colon = data.index(b":", j); n = int(data[j:colon]); msg = data[colon + 1:colon + 1 + n]
    j = colon + 1 + n
    f, i = {}, 0
    while i < len(msg):
        key, i = varint(msg, i)
        if key & 7 == 2:
            n, i = varint(msg, i); f[key >> 3] = msg[i:i + n].decode(); i += n
        elif key & 7 == 0:
            _, i = varint(msg, i)
        elif key & 7 == 1:
            i += 8
    print(f.get(1, ""), f.get(2, ""), f.get(3, ""), f.get(4, ""))
PYEOF
check "kafka clients: protobuf alert topic holds choreoscope.v1.Anomaly messages for the same verdicts" \
  same_lines "$tmp/want_anomalies" "$tmp/got_pb"
[ $fails -eq 0 ] || tail -5 "$tmp/daemon.err"
finish
