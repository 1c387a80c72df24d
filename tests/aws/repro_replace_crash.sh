#!/usr/bin/env bash
# Repro (issue 5, infra only, ~10 s): an instance terminated behind the tool's
# back is replaced; apply is killed after the replacement's RunInstances ran
# and before the state write; the next apply adopts the new instance by tag.
# Expected: the state holds one machine.DC2.n2, the live instance. Exit 0 if so.
#   tests/aws/repro_replace_crash.sh CASSANDGO
set -uo pipefail
. "$(dirname "$0")/lib.sh"
infra_cluster "${1:?usage: repro_replace_crash.sh CASSANDGO}"
old=$(python3 - "$MOTO_URL" <<'EOF2'
import sys, boto3
c = boto3.client("ec2", region_name="us-east-1", endpoint_url=sys.argv[1], aws_access_key_id="t", aws_secret_access_key="t")
i = [i for r in c.describe_instances(Filters=[{"Name": "tag:cassandgo:node", "Values": ["2"]}])["Reservations"] for i in r["Instances"]][0]
c.terminate_instances(InstanceIds=[i["InstanceId"]])
print(i["InstanceId"])
EOF2
)
"$CG" -c "$WORK/cassandgo.yaml" --state "$WORK/state/state.db" apply --auto-approve --stage infra "$CLUSTER" >"$WORK/a2" 2>&1 &
pid=$!
curl -s -X POST "http://127.0.0.1:$KP_PORT/__arm?action=RunInstances&n=1&pid=$pid" >/dev/null
wait $pid; echo "killed apply: exit $?"
unlock_killed apply --auto-approve --stage infra "$CLUSTER"
cg apply --auto-approve --stage infra "$CLUSTER" >"$WORK/a3" 2>&1 || { cat "$WORK/a3"; die "recovery apply"; }
cg apply --auto-approve --stage infra "$CLUSTER" >"$WORK/a4" 2>&1
echo "terminated: $old; records of machine.DC2.n2 after two more applies:"
cg state list | grep 'machine.DC2.n2' | sed 's/^/  /'
[ "$(cg state list | grep -c 'machine.DC2.n2')" = 1 ] && ! cg state list | grep -q "$old"
