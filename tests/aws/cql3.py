#!/usr/bin/python3
"""A row written at EACH_QUORUM with NetworkTopologyStrategy {DC1:1, DC2:1,
DC3:1} reads back through a coordinator of every DC at LOCAL_ONE.
usage: cql3.py KEYSPACE DC=IP...   (the first DC=IP writes)

Each session is pinned to its one coordinator (HostFilterPolicy) and the
coordinator that answered is checked, so a read cannot silently go to
another DC. Exit 0 on success; 1 with a message otherwise."""
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
    c = Cluster([ip], port=9042, protocol_version=5,
                execution_profiles={EXEC_PROFILE_DEFAULT: prof}, connect_timeout=20,
                **cqlsec.cluster_kwargs())
    return c, c.connect()


def run(s, ip, stmt, cl, params=None):
    fut = s.execute_async(SimpleStatement(stmt, consistency_level=cl), params)
    rows = fut.result()
    if getattr(fut.coordinator_host, "address", None) != ip:
        raise SystemExit("coordinator was %r, expected %s" % (fut.coordinator_host, ip))
    return list(rows)


def main():
    ks = sys.argv[1]
    nodes = [a.split("=", 1) for a in sys.argv[2:]]
    if len(nodes) < 2:
        raise SystemExit(__doc__)
    rf = ", ".join("'%s': 1" % dc for dc, _ in nodes)
    clusters = []
    try:
        dc, ip = nodes[0]
        c, s = session_on(ip, dc)
        clusters.append(c)
        run(s, ip, "CREATE KEYSPACE IF NOT EXISTS %s WITH replication = "
            "{'class': 'NetworkTopologyStrategy', %s}" % (ks, rf), ConsistencyLevel.ALL)
        run(s, ip, "CREATE TABLE IF NOT EXISTS %s.kv (k text PRIMARY KEY, v text)" % ks,
            ConsistencyLevel.ALL)
        key, val = "aws", str(uuid.uuid4())
        run(s, ip, "INSERT INTO %s.kv (k, v) VALUES (%%s, %%s)" % ks,
            ConsistencyLevel.EACH_QUORUM, (key, val))
        print("wrote through %s (%s) at EACH_QUORUM" % (ip, dc))
        for dc, ip in nodes:
            c, s = session_on(ip, dc)
            clusters.append(c)
            rows = run(s, ip, "SELECT v FROM %s.kv WHERE k = %%s" % ks,
                       ConsistencyLevel.LOCAL_ONE, (key,))
            if len(rows) != 1 or rows[0].v != val:
                raise SystemExit("read through %s (%s) gave %r, want %s" % (ip, dc, rows, val))
            print("read back through %s (%s) at LOCAL_ONE" % (ip, dc))
    finally:
        for c in clusters:
            c.shutdown()


if __name__ == "__main__":
    main()
