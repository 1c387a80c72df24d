#!/usr/bin/env bash
# Repro (issue 5, infra only, ~10 s): destroy is killed after its
# TerminateInstances calls ran and before the state write; destroy again.
# Expected: the second destroy finishes (the terminated instances still carry
# our tags: the region is the right one) and the state holds nothing of the
# cluster. Exit 0 if so. (Seen: the refresh guard refuses "EC2 reports no
# instance ... while the state records N"; or, when it passes, "Destroy
# complete!" with the 6 machine records still in the state.)
#   tests/aws/repro_destroy_crash.sh CASSANDGO
set -uo pipefail
. "$(dirname "$0")/lib.sh"
infra_cluster "${1:?usage: repro_destroy_crash.sh CASSANDGO}"
"$CG" -c "$WORK/cassandgo.yaml" --state "$WORK/state/state.db" destroy --auto-approve "$CLUSTER" >"$WORK/d1" 2>&1 &
pid=$!
curl -s -X POST "http://127.0.0.1:$KP_PORT/__arm?action=TerminateInstances&n=3&pid=$pid" >/dev/null
wait $pid; echo "killed destroy: exit $?"
unlock_killed destroy --auto-approve "$CLUSTER"
cg destroy --auto-approve "$CLUSTER" >"$WORK/d2" 2>&1
rc=$?
tail -n 2 "$WORK/d2"
left=$(cg state list | grep -c "^$CLUSTER" || true)
echo "records of $CLUSTER left in the state: $left"
[ $rc = 0 ] && [ "$left" = 0 ]
