#!/usr/bin/env python3
"""Independent check of what cassandgo built, with boto3 (never our code).

  check_world.py ENDPOINT CLUSTER REGION:NODES[,...] [--seeds N] [--rules-per-group N]
  check_world.py ENDPOINT CLUSTER REGION,... --empty

Security groups: a region's groups are cassandgo-CLUSTER-REGION and its
overflow groups ...-peers-2.. (at most --groups-per-eni), every instance of
the region carries all of them, none holds more than --rules-per-group
inbound rules, the group admits itself on tcp 7000 and ICMP only, nothing
opens 7001 or 7199, and each remote node's public /32 is admitted on tcp
7000 by one of the region's groups (exactly those /32s) with --peers.

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


def region_groups(ec2, cluster, region):
    """The region's groups by name: main first, then overflow by index."""
    base = "cassandgo-%s-%s" % (cluster, region)
    names = [base] + ["%s-peers-%d" % (base, k) for k in range(2, 17)]
    sgs = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": names}])["SecurityGroups"]
    return sorted(sgs, key=lambda g: names.index(g["GroupName"]))


def inbound_count(sg):
    """Rules as AWS counts them against the quota: one per source."""
    return sum(len(p.get("IpRanges", [])) + len(p.get("UserIdGroupPairs", [])) +
               len(p.get("Ipv6Ranges", [])) + len(p.get("PrefixListIds", []))
               for p in sg["IpPermissions"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("endpoint")
    ap.add_argument("cluster")
    ap.add_argument("regions", help="REGION:NODES,... (or REGION,... with --empty)")
    ap.add_argument("--empty", action="store_true")
    ap.add_argument("--seeds", type=int, default=2, help="seeds per DC")
    ap.add_argument("--allowed", default="", help="comma list of allowed CIDRs expected")
    ap.add_argument("--rules-per-group", type=int, default=60, help="inbound rules per group at most")
    ap.add_argument("--groups-per-eni", type=int, default=5, help="groups per instance at most")
    ap.add_argument("--min-groups", type=int, default=1, help="groups each region must have at least")
    ap.add_argument("--peers", action="store_true",
                    help="the regions listed are all the cluster's: check the cross-region /32s")
    a = ap.parse_args()
    host = urllib.parse.urlparse(a.endpoint).hostname
    if not ipaddress.ip_address(host).is_loopback:
        sys.exit("refusing non-loopback endpoint %s" % a.endpoint)
    fails = []
    total = 0
    public = {}     # region -> its instances' public /32s
    admitted = {}   # region -> /32s its groups admit on tcp 7000
    for spec in a.regions.split(","):
        region, _, nodes = spec.partition(":")
        ec2 = client(a.endpoint, region)
        insts = live_instances(ec2, a.cluster)
        sg_name = "cassandgo-%s-%s" % (a.cluster, region)
        sgs = region_groups(ec2, a.cluster, region)
        kps = ec2.describe_key_pairs(Filters=[{"Name": "key-name", "Values": [sg_name]}])["KeyPairs"]
        if a.empty:
            if insts:
                fails.append("%s: %d instances still live: %s" % (region, len(insts), [i["InstanceId"] for i in insts]))
            if sgs:
                fails.append("%s: security groups %s still exist" % (region, [g["GroupName"] for g in sgs]))
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
            got = sorted(g["GroupName"] for g in i.get("SecurityGroups", []))
            if got != sorted(g["GroupName"] for g in sgs):
                fails.append("%s: %s carries groups %r, the region has %r" % (
                    region, i["InstanceId"], got, [g["GroupName"] for g in sgs]))
            if len(got) > a.groups_per_eni:
                fails.append("%s: %s carries %d groups, more than %d" % (region, i["InstanceId"], len(got), a.groups_per_eni))
            if i.get("PublicIpAddress"):
                public.setdefault(region, set()).add(i["PublicIpAddress"] + "/32")
        dups = [k for k, n in keys.items() if n > 1]
        if dups:
            fails.append("%s: duplicate instances for %s" % (region, dups))
        nzones = len(ec2.describe_availability_zones()["AvailabilityZones"])
        if want and len(zones) < min(want, nzones):
            fails.append("%s: instances in %d zones %s, want %d" % (region, len(zones), dict(zones), min(want, nzones)))
        if max(zones.values() or [0]) - min(zones.values() or [0]) > 1:
            fails.append("%s: zones unbalanced %s" % (region, dict(zones)))
        if not sgs or sgs[0]["GroupName"] != sg_name:
            fails.append("%s: no security group named %s" % (region, sg_name))
        if len(sgs) < a.min_groups:
            fails.append("%s: %d security groups, want at least %d" % (region, len(sgs), a.min_groups))
        if len(set(g["GroupName"] for g in sgs)) != len(sgs):
            fails.append("%s: several groups of one name %s" % (region, [g["GroupName"] for g in sgs]))
        admitted[region] = set()
        for idx, sg in enumerate(sgs):
            n = inbound_count(sg)
            if n > a.rules_per_group:
                fails.append("%s: %s holds %d inbound rules, more than %d" % (region, sg["GroupName"], n, a.rules_per_group))
            for perm in sg["IpPermissions"]:
                lo, hi = perm.get("FromPort", -1), perm.get("ToPort", -1)
                if perm.get("IpProtocol") in ("tcp", "6") and (lo <= 7001 <= hi or lo <= 7199 <= hi):
                    fails.append("%s: %s opens %s-%s (7001 and 7199 stay closed)" % (region, sg["GroupName"], lo, hi))
                if perm.get("IpProtocol") in ("tcp", "6") and lo == hi == 7000:
                    admitted[region].update(r["CidrIp"] for r in perm.get("IpRanges", []))
                if idx > 0 and not (perm.get("IpProtocol") in ("tcp", "6") and lo == hi == 7000 and
                                    not perm.get("UserIdGroupPairs")):
                    fails.append("%s: overflow group %s holds more than tcp 7000 rules: %s" % (region, sg["GroupName"], perm))
                if perm.get("IpProtocol") in ("icmp", "1") and perm.get("IpRanges"):
                    fails.append("%s: ICMP open to addresses %s" % (region, perm["IpRanges"]))
                for r in perm.get("IpRanges", []):
                    if r["CidrIp"] == "0.0.0.0/0":
                        fails.append("%s: %s open to 0.0.0.0/0 (%s)" % (region, sg_name, perm))
                    port = perm.get("FromPort")
                    if port in (22, 9042) and a.allowed and r["CidrIp"] not in a.allowed.split(","):
                        fails.append("%s: port %s open to unexpected %s" % (region, port, r["CidrIp"]))
                for g in perm.get("UserIdGroupPairs", []):
                    if g["GroupId"] != sg["GroupId"]:
                        fails.append("%s: rule from foreign group %s" % (region, g["GroupId"]))
            if idx > 0:
                continue
            ports = {(p.get("IpProtocol"), p.get("FromPort")) for p in sg["IpPermissions"]
                     if any(g["GroupId"] == sg["GroupId"] for g in p.get("UserIdGroupPairs", []))}
            for need in (("tcp", 7000), ("icmp", -1)):
                if need not in ports:
                    fails.append("%s: internode rule %s from the group missing (%s)" % (region, need, ports))
        if len(kps) != 1:
            fails.append("%s: %d key pairs named %s, want 1" % (region, len(kps), sg_name))
    # cross-region: each remote node's /32 on tcp 7000, and nothing else on it
    if a.peers and not a.empty and len(admitted) > 1:
        for region in admitted:
            want = set().union(*(public.get(o, set()) for o in admitted if o != region))
            missing, extra = want - admitted[region], admitted[region] - want
            if missing:
                fails.append("%s: %d remote /32s not admitted on tcp 7000: %s" % (region, len(missing), sorted(missing)[:5]))
            if extra:
                fails.append("%s: %d /32s admitted on tcp 7000 that are no remote node: %s" % (region, len(extra), sorted(extra)[:5]))
    if fails:
        print("FAIL:\n  " + "\n  ".join(fails))
        sys.exit(1)
    print("ok: %s" % ("nothing left" if a.empty else "%d instances, groups and key pairs as expected" % total))


if __name__ == "__main__":
    main()
