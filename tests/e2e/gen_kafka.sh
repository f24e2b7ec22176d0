#!/usr/bin/env bash
# choreoscope-gen over real TCP to choreoscope-broker, read back with clients we did
# not write (python confluent-kafka, kcat): every wire format carries the same events
# as the replay file, keyed by correlation id, on the partition Java's murmur2
# partitioner picks; CloudEvents headers/content types; wall clock pacing; SIGTERM;
# bad flags.
set -u
cd "$(dirname "$0")/../.."
GEN=bin/choreoscope-gen
PY=/usr/bin/python3
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
fails=0
source tests/e2e/lib/common.sh

bin/choreoscope-broker --topic pb:8 --topic js:8 --topic ceb:8 --topic ces:8 --topic wall:4 \
  --topic forever:4 --address-file "$tmp/addr" >/dev/null 2>"$tmp/broker.err" &
pids+=($!)
for _ in $(seq 50); do [ -s "$tmp/addr" ] && break; sleep 0.1; done
addr=$(cat "$tmp/addr")

# check.py ADDR TOPIC FORMAT FILE: reads the topic to its end and compares with the
# replay file written by the same run (FILE: JSON lines, or delimited protobuf).
cat >"$tmp/check.py" <<'EOF'
import json, sys
from confluent_kafka import Consumer, TopicPartition
addr, topic, fmt, path = sys.argv[1:5]

def murmur2(data):
    m, h = 0x5bd1e995, (0x9747b28c ^ len(data)) & 0xffffffff
    n4 = len(data) // 4
    for i in range(n4):
        k = int.from_bytes(data[4 * i:4 * i + 4], "little")
        k = (k * m) & 0xffffffff; k ^= k >> 24; k = (k * m) & 0xffffffff
        h = ((h * m) & 0xffffffff) ^ k
    rest = data[4 * n4:]
    if len(rest) >= 3: h ^= rest[2] << 16
    if len(rest) >= 2: h ^= rest[1] << 8
    if len(rest) >= 1: h ^= rest[0]; h = (h * m) & 0xffffffff
    h ^= h >> 13; h = (h * m) & 0xffffffff; h ^= h >> 15
    return h

c = Consumer({"bootstrap.servers": addr, "group.id": "check", "enable.partition.eof": True,
              "enable.auto.commit": False})
md = c.list_topics(topic, timeout=10)
nparts = len(md.topics[topic].partitions)
c.assign([TopicPartition(topic, p, 0) for p in range(nparts)])
msgs, eof = [], set()
while len(eof) < nparts:
    m = c.poll(5)
    if m is None: break
    if m.error():
        if m.error().code() == -191: eof.add(m.partition()); continue
        raise SystemExit("consume error: %s" % m.error())
    msgs.append(m)
c.close()
problems, events = [], []
for m in msgs:
    key = m.key().decode()
    hdr = {k: (v.decode() if v is not None else None) for k, v in (m.headers() or [])}
    if key.startswith("tick-"):
        continue
    if m.partition() != (murmur2(m.key()) & 0x7fffffff) % nparts:
        problems.append("partition %d for key %s" % (m.partition(), key))
    if fmt == "json":
        corr = json.loads(m.value())["correlation_id"]
    elif fmt == "cloudevents-binary":
        need = ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "ce_correlationid"]
        if any(h not in hdr for h in need) or hdr.get("content-type") != "application/json" \
           or hdr["ce_specversion"] != "1.0":
            problems.append("CloudEvents binary headers %s" % hdr)
        corr = hdr.get("ce_correlationid")
        json.loads(m.value())
    elif fmt == "cloudevents-structured":
        if hdr.get("content-type") != "application/cloudevents+json":
            problems.append("content-type %s" % hdr)
        v = json.loads(m.value())
        corr = v["correlationid"]
        if v["specversion"] != "1.0" or not all(k in v for k in ("id", "source", "type", "time", "data")):
            problems.append("structured event %s" % v)
    else:
        corr = key  # protobuf: compared byte for byte with the file below
    if corr != key:
        problems.append("key %s, correlation id %s" % (key, corr))
    events.append(m.value())
raw = open(path, "rb").read()
if fmt == "protobuf":
    recs, i = [], 0
    while i < len(raw):
        n = s = 0
        while True:
            b = raw[i]; i += 1; n |= (b & 0x7f) << s; s += 7
            if not b & 0x80: break
        recs.append(raw[i:i + n]); i += n
    want = sorted(r for r in recs if b"GeneratorTick" not in r)
    got = sorted(events)
elif fmt == "json":
    want = sorted(l for l in raw.splitlines() if b"GeneratorTick" not in l)
    got = sorted(events)
else:  # CloudEvents on the wire, our JSON in the file: compare the ids
    want = sorted(json.loads(l)["event_id"] for l in raw.splitlines() if b"GeneratorTick" not in l)
    got = sorted(hdrs for hdrs in (
        (dict((k, v.decode()) for k, v in m.headers()).get("ce_id") if fmt == "cloudevents-binary"
         else json.loads(m.value())["id"]) for m in msgs if not m.key().startswith(b"tick-")))
if want != got:
    problems.append("kafka has %d events, file %d, or they differ" % (len(got), len(want)))
ticks = sum(1 for m in msgs if m.key().startswith(b"tick-"))
if ticks != nparts:
    problems.append("%d tick messages for %d partitions" % (ticks, nparts))
if problems:
    print("; ".join(problems[:3])); sys.exit(1)
print("%d events + %d ticks on %d partitions" % (len(events), ticks, nparts))
EOF

for spec in pb:protobuf js:json ceb:cloudevents-binary ces:cloudevents-structured; do
  topic=${spec%%:*}; fmt=${spec#*:}
  outfmt=jsonl; [ "$fmt" = protobuf ] && outfmt=protobuf
  if $GEN --brokers "$addr" --topic "$topic" --format "$fmt" --flows 300 --faults 0.05 \
      --seed 3 --out "$tmp/$topic.out" --out-format $outfmt 2>"$tmp/$topic.err"; then
    if msg=$($PY "$tmp/check.py" "$addr" "$topic" "$fmt" "$tmp/$topic.out" 2>&1); then
      say ok "gen $fmt: same events on Kafka as in the file, keyed, murmur2 partitions, $msg"
    else
      say fail "gen $fmt: $msg"
    fi
  else
    say fail "gen $fmt to Kafka: $(tail -1 "$tmp/$topic.err")"
  fi
done

# kcat sees the binary-mode headers as well
kcat -b "$addr" -C -t ceb -e -q -c 1 -o beginning -p 0 -f '%h\n' >"$tmp/kcat.h" 2>&1
grep -q 'ce_specversion=1.0,ce_id=.*ce_correlationid=' "$tmp/kcat.h" \
  && say ok "kcat reads ce_* headers" || say fail "kcat headers: $(head -c 200 "$tmp/kcat.h")"

# wall clock: paced, event time = now
t0=$(date +%s.%N)
$GEN --brokers "$addr" --topic wall --clock wall --rate 2000 --duration 2 --tail 0 \
  --format json --faults 0 --out "$tmp/wall.jsonl" 2>"$tmp/wall.err"
t1=$(date +%s.%N)
res=$($PY - "$tmp/wall.jsonl" "$t0" "$t1" <<'EOF'
import json, sys, datetime
t0, t1 = float(sys.argv[2]), float(sys.argv[3])
ts = [datetime.datetime.strptime(json.loads(l)["time"], "%Y-%m-%dT%H:%M:%S.%fZ")
      .replace(tzinfo=datetime.timezone.utc).timestamp() for l in open(sys.argv[1])]
ok = all(t0 - 0.5 <= t <= t1 + 0.5 for t in ts) and t1 - t0 >= 2
print("ok" if ok else "bad", len(ts), "events in %.1f s, times %.1f..%.1f s after start"
      % (t1 - t0, min(ts) - t0, max(ts) - t0))
EOF
)
case $res in ok*) say ok "wall clock: ${res#ok }" ;; *) say fail "wall clock: $res" ;; esac
rate=$(sed -n 's/.* \([0-9]*\) events + .* in .*/\1/p' "$tmp/wall.err")
[ "${rate:-0}" -ge 3800 ] && [ "${rate:-0}" -le 4200 ] && say ok "wall clock: --rate 2000 for 2 s started ~4000 events ($rate)" \
  || say fail "wall clock: $rate events for --rate 2000 --duration 2 ($(tail -1 "$tmp/wall.err"))"

# runs until SIGTERM, then flushes and exits 0
$GEN --brokers "$addr" --topic forever --clock wall --rate 500 --faults 0.01 2>"$tmp/forever.err" &
gp=$!; pids+=($gp)
sleep 1.5
kill -TERM $gp; wait $gp; rc=$?
[ $rc -eq 0 ] && grep -q '(stopped)' "$tmp/forever.err" && say ok "SIGTERM stops a run without end (rc=0)" \
  || say fail "SIGTERM: rc=$rc $(tail -1 "$tmp/forever.err")"

# bad flags: exit 2 with a reason
rejected() { [ "$1" -eq 2 ] && grep -q '^choreoscope-gen: ' "$2"; }
for bad in "--out x --format xml" "--out x --fault-rate bogus=0.1" "--out x --fault-rate stalled=2" \
    "--out x --faults 0.5" "--out x --rate -1" "--out x --clock wall" "--flows 3" \
    "--out x --clock sundial" "--out x --nope" "--out x --flows" "--out x --seed abc"; do
  # shellcheck disable=SC2086
  (cd "$tmp" && timeout 5 "$OLDPWD/$GEN" $bad) >/dev/null 2>"$tmp/bad"; rc=$?
  rejected $rc "$tmp/bad" && say ok "gen rejects '$bad'" || say fail "gen '$bad': rc=$rc $(head -1 "$tmp/bad")"
done

[ "$fails" -eq 0 ]
