#!/usr/bin/env python3
# Writes choreoscope.v1.Event messages by hand (no protobuf library), for e2e tests
# that need times protobuf-c would not let a sender choose: a set 0, INT64_MIN, unset.
#   pbevent.py OUT [--delimited] ID CORR TYPE SOURCE TIME|- [ID CORR TYPE SOURCE TIME|- ...]
# TIME is an int64 (time_unix_nano, written even when 0) or '-' (field unset). One
# message per 5 arguments; --delimited prefixes each with its varint length (replay
# files), else OUT holds exactly one message (a Kafka value).
import sys

def varint(n):
    n &= (1 << 64) - 1          # int64 as protobuf writes it: two's complement, 10 bytes if < 0
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)

def field_str(num, s):
    b = s.encode()
    return varint(num << 3 | 2) + varint(len(b)) + b

def event(eid, corr, typ, src, t):
    m = field_str(1, eid) + field_str(2, corr) + field_str(3, typ) + field_str(4, src)
    if t != '-':
        m += varint(5 << 3 | 0) + varint(int(t))
    return m

args = sys.argv[1:]
out = args.pop(0)
delimited = bool(args) and args[0] == '--delimited'
if delimited:
    args.pop(0)
if len(args) % 5 or (not delimited and len(args) != 5):
    sys.exit('pbevent.py: bad arguments')
with open(out, 'wb') as f:
    for i in range(0, len(args), 5):
        m = event(*args[i:i + 5])
        f.write((varint(len(m)) if delimited else b'') + m)
