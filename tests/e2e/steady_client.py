"""A client that keeps writing and reading while the cluster changes under it.

usage: steady_client.py STOPFILE OUT MODE IP... (MODE: tls | plain)

Every 50 ms: one INSERT and one SELECT of that row at QUORUM through the
cluster's own load balancing (token aware, DC1 local) into e2e.steady.
Keyspace e2e has 2 replicas per DC, 4 in all: QUORUM (3) still answers
with one node restarting, and a read at QUORUM always meets the write (3 +
3 > 4), so a row not read back is a real failure. (LOCAL_ONE would answer
too, but may read the replica that was down while the row was written.) tls: the cluster's CA and the superuser's password (from the
CG_SECURITY_DIR files), plain: neither. STEADY_CL=LOCAL_QUORUM and
STEADY_DC=DC2 (tests/e2e/upgrade.sh: RF 3 per DC) make it write and read at
LOCAL_QUORUM with that DC local (a write and a read at LOCAL_QUORUM in one
DC meet: 2 + 2 > 3), its statements marked idempotent so the driver tries
the next node when one goes away under a request. Runs until STOPFILE exists, then
writes "requests=N retried=R failures=M" (and the first errors) to OUT. A
failed request is one the driver reports failed after its own retries: what
an application would see. Its statements are idempotent, and it retries as
an application with idempotent statements configures its driver: a request
that timed out or found too few replicas is tried again on the next node, up
to 3 times as latte (cassandgo stress) does (a node stopping under a rolling
change drops the writes it was given just then, and with one node of a DC
down QUORUM needs every other replica: one slow for a moment times out);
R counts those retries."""
import os
import sys
import time

from cassandra import ConsistencyLevel
from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
from cassandra.policies import DCAwareRoundRobinPolicy, RetryPolicy, TokenAwarePolicy

import cqlsec


class IdempotentRetry(RetryPolicy):
    """Up to 3 more times on the next node, idempotent statements only; counted."""

    def __init__(self):
        self.retries = 0

    def _again(self, query, cl, retry_num):
        if retry_num < 3 and query is not None and query.is_idempotent:
            self.retries += 1
            return self.RETRY_NEXT_HOST, cl
        return self.RETHROW, None

    def on_write_timeout(self, query, consistency, write_type, required_responses,
                         received_responses, retry_num):
        return self._again(query, consistency, retry_num)

    def on_read_timeout(self, query, consistency, required_responses, received_responses,
                        data_retrieved, retry_num):
        return self._again(query, consistency, retry_num)

    def on_unavailable(self, query, consistency, required_replicas, alive_replicas, retry_num):
        return self._again(query, consistency, retry_num)


def main():
    stop, out, mode, ips = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    kw = {}
    if mode == "tls":
        d = os.environ["CG_SECURITY_DIR"]
        kw["ssl_context"] = cqlsec.tls_context(os.path.join(d, "tls", "ca.crt"))
        with open(os.path.join(d, "superuser.password")) as f:
            kw["auth_provider"] = PlainTextAuthProvider(username="cassandgo",
                                                        password=f.read().strip())
    cl = os.environ.get("STEADY_CL", "QUORUM")
    retry = IdempotentRetry()
    prof = ExecutionProfile(retry_policy=retry,
        load_balancing_policy=TokenAwarePolicy(
            DCAwareRoundRobinPolicy(local_dc=os.environ.get("STEADY_DC", "DC1"))),
        consistency_level=getattr(ConsistencyLevel, cl), request_timeout=10)
    cluster = Cluster(ips, execution_profiles={EXEC_PROFILE_DEFAULT: prof},
                      protocol_version=5, connect_timeout=10, **kw)
    s = cluster.connect()
    # idempotent DDL, retried: a busy cluster may agree on a schema change
    # later than a request timeout
    for attempt in range(6):
        try:
            s.execute("CREATE TABLE IF NOT EXISTS e2e.steady (k int PRIMARY KEY, v text)",
                      timeout=60)
            break
        except Exception:
            if attempt == 5:
                raise
            time.sleep(2)
    # STEADY_SCHEMA_ONLY: make the table and wait until every node agrees,
    # then exit. Two clients creating it at once through two coordinators
    # race (Cassandra 5.0 gives each CREATE its own table id; a replica that
    # kept the other one fails reads with INCOMPATIBLE_SCHEMA): upgrade.sh
    # makes it once with this before it starts its two clients.
    if os.environ.get("STEADY_SCHEMA_ONLY"):
        ok = cluster.control_connection.wait_for_schema_agreement(wait_time=120)
        cluster.shutdown()
        if not ok:
            sys.exit("e2e.steady: the nodes do not agree on the schema after 120 s")
        return
    # the driver waits for schema agreement after DDL only so long: a prepare
    # may still reach a coordinator that has not got the table yet
    for attempt in range(40):
        try:
            ins = s.prepare("INSERT INTO e2e.steady (k, v) VALUES (?, ?)")
            sel = s.prepare("SELECT v FROM e2e.steady WHERE k = ?")
            break
        except Exception:
            if attempt == 39:
                raise
            time.sleep(0.5)
    ins.is_idempotent = sel.is_idempotent = True
    n = fails = 0
    errors = []
    k = int(time.time() * 1000) % 1000000000
    while not os.path.exists(stop):
        k += 1
        for stmt, args in ((ins, (k, mode)), (sel, (k,))):
            n += 1
            try:
                rows = list(s.execute(stmt, args))
                if stmt is sel and (not rows or rows[0].v != mode):
                    raise RuntimeError("row %d not read back" % k)
            except Exception as e:  # what the application would see
                fails += 1
                if len(errors) < 5:
                    errors.append("%s: %s" % (type(e).__name__, str(e)[:200]))
        time.sleep(0.05)
    cluster.shutdown()
    with open(out, "w") as f:
        f.write("requests=%d retried=%d failures=%d\n" % (n, retry.retries, fails))
        for e in errors:
            f.write(e + "\n")


if __name__ == "__main__":
    main()
