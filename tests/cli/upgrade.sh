# tests/cli/upgrade.sh - sourced by run.sh (uses its setup, cg, check, ...):
# a cassandra_version change through the test provider (#12): one upgrade per
# node, DC by DC, each node after the previous one's service; a downgrade and
# a skipped major version refused (65); applied, nothing left to do.

up_config() {	# VERSION
	cat >up.yaml <<EOF2
Up:
  provider: aws
  allowed_cidrs: [203.0.113.0/24]
  cassandra_version: $1
  datacenters:
    - {datacenter: DC1, region: eu-west-1, zones: [a, b, c], nodes: 3}
    - {datacenter: DC2, region: us-east-1, zones: [a, b], nodes: 2}
EOF2
}
upc() { cg -c up.yaml "$@"; }

setup upgrade
up_config 5.0.8
upc apply --auto-approve Up >/dev/null
up_config 5.0.9
out=$(upc plan Up)
check "upgrade: a service step per node says what it does" grep -qF \
	"~ service.DC1.n1  (upgrade 5.0.8 -> 5.0.9: start 5.0.9 on the same data, wait until the node is UN, serves CQL and the schema agrees; then the next node)" <<<"$out"
check "... each install drains and stops the node first" grep -qF \
	"~ install.DC2.n2  (upgrade 5.0.8 -> 5.0.9: nodetool drain, stop Cassandra, install 5.0.9)" <<<"$out"
check "... the note: 5 nodes, one at a time, DC by DC; no upgradesstables" grep -qF \
	"rolling upgrade to Cassandra 5.0.9 (from 5.0.8): 5 nodes, one at a time, DC by DC; no upgradesstables: a patch release keeps the on-disk format" <<<"$out"
out=$(upc plan Up --json)
check "... chained: DC1 n1, n2, n3, then DC2 n1, n2" python3 -c "
import json,sys; d=json.loads(sys.argv[1]); a={x['address']:x for x in d['actions']}
order=['DC1.n1','DC1.n2','DC1.n3','DC2.n1','DC2.n2']
for p,n in zip(order, order[1:]):
    assert 'service.'+p in a['install.'+n]['depends_on'], (n, a['install.'+n]['depends_on'])
    assert 'service.'+p in a['service.'+n]['depends_on'], (n, a['service.'+n]['depends_on'])
assert 'service.DC2.n1' not in a['service.DC1.n2']['depends_on']" "$out"
up_config 5.0.7
out=$(upc plan Up 2>&1); rc=$?
check_out "upgrade: a downgrade is refused at plan time" $rc 65 \
	"cassandra_version 5.0.7 is older than the 5.0.8 that install.DC1.n1 runs: a downgrade is refused"
up_config 5.0.9
out=$(upc apply --auto-approve Up 2>&1); rc=$?
check_out "upgrade: applied" $rc 0 "Apply complete!"
out=$(upc plan Up --detailed-exitcode); rc=$?
check_out "... then nothing left to do" $rc 0 "No changes."
