#!/usr/bin/env python3
"""A fault-injecting HTTP proxy for the EC2 Query API, loopback only.

  fault_proxy.py --port P --upstream http://127.0.0.1:M [--throttle 0.1]
                 [--error 0.05] [--drop 0.03] [--drop-after 0.03]
                 [--slow 0.03] [--slow-s 1.0] [--seed 1] [--ready FILE]

Each request is, with the given probabilities:
  throttle    answered 503 RequestLimitExceeded (not forwarded)
  error       answered 500 InternalError (not forwarded)
  drop        connection closed without an answer (not forwarded)
  drop-after  forwarded, then the connection closed without the answer
              (the call happened: the client cannot know)
  slow        forwarded at once, answered after slow-s seconds
and otherwise forwarded. --no-capacity ZONES answers RunInstances in those
zones with InsufficientInstanceCapacity (500); --no-spot-capacity ZONES does
the same for spot requests only (InstanceMarketOptions.MarketType=spot);
--drop-answer ACTIONS forwards the first call of each of those actions and
drops its answer (drop-after, made certain). Requests are counted per Action and region (from
the SigV4 scope); GET /__counts returns them as JSON, POST /__counts
resets them. Only loopback is ever contacted.
"""
import argparse
import http.client
import http.server
import ipaddress
import json
import random
import re
import socketserver
import sys
import threading
import time
import urllib.parse

THROTTLE = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
            b'<Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message>'
            b'</Error></Errors><RequestID>fault-throttle</RequestID></Response>')
INTERNAL = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
            b'<Code>InternalError</Code><Message>An internal error has occurred</Message>'
            b'</Error></Errors><RequestID>fault-internal</RequestID></Response>')


NO_CAPACITY = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
               b'<Code>InsufficientInstanceCapacity</Code><Message>We currently do not have '
               b'sufficient capacity in the Availability Zone you requested (%s).</Message>'
               b'</Error></Errors><RequestID>fault-capacity</RequestID></Response>')


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.rng = random.Random(args.seed)
        self.counts = {}
        self.faults = {}
        self.local = threading.local()
        self.drop_answer = set(a for a in args.drop_answer.split(",") if a)

    def pick(self):
        a = self.args
        with self.lock:
            x = self.rng.random()
        for name, p in (("throttle", a.throttle), ("error", a.error), ("drop", a.drop),
                        ("drop-after", a.drop_after), ("slow", a.slow)):
            if x < p:
                return name
            x -= p
        return None

    def count(self, action, region, fault):
        with self.lock:
            key = "%s %s" % (action, region)
            self.counts[key] = self.counts.get(key, 0) + 1
            if fault:
                self.faults[fault] = self.faults.get(fault, 0) + 1


def make_handler(state, up):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def upstream(self):
            c = getattr(state.local, "conn", None)
            if c is None:
                c = http.client.HTTPConnection(up.hostname, up.port, timeout=120)
                state.local.conn = c
            return c

        def reply(self, code, body, ctype="text/xml"):
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path == "/__counts":
                with state.lock:
                    body = json.dumps({"requests": state.counts, "faults": state.faults},
                                      sort_keys=True).encode()
                return self.reply(200, body, "application/json")
            self.reply(404, b"")

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(n)
            if self.path == "/__counts":
                with state.lock:
                    state.counts.clear()
                    state.faults.clear()
                return self.reply(200, b"{}", "application/json")
            form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
            action = form.get("Action", ["?"])[0]
            m = re.search(r"Credential=[^/]+/\d{8}/([^/]+)/", self.headers.get("Authorization", ""))
            region = m.group(1) if m else "?"
            fault = None if action.startswith("__") or self.path.startswith("/moto-api") else state.pick()
            with state.lock:
                if action in state.drop_answer:
                    state.drop_answer.discard(action)
                    fault = "drop-after"
            state.count(action, region, fault)
            zone = form.get("Placement.AvailabilityZone", [""])[0]
            spot = form.get("InstanceMarketOptions.MarketType", [""])[0] == "spot"
            if action == "RunInstances" and zone and spot and zone in state.args.no_spot_capacity:
                state.count(action + "(no spot capacity)", region, None)
                return self.reply(500, NO_CAPACITY % zone.encode())
            if action == "RunInstances" and zone and zone in state.args.no_capacity:
                state.count(action + "(no capacity)", region, None)
                return self.reply(500, NO_CAPACITY % zone.encode())
            if fault == "throttle":
                return self.reply(503, THROTTLE)
            if fault == "error":
                return self.reply(500, INTERNAL)
            if fault == "drop":
                self.close_connection = True
                return
            headers = {k: v for k, v in self.headers.items()
                       if k.lower() not in ("connection", "keep-alive", "transfer-encoding")}
            for attempt in range(2):
                try:
                    c = self.upstream()
                    c.request("POST", self.path, body=body, headers=headers)
                    r = c.getresponse()
                    data = r.read()
                    break
                except (http.client.HTTPException, OSError):
                    state.local.conn = None
                    if attempt:
                        self.close_connection = True
                        return
            if fault == "drop-after":
                self.close_connection = True
                return
            if fault == "slow":
                # the call happened; its answer is late (past the client's
                # timeout, it is as ambiguous as a drop)
                time.sleep(state.args.slow_s)
            relay(self, r, data)

    return Handler


def relay(h, r, data):
    """Send upstream response r (its body already read: data) through
    handler h, with the hop-by-hop headers dropped."""
    h.send_response(r.status)
    for k, v in r.getheaders():
        if k.lower() not in ("connection", "keep-alive", "transfer-encoding",
                             "content-length", "server", "date"):
            h.send_header(k, v)
    h.send_header("Content-Length", str(len(data)))
    h.end_headers()
    h.wfile.write(data)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--upstream", required=True)
    for f in ("throttle", "error", "drop", "drop-after", "slow"):
        ap.add_argument("--" + f, type=float, default=0.0)
    ap.add_argument("--slow-s", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-spot-capacity", default="", help="comma list of zones where spot "
                    "RunInstances fail with InsufficientInstanceCapacity")
    ap.add_argument("--no-capacity", default="", help="comma list of zones where RunInstances "
                    "answers InsufficientInstanceCapacity")
    ap.add_argument("--drop-answer", default="", help="comma list of actions whose first "
                    "call is forwarded and its answer dropped")
    ap.add_argument("--ready", help="file written once listening")
    a = ap.parse_args()
    a.no_capacity = [z for z in a.no_capacity.split(",") if z]
    a.no_spot_capacity = [z for z in a.no_spot_capacity.split(",") if z]
    up = urllib.parse.urlparse(a.upstream)
    if not ipaddress.ip_address(up.hostname).is_loopback:
        sys.exit("fault_proxy: upstream must be loopback, got %s" % a.upstream)
    srv = Server(("127.0.0.1", a.port), make_handler(State(a), up))
    if a.ready:
        with open(a.ready, "w") as f:
            f.write("ready\n")
    srv.serve_forever()


if __name__ == "__main__":
    main()
