#!/usr/bin/python3
"""tests/ops/check.py KIND PREFIX < JSON: check status/latency/output --json of
the Lab (2 DCs x 2 nodes on PREFIX.{1,2}.{1,2}) against what the live cluster
must show. Prints a one-line summary; exits 1 with the reason otherwise."""
import json
import sys

kind, prefix = sys.argv[1], sys.argv[2]
doc = json.load(sys.stdin)
ips = {f"{prefix}.{d}.{n}" for d in (1, 2) for n in (1, 2)}


def fail(msg):
    print(msg)
    sys.exit(1)


if kind == "status":
    nodes = doc["nodes"]
    if not doc["healthy"] or doc["nodes_up_normal"] != 4 or doc["nodes_expected"] != 4:
        fail(f"not healthy: {doc}")
    if {n["address"] for n in nodes} != ips:
        fail(f"addresses {[n['address'] for n in nodes]} != {sorted(ips)}")
    want = {f"{prefix}.1.1": ("DC1", "lab-east-a"), f"{prefix}.1.2": ("DC1", "lab-east-b"),
            f"{prefix}.2.1": ("DC2", "lab-west-a"), f"{prefix}.2.2": ("DC2", "lab-west-b")}
    for n in nodes:
        if (n["dc"], n["rack"]) != want[n["address"]] or n["status"] != "UN" or not n["ok"]:
            fail(f"node {n} is not UN in {want[n['address']]}")
        if not n["host_id"] or n["tokens"] < 1 or not n["load"]:
            fail(f"node {n['address']} lacks host id, tokens or load")
    print(f"4 UN in DC1/DC2, racks as configured, seen from {doc['seen_from']}")
elif kind == "latency":
    zp, dp = doc["zone_pairs"], doc["dc_pairs"]
    got = sorted((p["dc"], p["zone_a"], p["zone_b"]) for p in zp)
    if len(zp) != 2 or {p["dc"] for p in zp} != {"DC1", "DC2"}:
        fail(f"zone pairs {got}, want one per DC")
    if len(dp) != 1 or (dp[0]["dc_a"], dp[0]["dc_b"]) != ("DC1", "DC2"):
        fail(f"dc pairs {dp}")
    for p in zp + dp:
        if p["samples"] < 3 or not (0 < p["min_ms"] <= p["avg_ms"] <= p["max_ms"] < 1000):
            fail(f"pair {p} has no sane measurement")
        if p["from_address"] not in ips or p["to_address"] not in ips or p["from_address"] == p["to_address"]:
            fail(f"pair {p} not between two nodes' gossip addresses")
    print("; ".join(f"{p.get('dc', '')} {p.get('zone_a', p.get('dc_a'))}->{p.get('zone_b', p.get('dc_b'))} "
                    f"avg {p['avg_ms']:.3f} ms ({p['samples']} x {p['method']})" for p in zp + dp))
elif kind == "output":
    nodes = doc["nodes"]
    if [n["name"] for n in nodes] != ["DC1.n1", "DC1.n2", "DC2.n1", "DC2.n2"]:
        fail(f"nodes {[n['name'] for n in nodes]}")
    for n in nodes:
        if n["private_ip"] not in ips or "HostKeyAlias=" not in n["ssh"] or "StrictHostKeyChecking=yes" not in n["ssh"]:
            fail(f"node {n} lacks its address or pinned ssh options")
        if "cqlsh" not in (n["cqlsh"] or "") or n["private_ip"] not in n["cqlsh"]:
            fail(f"node {n} has no cqlsh command to its address")
    if doc["monitoring_url"] is not None:
        fail(f"Lab has no monitoring, yet the URL is {doc['monitoring_url']}")
    print("4 nodes, each with a pinned ssh command and a cqlsh command")
elif kind == "field":
    # field NAME INDEX: print nodes[INDEX][NAME] (for the shell)
    print(doc["nodes"][int(sys.argv[4])][sys.argv[3]])
else:
    fail(f"unknown kind {kind}")
