#!/usr/bin/env python3
"""EC2's data plane for moto: one network-namespace host per running instance.

usage: dataplane.py --endpoint URL --regions R1,R2 --cluster NAME --keys DIR
                    --user USER --bridge BR --root DIR --ready FILE

moto is only a control plane: its instances run nothing. This daemon plays
the rest of EC2 for the instances of one cluster (tag cassandgo:cluster):
every instance moto reports `running` gets a host, every host whose
instance is no longer running loses it (a stopped instance keeps its disk,
a terminated one does not). A host is:
  - a network namespace NS with a veth into BR, the instance's private IP
    /32 on eth0 and an on-link default route; on this machine a /32 route
    to that IP via BR (nothing else is routed: only our namespaces);
  - an sshd in its own mount namespace where ROOT/disk/ID is bind-mounted
    on /var/lib, so /var/lib/cassandgo is ROOT/disk/ID/cassandgo (every EC2
    node has the same base_dir; /var/lib as a whole, so that nothing done
    to this machine's /var/lib/cassandgo reaches the hosts), with the
    ed25519 host key taken from the instance's user-data as cloud-init
    would (DescribeInstanceAttribute userData), and USER logging in with
    the key pair's public key (KEYS/<cluster>-<region>.pub, what EC2 hands
    cloud-init for the instance's KeyName);
  - the marker cloud-init leaves at the end (.cloud-init-done).
ROOT/hosts.json lists the hosts (id, region, ip, ns, node); ROOT/dataplane.log
tells what happened. SIGTERM takes every host down and exits. Root only.
"""
import argparse
import base64
import hashlib
import json
import os
import pwd
import signal
import subprocess
import sys
import time

import boto3
from botocore.config import Config

BASE = "/var/lib/cassandgo"
HOST_SRC = "169.254.77.1"   # the bridge's own address: our source towards the hosts


def log(msg):
    print("%s %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


def sh(*argv, check=True):
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if check and r.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(argv), r.returncode, r.stderr.strip()))
    return r


def vname(ns):
    # as tests/ssh/netns-host.sh names them (15 bytes max)
    return "cgv" + hashlib.md5(ns.encode()).hexdigest()[:10]


def host_key_of(userdata):
    """The ed25519 private key block of a #cloud-config (ssh_keys)."""
    lines = userdata.splitlines()
    for i, l in enumerate(lines):
        if l.strip() == "ed25519_private: |":
            out = []
            for k in lines[i + 1:]:
                if not k.startswith("    "):
                    break
                out.append(k[4:])
            return "\n".join(out) + "\n"
    raise RuntimeError("user-data holds no ssh_keys.ed25519_private")


class Plane:
    def __init__(self, a):
        self.a = a
        self.hosts = {}     # instance id -> dict
        self.bad = {}       # instance id -> when we last failed it (retried after 2 s)
        cfg = Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=2, read_timeout=10)
        self.ec2 = {r: boto3.client("ec2", region_name=r, endpoint_url=a.endpoint,
                                    aws_access_key_id="testing", aws_secret_access_key="testing",
                                    config=cfg)
                    for r in a.regions.split(",")}
        pw = pwd.getpwnam(a.user)
        self.uid, self.gid = pw.pw_uid, pw.pw_gid
        os.makedirs(os.path.join(a.root, "disk"), exist_ok=True)
        os.makedirs(os.path.join(a.root, "run"), exist_ok=True)
        os.makedirs("/run/sshd", exist_ok=True)
        if sh("ip", "link", "show", a.bridge, check=False).returncode != 0:
            sh("ip", "link", "add", a.bridge, "type", "bridge")
        if HOST_SRC not in sh("ip", "-4", "addr", "show", "dev", a.bridge).stdout:
            sh("ip", "addr", "add", HOST_SRC + "/32", "dev", a.bridge)
        sh("ip", "link", "set", a.bridge, "up")

    def world(self):
        """id -> (region, instance) for this cluster's instances, every state."""
        out = {}
        for r, c in self.ec2.items():
            pages = c.get_paginator("describe_instances").paginate(
                Filters=[{"Name": "tag:cassandgo:cluster", "Values": [self.a.cluster]}])
            for p in pages:
                for res in p["Reservations"]:
                    for i in res["Instances"]:
                        out[i["InstanceId"]] = (r, i)
        return out

    def up(self, region, inst):
        iid, ip = inst["InstanceId"], inst.get("PrivateIpAddress")
        tags = {t["Key"]: t["Value"] for t in inst.get("Tags", [])}
        if not ip:
            raise RuntimeError("no private address")
        # Only an address nothing else on this machine routes to.
        route = sh("ip", "-4", "route", "get", ip).stdout
        if " via " not in route and ("dev " + self.a.bridge) not in route:
            raise RuntimeError("%s is already routed here (%s): refusing" % (ip, route.strip()))
        for h in self.hosts.values():
            if h["ip"] == ip:
                raise RuntimeError("%s already belongs to %s" % (ip, h["id"]))
        ud = self.ec2[region].describe_instance_attribute(InstanceId=iid, Attribute="userData")
        userdata = base64.b64decode(ud["UserData"]["Value"]).decode()
        hostkey = host_key_of(userdata)
        pub = os.path.join(self.a.keys, "%s-%s.pub" % (self.a.cluster, region))
        with open(pub) as f:
            authkey = f.read()
        ns = "cga-" + iid[2:]
        run = os.path.join(self.a.root, "run", ns)
        varlib = os.path.join(self.a.root, "disk", iid)
        disk = os.path.join(varlib, "cassandgo")
        os.makedirs(run, exist_ok=True)
        os.makedirs(disk, exist_ok=True)
        os.chmod(varlib, 0o755)
        os.chown(disk, self.uid, self.gid)
        with open(os.path.join(disk, ".cloud-init-done"), "w"):
            pass
        kf = os.path.join(run, "host_key")
        fd = os.open(kf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.write(fd, hostkey.encode())
        os.close(fd)
        with open(os.path.join(run, "authorized_keys"), "w") as f:
            f.write(authkey)
        os.chmod(os.path.join(run, "authorized_keys"), 0o644)
        os.chmod(run, 0o755)
        with open(os.path.join(run, "sshd_config"), "w") as f:
            f.write("ListenAddress %s\nPort 22\nHostKey %s\nPidFile %s/sshd.pid\n"
                    "AuthorizedKeysFile %s/authorized_keys\nAllowUsers %s\n"
                    "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
                    "StrictModes no\nMaxStartups 500:30:1000\nMaxSessions 100\n"
                    "ClientAliveInterval 30\nLogLevel INFO\n" % (ip, kf, run, run, self.a.user))
        v = vname(ns)
        if sh("ip", "netns", "pids", ns, check=False).returncode != 0:
            sh("ip", "netns", "add", ns)
        if sh("ip", "link", "show", v, check=False).returncode != 0:
            sh("ip", "link", "add", v, "type", "veth", "peer", "name", "eth0", "netns", ns)
            sh("ip", "link", "set", v, "master", self.a.bridge, "up")
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "-n", ns, "link", "set", "eth0", "up")
        sh("ip", "-n", ns, "addr", "replace", ip + "/32", "dev", "eth0")
        sh("ip", "-n", ns, "route", "replace", "default", "dev", "eth0")
        sh("ip", "route", "replace", ip + "/32", "dev", self.a.bridge, "src", HOST_SRC)
        pidf = os.path.join(run, "sshd.pid")
        if os.path.exists(pidf):
            os.unlink(pidf)
        # sshd daemonizes inside the private mount namespace: its sessions,
        # and the Cassandra they start, see this instance's disk as BASE.
        sh("ip", "netns", "exec", ns, "unshare", "-m", "--propagation", "private", "sh", "-c",
           'mount --bind "$1" /var/lib && exec /usr/sbin/sshd -f "$2" -E "$3"', "sh",
           varlib, os.path.join(run, "sshd_config"), os.path.join(run, "sshd.log"))
        for _ in range(100):
            if os.path.exists(pidf) and os.path.getsize(pidf) > 0:
                break
            time.sleep(0.05)
        else:
            raise RuntimeError("sshd did not start: %s" % open(os.path.join(run, "sshd.log")).read()[-300:])
        self.hosts[iid] = {"id": iid, "region": region, "ip": ip, "ns": ns,
                           "zone": inst.get("Placement", {}).get("AvailabilityZone", ""),
                           "node": "%s.n%s" % (tags.get("cassandgo:dc", "?"), tags.get("cassandgo:node", "?"))}
        log("up   %s %s %s at %s (ns %s)" % (iid, region, self.hosts[iid]["node"], ip, ns))

    def down(self, iid, keep_disk):
        h = self.hosts.pop(iid)
        ns = h["ns"]
        # An instance that stops or terminates powers off: no graceful stop.
        for _ in range(50):
            pids = sh("ip", "netns", "pids", ns, check=False).stdout.split()
            if not pids:
                break
            sh("kill", "-KILL", *pids, check=False)
            time.sleep(0.1)
        sh("ip", "netns", "del", ns, check=False)
        sh("ip", "link", "del", vname(ns), check=False)
        sh("ip", "route", "del", h["ip"] + "/32", "dev", self.a.bridge, check=False)
        sh("rm", "-rf", os.path.join(self.a.root, "run", ns))
        if not keep_disk:
            sh("rm", "-rf", os.path.join(self.a.root, "disk", iid))
        log("down %s %s (%s)" % (iid, h["node"], "stopped" if keep_disk else "terminated"))

    def publish(self):
        p = os.path.join(self.a.root, "hosts.json")
        with open(p + ".tmp", "w") as f:
            json.dump(sorted(self.hosts.values(), key=lambda h: h["node"]), f, indent=1)
        os.rename(p + ".tmp", p)

    def step(self):
        w = self.world()
        changed = False
        for iid in list(self.hosts):
            st = w[iid][1]["State"]["Name"] if iid in w else "gone"
            if st != "running":
                self.down(iid, keep_disk=st in ("stopped", "stopping"))
                changed = True
        for iid, (r, i) in sorted(w.items()):
            if i["State"]["Name"] == "running" and iid not in self.hosts and \
                    time.time() - self.bad.get(iid, 0) > 2:
                try:
                    self.up(r, i)
                    changed = True
                except Exception as e:  # one bad instance must not stop the others
                    self.bad[iid] = time.time()
                    log("FAIL %s: %s" % (iid, e))
        if changed:
            self.publish()

    def shutdown(self):
        for iid in list(self.hosts):
            self.down(iid, keep_disk=False)
        self.publish()


def main():
    ap = argparse.ArgumentParser()
    for k in ("endpoint", "regions", "cluster", "keys", "user", "bridge", "root", "ready"):
        ap.add_argument("--" + k, required=True)
    a = ap.parse_args()
    if not a.endpoint.startswith("http://127."):
        sys.exit("dataplane: refusing non-loopback endpoint %s" % a.endpoint)
    plane = Plane(a)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    plane.publish()
    open(a.ready, "w").close()
    log("watching %s for cluster %s in %s" % (a.endpoint, a.cluster, a.regions))
    while not stop:
        try:
            plane.step()
        except Exception as e:   # moto restarting, a transient error: next round
            log("poll: %s" % e)
        time.sleep(0.2)
    plane.shutdown()
    log("all hosts down")


if __name__ == "__main__":
    main()
