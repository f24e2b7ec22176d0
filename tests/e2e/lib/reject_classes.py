#!/usr/bin/env python3
# The inputs of tests/e2e/kafka_reject_classes.sh: one bad message per reject class,
# interleaved with the good events of four flows (o1, o3 and o4 complete, o2 stalls),
# for the limits that script's config sets (max_message_bytes 4096, max_depth 16,
# max_attributes 4, max_attribute_bytes 64, max_headers 32).
#   reject_classes.py kafka BROKER TOPIC OUT.expect   produce them in order (one
#       partition: offset = index); OUT.expect gets "offset reason size" per message
#       (reason `ok` for good ones)
#   reject_classes.py good OUT.jsonl                  the good events alone, as JSON
#       lines (the same events, decoded: what a replay of them alone must judge)
#   reject_classes.py jsonl OUT.jsonl OUT.expect      good and bad as JSON lines
#       (the classes a file can hold); OUT.expect gets "line reason" per bad line
#   reject_classes.py protobuf OUT.pb OUT.expect      good and bad as length-delimited
#       envelopes, the last record cut short; OUT.expect gets "offset reason"
import json
import sys

T = '2026-11-25T10:%s'
TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
TRACE = '4bf92f3577b34da6a3ce929d0e0e4736'

# The good events: (event_id, correlation_id, type, time, how it is sent).
GOOD = [
    ('g1', 'o1', 'OrderPlaced', '00:00Z', 'json'),
    ('g2', 'o1', 'PaymentAuthorized', '00:01Z', 'proto'),
    ('g3', 'o2', 'OrderPlaced', '00:03Z', 'json'),
    ('g4', 'o1', 'OrderConfirmed', '00:02Z', 'ce_structured'),
    ('g5', TRACE, 'OrderPlaced', '00:04Z', 'traceparent'),
    ('g6', TRACE, 'PaymentAuthorized', '00:05Z', 'ce_binary'),
    ('g7', TRACE, 'OrderConfirmed', '00:06Z', 'json'),
    ('g8', 'o4', 'OrderPlaced', '01:00Z', 'json'),
    ('g9', 'o4', 'PaymentAuthorized', '01:01Z', 'json'),
    ('g10', 'o4', 'OrderConfirmed', '01:02Z', 'json'),
]


def js(eid, corr, typ, t, **extra):
    d = {'event_id': eid}
    if corr is not None:
        d['correlation_id'] = corr
    d.update({'type': typ, 'source': 's', 'time': T % t})
    d.update(extra)
    return json.dumps(d, separators=(',', ':')).encode()


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | 0x80 if n else b)
        if not n:
            return bytes(out)


def pfield(num, b):
    return varint(num << 3 | 2) + varint(len(b)) + b


def pb(eid, corr, typ, t_ns, attrs=(), source=b's'):
    m = pfield(1, eid.encode()) + pfield(2, corr.encode()) + pfield(3, typ.encode())
    m += pfield(4, source) + varint(5 << 3) + varint(t_ns)
    for k, v in attrs:
        m += pfield(8, pfield(1, k.encode()) + pfield(2, v.encode()))
    return m


def t_ns(t):
    m, s = int(t[0:2]), int(t[3:5])
    return 1795600800000000000 + (m * 60 + s) * 1000000000


def good_kafka(g):
    eid, corr, typ, t, how = g
    if how == 'json':
        return js(eid, corr, typ, t), []
    if how == 'proto':
        return pb(eid, corr, typ, t_ns(t)), []
    if how == 'ce_structured':
        v = {'specversion': '1.0', 'id': eid, 'type': typ, 'source': 's', 'time': T % t,
             'correlationid': corr, 'data': {'note': 'structured'}}
        return json.dumps(v).encode(), [('content-type', b'application/cloudevents+json')]
    if how == 'traceparent':
        return js(eid, None, typ, t), [('traceparent', TP.encode())]
    if how == 'ce_binary':
        return b'{"note":"binary"}', [('ce_specversion', b'1.0'), ('ce_id', eid.encode()),
                                      ('ce_type', typ.encode()), ('ce_source', b's'),
                                      ('ce_time', (T % t).encode()), ('traceparent', TP.encode())]
    raise ValueError(how)


def deep(n):
    return js('b', 'ob', 'OrderPlaced', '00:00Z', x=None)[:-9] + b'"x":' + b'[' * (n - 1) + \
        b']' * (n - 1) + b'}'


# Bad messages that a JSON line can carry too: (reason over Kafka, reason in a file, value).
JSON_BAD = [
    ('too_large', 'too_large', js('b1', 'o1', 'OrderPlaced', '00:00Z', pad='x' * 5000)),
    ('too_deep', 'too_deep', deep(40)),
    ('bad_utf8', 'bad_utf8', js('b3', 'o1', 'OrderPlaced', '00:00Z')[:-2] + b'\xff"}'),
    ('wrong_type', 'wrong_type', b'{"event_id":"b4","correlation_id":"o1","type":5,'
     b'"source":"s","time":"2026-11-25T10:00:00Z"}'),
    ('malformed_json', 'malformed_json', b'{"event_id":"b5","type":'),
    ('too_many_attributes', 'too_many_attributes',
     js('b6', 'o1', 'OrderPlaced', '00:00Z', attributes={'a%d' % i: 'v' for i in range(5)})),
    ('attribute_too_large', 'attribute_too_large',
     js('b7', 'o1', 'OrderPlaced', '00:00Z', attributes={'a': 'v' * 65})),
    ('missing_field', 'missing_field',
     b'{"event_id":"b8","correlation_id":"o1","type":"OrderPlaced","time":"2026-11-25T10:00:00Z"}'),
    ('bad_time', 'bad_time', js('b9', 'o1', 'OrderPlaced', '00:00Z')[:-23] + b'"yesterday"}'),
    ('time_out_of_range', 'time_out_of_range',
     js('b10', 'o1', 'OrderPlaced', '00:00Z')[:-23] + b'"2200-01-01T00:00:00Z"}'),
    # no correlation id: in a file the field is required
    ('no_correlation_id', 'missing_field', js('b11', None, 'OrderPlaced', '00:00Z')),
]

# Bad messages only Kafka has (headers, content types, empty values).
KAFKA_BAD = [
    ('bad_protobuf', pb('b20', 'o1', 'OrderPlaced', t_ns('00:00'))[:-6], []),
    ('unknown_content_type', b'<event id="b21"/>', [('content-type', b'application/xml')]),
    ('bad_traceparent', js('b22', None, 'OrderPlaced', '00:00Z'),
     [('traceparent', b'00-not-a-trace-id-01')]),
    ('too_many_headers', js('b23', 'o1', 'OrderPlaced', '00:00Z'),
     [('h%d' % i, b'v') for i in range(40)]),
    ('empty', b'', []),
    ('bad_header', b'{}', [('ce_specversion', b'1.0'), ('ce_id', b'b2\x005'),
                           ('ce_type', b'OrderPlaced'), ('ce_source', b's'),
                           ('ce_time', b'2026-11-25T10:00:00Z')]),
    ('too_many_attributes', b'{}', [('ce_specversion', b'1.0'), ('ce_id', b'b26'),
                                    ('ce_type', b'OrderPlaced'), ('ce_source', b's'),
                                    ('ce_time', b'2026-11-25T10:00:00Z'),
                                    ('ce_correlationid', b'o1')] +
     [('ce_x%d' % i, b'v') for i in range(5)]),
    ('attribute_too_large', json.dumps({'specversion': '1.0', 'id': 'b27', 'type': 'OrderPlaced',
                                        'source': 's', 'time': '2026-11-25T10:00:00Z',
                                        'correlationid': 'o1', 'region': 'r' * 65}).encode(),
     [('content-type', b'application/cloudevents+json')]),
]

# Bad protobuf records for a replay file (reason, message).
PB_BAD = [
    ('bad_protobuf', pb('p1', 'o1', 'OrderPlaced', t_ns('00:00'))[:-6]),
    ('too_many_attributes', pb('p2', 'o1', 'OrderPlaced', t_ns('00:00'),
                               [('a%d' % i, 'v') for i in range(5)])),
    ('attribute_too_large', pb('p3', 'o1', 'OrderPlaced', t_ns('00:00'), [('a', 'v' * 65)])),
    ('bad_utf8', pb('p4', 'o1', 'OrderPlaced', t_ns('00:00'), source=b's\xff')),
    ('too_large', pb('p5', 'o1', 'OrderPlaced', t_ns('00:00'), [('a', 'v' * 60)] * 80)),
]


def interleave(good, bad):
    """The good ones first and last, the bad ones spread over the gaps between them."""
    out, gaps = [('ok', good[0])], len(good) - 1
    per = -(-len(bad) // gaps)
    for i in range(1, len(good)):
        out.extend(bad[(i - 1) * per:i * per])
        out.append(('ok', good[i]))
    return out


def main():
    mode = sys.argv[1]
    if mode == 'kafka':
        from confluent_kafka import Producer
        broker, topic, expect = sys.argv[2:5]
        bad = [(k, v, []) for k, _, v in JSON_BAD] + KAFKA_BAD
        msgs = interleave([good_kafka(g) for g in GOOD], [(r, (v, h)) for r, v, h in bad])
        p = Producer({'bootstrap.servers': broker, 'partitioner': 'murmur2_random',
                      'linger.ms': 0})
        with open(expect, 'w') as f:
            for off, (reason, (val, hdrs)) in enumerate(msgs):
                p.produce(topic, value=val, key=b'k', headers=hdrs)
                p.flush(10)
                f.write('%d %s %d\n' % (off, reason, len(val)))
        if len(p) != 0:
            sys.exit('reject_classes.py: %d messages not delivered' % len(p))
    elif mode == 'good':
        with open(sys.argv[2], 'wb') as f:
            for eid, corr, typ, t, _ in GOOD:
                f.write(js(eid, corr, typ, t) + b'\n')
    elif mode == 'jsonl':
        msgs = interleave([js(e, c, ty, t) for e, c, ty, t, _ in GOOD],
                          [(r, v) for _, r, v in JSON_BAD])
        with open(sys.argv[2], 'wb') as f, open(sys.argv[3], 'w') as x:
            for line, (reason, val) in enumerate(msgs, 1):
                f.write(val + b'\n')
                if reason != 'ok':
                    x.write('%d %s\n' % (line, reason))
    elif mode == 'protobuf':
        msgs = interleave([pb(e, c, ty, t_ns(t)) for e, c, ty, t, _ in GOOD], PB_BAD)
        cut = pb('p9', 'o9', 'OrderPlaced', t_ns('00:00'))
        with open(sys.argv[2], 'wb') as f, open(sys.argv[3], 'w') as x:
            for reason, val in msgs:
                if reason != 'ok':
                    x.write('%d %s\n' % (f.tell(), reason))
                f.write(varint(len(val)) + val)
            x.write('%d truncated\n' % f.tell())
            f.write(varint(len(cut)) + cut[:5])
    else:
        sys.exit('reject_classes.py: unknown mode ' + mode)


main()
