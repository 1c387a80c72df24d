#!/usr/bin/env python3
"""Does the state (cassandgo state show CLUSTER --json, on stdin) match the
world? state_vs_world.py URL CLUSTER R1,R2.. : every machine recorded has a
live instance of that id, tagged with its DC and node, and every live
instance of the cluster is recorded. Prints the differences; exit 1 if any."""
import json
import sys

import boto3

url, cluster, regions = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
st = json.load(sys.stdin)
rec = {}
for c in st["clusters"]:
    if c["cluster"] != cluster:
        continue
    for r in c["resources"]:
        if r["kind"] == "machine":
            rec[r["resource"]["id"]] = r["address"]
live = {}
for reg in regions:
    ec2 = boto3.client("ec2", region_name=reg, endpoint_url=url,
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    for res in ec2.describe_instances(Filters=[{"Name": "tag:cassandgo:cluster", "Values": [cluster]}])["Reservations"]:
        for i in res["Instances"]:
            if i["State"]["Name"] == "terminated":
                continue
            t = {x["Key"]: x["Value"] for x in i.get("Tags", [])}
            live[i["InstanceId"]] = "machine.%s.n%s" % (t.get("cassandgo:dc"), t.get("cassandgo:node"))
bad = []
for iid, addr in sorted(rec.items()):
    if iid not in live:
        bad.append("state has %s = %s, not a live instance" % (addr, iid))
    elif live[iid] != addr:
        bad.append("state has %s = %s, tagged %s" % (addr, iid, live[iid]))
for iid, addr in sorted(live.items()):
    if iid not in rec:
        bad.append("instance %s (%s) is not in the state" % (iid, addr))
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
