#!/usr/bin/python3
"""Keyspaces e2e (tests/e2e/keyspaces.sh): what the cluster itself shows.

  ks_check.py IP DC replication KS WANT   system_schema's replication of KS is
                                          WANT ("DC1:2,DC2:1"; "absent": none)
  ks_check.py IP DC write KS N            table KS.kv, rows 0..N-1 at EACH_QUORUM
  ks_check.py IP DC read KS N             rows 0..N-1 read back at LOCAL_QUORUM

Through the node at IP (its DC is DC), connected the way `cassandgo output
--json` says (cqlsec.py: TLS and the superuser with security on). Exit 0 on
success, 1 with a message on stderr otherwise."""
import os
import sys

from cassandra import ConsistencyLevel
from cassandra.cluster import Cluster, ExecutionProfile, EXEC_PROFILE_DEFAULT
from cassandra.policies import DCAwareRoundRobinPolicy, HostFilterPolicy
from cassandra.query import SimpleStatement

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cqlsec  # noqa: E402


def session(ip, dc):
    policy = HostFilterPolicy(DCAwareRoundRobinPolicy(local_dc=dc),
                              predicate=lambda h: h.address == ip)
    prof = ExecutionProfile(load_balancing_policy=policy, request_timeout=30)
    c = Cluster([ip], port=9042, protocol_version=5, connect_timeout=20,
                execution_profiles={EXEC_PROFILE_DEFAULT: prof}, **cqlsec.cluster_kwargs())
    return c, c.connect()


def replication(s, ks):
    rows = list(s.execute("SELECT replication FROM system_schema.keyspaces "
                          "WHERE keyspace_name = %s", (ks,)))
    if not rows:
        return "absent"
    rep = rows[0].replication
    if not rep["class"].endswith("NetworkTopologyStrategy"):
        return rep["class"]
    return ",".join("%s:%s" % (k, rep[k]) for k in sorted(rep) if k != "class")


def main():
    if len(sys.argv) != 6:
        raise SystemExit(__doc__)
    ip, dc, what, ks, arg = sys.argv[1:]
    c, s = session(ip, dc)
    try:
        if what == "replication":
            got = replication(s, ks)
            if got != arg:
                raise SystemExit("%s: replication %s, want %s" % (ks, got, arg))
            print("%s: replication %s" % (ks, got))
        elif what == "write":
            s.execute("CREATE TABLE IF NOT EXISTS %s.kv (k int PRIMARY KEY, v text)" % ks)
            ins = s.prepare("INSERT INTO %s.kv (k, v) VALUES (?, ?)" % ks)
            ins.consistency_level = ConsistencyLevel.EACH_QUORUM
            for k in range(int(arg)):
                s.execute(ins, (k, "v%d" % k))
            print("wrote %s rows into %s.kv at EACH_QUORUM through %s" % (arg, ks, ip))
        elif what == "read":
            st = SimpleStatement("SELECT k, v FROM %s.kv" % ks,
                                 consistency_level=ConsistencyLevel.LOCAL_QUORUM)
            rows = {r.k: r.v for r in s.execute(st)}
            want = {k: "v%d" % k for k in range(int(arg))}
            if rows != want:
                raise SystemExit("%s.kv through %s (%s) at LOCAL_QUORUM: %d rows, %d wanted"
                                 % (ks, ip, dc, len(rows), len(want)))
            print("read %d rows of %s.kv through %s (%s) at LOCAL_QUORUM" % (len(rows), ks, ip, dc))
        else:
            raise SystemExit(__doc__)
    finally:
        c.shutdown()


if __name__ == "__main__":
    main()
