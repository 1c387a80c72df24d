#!/usr/bin/env python3
"""Independent check of what cassandgo built, with boto3 (never our code).

  check_world.py ENDPOINT CLUSTER REGION:NODES[,...] [--seeds N]
  check_world.py ENDPOINT CLUSTER REGION,... --empty

Refuses any endpoint that is not loopback. Exits 1 with a list of failures.
"""
import argparse
import ipaddress
import sys
import urllib.parse
from collections import Counter

import boto3


def client(endpoint, region):
    return boto3.client("ec2", region_name=region, endpoint_url=endpoint,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def live_instances(ec2, cluster):
    out = []
    for page in ec2.get_paginator("describe_instances").paginate(Filters=[
            {"Name": "tag:cassandgo:cluster", "Values": [cluster]},
            {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]}]):
        for res in page["Reservations"]:
            out.extend(res["Instances"])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("endpoint")
    ap.add_argument("cluster")
    ap.add_argument("regions", help="REGION:NODES,... (or REGION,... with --empty)")
    ap.add_argument("--empty", action="store_true")
    ap.add_argument("--seeds", type=int, default=2, help="seeds per DC")
    ap.add_argument("--allowed", default="", help="comma list of allowed CIDRs expected")
    a = ap.parse_args()
    host = urllib.parse.urlparse(a.endpoint).hostname
    if not ipaddress.ip_address(host).is_loopback:
        sys.exit("refusing non-loopback endpoint %s" % a.endpoint)
    fails = []
    total = 0
    for spec in a.regions.split(","):
        region, _, nodes = spec.partition(":")
        ec2 = client(a.endpoint, region)
        insts = live_instances(ec2, a.cluster)
        sg_name = "cassandgo-%s-%s" % (a.cluster, region)
        sgs = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [sg_name]}])["SecurityGroups"]
        kps = ec2.describe_key_pairs(Filters=[{"Name": "key-name", "Values": [sg_name]}])["KeyPairs"]
        if a.empty:
            if insts:
                fails.append("%s: %d instances still live: %s" % (region, len(insts), [i["InstanceId"] for i in insts]))
            if sgs:
                fails.append("%s: security group %s still exists" % (region, sg_name))
            if kps:
                fails.append("%s: key pair %s still exists" % (region, sg_name))
            continue
        want = int(nodes)
        total += len(insts)
        running = [i for i in insts if i["State"]["Name"] == "running"]
        if len(running) != want or len(insts) != want:
            fails.append("%s: %d live / %d running instances, want exactly %d" % (region, len(insts), len(running), want))
        keys = Counter()
        zones = Counter()
        for i in insts:
            tags = {t["Key"]: t["Value"] for t in i.get("Tags", [])}
            for k in ("cassandgo:cluster", "cassandgo:dc", "cassandgo:node", "cassandgo:role", "Name", "cassandgo:host_key"):
                if k not in tags:
                    fails.append("%s: %s lacks tag %s" % (region, i["InstanceId"], k))
            dc, node = tags.get("cassandgo:dc"), tags.get("cassandgo:node")
            keys[(dc, node)] += 1
            zones[i["Placement"]["AvailabilityZone"]] += 1
            role = tags.get("cassandgo:role")
            if node and role != ("seed" if int(node) <= a.seeds else "node"):
                fails.append("%s: %s node %s has role %s" % (region, i["InstanceId"], node, role))
            if tags.get("Name") != "[%s] n%s %s" % (dc, node, a.cluster):
                fails.append("%s: %s has Name %r" % (region, i["InstanceId"], tags.get("Name")))
            if not tags.get("cassandgo:host_key", "").startswith("ssh-ed25519 "):
                fails.append("%s: %s host key tag %r" % (region, i["InstanceId"], tags.get("cassandgo:host_key")))
            if i.get("KeyName") != sg_name:
                fails.append("%s: %s key name %r" % (region, i["InstanceId"], i.get("KeyName")))
            if [g["GroupName"] for g in i.get("SecurityGroups", [])] != [sg_name]:
                fails.append("%s: %s groups %r" % (region, i["InstanceId"], i.get("SecurityGroups")))
        dups = [k for k, n in keys.items() if n > 1]
        if dups:
            fails.append("%s: duplicate instances for %s" % (region, dups))
        nzones = len(ec2.describe_availability_zones()["AvailabilityZones"])
        if want and len(zones) < min(want, nzones):
            fails.append("%s: instances in %d zones %s, want %d" % (region, len(zones), dict(zones), min(want, nzones)))
        if max(zones.values() or [0]) - min(zones.values() or [0]) > 1:
            fails.append("%s: zones unbalanced %s" % (region, dict(zones)))
        if len(sgs) != 1:
            fails.append("%s: %d security groups named %s, want 1" % (region, len(sgs), sg_name))
        for sg in sgs:
            for perm in sg["IpPermissions"]:
                for r in perm.get("IpRanges", []):
                    if r["CidrIp"] == "0.0.0.0/0":
                        fails.append("%s: %s open to 0.0.0.0/0 (%s)" % (region, sg_name, perm))
                    port = perm.get("FromPort")
                    if port in (22, 9042) and a.allowed and r["CidrIp"] not in a.allowed.split(","):
                        fails.append("%s: port %s open to unexpected %s" % (region, port, r["CidrIp"]))
                for g in perm.get("UserIdGroupPairs", []):
                    if g["GroupId"] != sg["GroupId"]:
                        fails.append("%s: rule from foreign group %s" % (region, g["GroupId"]))
            ports = {(p.get("IpProtocol"), p.get("FromPort")) for p in sg["IpPermissions"]
                     if any(g["GroupId"] == sg["GroupId"] for g in p.get("UserIdGroupPairs", []))}
            for need in (("tcp", 7000), ("tcp", 7001), ("tcp", 7199), ("icmp", -1)):
                if need not in ports:
                    fails.append("%s: internode rule %s from the group missing (%s)" % (region, need, ports))
        if len(kps) != 1:
            fails.append("%s: %d key pairs named %s, want 1" % (region, len(kps), sg_name))
    if fails:
        print("FAIL:\n  " + "\n  ".join(fails))
        sys.exit(1)
    print("ok: %s" % ("nothing left" if a.empty else "%d instances, groups and key pairs as expected" % total))


if __name__ == "__main__":
    main()
