#!/usr/bin/env python3
"""keyscan.py ROOT USER_DATA INSTANCE_ID_FILE: every file under ROOT (but /proc,
/sys, /dev) that holds the host's private key from USER_DATA, with owner and
mode, one per line. Exit 1 when one is not root-only (no group or other
bit) or is not on the list below; also when the key file itself is not
found (the search would prove nothing).

What is searched: the alphanumeric runs of the key's base64 body (no '+' or
'/', so a JSON-escaped copy matches too) and a run of the base64 of the whole
user-data inside the key's part (a copy stored base64-encoded, as IMDS gets
it). Compressed copies are not looked for.
"""
import base64
import os
import re
import stat
import sys

root, ud_path = sys.argv[1], sys.argv[2]
iid = open(sys.argv[3]).read().strip()
ud = open(ud_path, "rb").read()
text = ud.decode()
m = re.search(r"-----BEGIN OPENSSH PRIVATE KEY-----\n(.*?)-----END", text, re.S)
if not m:
    sys.exit("keyscan: no private key in %s" % ud_path)
# per line: a copy may keep the line breaks
runs = sorted((r for line in m.group(1).splitlines()
               for r in re.findall(r"[A-Za-z0-9]{16,}", line)), key=len, reverse=True)[:3]
needles = [r.encode() for r in runs]
b64 = base64.b64encode(ud).decode()
start = len(base64.b64encode(ud[: ud.index(b"BEGIN OPENSSH")]))
b64runs = re.findall(r"[A-Za-z0-9]{16,}", b64[start + 64: start + 400])
if b64runs:
    needles.append(max(b64runs, key=len).encode())

# Where it may stay, and why. All must also be root-only.
allowed = {
    "/etc/ssh/ssh_host_ed25519_key": "the host key itself",
    "/var/lib/cloud/instances/%s/obj.pkl" % iid:
        "cloud-init's datasource cache (it recognises the instance at boot with it)",
    "/var/lib/cloud/seed/nocloud/user-data": "this test's seed: what IMDS serves on EC2",
}

found = {}
skip = {os.path.join(root, d) for d in ("proc", "sys", "dev")}
for dirpath, dirs, files in os.walk(root):
    dirs[:] = [d for d in dirs if os.path.join(dirpath, d) not in skip]
    for f in files:
        p = os.path.join(dirpath, f)
        try:
            st = os.lstat(p)
            if not stat.S_ISREG(st.st_mode) or st.st_size < 16:
                continue
            with open(p, "rb") as fh:
                data = fh.read()
        except OSError:
            continue
        if any(n in data for n in needles):
            found["/" + os.path.relpath(p, root)] = st

bad = 0
for path, st in sorted(found.items()):
    mode = stat.S_IMODE(st.st_mode)
    rootonly = st.st_uid == 0 and not mode & 0o077
    why = allowed.get(path)
    verdict = ("allowed: " + why) if why and rootonly else (
        "NOT ROOT-ONLY" if not rootonly else "NOT EXPECTED (root-only, but a new copy)")
    if not (why and rootonly):
        bad += 1
    print("%-60s %d:%d %04o  %s" % (path, st.st_uid, st.st_gid, mode, verdict))
if "/etc/ssh/ssh_host_ed25519_key" not in found:
    print("the host key file itself was not found: the search proves nothing")
    bad += 1
sys.exit(1 if bad else 0)
