#!/usr/bin/python3
"""Check `nodetool status` output (stdin) against an expected layout.

usage: status_check.py IP=DC/RACK... [--owns PCT]

Every expected node must be listed exactly once, Up/Normal, in its DC and
rack, and no other node may appear. With --owns, every node's effective
ownership (the column of `nodetool status KEYSPACE`) must be within 1 point
of PCT. Prints one line per problem and exits 1 if there is any; prints a
one-line summary and exits 0 otherwise."""
import re
import sys

# The node line of nodetool status (FACTS.md): Load holds a space, Owns may
# be "?".
NODE = re.compile(r"^([UD?])([NLJM])\s+(\S+)\s+(\?|\S+ \S+)\s+(\d+)\s+(\?|[\d.]+%)\s+(\S+)\s+(\S+)\s*$")


def parse(text):
    nodes, dc = {}, None
    for line in text.splitlines():
        m = re.match(r"^Datacenter: (\S+)", line)
        if m:
            dc = m.group(1)
            continue
        m = NODE.match(line)
        if m:
            st, state, ip, _load, _tok, owns, _hid, rack = m.groups()
            if ip in nodes:
                nodes[ip]["dup"] = True
            nodes[ip] = {"st": st + state, "dc": dc, "rack": rack,
                         "owns": None if owns == "?" else float(owns[:-1])}
    return nodes


def main(argv):
    owns, expect = None, {}
    args = iter(argv)
    for a in args:
        if a == "--owns":
            owns = float(next(args))
        else:
            ip, where = a.split("=", 1)
            dc, rack = where.split("/", 1)
            expect[ip] = (dc, rack)
    if not expect:
        print("status_check: no expected node given")
        return 1
    nodes = parse(sys.stdin.read())
    problems = []
    for ip, (dc, rack) in sorted(expect.items()):
        n = nodes.get(ip)
        if n is None:
            problems.append("%s: not listed" % ip)
            continue
        if n.get("dup"):
            problems.append("%s: listed twice" % ip)
        if n["st"] != "UN":
            problems.append("%s: %s, not UN" % (ip, n["st"]))
        if (n["dc"], n["rack"]) != (dc, rack):
            problems.append("%s: in %s/%s, expected %s/%s" % (ip, n["dc"], n["rack"], dc, rack))
        if owns is not None and (n["owns"] is None or abs(n["owns"] - owns) > 1.0):
            problems.append("%s: owns %s%%, expected %.1f%% +- 1" % (ip, n["owns"], owns))
    for ip in sorted(set(nodes) - set(expect)):
        problems.append("%s: unexpected node" % ip)
    for p in problems:
        print(p)
    if problems:
        return 1
    per_dc = {}
    for ip, (dc, _r) in expect.items():
        per_dc.setdefault(dc, []).append(nodes[ip]["owns"])
    print("%d UN; %s" % (len(expect), "; ".join(
        "%s: %d nodes%s" % (dc, len(o), "" if owns is None else
                            " owning " + ", ".join("%.1f%%" % x for x in o))
        for dc, o in sorted(per_dc.items()))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
