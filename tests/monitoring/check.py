#!/usr/bin/env python3
"""Checks of Prometheus' HTTP API answers for make check-monitoring.

  check.py targets N     stdin: /api/v1/targets; N active targets, all up,
                         jobs cassandra and node, N/2 instances each
  check.py samples IP... stdin: /api/v1/query; a sample from every IP
                         (instance label), none from elsewhere
  check.py url URL       stdin: output --json; monitoring_url is URL
Prints a summary; exits 1 with the reason on stderr otherwise.
"""
import json
import sys


def fail(msg):
    print(msg, file=sys.stderr)
    sys.exit(1)


def main():
    what, args = sys.argv[1], sys.argv[2:]
    doc = json.load(sys.stdin)
    if what == "targets":
        n = int(args[0])
        act = doc["data"]["activeTargets"]
        if len(act) != n:
            fail(f"{len(act)} active targets, expected {n}")
        down = [f'{t["scrapeUrl"]}: {t["health"]} {t.get("lastError", "")}' for t in act if t["health"] != "up"]
        if down:
            fail("not up: " + "; ".join(down))
        jobs = {}
        for t in act:
            jobs.setdefault(t["labels"]["job"], set()).add(t["labels"]["instance"])
        if sorted(jobs) != ["cassandra", "node"] or any(len(v) != n // 2 for v in jobs.values()):
            fail(f"jobs/instances: {jobs}")
        print(f"{n} targets up ({', '.join(f'{j}: {len(v)}' for j, v in sorted(jobs.items()))})")
    elif what == "samples":
        if doc.get("status") != "success":
            fail(f"query failed: {doc}")
        got = {}
        for r in doc["data"]["result"]:
            got[r["metric"].get("instance")] = r["value"][1]
        if sorted(got) != sorted(args):
            fail(f"instances {sorted(got)}, expected {sorted(args)}")
        print(", ".join(f"{k}={v}" for k, v in sorted(got.items())))
    elif what == "url":
        if doc.get("monitoring_url") != args[0]:
            fail(f"monitoring_url {doc.get('monitoring_url')!r}, expected {args[0]!r}")
        print(doc["monitoring_url"])
    else:
        fail(f"unknown check {what}")


main()
