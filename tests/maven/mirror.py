#!/usr/bin/env python3
"""A Maven repository over HTTP for the install tests: a real server
serving ROOT (a directory in Maven's layout) with byte ranges, so curl's
resume works as against Maven Central, and the faults the tests need.

usage: mirror.py --root DIR [--prefix P] [--bind ADDR] [--port N] [--port-file F]
                 [--log F] [--tamper SUFFIX] [--missing SUFFIX]
                 [--drop-times N] [--drop-at FRACTION] [--rate BYTES_PER_S]

  --tamper SUFFIX     files whose path ends with SUFFIX are served with one
                      byte changed (same size: only the hash can tell)
  --missing SUFFIX    those files answer 404
  --drop-times N      the first N answers for each file are cut after
                      FRACTION (default 0.4) of what was asked, the
                      connection closed without the rest
  --rate B            at most B bytes per second per answer
The log has one line per request: METHOD PATH RANGE STATUS BYTES.
Only the address given is bound (loopback by default).
"""
import argparse
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):   # our own log only
        pass

    def note(self, status, nbytes, rng):
        a = self.server.args
        if a.log:
            with self.server.lock, open(a.log, "a") as f:
                f.write("%s %s %s %d %d\n" % (self.command, self.path, rng or "-", status, nbytes))

    def fail(self, status):
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()
        self.note(status, 0, None)

    def do_HEAD(self):
        self.do_GET(head=True)

    def do_GET(self, head=False):
        a = self.server.args
        rel = self.path.split("?", 1)[0].lstrip("/")
        if a.prefix:
            if not rel.startswith(a.prefix + "/"):
                return self.fail(404)
            rel = rel[len(a.prefix) + 1:]
        full = os.path.realpath(os.path.join(a.root, rel))
        if not full.startswith(os.path.realpath(a.root) + os.sep) or not os.path.isfile(full):
            return self.fail(404)
        if a.missing and rel.endswith(a.missing):
            return self.fail(404)
        with open(full, "rb") as f:
            data = f.read()
        if a.tamper and rel.endswith(a.tamper):
            i = len(data) // 2
            data = data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1:]
        start, rng = 0, self.headers.get("Range")
        if rng:
            if not rng.startswith("bytes=") or not rng[6:].split("-")[0].isdigit():
                return self.fail(416)
            start = int(rng[6:].split("-")[0])
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", "bytes */%d" % len(data))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return self.note(416, 0, rng)
        body = data[start:]
        status = 206 if rng else 200
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        if rng:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))
        self.end_headers()
        if head:
            return self.note(status, 0, rng)
        cut = len(body)
        with self.server.lock:
            n = self.server.answers.get(rel, 0)
            self.server.answers[rel] = n + 1
        if n < a.drop_times and len(body) > 1:
            cut = max(1, int(len(body) * a.drop_at))
        sent, t0 = 0, time.monotonic()
        try:
            while sent < cut:
                chunk = min(cut - sent, 16384)
                self.wfile.write(body[sent:sent + chunk])
                sent += chunk
                if a.rate:
                    ahead = sent / a.rate - (time.monotonic() - t0)
                    if ahead > 0:
                        time.sleep(ahead)
            self.wfile.flush()
        except OSError:
            pass
        self.note(status, sent, rng)
        if cut < len(body):
            self.close_connection = True     # the rest never comes
            try:
                self.connection.shutdown(2)
            except OSError:
                pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--prefix", default="", help="serve ROOT under /PREFIX/")
    ap.add_argument("--log")
    ap.add_argument("--tamper")
    ap.add_argument("--missing")
    ap.add_argument("--drop-times", type=int, default=0)
    ap.add_argument("--drop-at", type=float, default=0.4)
    ap.add_argument("--rate", type=int, default=0)
    a = ap.parse_args()
    if not (a.bind.startswith("127.") or a.bind.startswith("169.254.")):
        sys.exit("mirror: binds loopback or a test namespace's link-local address only")
    srv = ThreadingHTTPServer((a.bind, a.port), Handler)
    srv.daemon_threads = True
    srv.args, srv.lock, srv.answers = a, threading.Lock(), {}
    if a.port_file:
        with open(a.port_file + ".tmp", "w") as f:
            f.write("%d\n" % srv.server_address[1])
        os.rename(a.port_file + ".tmp", a.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
