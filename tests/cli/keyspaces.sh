# tests/cli/keyspaces.sh - sourced by run.sh (uses its setup, cg, check, ...):
# keyspaces declared in the config (#12) through the test provider: created
# after the ring (and auth), an RF raised plans the repair, a keyspace removed
# from the config is only forgotten (its data stays), never dropped.

ks_config() {	# DC2_NODES KEYSPACES-YAML [SECURITY]
	cat >ks.yaml <<EOF
KS:
  provider: aws
  allowed_cidrs: [203.0.113.0/24]
${3:+  security: $3
}  datacenters:
    - {datacenter: DC1, region: eu-west-1, zones: [a, b, c], nodes: 3}
    - {datacenter: DC2, region: us-east-1, zones: [a, b, c], nodes: $1}
$2
EOF
}
ksp() { cg -c ks.yaml "$@"; }

setup keyspaces
ks_config 2 '  keyspaces:
    - name: app
    - {name: logs, replication: {DC2: 1}, durable_writes: false}'
out=$(ksp plan KS --json)
check "keyspaces: created after the ring and auth, replication in the config's DC order" python3 -c "
import json,sys; d=json.loads(sys.argv[1]); a={x['address']:x for x in d['actions']}
app=a['keyspace.app']; logs=a['keyspace.logs']
assert app['action']=='create', app
assert app['after']['attributes']['replication']=='DC1:3,DC2:2', app['after']
assert app['after']['attributes']['durable_writes']=='true'
assert logs['after']['attributes']['replication']=='DC2:1', logs['after']
assert logs['after']['attributes']['durable_writes']=='false'
assert set(app['depends_on'])=={'ring','auth'}, app['depends_on']" "$out"
out=$(ksp apply --auto-approve KS); rc=$?
check_out "keyspaces: apply creates them" $rc 0 "keyspace.app *keyspace created, replication as declared"
out=$(ksp apply --auto-approve KS); rc=$?
check_out "keyspaces: a second apply changes nothing" $rc 0 "No changes."

# an RF raised in DC2 (a node added there too): the repair follows, in DC2
ks_config 3 '  keyspaces:
    - {name: app, replication: {DC1: 3, DC2: 3}}
    - {name: logs, replication: {DC2: 1}, durable_writes: false}'
out=$(ksp plan KS)
check "keyspaces: an RF raised: the change per DC and the repair that follows" grep -qF \
	"~ keyspace.app  (DC2 2 -> 3; then a full repair of app in DC2 (nodetool repair -full app on each of its nodes, one at a time))" <<<"$out"
out=$(ksp plan KS --json)
check "... after the new node has joined (the ring check)" python3 -c "
import json,sys; d=json.loads(sys.argv[1]); a={x['address']:x for x in d['actions']}
assert 'ring' in a['keyspace.app']['depends_on'] and 'service.DC2.n3' in a['ring']['depends_on']" "$out"
ksp apply --auto-approve KS >/dev/null
out=$(ksp plan KS --detailed-exitcode); rc=$?
check_out "... applied: nothing left to do" $rc 0 "No changes."

# an RF lowered with a node removed: before the decommission (Cassandra
# refuses to leave fewer nodes than an RF)
ks_config 2 '  keyspaces:
    - {name: app, replication: {DC1: 3, DC2: 2}}
    - {name: logs, replication: {DC2: 1}, durable_writes: false}'
out=$(ksp plan KS --json)
check "keyspaces: an RF lowered goes before the decommission, with no repair" python3 -c "
import json,sys; d=json.loads(sys.argv[1]); a={x['address']:x for x in d['actions']}
assert 'keyspace.app' in a['service.DC2.n3']['depends_on'], a['service.DC2.n3']
assert a['keyspace.app']['reason']=='DC2 3 -> 2; before the decommissions', a['keyspace.app']['reason']" "$out"
ksp apply --auto-approve KS >/dev/null

# removed from the config: forgotten, never dropped
ks_config 2 '  keyspaces:
    - {name: app, replication: {DC1: 3, DC2: 2}}'
out=$(ksp plan KS)
check "keyspaces: removed from the config: the plan says it is only forgotten" grep -qF -- \
	"- keyspace.logs  (removed from the configuration: cassandgo never drops a keyspace; its data stays)" <<<"$out"
check "... a note says so, and nothing counts as destroyed" bash -c "grep -q 'Note: keyspace.logs is no longer in the configuration' <<<'$out' && grep -q 'Plan: 0 to add, 0 to change, 0 to destroy.' <<<'$out'"
out=$(ksp apply --auto-approve KS); rc=$?
check_out "... apply forgets it" $rc 0 "keyspace.logs *forgotten (the keyspace and its data stay)"
check "... the keyspace is still in the cluster, no longer in the state" bash -c "[ $(world_count KS keyspace.logs) = 1 ] && ! '$BIN' state list </dev/null | grep -q keyspace.logs"
out=$(ksp plan KS --detailed-exitcode); rc=$?
check_out "... and the next plan leaves it alone" $rc 0 "No changes."

# a DC change (DC2 not in the ring yet): the keyspaces the config does not
# declare (the refresh lists them on the ring) are named, not carried along
sed -i '/^KS\tring\t/s/\tdcs=[^\t]*/\tdcs=DC1:3\tundeclared_keyspaces=logs,legacy/' world
out=$(ksp plan KS)
check "keyspaces: a DC added: the undeclared ones are named in the plan" bash -c "grep -qF 'Note: keyspace logs is not declared: it will not be replicated to DC2' <<<'$out' && grep -qF 'Note: keyspace legacy is not declared' <<<'$out'"

# security off: no auth to wait for
setup keyspaces-nosec
ks_config 2 '  keyspaces: [{name: app}]' off
out=$(ksp plan KS --json)
check "keyspaces with security off: after the ring only" python3 -c "
import json,sys; d=json.loads(sys.argv[1]); a={x['address']:x for x in d['actions']}
assert a['keyspace.app']['depends_on']==['ring'], a['keyspace.app']['depends_on']" "$out"
