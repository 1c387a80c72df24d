#!/usr/bin/env bash
# CLI tests: the real command line, end to end, through the test provider
# (a "cloud" kept in a file, see tests/fake/fake.c). Usage: run.sh BINARY
set -u
BIN=$(realpath "$1")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
pass=0 fail=0
WORK=$(mktemp -d /tmp/cg-cli.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

ok()   { pass=$((pass + 1)); echo "ok   $*"; }
bad()  { fail=$((fail + 1)); echo "FAIL $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
# check_out NAME RC WANT_RC PATTERN: exit code and output ($out) together
check_out() { if [ "$2" = "$3" ] && grep -q -- "$4" <<<"$out"; then ok "$1"; else bad "$1 (rc $2)"; printf '%s\n' "$out" | tail -5; fi; }

# fresh directory with the seed's config, a world and no state
setup() {
	T=$WORK/$1; mkdir -p "$T"; cp "$ROOT/cassandgo.yaml" "$T/"; cd "$T" || exit 1
	export CG_FAKE_WORLD=$T/world CASSANDGO_ALLOWED_CIDRS=203.0.113.0/24
	unset CG_FAKE_FAIL CG_FAKE_CRASH_AFTER CG_FAKE_SLEEP_MS CG_FAKE_EMPTY_REFRESH
}
cg() { "$BIN" "$@" </dev/null; }
# until an apply started in the background holds the state's lock (60 s at most)
wait_locked() {
	for _ in $(seq 600); do
		[ -e .cassandgo/state.db ] && sqlite3 .cassandgo/state.db 'select 1 from lock' 2>/dev/null | grep -q 1 && return 0
		sleep 0.1
	done
	return 1
}
world_count() { grep -c "^$1	$2" "$CG_FAKE_WORLD" 2>/dev/null || true; }

# --- validate and config errors change nothing ---------------------------
setup validate
out=$(cg validate 2>&1); rc=$?
check "validate accepts the seed's file" [ $rc = 0 ]
check "validate summarises MultiDC" grep -q "MultiDC: aws, 3 DCs, 15 nodes" <<<"$out"
printf 'MultiDC:\n- datacenter: DC1\n  region: eu-west\n  zone: 1\n  nodes: 0\n' > bad.yaml
out=$(cg -c bad.yaml apply --auto-approve MultiDC 2>&1); rc=$?
check "config error exits 65" [ $rc = 65 ]
check "config error names file:line:col" grep -q "bad.yaml:5:" <<<"$out"
check "config error creates no state folder" [ ! -e .cassandgo ]
out=$(cg plan NoSuch 2>&1); rc=$?
check "unknown cluster is a usage error (64) listing the known ones" \
	bash -c "[ $rc = 64 ] && grep -q MultiDC <<<'$out'"
out=$(cg frobnicate 2>&1); rc=$?
check "unknown command: 64 with did-you-mean" bash -c "[ $rc = 64 ]"
check "--help lists the commands" bash -c "'$BIN' --help | grep -q 'destroy CLUSTER'"
check "plan --help" bash -c "'$BIN' plan --help | grep -q detailed-exitcode"

# every bad config of tests/config/bad through validate and plan
if "$ROOT/tests/config/check-bad.sh" "$BIN" >"$WORK/bad.out" 2>&1; then
	ok "every bad config rejected at its position with 65, nothing created ($(tail -1 "$WORK/bad.out"))"
else
	bad "bad configs through the CLI"; tail -20 "$WORK/bad.out"
fi

# --- plan, apply, idempotence ---------------------------------------------
setup apply
out=$(cg plan MonoDC); rc=$?
check "plan MonoDC: 30 to add" grep -q "Plan: 30 to add, 0 to change, 0 to destroy." <<<"$out"
check "plan shows values known after apply" grep -q "private_ip *= (known after apply)" <<<"$out"
check "plan touches no state" [ ! -e .cassandgo ]
cg plan MonoDC --detailed-exitcode >/dev/null; check "--detailed-exitcode = 2 with changes" [ $? = 2 ]
cg plan MonoDC --json > plan.json
check "plan --json is JSON with the summary" python3 -c "
import json; d=json.load(open('plan.json')); assert d['summary']=={'add':30,'change':0,'destroy':0}, d['summary']
acts={a['address']:a for a in d['actions']}
assert 'machine.DC1.n1' in acts['install.DC1.n1']['depends_on']
assert 'config.DC1.n3' in acts['service.DC1.n3']['depends_on']
assert not any(x.startswith('service.') for x in acts['service.DC1.n3']['depends_on']), 'a new ring starts together'"
out=$(cg apply MonoDC 2>&1); rc=$?
check "apply refuses without --auto-approve when stdin is not a terminal (64)" [ $rc = 64 ]
check "... and creates nothing" [ ! -e .cassandgo ]
out=$(cg apply --auto-approve MonoDC); rc=$?
check "apply converges" bash -c "[ $rc = 0 ]"
check "apply summary" grep -q "Apply complete! Resources: 30 added, 0 changed, 0 destroyed." <<<"$out"
check "6 machines exist" [ "$(world_count MonoDC machine)" = 6 ]
check "state file is 0600" [ "$(stat -c %a .cassandgo/state.db)" = 600 ]
check "a backup was taken" bash -c "ls .cassandgo/backups/state-*.db >/dev/null"
serial1=$(sqlite3 .cassandgo/state.db "select value from meta where key='serial'" 2>/dev/null || echo x)
out=$(cg apply --auto-approve MonoDC); rc=$?
check "second apply: No changes." bash -c "[ $rc = 0 ] && grep -q 'No changes.' <<<'$out'"
check "second apply does nothing" bash -c "! grep -q 'Apply complete' <<<'$out'"
cg plan MonoDC --detailed-exitcode >/dev/null; check "--detailed-exitcode = 0 when converged" [ $? = 0 ]
cg plan MonoDC --refresh=false --detailed-exitcode >/dev/null
check "plan --refresh=false from state: no changes" [ $? = 0 ]
out=$(cg state show MonoDC)
check "state show lists machines with ids" grep -q "machine.DC1.n1  \[fake-" <<<"$out"
check "state show --json" bash -c "'$BIN' state show --json </dev/null | python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d[\"clusters\"][0][\"resources\"])==30'"
check "state list" bash -c "[ \$('$BIN' state list </dev/null | wc -l) = 30 ]"

# --- drift: a machine deleted behind our back, a service down ------------
sed -i '/machine.DC1.n4/d' world
out=$(cg plan MonoDC)
check "plan sees the deleted machine" grep -q "+ machine.DC1.n4  (recorded as fake-" <<<"$out"
check "... and redoes its node steps" grep -q "+ service.DC1.n4  (its machine is new)" <<<"$out"
check "... the new machine joins the ring (bootstraps), never re-creates its tokens" \
	bash -c "grep -A3 '+ config.DC1.n4' <<<'$out' | grep -Eq 'mode +=  *\"join\"'"
sed -i '/service.DC1.n2/s/running=true/running=false/' world
out=$(cg plan MonoDC)
check "plan sees Cassandra down" grep -q '~ service.DC1.n2  (running: "false" -> "true")' <<<"$out"
out=$(cg apply --auto-approve MonoDC); rc=$?
check "apply repairs drift" bash -c "[ $rc = 0 ] && grep -q 'No changes' <<<\"\$('$BIN' plan MonoDC </dev/null)\""

# --- state rm forgets; the refresh adopts it back ------------------------
out=$(cg state rm machine.DC1.n5)
check "state rm forgets without destroying" bash -c "grep -q 'Forgot machine.DC1.n5' <<<'$out' && [ \$(grep -c '	machine.DC1.n5	' world) = 1 ]"
out=$(cg apply --auto-approve MonoDC)
check "the refresh adopts what the state forgot (no duplicate)" bash -c "grep -q 'No changes' <<<'$out' && [ $(world_count MonoDC machine) = 6 ] && '$BIN' state list </dev/null | grep -q machine.DC1.n5"

# --- config change: add a node --------------------------------------------
sed -i '0,/nodes: 6/s//nodes: 7/' cassandgo.yaml
out=$(cg plan MonoDC)
check "adding a node: plan adds it, joining" bash -c "grep -q '+ machine.DC1.n7' <<<'$out' && grep -Eq 'mode +=  *\"join\"' <<<'$out'"
check "... and re-verifies the ring" grep -q "~ ring  (nodes" <<<"$out"
cg apply --auto-approve MonoDC >/dev/null
check "... apply adds it" [ "$(world_count MonoDC machine)" = 7 ]
sed -i '0,/nodes: 7/s//nodes: 6/' cassandgo.yaml
out=$(cg plan MonoDC --json)
check "removing a node: decommission before terminate" python3 -c "
import json,sys; d=json.loads(sys.argv[1]); a={x['address']:x for x in d['actions']}
assert a['machine.DC1.n7']['action']=='delete'
assert not a['service.DC1.n7']['forget'], 'a removed node is decommissioned'
assert 'service.DC1.n7' in a['machine.DC1.n7']['depends_on']" "$out"
cg apply --auto-approve MonoDC >/dev/null
check "... apply removes it" [ "$(world_count MonoDC machine)" = 6 ]

# --- failures: independent branches go on, dependents do not run ----------
setup failure
out=$(CG_FAKE_FAIL=machine.DC1.n2 cg apply --auto-approve MonoDC 2>&1); rc=$?
check "failed apply exits 1" [ $rc = 1 ]
check "... names the failed action and why" grep -q "machine.DC1.n2 (create): injected failure" <<<"$out"
check "... says what is left in the state" grep -q "the state records all of it" <<<"$out"
check "... dependents are skipped" grep -q "DC1 n2 .*skipped Cassandra install (not run: machine.DC1.n2 failed)" <<<"$out"
check "... independent branches went on" [ "$(world_count MonoDC machine)" = 5 ]
out=$(cg apply --auto-approve MonoDC); rc=$?
check "next apply picks up from there" bash -c "[ $rc = 0 ] && [ $(world_count MonoDC machine) = 6 ] && grep -q 'Apply complete' <<<'$out'"

# --- an unknown node, DC or zone names the valid ones (no node touched) ----
out=$(cg nodetool MonoDC DC1.n9 status 2>&1); rc=$?
check_out "nodetool on an unknown node: 64, naming the nodes" $rc 64 "has no node DC1.n9: its nodes are DC1.n1, DC1.n2, .*DC1.n6"
out=$(cg nodetool MonoDC DC9 status 2>&1); rc=$?
check_out "nodetool on an unknown DC: 64, naming the DCs and zones" $rc 64 "has no datacenter or zone DC9: it has DC1, "
out=$(cg nodetool MonoDC all 2>&1); rc=$?
check_out "nodetool without arguments: 64" $rc 64 "expected CLUSTER NODE|DC|ZONE|all ARGS"
out=$(cg nodetool MonoDC all status $'a\nb' 2>&1); rc=$?
check_out "nodetool with a control character: 64" $rc 64 "argument 2 holds a control character"
out=$(cg chaos MonoDC kill DC2.n1 2>&1); rc=$?
check_out "chaos kill of an unknown node: 64, naming the nodes" $rc 64 "its nodes are DC1.n1, "
out=$(cg chaos MonoDC partition nowhere 2>&1); rc=$?
check_out "chaos partition of an unknown group: 64, naming the DCs" $rc 64 "has no datacenter or zone nowhere: it has DC1"
out=$(cg chaos MonoDC pause DC1.n1 soon 2>&1); rc=$?
check_out "chaos pause with a bad duration: 64" $rc 64 "'soon' is not a whole number of seconds"

# --- lock contention -------------------------------------------------------
setup lock
CG_FAKE_SLEEP_MS=300 "$BIN" apply --auto-approve MonoDC </dev/null >slow.out 2>&1 &
slow=$!
wait_locked
out=$(cg apply --auto-approve MonoDC 2>&1); rc=$?
check "second apply fails at once with 75" [ $rc = 75 ]
check "... naming the holder" grep -q "locked by pid $slow" <<<"$out"
wait $slow; check "the first apply finished" [ $? = 0 ]

# --- crash between the cloud call and the state write -----------------------
setup crash
for n in 3 9 17 26; do
	CG_FAKE_CRASH_AFTER=$n "$BIN" apply --auto-approve MonoDC </dev/null >/dev/null 2>&1
	rc=$?
	[ $rc = 137 ] || bad "crash point $n: expected SIGKILL, got $rc"
	lock=$(sqlite3 .cassandgo/state.db 'select id from lock' 2>/dev/null)
	out=$(cg apply --auto-approve MonoDC 2>&1)
	check "crash at world write $n: the lock is reported (75)" grep -q "state unlock $lock" <<<"$out"
	cg state unlock "$lock" >/dev/null
	out=$(cg plan MonoDC)
	check "crash at $n: plan says what was in flight" grep -q "was interrupted with" <<<"$out"
	cg apply --auto-approve MonoDC >/dev/null 2>&1
	check "crash at $n: apply converges without duplicates" bash -c "[ $(world_count MonoDC machine) = 6 ] && grep -q 'No changes' <<<\"\$('$BIN' plan MonoDC </dev/null)\""
	check "crash at $n: state passes integrity_check" [ "$(sqlite3 .cassandgo/state.db 'pragma integrity_check')" = ok ]
	cg destroy --auto-approve MonoDC >/dev/null 2>&1
done

# --- saved plans and staleness -------------------------------------------------
setup saved
cg plan MonoDC --out p1 >/dev/null
check "saved plan file is 0600" [ "$(stat -c %a p1)" = 600 ]
out=$(cg apply MonoDC p1); rc=$?
check_out "apply of a fresh saved plan" $rc 0 'Apply complete! Resources: 30 added'
out=$(cg apply MonoDC p1 2>&1); rc=$?
check_out "the same plan again is stale (state changed)" $rc 1 'stale: the state changed'
sed -i '/service.DC1.n3/s/running=true/running=false/' world
cg plan MonoDC --out p2 >/dev/null
sed -i '/machine.DC1.n1/d' world
out=$(cg apply MonoDC p2 2>&1); rc=$?
check_out "a plan is stale when the world changed" $rc 1 'what exists changed'

# --- interrupt: the first Ctrl-C lets running actions finish ------------------
setup interrupt
CG_FAKE_SLEEP_MS=200 "$BIN" --config cassandgo.yaml apply --auto-approve --parallelism 2 MonoDC </dev/null >int.out 2>&1 &
pid=$!
# SIGINT once actions are running (not after a fixed sleep: a sanitizer
# build on a loaded machine may not have reached the executor by then)
wait_locked; for _ in $(seq 600); do
	[ "$(sqlite3 .cassandgo/state.db "select count(*) from journal" 2>/dev/null)" -gt 0 ] 2>/dev/null && break; sleep 0.1; done
kill -INT $pid; wait $pid; rc=$?
check "interrupted apply exits 1" [ $rc = 1 ]
check "... says it was interrupted" grep -q "interrupted" int.out
check "... released the lock" bash -c "[ -z \"\$(sqlite3 .cassandgo/state.db 'select id from lock')\" ]"
check "... and nothing is pending in the journal" [ "$(sqlite3 .cassandgo/state.db "select count(*) from journal where status='pending'")" = 0 ]
out=$(cg apply --auto-approve MonoDC); rc=$?
check "the next apply completes" bash -c "[ $rc = 0 ] && [ $(world_count MonoDC machine) = 6 ]"

# --- initSG / initKP only create ---------------------------------------------
setup init
out=$(cg initSG --auto-approve)
check "initSG creates a security group per cluster and region" bash -c "[ $(world_count MonoDC network) = 1 ] && [ $(world_count MultiDC network) = 3 ] && [ $(grep -c '	machine' world) = 0 ]"
out=$(cg initKP --auto-approve MultiDC)
check "initKP creates the key pairs" bash -c "[ $(world_count MultiDC keypair) = 3 ] && [ $(world_count MonoDC keypair) = 0 ]"

# --- destroy ---------------------------------------------------------------------
setup destroy
cg apply --auto-approve MultiDC >/dev/null
check "MultiDC: 15 machines, 3 networks, peers" bash -c "[ $(world_count MultiDC machine) = 15 ] && [ $(world_count MultiDC peers) = 3 ]"
check "MultiDC: converged" bash -c "'$BIN' plan MultiDC --detailed-exitcode </dev/null >/dev/null"
out=$(cg destroy MultiDC 2>&1); rc=$?
check "destroy refuses without --auto-approve off a terminal" [ $rc = 64 ]
# a machine (and what ran on it) already gone: destroy forgets its records
sed -i '/\t[a-z]*\.DC2\.n3\t/d' world
out=$(cg destroy --auto-approve MultiDC); rc=$?
check_out "destroy completes (gone things forgotten)" $rc 0 'Destroy complete! Resources: 73 destroyed.'
check "nothing left in the world" [ "$(grep -c MultiDC world)" = 0 ]
check "nothing left in the state" [ "$("$BIN" state list </dev/null | wc -l)" = 0 ]
out=$(cg destroy --auto-approve MultiDC)
check "second destroy: No changes." grep -q "No changes" <<<"$out"

# --- stress: bad input changes nothing (tests/stress runs the real thing) -------
setup stress
out=$(cg stress MultiDC --dc DC1 --dc DC9 2>&1); rc=$?
check_out "stress --dc DC9: 64 naming the DCs" $rc 64 'MultiDC has no datacenter "DC9"; its datacenters: DC1, DC2, DC3'
for a in "--workload scan" "--rate 0" "--rate 1x" "--duration 0" "--duration 86401" "--consistency SERIAL" "--bogus"; do
	# shellcheck disable=SC2086 # split on purpose: option and value
	out=$(cg stress MultiDC $a 2>&1); rc=$?
	check_out "stress $a: usage error 64" $rc 64 "Run 'cassandgo stress --help'"
done
out=$(cg stress MultiDC --dc DC1 2>&1); rc=$?
check_out "stress before apply: says to apply" $rc 1 "run 'cassandgo apply MultiDC' first"
check "stress errors made no results folder" [ ! -e results ]
out=$(cg stress --help 2>&1); rc=$?
check_out "stress --help names latte's TLS limit" $rc 0 "does not verify the nodes' certificates"

# --- keyspaces declared in the config ----------------------------------------
. "$ROOT/tests/cli/keyspaces.sh"

# --- a datacenter added and removed -----------------------------------------------
. "$ROOT/tests/cli/datacenters.sh"

# --- a rolling upgrade (cassandra_version) -----------------------------------------
. "$ROOT/tests/cli/upgrade.sh"

# --- parking: stop and start ----------------------------------------------------
. "$ROOT/tests/cli/park.sh"

# --- hostile paths and values (plan --out, printed commands) -------------------
. "$ROOT/tests/cli/hostile.sh"

echo
echo "$pass passed, $fail failed"
[ $fail = 0 ]
