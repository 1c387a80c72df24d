#!/usr/bin/env bash
# check-cloudinit-moto: the metadata restriction as far as moto can show it.
#
# moto serves EC2's control plane only: no instance runs and no metadata
# service exists, so nothing there can show a process on the node being
# refused. What it can show is what EC2 will hold for the instance, as set
# by the real `cassandgo apply`: the user-data (the very bytes IMDS serves
# at /latest/user-data, firewall included), the metadata options (IMDSv2
# required) and the pinned public key (tag cassandgo:host_key). This script
# checks those through boto3, then boots that user-data, as stored by moto,
# with the real cloud-init (tests/cloudinit/run.sh), where the refusal is
# shown against a stand-in metadata service.
#   tests/cloudinit/moto.sh path/to/cassandgo
set -euo pipefail
CG=$(realpath "${1:?usage: moto.sh CASSANDGO}")
REPO=$(cd "$(dirname "$0")/../.." && pwd)
. "$REPO/tests/ec2/lib.sh"
need
isolate_env
cat >"$WORK/cassandgo.yaml" <<'EOF'
CloudInit:
- datacenter: DC1
  region: eu-west
  zone: 1
  nodes: 1
  nb_seeds_per_dc: 1
  node_type: m3.large
EOF
start_moto
use_endpoint "$MOTO_URL"

step "apply --stage infra launches one instance on moto"
cg apply --auto-approve --stage infra CloudInit >"$WORK/apply.txt" 2>&1 ||
	{ cat "$WORK/apply.txt"; die "apply failed"; }

step "what EC2 holds for it: user-data, metadata options, pinned key"
mkdir -p "$WORK/ud"
python3 - "$MOTO_URL" "$WORK/ud" <<'EOF' || die "the instance's EC2 record is not as it must be"
import base64, sys
import boto3
endpoint, out = sys.argv[1], sys.argv[2]
ec2 = boto3.client("ec2", region_name="eu-west-1", endpoint_url=endpoint,
                   aws_access_key_id="testing", aws_secret_access_key="testing")
res = ec2.describe_instances(Filters=[{"Name": "tag:cassandgo:cluster", "Values": ["CloudInit"]}])
insts = [i for r in res["Reservations"] for i in r["Instances"]]
assert len(insts) == 1, "want 1 instance, got %d" % len(insts)
inst = insts[0]
tags = {t["Key"]: t["Value"] for t in inst.get("Tags", [])}
tokens = inst.get("MetadataOptions", {}).get("HttpTokens")
assert tokens == "required", "MetadataOptions.HttpTokens = %r" % tokens
print("ok - IMDSv2 required (MetadataOptions.HttpTokens)")
ud = base64.b64decode(ec2.describe_instance_attribute(
    InstanceId=inst["InstanceId"], Attribute="userData")["UserData"]["Value"]).decode()
for want in ("ed25519_private: |", "bootcmd:",
             "ip daddr 169.254.169.254 meta skuid != 0 reject",
             "-m owner ! --uid-owner 0 -j REJECT",
             "/var/lib/cloud/scripts/per-boot/cassandgo-scrub-user-data"):
    assert want in ud, "user-data lacks %r" % want
print("ok - the user-data EC2 serves holds the key and the root-only firewall (%d bytes)" % len(ud))
open(out + "/user-data", "w").write(ud)
open(out + "/host_key.pub", "w").write(tags["cassandgo:host_key"] + "\n")
open(out + "/version", "w").write(tags["cassandgo:cassandra_version"])
EOF

step "that user-data, as moto stored it, booted by the real cloud-init"
# The newest suite's cloud-init is enough here: check-cloudinit runs all.
. "$REPO/tests/cloudinit/lib.sh"
CASSANDGO_CLOUDINIT_SUITES=${CG_CI_SUITES##* } "$REPO/tests/cloudinit/run.sh" --user-data "$WORK/ud/user-data" --host-key-pub "$WORK/ud/host_key.pub" \
	--version "$(cat "$WORK/ud/version")" --install maven
