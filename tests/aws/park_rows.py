#!/usr/bin/python3
"""Rows that must outlive a park: cassandgo stop, then start.
usage: park_rows.py write|read KEYSPACE N DC=IP...

write: keyspace {every DC: 2} (NetworkTopologyStrategy), N rows at
EACH_QUORUM through the first DC=IP. read: the N rows at LOCAL_QUORUM
through a coordinator of every DC (pinned, as cql3.py does): both replicas
of each DC answer. Exit 0 on success; 1 with a message otherwise."""
import os
import sys

from cassandra import ConsistencyLevel

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cql3 import run, session_on  # noqa: E402


def main():
    if len(sys.argv) < 5 or sys.argv[1] not in ("write", "read"):
        raise SystemExit(__doc__)
    mode, ks, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    nodes = [a.split("=", 1) for a in sys.argv[4:]]
    clusters = []
    try:
        if mode == "write":
            dc, ip = nodes[0]
            c, s = session_on(ip, dc)
            clusters.append(c)
            rf = ", ".join("'%s': 2" % d for d, _ in nodes)
            run(s, ip, "CREATE KEYSPACE IF NOT EXISTS %s WITH replication = "
                "{'class': 'NetworkTopologyStrategy', %s}" % (ks, rf), ConsistencyLevel.ALL)
            run(s, ip, "CREATE TABLE IF NOT EXISTS %s.kv (k int PRIMARY KEY, v text)" % ks,
                ConsistencyLevel.ALL)
            for k in range(n):
                run(s, ip, "INSERT INTO %s.kv (k, v) VALUES (%%s, %%s)" % ks,
                    ConsistencyLevel.EACH_QUORUM, (k, "row-%d" % k))
            print("%d rows written through %s (%s) at EACH_QUORUM" % (n, ip, dc))
            return
        for dc, ip in nodes:
            c, s = session_on(ip, dc)
            clusters.append(c)
            for k in range(n):
                rows = run(s, ip, "SELECT v FROM %s.kv WHERE k = %%s" % ks,
                           ConsistencyLevel.LOCAL_QUORUM, (k,))
                if len(rows) != 1 or rows[0].v != "row-%d" % k:
                    raise SystemExit("row %d through %s (%s): %r" % (k, ip, dc, rows))
            print("%d rows read back through %s (%s) at LOCAL_QUORUM" % (n, ip, dc))
    finally:
        for c in clusters:
            c.shutdown()


if __name__ == "__main__":
    main()
