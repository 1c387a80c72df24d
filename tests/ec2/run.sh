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

step "apply --stage infra creates them"
cg apply --auto-approve --stage infra MultiDC >"$WORK/apply.txt" 2>&1 || { cat "$WORK/apply.txt"; die "apply failed"; }
$CHECK "$MOTO_URL" MultiDC "$REGIONS" --allowed 203.0.113.7/32
test "$(stat -c %a "$WORK/state/keys/MultiDC-eu-west-1")" = 600 || die "key file is not 0600"
ssh-keygen -y -f "$WORK/state/keys/MultiDC-eu-west-1" >/dev/null || die "ssh cannot read the key file"

step "the newest Ubuntu 24.04 image for the type's architecture was chosen"
python3 - "$MOTO_URL" <<'EOF'
import sys, boto3
ec2 = boto3.client("ec2", region_name="us-east-1", endpoint_url=sys.argv[1],
                   aws_access_key_id="t", aws_secret_access_key="t")
imgs = {i["ImageId"] for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]}
assert imgs == {"ami-0a24a0000000000a2"}, imgs   # m3.large: x86_64, 2025-10-20
EOF

step "cross-region rules: each region admits the others' nodes on 7000"
python3 - "$MOTO_URL" <<'EOF'
import sys, boto3
url = sys.argv[1]
regions = ["eu-west-1", "us-east-1", "us-west-1"]
def c(r): return boto3.client("ec2", region_name=r, endpoint_url=url, aws_access_key_id="t", aws_secret_access_key="t")
ips = {r: {i["PublicIpAddress"] + "/32" for res in c(r).describe_instances(Filters=[{"Name": "instance-state-name", "Values": ["running"]}])["Reservations"] for i in res["Instances"]} for r in regions}
for r in regions:
    sg = c(r).describe_security_groups(Filters=[{"Name": "group-name", "Values": ["cassandgo-MultiDC-" + r]}])["SecurityGroups"][0]
    got = {x["CidrIp"] for p in sg["IpPermissions"] if p.get("FromPort") == 7000 for x in p.get("IpRanges", [])}
    want = set().union(*(ips[o] for o in regions if o != r))
    assert got == want, (r, sorted(got ^ want))
EOF

step "a second apply changes nothing"
cg apply --auto-approve --stage infra MultiDC >"$WORK/apply2.txt" 2>&1 || { cat "$WORK/apply2.txt"; die "second apply failed"; }
grep -q "No changes." "$WORK/apply2.txt" || { cat "$WORK/apply2.txt"; die "second apply was not a no-op"; }

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
[ "$(grep -c 'install *= "apt"' "$WORK/adopted.txt")" = 15 ] || die "adopted machines lost their install method"

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

step "behind the fault proxy (throttling, 500s, dropped connections, slow answers) it converges"
reset_moto
rm -rf "$WORK/state"
start_proxy --throttle 0.15 --error 0.08 --drop 0.04 --drop-after 0.04 --slow 0.03 --slow-s 2.5 --seed "${CG_FAULT_SEED:-7}"
use_endpoint "$PROXY_URL"
export CASSANDGO_EC2_MAX_ATTEMPTS=10
# slow answers (2.5 s) arrive after the client gave up (1.5 s): the call
# happened but the client cannot know, as after a dropped connection
export CASSANDGO_EC2_TIMEOUT_MS=1500
ok=0
for i in 1 2 3; do
	if cg apply --auto-approve --stage infra MultiDC >"$WORK/fapply$i.txt" 2>&1; then ok=1; break; fi
	echo "   apply $i did not finish: $(grep -m1 -i error "$WORK/fapply$i.txt" || true)"
done
[ $ok = 1 ] || { cat "$WORK/fapply3.txt"; die "apply never converged behind the fault proxy"; }
$CHECK "$MOTO_URL" MultiDC "$REGIONS" --allowed 203.0.113.7/32
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
echo "check-ec2: all passed"
