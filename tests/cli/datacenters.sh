# tests/cli/datacenters.sh - sourced by run.sh (uses its setup, cg, check, ...):
# a datacenter added to and removed from a running cluster (#12) through the
# test provider: the plan's steps and their order, apply, then nothing to do.

dc_config() {	# DCS-YAML KEYSPACE-REPLICATION
	cat >dc.yaml <<EOF2
DCS:
  provider: aws
  allowed_cidrs: [203.0.113.0/24]
  datacenters:
    - {datacenter: DC1, region: eu-west-1, zones: [a, b, c], nodes: 3}
    - {datacenter: DC2, region: us-east-1, zones: [a, b, c], nodes: 2}
$1
  keyspaces:
    - {name: app, replication: $2}
EOF2
}
dcp() { cg -c dc.yaml "$@"; }

setup datacenters
dc_config "" "{DC1: 3, DC2: 2}"
dcp apply --auto-approve DCS >/dev/null
dc_config "    - {datacenter: DC3, region: us-east-1, zones: [a, b], nodes: 3}" "{DC1: 3, DC2: 2, DC3: 2}"
out=$(dcp plan DCS)
check "datacenters: added: the plan says what each step does" bash -c "
grep -qF '~ keyspace.app  (DC3 0 -> 2 (a new DC: its nodes are rebuilt after this))' <<<'$out' &&
grep -qF '~ system_keyspaces  (system_distributed,system_traces: DC3 0 -> 3 (a new DC: its nodes are rebuilt after this))' <<<'$out' &&
grep -qF '+ rebuild.DC3.n1  (rebuild DC3 n1 from DC1: nodetool rebuild -- DC1, once every keyspace replicates to DC3' <<<'$out' &&
grep -qF '+ datacenter.DC3  (check DC3: rows written before read back from it at LOCAL_QUORUM, as DC1 shows them)' <<<'$out' &&
grep -qF 'DC3 joins the running ring: its nodes start empty (auto_bootstrap: false)' <<<'$out'"
out=$(dcp plan DCS --json)
check "... the keyspaces gain DC3 before any rebuild; rebuilds two at a time; the check last" python3 -c "
import json,sys; d=json.loads(sys.argv[1]); a={x['address']:x for x in d['actions']}
for i in (1, 2, 3):
    deps = a['rebuild.DC3.n%d' % i]['depends_on']
    assert {'keyspace.app', 'system_keyspaces', 'auth', 'service.DC3.n%d' % i} <= set(deps), deps
    assert 'rebuild.DC3.n%d' % i in a['datacenter.DC3']['depends_on']
assert 'rebuild.DC3.n1' in a['rebuild.DC3.n3']['depends_on']
assert a['config.DC3.n1']['after']['attributes']['mode'] == 'rebuild'" "$out"
out=$(dcp apply --auto-approve DCS); rc=$?
check_out "... apply rebuilds and checks DC3" $rc 0 "datacenter.DC3 *rows written before read back from it at LOCAL_QUORUM"
out=$(dcp plan DCS --detailed-exitcode); rc=$?
check_out "... then nothing to do" $rc 0 "No changes."

dc_config "    - {datacenter: DC3, region: us-east-1, zones: [a, b], nodes: 3}" "{DC1: 3, DC2: 2, DC9: 2}"
out=$(dcp plan DCS 2>&1); rc=$?
check_out "datacenters: a keyspace naming a DC the cluster does not have: 65 at its position" $rc 65 \
	"dc.yaml:[0-9]*:[0-9]*: DCS.keyspaces\[0\].replication.DC9: unknown datacenter 'DC9'"
dc_config "" "{DC1: 3, DC2: 2}"
out=$(dcp plan DCS --json)
check "datacenters: removed: every keyspace leaves DC3 before any decommission, system_auth after them" python3 -c "
import json,sys; d=json.loads(sys.argv[1]); a={}
for x in d['actions']: a.setdefault(x['address'], x)
assert a['keyspace.app']['reason'] == 'DC3 2 -> 0; before the decommissions', a['keyspace.app']['reason']
for i in (1, 2, 3):
    deps = a['service.DC3.n%d' % i]['depends_on']
    assert {'keyspace.app', 'system_keyspaces'} <= set(deps), deps
    assert 'auth' not in deps, deps
assert 'ring' not in a['keyspace.app']['depends_on']
assert 'auth' not in a['keyspace.app']['depends_on']
assert 'ring' in a['auth']['depends_on'], a['auth']['depends_on']" "$out"
out=$(dcp apply --auto-approve DCS); rc=$?
check_out "... apply removes DC3" $rc 0 "Apply complete!"
check "... nothing of DC3 is left in the state" bash -c "! '$BIN' state list </dev/null | grep -q DC3 && ! '$BIN' state show DCS --json </dev/null | grep -q '\"DC3'"
out=$(dcp plan DCS --detailed-exitcode); rc=$?
check_out "... then nothing to do" $rc 0 "No changes."
