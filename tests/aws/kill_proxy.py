#!/usr/bin/env python3
"""A loopback proxy in front of moto that kills cassandgo between an EC2
call and the state write: kill_proxy.py --port P --upstream URL --ready FILE

POST /__arm?action=RunInstances&n=N&pid=PID arms it: the N-th such call from
then on is forwarded (moto runs it), then PID gets SIGKILL before the answer
is sent, so the instance exists and the tool never learns its id. GET
/__fired answers "yes" once it has fired. Everything else is forwarded as
is. Only loopback is contacted."""
import argparse
import http.client
import http.server
import ipaddress
import os
import signal
import sys
import threading
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "ec2"))
from fault_proxy import Server, relay  # noqa: E402  (one relay for both proxies)

lock = threading.Lock()
arm = {"action": None, "n": 0, "pid": 0, "fired": False}


def make_handler(up):
    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def reply(self, code, body):
            self.send_response(code)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path == "/__fired":
                return self.reply(200, b"yes" if arm["fired"] else b"no")
            self.forward(b"")

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            u = urllib.parse.urlparse(self.path)
            if u.path == "/__arm":
                q = urllib.parse.parse_qs(u.query)
                with lock:
                    arm.update(action=q["action"][0], n=int(q["n"][0]), pid=int(q["pid"][0]), fired=False)
                return self.reply(200, b"armed")
            self.forward(body)

        def forward(self, body):
            action = urllib.parse.parse_qs(body.decode("utf-8", "replace")).get("Action", ["?"])[0]
            headers = {k: v for k, v in self.headers.items()
                       if k.lower() not in ("connection", "keep-alive", "transfer-encoding")}
            c = http.client.HTTPConnection(up.hostname, up.port, timeout=120)
            c.request(self.command, self.path, body=body or None, headers=headers)
            r = c.getresponse()
            data = r.read()
            c.close()
            with lock:
                kill = False
                if arm["action"] == action and arm["n"] > 0 and not arm["fired"]:
                    arm["n"] -= 1
                    if arm["n"] == 0:
                        kill = arm["fired"] = True
                if kill:
                    # the call happened; the caller dies before it hears so
                    try:
                        os.kill(arm["pid"], signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    self.close_connection = True
                    return
            relay(self, r, data)

    return H


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--ready", required=True)
    a = ap.parse_args()
    up = urllib.parse.urlparse(a.upstream)
    if not ipaddress.ip_address(up.hostname).is_loopback:
        sys.exit("kill_proxy: upstream must be loopback")
    srv = Server(("127.0.0.1", a.port), make_handler(up))
    open(a.ready, "w").close()
    srv.serve_forever()


if __name__ == "__main__":
    main()
