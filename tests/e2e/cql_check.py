#!/usr/bin/python3
"""e2e CQL check: write a row through one DC1 node, read it back through one
DC2 node at LOCAL_ONE. usage: cql_check.py DC1_IP DC2_IP KEYSPACE [BAL_KEYSPACE]

KEYSPACE gets NetworkTopologyStrategy {DC1: 2, DC2: 2}; BAL_KEYSPACE, when
given, {DC1: 1, DC2: 1}: there `nodetool status` shows each node's share of
its DC (with 2 replicas on 2 nodes every node owns 100%, which says nothing
about balance).

Each session is pinned to a single coordinator (HostFilterPolicy around
DCAwareRoundRobinPolicy), and the coordinator that answered is checked, so a
read that silently went to DC1 cannot pass. The write is at EACH_QUORUM: it
returns only once both DCs hold the row, so the LOCAL_ONE read is
deterministic. Exit 0 on success, 1 with a message on stderr otherwise."""
import os
import sys
import uuid

from cassandra import ConsistencyLevel
from cassandra.cluster import Cluster, ExecutionProfile, EXEC_PROFILE_DEFAULT
from cassandra.policies import DCAwareRoundRobinPolicy, HostFilterPolicy
from cassandra.query import SimpleStatement

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import cqlsec  # noqa: E402


def session_on(ip, dc):
    policy = HostFilterPolicy(DCAwareRoundRobinPolicy(local_dc=dc),
                              predicate=lambda h, ip=ip: h.address == ip)
    prof = ExecutionProfile(load_balancing_policy=policy, request_timeout=30)
    cluster = Cluster([ip], port=9042, protocol_version=5,
                      execution_profiles={EXEC_PROFILE_DEFAULT: prof},
                      connect_timeout=20, **cqlsec.cluster_kwargs())
    return cluster, cluster.connect()


def run(stmt, session, ip, cl, params=None):
    st = SimpleStatement(stmt, consistency_level=cl)
    fut = session.execute_async(st, params)
    rows = fut.result()
    coord = fut.coordinator_host
    addr = getattr(coord, "address", None)
    if addr != ip:
        raise SystemExit("coordinator was %r, expected %s" % (coord, ip))
    return rows


def main():
    if len(sys.argv) not in (4, 5):
        raise SystemExit("usage: cql_check.py DC1_IP DC2_IP KEYSPACE [BAL_KEYSPACE]")
    ip1, ip2, ks = sys.argv[1:4]
    c1, s1 = session_on(ip1, "DC1")
    c2 = None
    try:
        run("CREATE KEYSPACE IF NOT EXISTS %s WITH replication = "
            "{'class': 'NetworkTopologyStrategy', 'DC1': 2, 'DC2': 2}" % ks,
            s1, ip1, ConsistencyLevel.ALL)
        if len(sys.argv) == 5:
            run("CREATE KEYSPACE IF NOT EXISTS %s WITH replication = "
                "{'class': 'NetworkTopologyStrategy', 'DC1': 1, 'DC2': 1}" % sys.argv[4],
                s1, ip1, ConsistencyLevel.ALL)
        run("CREATE TABLE IF NOT EXISTS %s.kv (k text PRIMARY KEY, v text)" % ks,
            s1, ip1, ConsistencyLevel.ALL)
        key, val = "e2e", str(uuid.uuid4())
        run("INSERT INTO %s.kv (k, v) VALUES (%%s, %%s)" % ks, s1, ip1,
            ConsistencyLevel.EACH_QUORUM, (key, val))
        print("wrote %s=%s through %s (DC1) at EACH_QUORUM" % (key, val, ip1))
        c2, s2 = session_on(ip2, "DC2")
        rows = list(run("SELECT v FROM %s.kv WHERE k = %%s" % ks, s2, ip2,
                        ConsistencyLevel.LOCAL_ONE, (key,)))
        if len(rows) != 1 or rows[0].v != val:
            raise SystemExit("read through %s (DC2) at LOCAL_ONE gave %r, want %s"
                             % (ip2, rows, val))
        print("read %s=%s through %s (DC2) at LOCAL_ONE" % (key, rows[0].v, ip2))
        rows = list(run("SELECT v FROM %s.kv WHERE k = %%s" % ks, s1, ip1,
                        ConsistencyLevel.LOCAL_ONE, (key,)))
        if len(rows) != 1 or rows[0].v != val:
            raise SystemExit("read through %s (DC1) at LOCAL_ONE gave %r, want %s"
                             % (ip1, rows, val))
        print("read it back through %s (DC1) too" % ip1)
    finally:
        c1.shutdown()
        if c2 is not None:
            c2.shutdown()


if __name__ == "__main__":
    main()
