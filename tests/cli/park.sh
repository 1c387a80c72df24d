# tests/cli/park.sh - cassandgo stop / start through the test provider
# (sourced by run.sh): the parked mark, plan/apply/status on a parked
# cluster, a stop killed half-way finished by the next, start back to a
# cluster that matches the configuration.
setup park
cg apply --auto-approve MonoDC >/dev/null 2>&1
out=$(cg stop MonoDC 2>&1); rc=$?
check_out "stop without a terminal and without --auto-approve: 64" $rc 64 "pass --auto-approve"
# killed after 3 world writes (drains), then stopped again
(CG_FAKE_CRASH_AFTER=3 "$BIN" stop --auto-approve MonoDC </dev/null >/dev/null 2>&1)
id=$(cg plan MonoDC 2>&1 | grep -oE "state unlock [0-9a-f-]+" | head -1 | awk '{print $3}')
[ -n "$id" ] || id=$(cg stop --auto-approve MonoDC 2>&1 | grep -oE "state unlock [0-9a-f-]+" | head -1 | awk '{print $3}')
[ -n "$id" ] && cg state unlock "$id" >/dev/null 2>&1
out=$(cg plan MonoDC 2>&1); rc=$?
check_out "plan after a stop killed half-way: parked, machines still running, nothing planned" $rc 0 \
	"but 6 of its 6 machines run: a stop or a start did not finish"
out=$(cg apply --auto-approve MonoDC 2>&1); rc=$?
check_out "apply on a parked cluster refuses (1) and says to start it" $rc 1 \
	"apply changes nothing until 'cassandgo start MonoDC'"
out=$(cg stop --auto-approve MonoDC 2>&1); rc=$?
check_out "stop again finishes it: every machine off" $rc 0 \
	"Stop complete! Cluster MonoDC is parked: .* drained and stopped, 6 machines powered off"
out=$(cg plan MonoDC --detailed-exitcode 2>&1); rc=$?
check_out "plan of the parked cluster: no changes (exit 0), says so" $rc 0 "No changes: cluster MonoDC is parked"
out=$(cg stop --auto-approve MonoDC 2>&1); rc=$?
check_out "a third stop does nothing" $rc 0 "Cluster MonoDC is parked since"
out=$(cg status MonoDC 2>&1); rc=$?
check_out "status of a parked cluster: parked, exit 1" $rc 1 "Cluster MonoDC is parked (cassandgo stop"
out=$(cg status MonoDC --json 2>&1); rc=$?
check "status --json of a parked cluster" python3 -c "
import json,sys; d=json.loads(sys.argv[1]); assert d['parked'] and not d['healthy'], d" "$out"
out=$(cg start --auto-approve MonoDC 2>&1); rc=$?
check_out "start: machines started, configs rendered again, Cassandra started, ring verified" $rc 0 \
	"Start complete! Cluster MonoDC runs: 0 added, 19 changed"
out=$(cg plan MonoDC 2>&1); rc=$?
check_out "after start: the configuration matches, nothing parked" $rc 0 "No changes. Cluster MonoDC matches"
out=$(cg start --auto-approve MonoDC 2>&1); rc=$?
check_out "start of a running cluster: nothing to start" $rc 0 "Cluster MonoDC runs: nothing to start"
cg stop --auto-approve MonoDC >/dev/null 2>&1
out=$(cg destroy --auto-approve MonoDC 2>&1); rc=$?
check_out "destroy works on a parked cluster" $rc 0 "Destroy complete!"
cg apply --auto-approve MonoDC >/dev/null 2>&1
out=$(cg plan MonoDC 2>&1); rc=$?
check_out "a cluster made again after that destroy is not parked" $rc 0 "No changes. Cluster MonoDC matches"
cd "$WORK" || exit 1
