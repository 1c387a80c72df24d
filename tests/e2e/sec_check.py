#!/usr/bin/python3
"""Security of a cassandgo cluster, from outside, against node IP of DC:
every way in that must be refused is refused, and the two ports speak TLS
with certificates of the cluster's CA. CG_OUTPUT_JSON names the output of
`cassandgo output CLUSTER --json`.
usage: sec_check.py IP DC FOREIGN_CERT_PEM FOREIGN_KEY_PEM
(a key and certificate from another CA, made by the caller)
Prints one line per check; exit 0 when all pass, 1 otherwise."""
import os
import socket
import ssl
import sys

from cassandra.cluster import Cluster, NoHostAvailable
from cassandra.auth import PlainTextAuthProvider
from cassandra.policies import WhiteListRoundRobinPolicy

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cqlsec  # noqa: E402

failed = 0


def check(ok, what):
    global failed
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failed += 1


def connect(ip, **kw):
    """'ok' when a session opens and answers, else the error's text."""
    c = Cluster([ip], port=9042, protocol_version=5, connect_timeout=10,
                load_balancing_policy=WhiteListRoundRobinPolicy([ip]), **kw)
    try:
        s = c.connect()
        s.execute("SELECT release_version FROM system.local")
        return "ok"
    except NoHostAvailable as e:
        return "; ".join("%s" % v for v in e.errors.values()) or str(e)
    except Exception as e:  # noqa: BLE001 - any failure is a refusal here
        return "%s: %s" % (type(e).__name__, e)
    finally:
        c.shutdown()


def main():
    ip, dc, fcert, fkey = sys.argv[1:5]
    sec = cqlsec.security()
    if not sec or not sec["tls"] or not sec["auth"]:
        raise SystemExit("security is not on in CG_OUTPUT_JSON: %r" % sec)
    ca = sec["ca_file"]
    for f in (ca, sec["password_file"]):
        check(os.path.isabs(f) and os.path.exists(f), "%s exists (absolute path)" % f)
    check(oct(os.stat(sec["password_file"]).st_mode & 0o777) == "0o600",
          "password file is 0600")
    r = connect(ip)
    check(r != "ok", "plaintext CQL refused (%s)" % r[:80])
    r = connect(ip, ssl_context=cqlsec.tls_context(ca))
    check(r != "ok" and ("uthenticat" in r or "credentials" in r.lower()),
          "TLS without credentials refused (%s)" % r[:80])
    r = connect(ip, ssl_context=cqlsec.tls_context(ca),
                auth_provider=PlainTextAuthProvider("cassandra", "cassandra"))
    check(r != "ok", "cassandra/cassandra refused (%s)" % r[:80])
    r = connect(ip, ssl_context=cqlsec.tls_context(fcert),
                **cqlsec.cluster_kwargs(tls=False))
    check(r != "ok" and "CERTIFICATE_VERIFY_FAILED" in r,
          "a client trusting another CA refuses the node (%s)" % r[:80])
    r = connect(ip, **cqlsec.cluster_kwargs())
    check(r == "ok", "TLS + the superuser's login accepted (%s)" % r[:80])

    # 7000: TLS, the server's certificate from the cluster's CA naming ip
    ctx = cqlsec.tls_context(ca)
    try:
        with socket.create_connection((ip, 7000), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname=ip) as t:
                cert = t.getpeercert()
                sans = [v for k, v in cert.get("subjectAltName", ()) if k == "IP Address"]
                check(ip in sans, "7000 speaks TLS; the node's certificate is from the "
                      "cluster's CA and names %s (SANs %s)" % (ip, ",".join(sans)))
    except (OSError, ssl.SSLError) as e:
        check(False, "7000 TLS handshake with the cluster's CA: %s" % e)
    # ... and a peer holding another CA's certificate is turned away
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.load_cert_chain(fcert, fkey)
    refused = False
    why = "the node talked to it"
    try:
        with socket.create_connection((ip, 7000), timeout=10) as raw:
            with ctx.wrap_socket(raw) as t:
                t.sendall(b"\0" * 64)   # TLS 1.3: the verdict comes after the handshake
                t.settimeout(10)
                data = t.recv(1)
                refused = data == b""
                why = "closed" if refused else "answered"
    except (OSError, ssl.SSLError) as e:
        refused = True
        why = str(e)[:80]
    check(refused, "7000 refuses a peer with another CA's certificate (%s)" % why)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
