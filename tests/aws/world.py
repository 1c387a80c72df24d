#!/usr/bin/env python3
"""Count one cluster's objects in moto (boto3): world.py URL CLUSTER R1,R2..
Prints `running=N other=N sg=N keys=N dup=N nodes=DC1.n1,..`; dup counts the
(dc, node) pairs claimed by more than one live instance."""
import sys
import boto3

url, cluster, regions = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
run = other = sg = keys = 0
claims = {}
for r in regions:
    c = boto3.client("ec2", region_name=r, endpoint_url=url,
                     aws_access_key_id="testing", aws_secret_access_key="testing")
    for res in c.describe_instances(Filters=[{"Name": "tag:cassandgo:cluster", "Values": [cluster]}])["Reservations"]:
        for i in res["Instances"]:
            st = i["State"]["Name"]
            if st == "terminated":
                continue
            t = {x["Key"]: x["Value"] for x in i.get("Tags", [])}
            if st in ("running", "pending"):
                run += 1
            else:
                other += 1
            k = "%s.n%s" % (t.get("cassandgo:dc"), t.get("cassandgo:node"))
            claims[k] = claims.get(k, 0) + 1
    sg += sum(1 for g in c.describe_security_groups()["SecurityGroups"] if cluster in g["GroupName"])
    keys += sum(1 for k in c.describe_key_pairs()["KeyPairs"] if cluster in k["KeyName"])
dup = sum(n - 1 for n in claims.values() if n > 1)
print("running=%d other=%d sg=%d keys=%d dup=%d nodes=%s" % (run, other, sg, keys, dup, ",".join(sorted(claims))))
