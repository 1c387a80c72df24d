"""How the tests' CQL clients connect to a cassandgo cluster: the settings
`cassandgo output CLUSTER --json` gives (file named by CG_OUTPUT_JSON).
With security on: TLS with the cluster's CA as the only trust anchor and
the node's IP checked against its certificate, and the superuser's login
(password read from its 0600 file). Without the variable: plain CQL."""
import json
import os
import ssl

from cassandra.auth import PlainTextAuthProvider


def security():
    path = os.environ.get("CG_OUTPUT_JSON")
    if not path:
        return None
    with open(path) as f:
        return json.load(f)["security"]


def tls_context(ca_file):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verify + check_hostname on
    ctx.load_verify_locations(ca_file)
    return ctx


def cluster_kwargs(user=None, password=None, ca_file=None, tls=True, auth=True):
    """Keyword arguments for cassandra.cluster.Cluster."""
    sec = security()
    kw = {}
    if not sec:
        return kw
    if sec["tls"] and tls:
        kw["ssl_context"] = tls_context(ca_file or sec["ca_file"])
    if sec["auth"] and auth:
        if password is None:
            with open(sec["password_file"]) as f:
                password = f.read().strip()
        kw["auth_provider"] = PlainTextAuthProvider(username=user or sec["user"],
                                                    password=password)
    return kw
