#!/usr/bin/env python3
"""Development-only fake of the collector's JSON API (docs/API.md) for working on
choreoscope-tui before the daemon serves it. NOT used by the real tests, which run
the real demo (broker + generator + daemon).

usage: fake_api.py PORT [--stalled N]
"""
import json, random, sys, time, urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(sys.argv[1])
NSTALLED = int(sys.argv[sys.argv.index("--stalled") + 1]) if "--stalled" in sys.argv else 25
T0 = time.time()

def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % int((t % 1) * 1000)

STEPS = ["OrderPlaced", "PaymentAuthorized", "InventoryReserved", "ShippingQuoted", "OrderConfirmed"]
STALLED = [("order", "o-%04d" % i, "InventoryReserved" if i % 3 else "PaymentAuthorized") for i in range(NSTALLED)]

def summary():
    up = time.time() - T0
    flows = []
    for name, base in (("order", 40), ("payment", 12), ("shipment", 5)):
        flows.append({"name": name, "in_flight": 1000000 if name == "order" else base * 3,
                      "started_total": int(base * up), "started_per_second": base + random.random() * 5,
                      "completed_per_second": base - 1 + random.random() * 5,
                      "closed_total": {"completed": int(base * up * 0.9), "compensated": 3, "abandoned": 1, "evicted": 0},
                      "stalled_now": len(STALLED) if name == "order" else 0, "oldest_stall_seconds": 41.2,
                      "anomalies_total": {"stalled": int(up / 2) if name == "order" else 0, "missing": int(up / 10), "duplicate": 0},
                      "duration_seconds": {"p50": 1.2, "p95": 3.4, "p99": 5.0},
                      "awaiting_now": {"InventoryReserved": 3}})
    return {"collector": {"version": "0.1.0", "instance": "fake:%d" % PORT, "uptime_seconds": up, "ready": True,
                          "clock": "wall", "events_total": int(200 * up), "events_per_second": 200.0 + random.random() * 20,
                          "rejected_total": 0, "unmatched_total": 0, "consumer_lag": 17, "memory_bytes": 123456},
            "flows": flows}

def item(flow, cid, step):
    od = 30 + (hash(cid) % 100)
    return {"flow": flow, "correlation_id": cid, "state": "stalled", "outcome": None, "opened": iso(T0),
            "age_seconds": time.time() - T0, "events": 2, "awaiting": [step],
            "stalled": [{"step": step, "deadline": iso(time.time() - od), "overdue_seconds": od}],
            "anomalies": ["stalled"], "last_source": "payments", "last_step": "PaymentAuthorized"}

def flows(q):
    items = [item(*s) for s in STALLED]
    if "q" in q:
        items = [i for i in items if q["q"][0] in i["correlation_id"]]
    if "flow" in q:
        items = [i for i in items if i["flow"] == q["flow"][0]]
    lim = int(q.get("limit", ["100"])[0])
    return {"total": len(items), "offset": 0, "limit": lim, "items": items[:lim]}

def detail(flow, cid):
    now = time.time()
    t = now - 40
    return {"flow": flow, "correlation_id": cid, "state": "stalled", "outcome": None, "opened": iso(t), "closed": None,
            "duration_seconds": None,
            "events": [{"event_id": "e1", "type": "OrderPlaced", "source": "shop", "time": iso(t), "topic": "events",
                        "partition": 3, "offset": 1200, "attributes": {"amount": "12.50", "customer": "c-9"}},
                       {"event_id": "e2", "type": "PaymentAuthorized", "source": "payments", "time": iso(t + 2.5),
                        "topic": "events", "partition": 3, "offset": 1201, "attributes": {"psp": "acme", "n": 3}}],
            "steps": [{"name": "OrderPlaced", "status": "happened", "happened_at": iso(t), "count": 1},
                      {"name": "PaymentAuthorized", "status": "happened", "happened_at": iso(t + 2.5), "count": 1},
                      {"name": "InventoryReserved", "status": "stalled", "expected_at": iso(t + 2.5),
                       "deadline": iso(t + 12.5), "overdue_seconds": now - t - 12.5},
                      {"name": "ShippingQuoted", "status": "pending", "expected_at": iso(t + 2.5), "deadline": iso(now + 5)},
                      {"name": "OrderConfirmed", "status": "not_expected"}],
            "anomalies": [{"kind": "stalled", "step": "InventoryReserved", "at": iso(t + 12.5)}]}

def graphs():
    edges = [{"from": a, "to": b, "count": 900, "p50_seconds": 0.2, "p95_seconds": 0.9, "p99_seconds": 1.5,
              "stuck": 3 if b == "InventoryReserved" else 0}
             for a, b in (("OrderPlaced", "PaymentAuthorized"), ("PaymentAuthorized", "InventoryReserved"),
                          ("PaymentAuthorized", "ShippingQuoted"), ("InventoryReserved", "OrderConfirmed"),
                          ("ShippingQuoted", "OrderConfirmed"))]
    steps = [{"name": s, "start": s == "OrderPlaced", "after": [], "after_any": [], "instead_of": [],
              "within_seconds": None if s == "OrderPlaced" else 10, "end": "completed" if s == "OrderConfirmed" else None,
              "optional": False, "retries": 0, "awaiting_now": 3 if s == "InventoryReserved" else 0,
              "stalled_now": 3 if s == "InventoryReserved" else 0} for s in STEPS]
    return {"flows": [{"name": "order", "deadline_seconds": 600, "lateness_seconds": 5, "steps": steps, "edges": edges}]}

def anomalies():
    return {"items": [{"record": "anomaly", "flow": "order", "correlation_id": "o-9%03d" % i, "kind": "missing",
                       "step": "InventoryReserved", "at": iso(time.time() - i), "source": "shipping"} for i in range(5)]}

class H(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_GET(self):
        u = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(u.query)
        parts = u.path.split("/")
        if u.path == "/api/v1/summary": body = summary()
        elif u.path == "/api/v1/flows": body = flows(q)
        elif u.path == "/api/v1/graphs": body = graphs()
        elif u.path == "/api/v1/anomalies": body = anomalies()
        elif u.path.startswith("/api/v1/flows/") and len(parts) == 6:
            body = detail(urllib.parse.unquote(parts[4]), urllib.parse.unquote(parts[5]))
        else:
            self.send_response(404); self.end_headers(); self.wfile.write(b'{"error":"not found","status":404}'); return
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

ThreadingHTTPServer(("127.0.0.1", PORT), H).serve_forever()
