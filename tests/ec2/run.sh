#!/usr/bin/env bash
# check-ec2: the EC2 provider through the real command line against a real
# moto server on loopback, then again behind the fault-injecting proxy.
# Every destroy with machines recorded runs with --refresh=false after an
# infra-only refresh: a full refresh would let the SSH bootstrap provider
# probe the instances' public addresses, which moto invents (54.214.x.y)
# and which tests must never contact.
#   tests/ec2/run.sh path/to/cassandgo
set -euo pipefail
CG=$(realpath "${1:?usage: run.sh CASSANDGO}")
REPO=$(cd "$(dirname "$0")/../.." && pwd)
. "$REPO/tests/ec2/lib.sh"
need
isolate_env
cp "$REPO/cassandgo.yaml" "$WORK/cassandgo.yaml"
REGIONS=eu-west-1:5,us-east-1:5,us-west-1:5
CHECK="python3 $EC2_DIR/check_world.py"
# no_changes WHY: a plan of MultiDC's infrastructure shows nothing to do (else its output, WHY)
no_changes() {
	cg plan --stage infra MultiDC >"$WORK/nochange.txt" 2>&1 || true
	grep -q "No changes." "$WORK/nochange.txt" || { cat "$WORK/nochange.txt"; die "$1"; }
}

start_moto
use_endpoint "$MOTO_URL"

step "plan lists the expected resources"
cg plan --stage infra MultiDC >"$WORK/plan.txt" 2>&1 || { cat "$WORK/plan.txt"; die "plan failed"; }
for kind in "machine:15" "network:3" "keypair:3" "peers:3"; do
	n=$(grep -c "^  + ${kind%%:*}\." "$WORK/plan.txt" || true)
	[ "$n" = "${kind##*:}" ] || { cat "$WORK/plan.txt"; die "plan: $n ${kind%%:*} to create, want ${kind##*:}"; }
done
grep -q 'ami *= "ubuntu-24.04"' "$WORK/plan.txt" || die "plan does not show the AMI"

step "without allowed CIDRs the operator's own address (detected) is the default"
ECHO_PORT=$(free_port)
python3 - "$ECHO_PORT" >"$WORK/echo.log" 2>&1 <<'EOF2' &
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.send_header("Content-Length", "13"); self.end_headers()
        self.wfile.write(b"198.51.100.7\n")
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
EOF2
ECHO_PID=$!
PIDS+=($ECHO_PID)
wait_http "http://127.0.0.1:$ECHO_PORT/"
env -u CASSANDGO_ALLOWED_CIDRS CASSANDGO_IP_ECHO_URL="http://127.0.0.1:$ECHO_PORT/" \
	"$CG" -c "$WORK/cassandgo.yaml" --state "$WORK/state/state.db" plan --stage infra MultiDC >"$WORK/plan-ip.txt" 2>&1 ||
	{ cat "$WORK/plan-ip.txt"; die "plan with a detected address failed"; }
grep -q 'allowed_cidrs *= "198.51.100.7/32"' "$WORK/plan-ip.txt" || { grep allowed "$WORK/plan-ip.txt"; die "detected address not used"; }
kill "$ECHO_PID"

step "plan shows what the cluster costs; apply --max-cost-per-hour below it changes nothing (exit 3)"
cg plan --json MultiDC >"$WORK/plan.json" 2>"$WORK/plan-json.err" || { cat "$WORK/plan-json.err"; die "plan --json failed"; }
python3 - "$WORK/plan.json" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))["cost"]
# 5 x m3.large in each of eu-west-1 (0.146), us-east-1 (0.133), us-west-1 (0.154) in the
# 2025-05-28 table, and each one's 8 GiB gp3 root volume
want = 5 * (0.146 + 0.133 + 0.154) + 15 * 8 * 0.08 / 730
assert abs(c["per_hour"] - want) < 1e-4, (c["per_hour"], want)
assert abs(c["per_day"] - 24 * want) < 1e-3, c
assert [c["dcs"][d]["nodes"] for d in ("DC1", "DC2", "DC3")] == [5, 5, 5], c
assert c["dcs"]["DC2"]["region"] == "us-east-1" and c["dcs"]["DC2"]["node_type"] == "m3.large", c
assert not c["missing"] and "ec2instances.info data of 2025-05-28" in c["source"], c
EOF
grep -q '^  total .*/h .*/day$' "$WORK/plan.txt" || { cat "$WORK/plan.txt"; die "the text plan shows no total cost"; }
set +e
cg apply --auto-approve --max-cost-per-hour 0.5 MultiDC >"$WORK/budget.txt" 2>&1
rc=$?
set -e
[ $rc = 3 ] && grep -q 'more than --max-cost-per-hour 0.5000; nothing was changed' "$WORK/budget.txt" ||
	{ cat "$WORK/budget.txt"; die "apply over budget: exit $rc, want 3"; }
python3 - "$MOTO_URL" <<'EOF'
import sys, boto3
for r in ("eu-west-1", "us-east-1", "us-west-1"):
    ec2 = boto3.client("ec2", region_name=r, endpoint_url=sys.argv[1], aws_access_key_id="t", aws_secret_access_key="t")
    assert not [i for x in ec2.describe_instances()["Reservations"] for i in x["Instances"]], r
    assert not [g for g in ec2.describe_security_groups()["SecurityGroups"] if g["GroupName"] != "default"], r
EOF

step "apply --stage infra creates them"
cg apply --auto-approve --stage infra MultiDC >"$WORK/apply.txt" 2>&1 || { cat "$WORK/apply.txt"; die "apply failed"; }
$CHECK "$MOTO_URL" MultiDC "$REGIONS" --allowed 203.0.113.7/32
test "$(stat -c %a "$WORK/state/keys/MultiDC-eu-west-1")" = 600 || die "key file is not 0600"
ssh-keygen -y -f "$WORK/state/keys/MultiDC-eu-west-1" >/dev/null || die "ssh cannot read the key file"

step "output shows what the running cluster costs and has cost since its machines started"
cg output --json MultiDC >"$WORK/output.json" 2>"$WORK/output.err" || { cat "$WORK/output.err"; die "output --json failed"; }
python3 - "$WORK/output.json" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))["cost"]
want = 5 * (0.146 + 0.133 + 0.154) + 15 * 8 * 0.08 / 730
assert abs(c["per_hour"] - want) < 1e-4, (c["per_hour"], want)
assert c["since"] and 0 <= c["spent"] < want, c   # moto's launch times are minutes old
EOF
cg output MultiDC 2>&1 | grep -q '^Cost while it runs: 2.1782 USD per hour, 52.28 per day' ||
	{ cg output MultiDC; die "output shows no running cost"; }

step "the newest Ubuntu 24.04 image for the type's architecture was chosen"
python3 - "$MOTO_URL" <<'EOF'
import sys, boto3
ec2 = boto3.client("ec2", region_name="us-east-1", endpoint_url=sys.argv[1],
                   aws_access_key_id="t", aws_secret_access_key="t")
imgs = {i["ImageId"] for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]}
assert imgs == {"ami-0a24a0000000000a2"}, imgs   # m3.large: x86_64, 2025-10-20
EOF

step "cross-region rules: each region admits the others' nodes on tcp 7000 only, one rule each"
# (check_world: 7001 and 7199 closed, no ICMP from addresses, the group admits itself on 7000 + ICMP)
$CHECK "$MOTO_URL" MultiDC "$REGIONS" --allowed 203.0.113.7/32 --peers
python3 - "$MOTO_URL" <<'EOF'
import sys, boto3
ec2 = boto3.client("ec2", region_name="us-east-1", endpoint_url=sys.argv[1], aws_access_key_id="t", aws_secret_access_key="t")
sg = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["cassandgo-MultiDC-us-east-1"]}])["SecurityGroups"][0]
n = sum(len(p.get("IpRanges", [])) + len(p.get("UserIdGroupPairs", [])) for p in sg["IpPermissions"])
# the group itself: 7000, ICMP, 2 scrape ports; the allowed CIDR: 22, 9042, 9090; the
# monitoring node (eu-west-1): 2 scrape ports; 10 remote nodes x 1 rule (before: 3 each, 39 in all)
assert n == 4 + 3 + 2 + 10, n
EOF

step "a second apply changes nothing"
cg apply --auto-approve --stage infra MultiDC >"$WORK/apply2.txt" 2>&1 || { cat "$WORK/apply2.txt"; die "second apply failed"; }
grep -q "No changes." "$WORK/apply2.txt" || { cat "$WORK/apply2.txt"; die "second apply was not a no-op"; }

step "stop parks the cluster, start brings it back with its new addresses in the rules"
# (infra only: no node to drain; check-ssh-boot and e2e-aws drain real ones)
python3 - "$MOTO_URL" "$WORK/ips-before.json" <<'EOF'
import json, sys, boto3
ips = {}
for r in ("eu-west-1", "us-east-1", "us-west-1"):
    ec2 = boto3.client("ec2", region_name=r, endpoint_url=sys.argv[1], aws_access_key_id="t", aws_secret_access_key="t")
    for x in ec2.describe_instances()["Reservations"]:
        for i in x["Instances"]:
            ips[i["InstanceId"]] = i.get("PublicIpAddress")
json.dump(ips, open(sys.argv[2], "w"))
EOF
cg stop --auto-approve MultiDC >"$WORK/stop.txt" 2>&1 || { cat "$WORK/stop.txt"; die "stop failed"; }
grep -q "Stop complete! Cluster MultiDC is parked" "$WORK/stop.txt" || { cat "$WORK/stop.txt"; die "stop did not say parked"; }
ec2_states() {	# STATE...: every instance of the cluster is in one of them
	python3 - "$MOTO_URL" "$@" <<'EOF'
import sys, boto3
bad = []
for r in ("eu-west-1", "us-east-1", "us-west-1"):
    ec2 = boto3.client("ec2", region_name=r, endpoint_url=sys.argv[1], aws_access_key_id="t", aws_secret_access_key="t")
    for x in ec2.describe_instances(Filters=[{"Name": "tag:cassandgo:cluster", "Values": ["MultiDC"]}])["Reservations"]:
        for i in x["Instances"]:
            if i["State"]["Name"] not in sys.argv[2:]:
                bad.append((i["InstanceId"], i["State"]["Name"]))
assert not bad, bad
EOF
}
ec2_states stopped || die "stop left instances running"
cg plan MultiDC >"$WORK/plan-parked.txt" 2>&1 || { cat "$WORK/plan-parked.txt"; die "plan of a parked cluster failed"; }
grep -q "No changes: cluster MultiDC is parked" "$WORK/plan-parked.txt" && grep -q "Note: cluster MultiDC is parked (cassandgo stop" "$WORK/plan-parked.txt" &&
	grep -q "Cost while parked .*the EBS volumes only" "$WORK/plan-parked.txt" ||
	{ cat "$WORK/plan-parked.txt"; die "plan does not say parked"; }
! grep -q "is stopped\|machine\.DC" "$WORK/plan-parked.txt" || { cat "$WORK/plan-parked.txt"; die "plan shows stopped instances as drift"; }
cg plan --json MultiDC >"$WORK/plan-parked.json" 2>/dev/null || die "plan --json of a parked cluster failed"
python3 - "$WORK/plan-parked.json" <<'EOF'
import json, sys
p = json.load(open(sys.argv[1]))
assert p["parked"] and not p["actions"], p
c = p["cost"]
assert c["ebs_only"] and c["parked_machines"] == 15, c
assert abs(c["per_hour"] - 15 * 8 * 0.08 / 730) < 1e-6, c
EOF
set +e
cg apply --auto-approve --stage infra MultiDC >"$WORK/apply-parked.txt" 2>&1; rc=$?
cg status MultiDC >"$WORK/status-parked.txt" 2>&1; src=$?
set -e
[ $rc = 1 ] && grep -q "is parked (cassandgo stop, .*): apply changes nothing until 'cassandgo start MultiDC'" "$WORK/apply-parked.txt" ||
	{ cat "$WORK/apply-parked.txt"; die "apply on a parked cluster: exit $rc"; }
ec2_states stopped || die "apply started instances of a parked cluster"
[ $src = 1 ] && grep -q "Cluster MultiDC is parked" "$WORK/status-parked.txt" && grep -q "^Cost while parked: 0.0132 USD per hour" "$WORK/status-parked.txt" ||
	{ cat "$WORK/status-parked.txt"; die "status of a parked cluster: exit $src"; }
# a stop or start that did not finish: two instances running again, the cluster still parked
python3 - "$MOTO_URL" <<'EOF'
import sys, boto3
ec2 = boto3.client("ec2", region_name="us-east-1", endpoint_url=sys.argv[1], aws_access_key_id="t", aws_secret_access_key="t")
ids = [i["InstanceId"] for x in ec2.describe_instances(Filters=[{"Name": "tag:cassandgo:cluster", "Values": ["MultiDC"]}])["Reservations"] for i in x["Instances"]]
ec2.start_instances(InstanceIds=ids[:2])
EOF
cg plan --stage infra MultiDC 2>&1 | grep -q "but 2 of its 15 machines run: a stop or a start did not finish" || { cg plan --stage infra MultiDC; die "plan does not see a half-parked cluster"; }
cg stop --auto-approve MultiDC >"$WORK/stop2.txt" 2>&1 || { cat "$WORK/stop2.txt"; die "second stop failed"; }
grep -q "Plan: 0 to add, 2 to change, 0 to destroy" "$WORK/stop2.txt" || { cat "$WORK/stop2.txt"; die "second stop did not power off just the two"; }
ec2_states stopped || die "second stop left instances running"
cg stop --auto-approve MultiDC 2>&1 | grep -q "Cluster MultiDC is parked since" || die "a third stop is not a no-op"
cg start --auto-approve --stage infra MultiDC >"$WORK/start.txt" 2>&1 || { cat "$WORK/start.txt"; die "start failed"; }
grep -q "Start complete! Cluster MultiDC runs" "$WORK/start.txt" || { cat "$WORK/start.txt"; die "start did not complete"; }
grep -q "~ peers\.us-east-1" "$WORK/start.txt" || { cat "$WORK/start.txt"; die "start does not re-render the cross-region rules"; }
ec2_states running || die "start left instances stopped"
python3 - "$MOTO_URL" "$WORK/ips-before.json" <<'EOF'
import json, sys, boto3
before = json.load(open(sys.argv[2]))
changed = 0
for r in ("eu-west-1", "us-east-1", "us-west-1"):
    ec2 = boto3.client("ec2", region_name=r, endpoint_url=sys.argv[1], aws_access_key_id="t", aws_secret_access_key="t")
    for x in ec2.describe_instances()["Reservations"]:
        for i in x["Instances"]:
            changed += before.get(i["InstanceId"]) != i.get("PublicIpAddress")
assert changed, "no public address changed: the test proves nothing"
EOF
# the rules admit the new public addresses, exactly those
$CHECK "$MOTO_URL" MultiDC "$REGIONS" --allowed 203.0.113.7/32 --peers
no_changes "not converged after start"
cg plan MultiDC 2>&1 | grep -q "parked" && die "the parked mark outlived start"

step "the 2014 layout (7001, 7199; per remote node 7000-7001, 7199, ICMP) is shown and converted"
# us-east-1 as the 2014 layout left it: 41 rules; converted with the quota at exactly 41,
# so each new rule needs room that only revoking old ones makes
python3 - "$MOTO_URL" <<'EOF'
import sys, boto3
ec2 = boto3.client("ec2", region_name="us-east-1", endpoint_url=sys.argv[1], aws_access_key_id="t", aws_secret_access_key="t")
sg = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["cassandgo-MultiDC-us-east-1"]}])["SecurityGroups"][0]
remote = sorted(r["CidrIp"] for p in sg["IpPermissions"] if p.get("FromPort") == 7000 for r in p.get("IpRanges", []))
assert len(remote) == 10, remote
me = [{"GroupId": sg["GroupId"]}]
ec2.revoke_security_group_ingress(GroupId=sg["GroupId"], IpPermissions=[
    {"IpProtocol": "tcp", "FromPort": 7000, "ToPort": 7000, "IpRanges": [{"CidrIp": c} for c in remote]}])
ec2.authorize_security_group_ingress(GroupId=sg["GroupId"], IpPermissions=[
    {"IpProtocol": "tcp", "FromPort": 7001, "ToPort": 7001, "UserIdGroupPairs": me},
    {"IpProtocol": "tcp", "FromPort": 7199, "ToPort": 7199, "UserIdGroupPairs": me},
    {"IpProtocol": "tcp", "FromPort": 7000, "ToPort": 7001, "IpRanges": [{"CidrIp": c} for c in remote]},
    {"IpProtocol": "tcp", "FromPort": 7199, "ToPort": 7199, "IpRanges": [{"CidrIp": c} for c in remote]},
    {"IpProtocol": "icmp", "FromPort": -1, "ToPort": -1, "IpRanges": [{"CidrIp": c} for c in remote]}])
sg = ec2.describe_security_groups(GroupIds=[sg["GroupId"]])["SecurityGroups"][0]
n = sum(len(p.get("IpRanges", [])) + len(p.get("UserIdGroupPairs", [])) for p in sg["IpPermissions"])
assert n == 41, n
EOF
export CASSANDGO_EC2_RULES_PER_GROUP=41
cg plan --stage infra MultiDC >"$WORK/plan-legacy.txt" 2>&1 || true
grep -qF "~ network.us-east-1  (rules to revoke: tcp 7001, tcp 7199 from security groups)" "$WORK/plan-legacy.txt" &&
	grep -qF "~ peers.us-east-1  (rules to revoke: icmp x10, tcp 7000-7001 x10, tcp 7199 x10 from other regions' addresses" "$WORK/plan-legacy.txt" ||
	{ cat "$WORK/plan-legacy.txt"; die "plan does not show the 2014 layout's rules"; }
grep -q "Plan: 0 to add, 2 to change, 0 to destroy." "$WORK/plan-legacy.txt" || { cat "$WORK/plan-legacy.txt"; die "plan changes more than the two rule sets"; }
cg apply --auto-approve --stage infra MultiDC >"$WORK/apply-legacy.txt" 2>&1 || { cat "$WORK/apply-legacy.txt"; die "apply converting the 2014 layout failed"; }
unset CASSANDGO_EC2_RULES_PER_GROUP
$CHECK "$MOTO_URL" MultiDC "$REGIONS" --allowed 203.0.113.7/32 --peers
cg plan --stage infra MultiDC >"$WORK/plan-legacy2.txt" 2>&1 || true
grep -q "No changes." "$WORK/plan-legacy2.txt" || { cat "$WORK/plan-legacy2.txt"; die "not converged after converting the 2014 layout"; }

step "a lower rules quota: remote nodes spread over overflow groups, attached to running instances"
export CASSANDGO_EC2_RULES_PER_GROUP=12
cg plan --stage infra MultiDC >"$WORK/plan-q12.txt" 2>&1 || true
grep -q "~ peers.us-east-1 .*holds 19 inbound rules, more than 12" "$WORK/plan-q12.txt" ||
	{ cat "$WORK/plan-q12.txt"; die "plan does not show the group over the quota"; }
cg apply --auto-approve --stage infra MultiDC >"$WORK/apply-q12.txt" 2>&1 || { cat "$WORK/apply-q12.txt"; die "apply spreading the rules failed"; }
$CHECK "$MOTO_URL" MultiDC "$REGIONS" --allowed 203.0.113.7/32 --peers --rules-per-group 12 --min-groups 2
cg plan --stage infra MultiDC >"$WORK/plan-q12b.txt" 2>&1 || true
grep -q "No changes." "$WORK/plan-q12b.txt" || { cat "$WORK/plan-q12b.txt"; die "not converged at 12 rules per group"; }
# what a run killed between creating an overflow group and attaching it everywhere leaves
python3 - "$MOTO_URL" <<'EOF'
import sys, boto3
ec2 = boto3.client("ec2", region_name="eu-west-1", endpoint_url=sys.argv[1], aws_access_key_id="t", aws_secret_access_key="t")
main = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["cassandgo-MultiDC-eu-west-1"]}])["SecurityGroups"][0]
inst = [i for r in ec2.describe_instances(Filters=[{"Name": "instance-state-name", "Values": ["running"]}])["Reservations"] for i in r["Instances"]][0]
ec2.modify_instance_attribute(InstanceId=inst["InstanceId"], Groups=[main["GroupId"]])
EOF
cg plan --stage infra MultiDC >"$WORK/plan-detached.txt" 2>&1 || true
grep -q "~ peers.eu-west-1 .*group cassandgo-MultiDC-eu-west-1-peers-2 is missing on 1 of 5 instances" "$WORK/plan-detached.txt" ||
	{ cat "$WORK/plan-detached.txt"; die "plan does not show the detached group"; }
cg apply --auto-approve --stage infra MultiDC >"$WORK/apply-detached.txt" 2>&1 || { cat "$WORK/apply-detached.txt"; die "apply re-attaching failed"; }
$CHECK "$MOTO_URL" MultiDC "$REGIONS" --allowed 203.0.113.7/32 --peers --rules-per-group 12 --min-groups 2
no_changes "not converged after re-attaching"
# one more allowed CIDR (3 rules): no room left in the main group, its remote /32s move out first
export CASSANDGO_ALLOWED_CIDRS=203.0.113.7/32,198.51.100.0/24
cg apply --auto-approve --stage infra MultiDC >"$WORK/apply-cidr.txt" 2>&1 || { cat "$WORK/apply-cidr.txt"; die "apply adding a CIDR to full groups failed"; }
grep -q "^cloud .*reconciling cross-region rules over several groups" "$WORK/apply-cidr.txt" ||
	{ cat "$WORK/apply-cidr.txt"; die "the network did not move remote /32s out of its full group"; }
$CHECK "$MOTO_URL" MultiDC "$REGIONS" --allowed 203.0.113.7/32,198.51.100.0/24 --peers --rules-per-group 12 --min-groups 2
no_changes "not converged after adding a CIDR"
export CASSANDGO_ALLOWED_CIDRS=203.0.113.7/32
cg apply --auto-approve --stage infra MultiDC >"$WORK/apply-cidr2.txt" 2>&1 || { cat "$WORK/apply-cidr2.txt"; die "apply removing the CIDR failed"; }
no_changes "not converged after removing the CIDR"
unset CASSANDGO_EC2_RULES_PER_GROUP
# back to the default 60: the overflow groups are detached and deleted
cg plan --stage infra MultiDC >"$WORK/plan-q60.txt" 2>&1 || true
grep -q "~ peers.us-east-1 .*group cassandgo-MultiDC-us-east-1-peers-2 is no longer needed" "$WORK/plan-q60.txt" ||
	{ cat "$WORK/plan-q60.txt"; die "plan does not show the surplus group"; }
cg apply --auto-approve --stage infra MultiDC >"$WORK/apply-q60.txt" 2>&1 || { cat "$WORK/apply-q60.txt"; die "apply removing the overflow groups failed"; }
$CHECK "$MOTO_URL" MultiDC "$REGIONS" --allowed 203.0.113.7/32 --peers
python3 - "$MOTO_URL" <<'EOF'
import sys, boto3
for r in ("eu-west-1", "us-east-1", "us-west-1"):
    ec2 = boto3.client("ec2", region_name=r, endpoint_url=sys.argv[1], aws_access_key_id="t", aws_secret_access_key="t")
    names = [g["GroupName"] for g in ec2.describe_security_groups()["SecurityGroups"] if "MultiDC" in g["GroupName"]]
    assert names == ["cassandgo-MultiDC-" + r], names
EOF
no_changes "not converged after removing the overflow groups"

step "drift: a rule opened to the world is revoked, a lost instance is replaced"
python3 - "$MOTO_URL" <<'EOF'
import sys, boto3
ec2 = boto3.client("ec2", region_name="us-east-1", endpoint_url=sys.argv[1],
                   aws_access_key_id="t", aws_secret_access_key="t")
sg = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["cassandgo-MultiDC-us-east-1"]}])["SecurityGroups"][0]
ec2.authorize_security_group_ingress(GroupId=sg["GroupId"], IpPermissions=[
    {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
inst = [i for r in ec2.describe_instances(Filters=[{"Name": "tag:cassandgo:node", "Values": ["3"]}])["Reservations"] for i in r["Instances"]]
ec2.terminate_instances(InstanceIds=[inst[0]["InstanceId"]])
EOF
cg plan --stage infra MultiDC >"$WORK/plan2.txt" 2>&1 || true
grep -q "~ network.us-east-1" "$WORK/plan2.txt" || { cat "$WORK/plan2.txt"; die "plan misses the opened rule"; }
grep -q "+ machine.DC2.n3" "$WORK/plan2.txt" || { cat "$WORK/plan2.txt"; die "plan misses the lost instance"; }
cg apply --auto-approve --stage infra MultiDC >"$WORK/apply3.txt" 2>&1 || { cat "$WORK/apply3.txt"; die "repair apply failed"; }
$CHECK "$MOTO_URL" MultiDC "$REGIONS" --allowed 203.0.113.7/32
cg apply --auto-approve --stage infra MultiDC 2>&1 | grep -q "No changes." || die "not converged after repair"

step "a lost state: everything is adopted by tag, host keys included, nothing is duplicated"
hk_before=$(cg state show MultiDC 2>&1 | grep -m1 'host_key' || true)
[ -n "$hk_before" ] || die "state show lists no host_key"
mv "$WORK/state/state.db" "$WORK/state.db.lost"
rm -f "$WORK/state/state.db-"*
cg apply --auto-approve --stage infra MultiDC >"$WORK/adopt.txt" 2>&1 || { cat "$WORK/adopt.txt"; die "apply after losing the state failed"; }
grep -qE "No changes|0 added" "$WORK/adopt.txt" || { cat "$WORK/adopt.txt"; die "losing the state made apply create things"; }
$CHECK "$MOTO_URL" MultiDC "$REGIONS" --allowed 203.0.113.7/32
cg state show MultiDC >"$WORK/adopted.txt" 2>&1
[ "$(grep -c 'host_key *= "ssh-ed25519 ' "$WORK/adopted.txt")" = 15 ] ||
	{ grep -E '^machine|host_key' "$WORK/adopted.txt"; cat "$WORK/adopt.txt"; die "adopted machines lack their host keys"; }
[ "$(grep -c 'install *= "maven"' "$WORK/adopted.txt")" = 15 ] || die "adopted machines lost their install method"

step "two instances claiming one node: one is kept, the other terminated"
python3 - "$MOTO_URL" <<'EOF2'
import sys, boto3
ec2 = boto3.client("ec2", region_name="eu-west-1", endpoint_url=sys.argv[1], aws_access_key_id="t", aws_secret_access_key="t")
tags = {"cassandgo:cluster": "MultiDC", "cassandgo:dc": "DC1", "cassandgo:node": "2", "cassandgo:role": "seed", "Name": "[DC1] n2 MultiDC"}
ec2.run_instances(ImageId="ami-0a24a0000000000a2", InstanceType="m3.large", MinCount=1, MaxCount=1,
                  TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}])
EOF2
cg plan --stage infra MultiDC >"$WORK/plan-dup.txt" 2>&1 || true
grep -q "^  - machine.DC1.n2" "$WORK/plan-dup.txt" || { cat "$WORK/plan-dup.txt"; die "plan does not remove the duplicate"; }
cg apply --auto-approve --stage infra MultiDC >"$WORK/apply-dup.txt" 2>&1 || { cat "$WORK/apply-dup.txt"; die "apply removing the duplicate failed"; }
$CHECK "$MOTO_URL" MultiDC "$REGIONS" --allowed 203.0.113.7/32

step "an instance stopped behind our back is started again"
python3 - "$MOTO_URL" <<'EOF2'
import sys, boto3
ec2 = boto3.client("ec2", region_name="us-west-1", endpoint_url=sys.argv[1], aws_access_key_id="t", aws_secret_access_key="t")
inst = [i for r in ec2.describe_instances(Filters=[{"Name": "tag:cassandgo:node", "Values": ["1"]},
        {"Name": "instance-state-name", "Values": ["running"]}])["Reservations"] for i in r["Instances"]]
ec2.stop_instances(InstanceIds=[inst[0]["InstanceId"]])
EOF2
cg plan --stage infra MultiDC >"$WORK/plan-stop.txt" 2>&1 || true
grep -q "~ machine.DC3.n1.*is stopped" "$WORK/plan-stop.txt" || { cat "$WORK/plan-stop.txt"; die "plan does not restart the stopped instance"; }
cg apply --auto-approve --stage infra MultiDC >"$WORK/apply-stop.txt" 2>&1 || { cat "$WORK/apply-stop.txt"; die "apply did not restart it"; }
$CHECK "$MOTO_URL" MultiDC "$REGIONS" --allowed 203.0.113.7/32
# a restart may change its public address: the cross-region rules follow
cg apply --auto-approve --stage infra MultiDC >"$WORK/apply-stop2.txt" 2>&1 || { cat "$WORK/apply-stop2.txt"; die "follow-up apply failed"; }
cg apply --auto-approve --stage infra MultiDC 2>&1 | grep -q "No changes." || die "not converged after the restart"

step "a region that lost every instance stops the plan"
python3 - "$MOTO_URL" <<'EOF'
import sys, boto3
ec2 = boto3.client("ec2", region_name="us-west-1", endpoint_url=sys.argv[1],
                   aws_access_key_id="t", aws_secret_access_key="t")
ids = [i["InstanceId"] for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]]
ec2.terminate_instances(InstanceIds=ids)
EOF
if cg plan --stage infra MultiDC </dev/null >"$WORK/plan3.txt" 2>&1; then
	cat "$WORK/plan3.txt"; die "plan went on although us-west-1 lost every instance"
fi
grep -q "refresh=false" "$WORK/plan3.txt" || { cat "$WORK/plan3.txt"; die "message does not suggest --refresh=false"; }
if cg apply --auto-approve --stage infra MultiDC </dev/null >"$WORK/apply4.txt" 2>&1; then
	die "--auto-approve skipped the empty-region check"
fi

step "load nodes (stress_nodes): planned and priced, created tagged as loaders, CQL from the group, adopted, removed, destroyed with the cluster"
# its own state: the lost-state case below must not lose MultiDC's
cgl() { "$CG" -c "$WORK/cassandgo.yaml" --state "$WORK/load/state.db" "$@"; }
cat >>"$WORK/cassandgo.yaml" <<'EOF'

Load:
  provider: aws
  cassandra_version: 5.0.6
  datacenters:
    - datacenter: DC1
      region: eu-west-1
      nodes: 2
      node_type: m5.large
      stress_nodes: 1
      stress_node_type: c5.large
EOF
cgl plan --json --stage infra Load >"$WORK/load-plan.json" 2>"$WORK/load-plan.err" || { cat "$WORK/load-plan.err"; die "plan of Load failed"; }
python3 - "$WORK/load-plan.json" "$REPO/providers/ec2/prices.tsv" <<'EOF'
import json, sys
plan = json.load(open(sys.argv[1]))
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[2]) if not l.startswith("#")]
col = rows[0].index("eu-west-1")
od = {r[0]: float(r[col].split(":")[0]) for r in rows[1:] if r[col] != "-"}
adds = sorted(a["address"] for a in plan["actions"] if a["action"] == "create" and a["address"].startswith("loader."))
assert adds == ["loader.DC1.n1"], adds
c = plan["cost"]["dcs"]["DC1"]
want = 2 * od["m5.large"] + od["c5.large"] + 3 * 8 * 0.08 / 730
assert c["nodes"] == 2 and c["load_nodes"] == 1 and c["load_node_type"] == "c5.large", c
assert abs(c["per_hour"] - want) < 1e-4, (c["per_hour"], want)
EOF
cgl plan --stage infra Load 2>&1 | grep -q '^  DC1 .*2 x m5.large + 1 x c5.large load' ||
	{ cgl plan --stage infra Load; die "the text plan's cost line does not show the load nodes"; }
cgl apply --auto-approve --stage infra Load >"$WORK/load-apply.txt" 2>&1 || { cat "$WORK/load-apply.txt"; die "apply of Load failed"; }
# load_world N [TYPE]: N load nodes (tags, type, groups, no node tag) beside the 2 nodes;
# the group admits itself on 9042 exactly while there are load nodes, no CIDR but the allowed one
load_world() {
	python3 - "$MOTO_URL" "$1" "${2:-c5.large}" <<'EOF'
import sys, boto3
ec2 = boto3.client("ec2", region_name="eu-west-1", endpoint_url=sys.argv[1], aws_access_key_id="t", aws_secret_access_key="t")
want = int(sys.argv[2])
inst = [i for r in ec2.describe_instances(Filters=[{"Name": "tag:cassandgo:cluster", "Values": ["Load"]},
        {"Name": "instance-state-name", "Values": ["pending", "running"]}])["Reservations"] for i in r["Instances"]]
tags = lambda i: {t["Key"]: t["Value"] for t in i.get("Tags", [])}
loaders = [i for i in inst if tags(i).get("cassandgo:role") == "loader"]
nodes = [i for i in inst if tags(i).get("cassandgo:role") in ("seed", "node")]
assert len(nodes) == 2 and len(loaders) == want, (len(nodes), len(loaders))
assert sorted(tags(i)["cassandgo:loader"] for i in loaders) == [str(k) for k in range(1, want + 1)]
for i in loaders:
    t = tags(i)
    assert "cassandgo:node" not in t and i["InstanceType"] == sys.argv[3], (t, i["InstanceType"])
    assert t["Name"] == "[DC1] load n%s Load" % t["cassandgo:loader"], t
    assert t.get("cassandgo:host_key", "").startswith("ssh-ed25519 "), t
    assert {g["GroupName"] for g in i["SecurityGroups"]} == {g["GroupName"] for g in nodes[0]["SecurityGroups"]}
sg = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["cassandgo-Load-eu-west-1"]}])["SecurityGroups"][0]
cql = [p for p in sg["IpPermissions"] if p.get("FromPort") == 9042]
self_cql = any(pair["GroupId"] == sg["GroupId"] for p in cql for pair in p.get("UserIdGroupPairs", []))
assert self_cql == (want > 0), sg["IpPermissions"]
assert not [r for p in cql for r in p.get("IpRanges", []) if r["CidrIp"] != "203.0.113.7/32"], cql
EOF
}
load_world 1 || die "the load node is not as asked"
cgl plan --stage infra Load 2>&1 | grep -q "No changes." || { cgl plan --stage infra Load; die "Load not converged"; }
# a lost state: the load nodes are adopted by their tags, not launched again
rm -f "$WORK/load/state.db"*
cgl apply --auto-approve --stage infra Load >"$WORK/load-adopt.txt" 2>&1 || { cat "$WORK/load-adopt.txt"; die "apply of Load without its state failed"; }
load_world 1 || die "losing the state duplicated the load node"
cgl state show Load >"$WORK/load-state.txt" 2>&1
[ "$(grep -c '^loader\.DC1\.n1' "$WORK/load-state.txt")" = 1 ] || { cat "$WORK/load-state.txt"; die "the state does not hold the adopted load node"; }
grep -A30 '^loader\.DC1\.n1' "$WORK/load-state.txt" | grep -q 'host_key *= "ssh-ed25519 ' || { cat "$WORK/load-state.txt"; die "the adopted load node has no host key"; }
sed -i 's/stress_node_type: c5.large/stress_node_type: c5.xlarge/' "$WORK/cassandgo.yaml"
cgl plan --stage infra Load >"$WORK/load-plan2.txt" 2>&1 || true
grep -q "^  -/+ loader.DC1.n1" "$WORK/load-plan2.txt" || { cat "$WORK/load-plan2.txt"; die "a new stress_node_type does not replace the load node"; }
cgl apply --auto-approve --stage infra Load >"$WORK/load-apply2.txt" 2>&1 || { cat "$WORK/load-apply2.txt"; die "replacing the load node failed"; }
load_world 1 c5.xlarge || die "after stress_node_type c5.large -> c5.xlarge"
sed -i 's/stress_nodes: 1/stress_nodes: 0/' "$WORK/cassandgo.yaml"
cgl apply --auto-approve --stage infra Load >"$WORK/load-apply3.txt" 2>&1 || { cat "$WORK/load-apply3.txt"; die "removing the last load node failed"; }
load_world 0 c5.xlarge || die "after stress_nodes 1 -> 0: a load node or the group's CQL rule is left"
sed -i 's/stress_nodes: 0/stress_nodes: 1/' "$WORK/cassandgo.yaml"
cgl apply --auto-approve --stage infra Load >"$WORK/load-apply4.txt" 2>&1 || { cat "$WORK/load-apply4.txt"; die "adding a load node back failed"; }
load_world 1 c5.xlarge || die "after stress_nodes 0 -> 1"
cgl plan --stage infra Load >/dev/null 2>&1
cgl destroy --auto-approve --refresh=false Load >"$WORK/load-destroy.txt" 2>&1 || { cat "$WORK/load-destroy.txt"; die "destroy of Load failed"; }
$CHECK "$MOTO_URL" Load eu-west-1 --empty

step "destroy leaves nothing; a second destroy is a no-op"
cg destroy --auto-approve --refresh=false MultiDC >"$WORK/destroy.txt" 2>&1 || { cat "$WORK/destroy.txt"; die "destroy failed"; }
$CHECK "$MOTO_URL" MultiDC eu-west-1,us-east-1,us-west-1 --empty
test ! -e "$WORK/state/keys/MultiDC-eu-west-1" || die "key file left after destroy"
cg destroy --auto-approve MultiDC >"$WORK/destroy2.txt" 2>&1 || { cat "$WORK/destroy2.txt"; die "second destroy failed"; }
grep -q "No changes." "$WORK/destroy2.txt" || { cat "$WORK/destroy2.txt"; die "second destroy did something"; }

step "a key pair of that name with another key: apply refuses and explains"
reset_moto
rm -rf "$WORK/state"
python3 - "$MOTO_URL" "$WORK/foreign" <<'EOF2'
import subprocess, sys, boto3
subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", sys.argv[2]], check=True)
ec2 = boto3.client("ec2", region_name="eu-west-1", endpoint_url=sys.argv[1], aws_access_key_id="t", aws_secret_access_key="t")
ec2.import_key_pair(KeyName="cassandgo-MultiDC-eu-west-1", PublicKeyMaterial=open(sys.argv[2] + ".pub", "rb").read())
EOF2
if cg apply --auto-approve --stage infra MultiDC >"$WORK/kp.txt" 2>&1; then die "apply adopted a foreign key pair"; fi
grep -q "key pair cassandgo-MultiDC-eu-west-1 already exists in eu-west-1 with another public key" "$WORK/kp.txt" ||
	{ cat "$WORK/kp.txt"; die "foreign key pair not explained"; }
cg destroy --auto-approve --refresh=false MultiDC >"$WORK/kp2.txt" 2>&1 || { cat "$WORK/kp2.txt"; die "destroy after the key pair failure failed"; }

step "no capacity in a zone: apply stops, naming the zone, the type and what to change"
reset_moto
rm -rf "$WORK/state"
start_proxy --no-capacity us-west-1b
use_endpoint "$PROXY_URL"
if cg apply --auto-approve --stage infra MultiDC >"$WORK/cap.txt" 2>&1; then
	die "apply succeeded although us-west-1b has no capacity"
fi
grep -q "no m3.large capacity in zone us-west-1b (us-west-1)" "$WORK/cap.txt" &&
	grep -q "Change node_type of DC DC3" "$WORK/cap.txt" || { cat "$WORK/cap.txt"; die "capacity error not explained"; }
stop_proxy

step "refresh pages through DescribeInstances (page size 2) and still finds everything"
start_proxy
use_endpoint "$PROXY_URL"
cg apply --auto-approve --stage infra MultiDC >"$WORK/cap2.txt" 2>&1 || { cat "$WORK/cap2.txt"; die "apply after the capacity failure did not finish the job"; }
$CHECK "$MOTO_URL" MultiDC "$REGIONS" --allowed 203.0.113.7/32
proxy_reset
CASSANDGO_EC2_PAGE_SIZE=2 cg plan --stage infra MultiDC >"$WORK/paged.txt" 2>&1 || { cat "$WORK/paged.txt"; die "paged plan failed"; }
grep -q "No changes." "$WORK/paged.txt" || { cat "$WORK/paged.txt"; die "paged refresh missed instances"; }
pages=$(proxy_counts | python3 -c 'import json,sys; c=json.load(sys.stdin)["requests"]; print(sum(n for k, n in c.items() if k.startswith("DescribeInstances ")))')
[ "$pages" -ge 9 ] || die "refresh did not paginate ($pages DescribeInstances calls for 3 regions of 5 at 2 a page)"
cg destroy --auto-approve --refresh=false MultiDC >"$WORK/cap3.txt" 2>&1 || { cat "$WORK/cap3.txt"; die "destroy failed"; }
stop_proxy

step "an answer lost after the call happened (CreateSecurityGroup, ImportKeyPair, RunInstances): one apply adopts what each call made"
reset_moto
rm -rf "$WORK/state"
start_proxy --drop-answer CreateSecurityGroup,ImportKeyPair,RunInstances
use_endpoint "$PROXY_URL"
cg apply --auto-approve --stage infra MultiDC >"$WORK/lost.txt" 2>&1 ||
	{ cat "$WORK/lost.txt"; die "apply did not adopt what a call whose answer was lost made"; }
lost=$(proxy_counts | python3 -c 'import json,sys; print(json.load(sys.stdin)["faults"].get("drop-after", 0))')
[ "$lost" = 3 ] || die "the proxy dropped $lost answers, not 3"
$CHECK "$MOTO_URL" MultiDC "$REGIONS" --allowed 203.0.113.7/32
cg destroy --auto-approve --refresh=false MultiDC >"$WORK/lost-d.txt" 2>&1 ||
	{ cat "$WORK/lost-d.txt"; die "destroy after the lost answers failed"; }
stop_proxy

step "behind the fault proxy (throttling, 500s, dropped connections, slow answers) it converges"
reset_moto
rm -rf "$WORK/state"
start_proxy --throttle 0.15 --error 0.08 --drop 0.04 --drop-after 0.04 --slow 0.03 --slow-s 2.5 --seed "${CG_FAULT_SEED:-7}"
use_endpoint "$PROXY_URL"
export CASSANDGO_EC2_MAX_ATTEMPTS=10
# slow answers (2.5 s) arrive after the client gave up (1.5 s): the call
# happened but the client cannot know, as after a dropped connection
export CASSANDGO_EC2_TIMEOUT_MS=1500
# overflow groups too: their creation, rules and attachment under the same faults
export CASSANDGO_EC2_RULES_PER_GROUP=12
ok=0
for i in 1 2 3; do
	if cg apply --auto-approve --stage infra MultiDC >"$WORK/fapply$i.txt" 2>&1; then ok=1; break; fi
	echo "   apply $i did not finish: $(grep -m1 -i error "$WORK/fapply$i.txt" || true)"
done
[ $ok = 1 ] || { cat "$WORK/fapply3.txt"; die "apply never converged behind the fault proxy"; }
$CHECK "$MOTO_URL" MultiDC "$REGIONS" --allowed 203.0.113.7/32 --peers --rules-per-group 12 --min-groups 2
cg apply --auto-approve --stage infra MultiDC >"$WORK/fapply-again.txt" 2>&1 || true
grep -q "No changes." "$WORK/fapply-again.txt" || { cat "$WORK/fapply-again.txt"; die "not converged behind the proxy"; }
ok=0
for i in 1 2 3; do
	# The infra refresh (apply --stage infra) adopts anything a failed
	# call left behind; destroy then works from the state alone, so the
	# bootstrap provider never tries SSH to moto's fake public addresses.
	cg apply --auto-approve --stage infra MultiDC >"$WORK/frefresh$i.txt" 2>&1 || true
	if cg destroy --auto-approve --refresh=false MultiDC >"$WORK/fdestroy$i.txt" 2>&1; then ok=1; break; fi
	echo "   destroy $i did not finish: $(grep -m1 -i error "$WORK/fdestroy$i.txt" || true)"
done
[ $ok = 1 ] || { cat "$WORK/fdestroy3.txt"; die "destroy never converged behind the fault proxy"; }
$CHECK "$MOTO_URL" MultiDC eu-west-1,us-east-1,us-west-1 --empty
echo "   faults injected: $(proxy_counts | python3 -c 'import json,sys; print(json.load(sys.stdin)["faults"])')"
stop_proxy
unset CASSANDGO_EC2_RULES_PER_GROUP

step "3 regions x 50 nodes on a default account (moto: 60 inbound rules per group, enforced)"
# one tcp 7000 rule per remote node: 100 remote /32s + 4 own rules per region, over
# 2 groups (before: 3 rules per remote node, 306 in one group, refused past 60)
use_endpoint "$MOTO_URL"
reset_moto
unset CASSANDGO_EC2_MAX_ATTEMPTS CASSANDGO_EC2_TIMEOUT_MS
big() { "$CG" -c "$WORK/big.yaml" --state "$WORK/big/state.db" "$@"; }
write_big() {	# NODES_PER_REGION
	cat >"$WORK/big.yaml" <<EOF
Big:
  provider: aws
  allowed_cidrs: [203.0.113.7/32]
  datacenters:
    - {datacenter: DC1, region: eu-west-1, nodes: $1, seeds: 3, node_type: m3.large}
    - {datacenter: DC2, region: us-east-1, nodes: $1, seeds: 3, node_type: m3.large}
    - {datacenter: DC3, region: us-west-1, nodes: $1, seeds: 3, node_type: m3.large}
EOF
}
BIG_REGIONS=eu-west-1:50,us-east-1:50,us-west-1:50
write_big 50
if CASSANDGO_EC2_GROUPS_PER_ENI=1 big plan --stage infra Big >"$WORK/big-quota.txt" 2>&1; then
	die "plan accepted 104 rules in one group of 60"
fi
grep -qF "peers.eu-west-1: 104 inbound rules needed (4 of the region's own" "$WORK/big-quota.txt" &&
	grep -qF "1 security groups per instance of 60 rules hold 60" "$WORK/big-quota.txt" &&
	grep -qF "L-0EA8095F" "$WORK/big-quota.txt" ||
	{ cat "$WORK/big-quota.txt"; die "the quota error does not say what is needed"; }
t0=$(date +%s)
big apply --auto-approve --stage infra --parallelism 32 Big >"$WORK/big-apply.txt" 2>&1 ||
	{ tail -30 "$WORK/big-apply.txt"; die "apply of 150 nodes failed"; }
echo "   150 nodes applied in $(( $(date +%s) - t0 )) s"
$CHECK "$MOTO_URL" Big "$BIG_REGIONS" --seeds 3 --allowed 203.0.113.7/32 --peers --min-groups 2
python3 - "$MOTO_URL" <<'EOF'
import sys, boto3
regions = ("eu-west-1", "us-east-1", "us-west-1")
def c(r): return boto3.client("ec2", region_name=r, endpoint_url=sys.argv[1], aws_access_key_id="t", aws_secret_access_key="t")
ips = {r: {i["PublicIpAddress"] for res in c(r).describe_instances(Filters=[{"Name": "instance-state-name", "Values": ["running"]}])["Reservations"] for i in res["Instances"]} for r in regions}
for r in regions:
    ec2 = c(r)
    # moto may hand two regions one fake address: 100 nodes, maybe 99 distinct /32s
    want = len(set().union(*(ips[o] for o in regions if o != r)))
    base = "cassandgo-Big-" + r
    names = [base] + ["%s-peers-%d" % (base, k) for k in range(2, 17)]
    sgs = sorted(ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": names}])["SecurityGroups"],
                 key=lambda g: names.index(g["GroupName"]))
    counts = [sum(len(p.get("IpRanges", [])) + len(p.get("UserIdGroupPairs", [])) for p in g["IpPermissions"]) for g in sgs]
    remote = sum(len(p.get("IpRanges", [])) for g in sgs for p in g["IpPermissions"] if p.get("FromPort") == 7000)
    assert max(counts) <= 60 and len(sgs) == 2 and remote == want >= 98, (r, counts, remote, want)
    print("   %s: %s inbound rules, %d remote /32s on tcp 7000" % (
        r, ", ".join("%s %d" % (g["GroupName"], n) for g, n in zip(sgs, counts)), remote))
EOF
big plan --stage infra Big >"$WORK/big-plan2.txt" 2>&1 || true
grep -q "No changes." "$WORK/big-plan2.txt" || { grep -v "^ *$" "$WORK/big-plan2.txt" | head -30; die "plan after the 150-node apply is not empty"; }

step "growing 3 x 20 to 3 x 50: a group added while instances run and others launch"
big destroy --auto-approve --refresh=false --parallelism 32 Big >"$WORK/big-destroy.txt" 2>&1 ||
	{ tail -20 "$WORK/big-destroy.txt"; die "destroy of 150 nodes failed"; }
$CHECK "$MOTO_URL" Big eu-west-1,us-east-1,us-west-1 --empty
write_big 20
big apply --auto-approve --stage infra --parallelism 32 Big >"$WORK/big-apply20.txt" 2>&1 ||
	{ tail -30 "$WORK/big-apply20.txt"; die "apply of 60 nodes failed"; }
$CHECK "$MOTO_URL" Big eu-west-1:20,us-east-1:20,us-west-1:20 --seeds 3 --allowed 203.0.113.7/32 --peers
write_big 50
big apply --auto-approve --stage infra --parallelism 32 Big >"$WORK/big-apply50.txt" 2>&1 ||
	{ tail -30 "$WORK/big-apply50.txt"; die "growing to 150 nodes failed"; }
grep -q "attaching security groups to instances" "$WORK/big-apply50.txt" || { grep -i "peers" "$WORK/big-apply50.txt" | head; die "the new groups were not attached to running instances"; }
$CHECK "$MOTO_URL" Big "$BIG_REGIONS" --seeds 3 --allowed 203.0.113.7/32 --peers --min-groups 2
big plan --stage infra Big >"$WORK/big-plan3.txt" 2>&1 || true
grep -q "No changes." "$WORK/big-plan3.txt" || { grep -v "^ *$" "$WORK/big-plan3.txt" | head -30; die "plan after growing is not empty"; }
big destroy --auto-approve --refresh=false --parallelism 32 Big >"$WORK/big-destroy2.txt" 2>&1 ||
	{ tail -20 "$WORK/big-destroy2.txt"; die "destroy of 150 nodes failed"; }
$CHECK "$MOTO_URL" Big eu-west-1,us-east-1,us-west-1 --empty

step "two regions' nodes on one public address (moto's fake ones): one rule, and no change after"
CG_MOTO_PUBLIC_IPS=3 start_moto
use_endpoint "$MOTO_URL"
rm -rf "$WORK/state"
cg apply --auto-approve --stage infra MultiDC >"$WORK/dup-apply.txt" 2>&1 || { cat "$WORK/dup-apply.txt"; die "apply with shared addresses failed"; }
$CHECK "$MOTO_URL" MultiDC "$REGIONS" --allowed 203.0.113.7/32 --peers
no_changes "a shared address makes the plan change"
cg plan --stage infra --refresh=false MultiDC >"$WORK/dup-plan.txt" 2>&1 || true
grep -q "No changes." "$WORK/dup-plan.txt" || { cat "$WORK/dup-plan.txt"; die "a shared address makes the plan from the state change"; }
step "spot capacity: one-time spot instances; spot-or-on-demand falls back where spot is refused; a reclaimed node is replaced"
reset_moto
cat >"$WORK/spot.yaml" <<'EOF'
Spot:
  provider: aws
  allowed_cidrs: [203.0.113.7/32]
  datacenters:
    - datacenter: DC1
      region: eu-west-1
      zones: [eu-west-1a]
      nodes: 2
      node_type: m5.large
      capacity: spot
    - datacenter: DC2
      region: us-east-1
      zones: [us-east-1a]
      nodes: 2
      node_type: m5.large
      capacity: spot-or-on-demand
EOF
spot() { "$CG" -c "$WORK/spot.yaml" --state "$WORK/spot-state/state.db" "$@"; }
spot plan --json Spot >"$WORK/spot-plan.json" 2>"$WORK/spot-plan.err" || { cat "$WORK/spot-plan.err"; die "spot plan failed"; }
python3 - "$WORK/spot-plan.json" "$REPO/providers/ec2/prices.tsv" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))["cost"]
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[2]) if not l.startswith("#")]
cols = rows[0]
m5 = dict(zip(cols, next(r for r in rows if r[0] == "m5.large")))
spot = lambda region: float(m5[region].split(":")[1])
root = 8 * 0.08 / 730
# both DCs are priced as spot (the estimate) while planned
assert abs(c["dcs"]["DC1"]["per_hour"] - 2 * (spot("eu-west-1") + root)) < 1e-6, c
assert abs(c["dcs"]["DC2"]["per_hour"] - 2 * (spot("us-east-1") + root)) < 1e-6, c
assert c["dcs"]["DC1"]["capacity"] == "spot" and c["dcs"]["DC2"]["capacity"] == "spot-or-on-demand", c
EOF
start_proxy --no-spot-capacity us-east-1a
use_endpoint "$PROXY_URL"
spot apply --auto-approve --stage infra Spot >"$WORK/spot-apply.txt" 2>&1 || { cat "$WORK/spot-apply.txt"; die "spot apply failed"; }
grep -q "no spot capacity in us-east-1a (InsufficientInstanceCapacity): on-demand instead" "$WORK/spot-apply.txt" ||
	{ cat "$WORK/spot-apply.txt"; die "the fallback to on-demand is not said"; }
python3 - "$MOTO_URL" <<'EOF'
import sys, boto3
def inst(region):
    ec2 = boto3.client("ec2", region_name=region, endpoint_url=sys.argv[1], aws_access_key_id="t", aws_secret_access_key="t")
    return [i for r in ec2.describe_instances()["Reservations"] for i in r["Instances"] if i["State"]["Name"] == "running"]
eu, us = inst("eu-west-1"), inst("us-east-1")
assert len(eu) == 2 and all(i.get("InstanceLifecycle") == "spot" for i in eu), eu
assert len(us) == 2 and all(i.get("InstanceLifecycle") is None for i in us), us   # fell back
tags = lambda i: {t["Key"]: t["Value"] for t in i["Tags"]}
assert all(tags(i)["cassandgo:capacity"] == "spot" for i in eu)
assert all(tags(i)["cassandgo:capacity"] == "spot-or-on-demand" for i in us)
EOF
spot state show Spot --json >"$WORK/spot-state.json"
python3 - "$WORK/spot-state.json" <<'EOF'
import json, sys
res = [r for c in json.load(open(sys.argv[1]))["clusters"] for r in c["resources"] if r["kind"] == "machine"]
got = {r["address"]: r["resource"]["attributes"].get("market") for r in res}
assert got == {"machine.DC1.n1": "spot", "machine.DC1.n2": "spot",
               "machine.DC2.n1": "on-demand", "machine.DC2.n2": "on-demand"}, got
EOF
spot plan --stage infra Spot >"$WORK/spot-plan2.txt" 2>&1 || true
grep -q "No changes." "$WORK/spot-plan2.txt" || { cat "$WORK/spot-plan2.txt"; die "a spot cluster plans changes right after apply"; }
# EC2 reclaims DC1.n1 (one-time spot, interruption behaviour terminate)
python3 - "$MOTO_URL" "$WORK/spot-state.json" <<'EOF'
import json, sys, boto3
res = [r for c in json.load(open(sys.argv[2]))["clusters"] for r in c["resources"]]
iid = next(r["resource"]["id"] for r in res if r["address"] == "machine.DC1.n1")
boto3.client("ec2", region_name="eu-west-1", endpoint_url=sys.argv[1], aws_access_key_id="t",
             aws_secret_access_key="t").terminate_instances(InstanceIds=[iid])
EOF
spot plan --stage infra Spot >"$WORK/spot-plan3.txt" 2>&1 || true
grep -q "^  + machine.DC1.n1  (recorded as i-.*, which no longer exists)" "$WORK/spot-plan3.txt" ||
	{ cat "$WORK/spot-plan3.txt"; die "a reclaimed spot node is not planned for replacement"; }
spot apply --auto-approve --stage infra Spot >"$WORK/spot-apply2.txt" 2>&1 || { cat "$WORK/spot-apply2.txt"; die "replacing the reclaimed node failed"; }
grep -q "spot instance i-" "$WORK/spot-apply2.txt" || { cat "$WORK/spot-apply2.txt"; die "the replacement is not a spot instance"; }
spot destroy --auto-approve --refresh=false Spot >"$WORK/spot-destroy.txt" 2>&1 || { cat "$WORK/spot-destroy.txt"; die "spot destroy failed"; }
stop_proxy
use_endpoint "$MOTO_URL"

step "expires: instances carry the expiry; gc finds clusters by tags with no state and destroys only the expired ones"
reset_moto
cat >"$WORK/gc.yaml" <<'EOF'
Old:
  provider: aws
  allowed_cidrs: [203.0.113.7/32]
  expires: 2020-01-01
  datacenters:
    - datacenter: DC1
      region: eu-west-1
      zones: [eu-west-1a]
      nodes: 2
    - datacenter: DC2
      region: us-east-1
      zones: [us-east-1a]
      nodes: 1
Young:
  provider: aws
  allowed_cidrs: [203.0.113.7/32]
  expires: 8h
  datacenters:
    - datacenter: DC1
      region: eu-west-1
      zones: [eu-west-1b]
      nodes: 1
EOF
gcg() { "$CG" -c "$WORK/gc.yaml" --state "$WORK/gc-state/state.db" "$@"; }
for c in Old Young; do
	gcg apply --auto-approve --stage infra $c >"$WORK/gc-apply-$c.txt" 2>&1 || { cat "$WORK/gc-apply-$c.txt"; die "apply $c failed"; }
done
python3 - "$MOTO_URL" <<'EOF'
import sys, time, calendar, boto3
def tags(region):
    ec2 = boto3.client("ec2", region_name=region, endpoint_url=sys.argv[1], aws_access_key_id="t", aws_secret_access_key="t")
    return [{t["Key"]: t["Value"] for t in i["Tags"]} for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]]
old = [t for r in ("eu-west-1", "us-east-1") for t in tags(r) if t["cassandgo:cluster"] == "Old"]
young = [t for t in tags("eu-west-1") if t["cassandgo:cluster"] == "Young"]
assert len(old) == 3 and all(t["cassandgo:expires_at"] == "2020-01-01T00:00:00Z" for t in old), old
at = calendar.timegm(time.strptime(young[0]["cassandgo:expires_at"], "%Y-%m-%dT%H:%M:%SZ"))
assert young[0]["cassandgo:expires"] == "8h" and abs(at - (time.time() + 8 * 3600)) < 600, young
EOF
# the laptop is lost: no state file (kept aside for the re-tagging below)
mv "$WORK/gc-state" "$WORK/gc-state.kept"
gcg gc --json >"$WORK/gc.json" 2>"$WORK/gc.err" || { cat "$WORK/gc.err"; die "gc failed"; }
python3 - "$WORK/gc.json" <<'EOF'
import json, sys
cl = {c["cluster"]: c for c in json.load(open(sys.argv[1]))["clusters"]}
assert set(cl) == {"Old", "Young"}, cl
o, y = cl["Old"], cl["Young"]
assert o["nodes"] == 3 and sorted(o["regions"]) == ["eu-west-1", "us-east-1"] and o["expired"], o
assert not y["expired"] and y["nodes"] == 1 and not y["in_state"], y
assert o["cost"]["per_hour"] > 0 and o["expires_at"] == "2020-01-01T00:00:00Z", o
EOF
gcg gc >"$WORK/gc.txt" 2>&1 || { cat "$WORK/gc.txt"; die "gc (text) failed"; }
grep -q '^Old .* 3 .*2020-01-01T00:00:00Z *EXPIRED' "$WORK/gc.txt" || { cat "$WORK/gc.txt"; die "gc does not show Old as expired"; }
if gcg gc --destroy-expired </dev/null >"$WORK/gc-noyes.txt" 2>&1; then die "gc --destroy-expired without a terminal or --auto-approve went ahead"; fi
gcg gc --destroy-expired --auto-approve >"$WORK/gc-destroy.txt" 2>&1 || { cat "$WORK/gc-destroy.txt"; die "gc --destroy-expired failed"; }
grep -q "Destroyed expired cluster Old." "$WORK/gc-destroy.txt" || { cat "$WORK/gc-destroy.txt"; die "gc did not destroy Old"; }
python3 - "$MOTO_URL" <<'EOF'
import sys, boto3
for region in ("eu-west-1", "us-east-1"):
    ec2 = boto3.client("ec2", region_name=region, endpoint_url=sys.argv[1], aws_access_key_id="t", aws_secret_access_key="t")
    live = [{t["Key"]: t["Value"] for t in i["Tags"]}["cassandgo:cluster"]
            for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]
            if i["State"]["Name"] != "terminated"]
    assert "Old" not in live, (region, live)
    assert live == (["Young"] if region == "eu-west-1" else []), (region, live)
    sgs = [g["GroupName"] for g in ec2.describe_security_groups()["SecurityGroups"]]
    assert not [g for g in sgs if g.startswith("cassandgo-Old-")], sgs
    kps = [k["KeyName"] for k in ec2.describe_key_pairs()["KeyPairs"]]
    assert not [k for k in kps if k.startswith("cassandgo-Old-")], kps
    if region == "eu-west-1":
        assert "cassandgo-Young-eu-west-1" in sgs and "cassandgo-Young-eu-west-1" in kps, (sgs, kps)
EOF

# a new expires: for a running cluster re-tags its instances (from now)
rm -rf "$WORK/gc-state"
mv "$WORK/gc-state.kept" "$WORK/gc-state"
sed -i 's/^  expires: 8h$/  expires: 3d/' "$WORK/gc.yaml"
gcg plan --stage infra Young >"$WORK/gc-plan.txt" 2>&1 || true
grep -q '^  ~ machine.DC1.n1  (expires: "8h" -> "3d")' "$WORK/gc-plan.txt" || { cat "$WORK/gc-plan.txt"; die "a new expires: is not planned as a tag update"; }
gcg apply --auto-approve --stage infra Young >"$WORK/gc-apply2.txt" 2>&1 || { cat "$WORK/gc-apply2.txt"; die "re-tagging Young failed"; }
python3 - "$MOTO_URL" <<'EOF'
import sys, time, calendar, boto3
ec2 = boto3.client("ec2", region_name="eu-west-1", endpoint_url=sys.argv[1], aws_access_key_id="t", aws_secret_access_key="t")
t = [{x["Key"]: x["Value"] for x in i["Tags"]} for r in ec2.describe_instances()["Reservations"]
     for i in r["Instances"] if i["State"]["Name"] == "running"]
assert len(t) == 1 and t[0]["cassandgo:expires"] == "3d", t
at = calendar.timegm(time.strptime(t[0]["cassandgo:expires_at"], "%Y-%m-%dT%H:%M:%SZ"))
assert abs(at - (time.time() + 3 * 86400)) < 600, t
EOF
gcg destroy --auto-approve --refresh=false Young >"$WORK/gc-destroy2.txt" 2>&1 || { cat "$WORK/gc-destroy2.txt"; die "destroy Young failed"; }

step "state import rebuilds a lost state from the tags; destroy then removes everything"
reset_moto
cat >"$WORK/lost.yaml" <<'EOF'
Lost:
  provider: aws
  allowed_cidrs: [203.0.113.7/32]
  datacenters:
    - datacenter: DC1
      region: eu-west-1
      zones: [eu-west-1a]
      nodes: 2
    - datacenter: DC2
      region: us-east-1
      zones: [us-east-1a]
      nodes: 1
EOF
lost() { "$CG" -c "$WORK/lost.yaml" --state "$WORK/lost-state/state.db" "$@"; }
lost apply --auto-approve --stage infra Lost >"$WORK/lost-apply.txt" 2>&1 || { cat "$WORK/lost-apply.txt"; die "apply Lost failed"; }
rm -rf "$WORK/lost-state"
lost state import Lost --pin-host-keys >"$WORK/lost-import.txt" 2>&1 || { cat "$WORK/lost-import.txt"; die "state import failed"; }
grep -q "Imported Lost: 3 machines and " "$WORK/lost-import.txt" && grep -q "Pinned 3 host keys" "$WORK/lost-import.txt" ||
	{ cat "$WORK/lost-import.txt"; die "state import did not find the 3 machines"; }
lost state show Lost --json >"$WORK/lost-state.json"
python3 - "$WORK/lost-state.json" "$WORK/lost-state/Lost/known_hosts" <<'EOF'
import json, sys
res = [r for c in json.load(open(sys.argv[1]))["clusters"] for r in c["resources"]]
kinds = sorted(r["kind"] for r in res)
assert kinds == ["keypair"] * 2 + ["machine"] * 3 + ["network"] * 2 + ["peers"] * 2, kinds
kh = [l.split()[0] for l in open(sys.argv[2])]
ids = sorted(r["resource"]["id"] for r in res if r["kind"] == "machine")
assert sorted(kh) == ids, (kh, ids)
EOF
lost destroy --auto-approve --refresh=false Lost >"$WORK/lost-destroy.txt" 2>&1 || { cat "$WORK/lost-destroy.txt"; die "destroy after state import failed"; }
$CHECK "$MOTO_URL" Lost eu-west-1,us-east-1 --empty

echo "check-ec2: all passed"
