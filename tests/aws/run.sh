#!/usr/bin/env bash
# make e2e-aws (issue 5): the AWS path end to end without AWS. cassandgo
# talks to moto on loopback as to EC2 and SSHes to the instances' private
# addresses, where dataplane.py runs a network-namespace host per instance:
#   1 apply -> a real 3-DC ring (6 UN, racks = zones); CQL at EACH_QUORUM
#     read back in every DC; a second apply prints No changes; killed
#     during certificates, the login user's tools and the role set-up; then
#     nodetool and cqlsh work for the login user on every node.
#   2 crash safety: kill -9 of apply at >= 10 points, apply again each time
#   3 drift and change: terminate behind its back (a seed too: the others
#     reload their seeds, none restarts), add a node, remove one,
#     change a cassandra: setting (rolling restart)
#   4 under the fault proxy (30% of EC2 calls fail) the same apply converges
#   6 parking: rows written, stop (killed once after a drain, then again):
#     instances stopped, hosts and JVMs gone, plan says parked; start
#     (killed once, then again): ring of 6 UN, rows read at LOCAL_QUORUM in
#     every DC
#   5 destroy leaves no instance, SG, key pair, namespace or process
# usage: tests/aws/run.sh CASSANDGO [STEPS]   (STEPS e.g. "1 2 5"; default all)
# Prints "N passed, M failed"; exits 1 on any failure; cleans up on every exit.
set -uo pipefail
CG=$(realpath "${1:?usage: run.sh CASSANDGO}")
STEPS=${2:-1 2 3 4 6 5}
. "$(dirname "$0")/lib.sh"
trap aws_cleanup EXIT
aws_preflight
# our own copy: others may rebuild ./cassandgo while this runs
cp "$CG" "$WORK/cassandgo" && CG=$WORK/cassandgo
isolate_env
export CASSANDGO_EC2_WAIT_S=60
aws_user
start_moto
use_endpoint "$MOTO_URL"
aws_config
mkdir -p "$WORK/state"
start_dataplane
start_mirror
start_kill_proxy

# shellcheck source=tests/tally.sh
. "$(dirname "$0")/../tally.sh"
abort() { bad "$*; the remaining steps cannot run"; finish; }
has() { case " $STEPS " in *" $1 "*) return 0 ;; esac; return 1; }
now() { date +%s; }
L=$WORK/log

# ring_check NODE [N_DC1]: nodetool status from NODE = every host UN in its
# DC and zone; retried for a while (gossip settles after apply's own check)
ring_check() {
	local from=$1 args=() n id ip ns dc i
	while read -r n id ip ns; do
		dc=${n%%.*}
		args+=("$ip=$dc/$(python3 -c 'import json,sys
print([h["zone"] for h in json.load(open(sys.argv[1])) if h["id"] == sys.argv[2]][0])' "$WORK/dp/hosts.json" "$id")")
	done < <(hosts)
	for i in $(seq 1 12); do
		nodetool "$from" status >"$L.status" 2>&1 &&
			"$PY" "$REPO/tests/e2e/status_check.py" "${args[@]}" <"$L.status" >"$L.ring" && return 0
		sleep 5
	done
	cat "$L.ring" "$L.status" | sed 's/^/    | /' | tail -n 30
	return 1
}

# apply_ok NAME: apply; exit 0 and Apply complete!/No changes.
apply_ok() {
	local t0; t0=$(now)
	cg apply --auto-approve "$CLUSTER" >"$L.$1" 2>&1
	local rc=$?
	LAST_T=$(( $(now) - t0 ))
	[ $rc = 0 ] && grep -qE '^(Apply complete!|No changes\.)' "$L.$1"
}


# consistent [N]: the state passes integrity_check and names exactly the
# live instances (ids), N of them, one per node, nothing else in moto
consistent() {
	local want=$1 ic w
	ic=$(sqlite3 "$WORK/state/state.db" 'pragma integrity_check' 2>&1)
	[ "$ic" = ok ] || { echo "integrity_check: $ic"; return 1; }
	local infra=3
	[ "$want" = 0 ] && infra=0
	w=$(world)
	case "$w" in
	"running=$want other=0 sg=$infra keys=$infra dup=0 "*) ;;
	*) echo "boto3: $w (want running=$want)"; return 1 ;;
	esac
	cg state show "$CLUSTER" --json >"$L.sjson" 2>&1 || { echo "state show failed"; return 1; }
	python3 "$AWS_DIR/state_vs_world.py" "$MOTO_URL" "$CLUSTER" "$REGIONS" <"$L.sjson" || return 1
	echo "$w"
}

# crash NAME TRIGGER: run apply (or destroy, CRASH_CMD) and kill -9 it at
# TRIGGER: line:REGEX (when its output shows REGEX), call:ACTION:N (the
# N-th ACTION call, after moto ran it, before the answer: kill_proxy.py).
# Then the next apply must report the lock (exit 75); unlock it by its ID.
KILLS=()
crash() {
	local name=$1 trig=$2 cmd=${CRASH_CMD:-apply} rc id i
	: >"$L.$name"
	"$CG" -c "$WORK/cassandgo.yaml" --state "$WORK/state/state.db" $cmd --auto-approve "$CLUSTER" \
		>"$L.$name" 2>&1 &
	APPLY_PID=$!
	case "$trig" in
	call:*)
		IFS=: read -r _ act n <<<"$trig"
		curl -s -X POST "$KP_URL/__arm?action=$act&n=$n&pid=$APPLY_PID" >/dev/null ;;
	line:* | nth:*)
		local re=${trig#line:} nth=1
		if [ "${trig%%:*}" = nth ]; then IFS=: read -r _ nth re <<<"$trig"; fi
		for i in $(seq 1 6000); do
			[ "$(grep -cE -- "$re" "$L.$name")" -ge "$nth" ] && { kill -9 "$APPLY_PID"; break; }
			kill -0 "$APPLY_PID" 2>/dev/null || break
			sleep 0.05
		done ;;
	esac
	{ wait "$APPLY_PID"; } 2>/dev/null	# no "Killed" job notice
	rc=$?
	APPLY_PID=
	curl -s -X POST "$KP_URL/__arm?action=none&n=0&pid=0" >/dev/null	# disarm
	if [ $rc != 137 ]; then
		show "$L.$name"
		bad "2 kill point '$name' ($trig) not reached: $cmd exited $rc"
		return 1
	fi
	KILL_WORLD=$(world)
	cg $cmd --auto-approve "$CLUSTER" >"$L.$name.locked" 2>&1
	rc=$?
	id=$(grep -oE 'state unlock [^ ]+' "$L.$name.locked" | head -1 | awk '{print $3}' | tr -d "'\`\".,")
	if [ $rc != 75 ] || [ -z "$id" ] || ! cg state unlock "$id" >"$L.$name.unlock" 2>&1; then
		show "$L.$name.locked"
		bad "2 after kill '$name': expected exit 75 naming the lock, got $rc"
		return 1
	fi
	return 0
}

# kill_point NAME TRIGGER NODES [STAGE]: crash, recover, check
kill_point() {
	local name=$1 trig=$2 want=$3 stage=${4:-} c
	crash "$name" "$trig" || return 1
	if [ -n "$stage" ]; then
		cg apply --auto-approve --stage "$stage" "$CLUSTER" >"$L.$name.rec" 2>&1
	else
		cg apply --auto-approve "$CLUSTER" >"$L.$name.rec" 2>&1
	fi
	if [ $? != 0 ] || ! grep -qE '^(Apply complete!|No changes\.)' "$L.$name.rec"; then
		show "$L.$name.rec" 30
		bad "2 kill '$name': the apply after it failed"
		return 1
	fi
	if c=$(consistent "$want"); then
		KILLS+=("$name ($trig): at the kill ${KILL_WORLD%% nodes=*}; after recovery ${c%% nodes=*}")
		ok "2 kill -9 at '$name' ($trig): killed with ${KILL_WORLD%% nodes=*}; apply again converged: ${c%% nodes=*}, integrity ok, state = world"
	else
		bad "2 kill '$name': $c"
		return 1
	fi
}

destroy_ok() {
	cg destroy --auto-approve "$CLUSTER" >"$L.$1" 2>&1 || { show "$L.$1"; bad "destroy ($1)"; }
}

# tools_check N: on every host, as the login user in a plain ssh command
# (PATH from its ~/.bashrc, which cgnode tools keeps): `nodetool status`
# shows N UN and `cqlsh -e SELECT` answers over TLS as the superuser from
# login/credentials (the login user's, 0600) in the node's own DC
tools_check() {
	local want=$1 n id ip ns bad= st
	while read -r n id ip ns; do
		if ! node_ssh "$n" nodetool status >"$L.tn" 2>&1 || [ "$(grep -c '^UN ' "$L.tn")" != "$want" ]; then
			bad+=" $n:nodetool($(tail -1 "$L.tn" | cut -c1-80))"
		fi
		if ! node_ssh "$n" cqlsh -e "'SELECT data_center FROM system.local'" >"$L.tc" 2>&1 ||
			! grep -q "^ ${n%%.*} " "$L.tc"; then
			bad+=" $n:cqlsh($(tail -1 "$L.tc" | cut -c1-120))"
		fi
		st=$(node_ssh "$n" stat -c "'%U %a'" /var/lib/cassandgo/login/credentials 2>&1)
		[ "$st" = "$LOGIN 600" ] || bad+=" $n:credentials($st)"
	done < <(hosts)
	[ -z "$bad" ] || { echo "$bad"; return 1; }
	echo "$(hosts | wc -l) nodes"
}

# --- 2a: kill points while the machines are created (infra converges) -------
if has 2; then
	kill_point first-create 'line:^cloud +DC[0-9] n[0-9] .*creating machine' 6 infra
	destroy_ok d1
	kill_point runinstances-1 call:RunInstances:1 6 infra
	destroy_ok d2
	kill_point runinstances-4 call:RunInstances:4 6 infra
	destroy_ok d3
	kill_point importkeypair-2 call:ImportKeyPair:2 6 infra
	# a destroy killed after its TerminateInstances calls
	if CRASH_CMD=destroy crash destroy-terminate call:TerminateInstances:3; then
		KW=$KILL_WORLD
		cg destroy --auto-approve "$CLUSTER" >"$L.d5" 2>&1
		rc=$?
		if [ $rc = 0 ] && c=$(consistent 0); then
			KILLS+=("destroy-terminate: at the kill ${KW%% nodes=*}; after destroy again ${c%% nodes=*}")
			ok "2 kill -9 of destroy after 3 TerminateInstances (one per region) ($KW): destroy again: $c"
		elif [ $rc = 0 ]; then
			bad "2 destroy after a killed destroy: exit 0 but $c"
			cg destroy --auto-approve --refresh=false "$CLUSTER" >"$L.d5b" 2>&1 || show "$L.d5b" 5
		else
			show "$L.d5" 3
			bad "2 destroy after a killed destroy fails (product: providers/ec2/ec2.c refresh guard counts only live instances; the terminated ones carrying our tags prove the region is right; repro tests/aws/repro_destroy_crash.sh)"
			# the path the error message offers, so the other steps can run
			cg destroy --auto-approve --refresh=false "$CLUSTER" >"$L.d5b" 2>&1 || show "$L.d5b" 5
			KILLS+=("destroy-terminate: at the kill ${KW%% nodes=*}; destroy again refused (guard), --refresh=false: $(world | sed 's/ nodes=.*//')")
		fi
	fi
	c=$(consistent 0) && ok "2 destroyed between rounds: $c" || bad "2 destroy between rounds: $c"
fi

# --- 1: apply from nothing ----------------------------------------------------
if has 1; then
	# Security set-up is crash safe too: kill -9 while a node's certificate
	# is issued, then while the superuser is set up; the next apply ends it.
	# and while the login user's nodetool, cqlsh and credentials go out
	if crash cert-issue "line:issuing the node's certificate" &&
		crash tools "line:nodetool and cqlsh for $LOGIN" &&
		kill_point auth-setup "line:setting up cassandgo as the default role" 6; then
		ok "1 apply $CLUSTER from nothing, killed during certificates, the login user's tools and the role set-up: converged"
	elif apply_ok apply1; then
		bad "1 kill points during security set-up (a plain apply then completed)"
	else
		show "$L.apply1" 40; tail -5 "$WORK/dp.log"; abort "1 apply from nothing"
	fi
	c=$(consistent 6) && ok "1 boto3: $c; state = world" || bad "1 world: $c"
	if cg output "$CLUSTER" --json >"$WORK/output.json" 2>"$L.output" &&
		"$PY" -c 'import json,sys; s=json.load(open(sys.argv[1]))["security"]; sys.exit(not (s["tls"] and s["auth"]))' "$WORK/output.json"; then
		export CG_OUTPUT_JSON=$WORK/output.json
		ok "1 security on: TLS and authentication (output --json)"
	else
		show "$L.output"; bad "1 output --json: security not on"
	fi
	if ring_check DC1.n1; then ok "1 ring from DC1.n1: $(cat "$L.ring")"; else bad "1 ring from DC1.n1"; fi
	if "$PY" "$AWS_DIR/cql3.py" aws1 DC1="$(host_ip DC1.n1)" DC2="$(host_ip DC2.n1)" DC3="$(host_ip DC3.n1)" >"$L.cql" 2>&1; then
		ok "1 CQL {DC1:1,DC2:1,DC3:1}: $(tr '\n' ';' <"$L.cql")"
	else
		show "$L.cql"; bad "1 CQL across the 3 DCs"
	fi
	apply_ok apply2 && grep -q '^No changes\.' "$L.apply2" && ok "1 second apply: No changes. (${LAST_T}s)" ||
		{ show "$L.apply2"; bad "1 second apply is not a no-op"; }
	if t=$(tools_check 6); then
		ok "1 after the killed applies, the login user's 'nodetool status' (6 UN) and 'cqlsh -e' (TLS, superuser) work on all $t"
	else
		bad "1 the login user's tools:$t"
	fi
fi

# terminate NODE: its instance, behind the tool's back; wait until its host is gone
terminate() {
	local id; id=$(host_id "$1")
	python3 - "$MOTO_URL" "$id" <<'EOF2'
import sys, boto3
for r in ("eu-west-1", "us-east-1", "us-west-1"):
    c = boto3.client("ec2", region_name=r, endpoint_url=sys.argv[1], aws_access_key_id="t", aws_secret_access_key="t")
    ids = [i["InstanceId"] for x in c.describe_instances()["Reservations"] for i in x["Instances"]]
    if sys.argv[2] in ids:
        c.terminate_instances(InstanceIds=[sys.argv[2]])
EOF2
	for _ in $(seq 1 100); do [ -z "$(host_id "$1")" ] && return 0; sleep 0.1; done
	return 1
}

# joined NODE OLD_IP: a new instance (address) whose Cassandra bootstrapped
# (no auto_bootstrap: false in its cassandra.yaml) and a ring of $2 UN
joined() {
	local n=$1 old=$2 ip
	ip=$(host_ip "$n")
	[ -n "$ip" ] && [ "$ip" != "$old" ] || { echo "$n: address '$ip' (was $old)"; return 1; }
	if node_ssh "$n" grep -q "'^auto_bootstrap: false'" /var/lib/cassandgo/conf/cassandra.yaml; then
		echo "$n: started with auto_bootstrap: false (did not bootstrap)"; return 1
	fi
	echo "$n at $ip (was $old) bootstrapped"
}

# sequential FILE VERB DONE: the actions VERB...DONE in FILE never overlap
sequential() {
	[ -f "$1" ] || { echo "no $1"; return 1; }
	awk -v a="$2" -v b="$3" '
		index($0, a "...") { run++; n++; if (run > max) max = run }
		index($0, b " ") { run-- }
		END { print n " started, at most " max " at once"; exit (max > 1) }' "$1"
}

# --- 3: drift and change, with kill points (the cluster of step 1) ---------
if has 3; then
	cql_dc() { "$PY" "$AWS_DIR/cql3.py" aws1 DC1="$(host_ip DC1.n1)" DC2="$(host_ip DC2.n1)" DC3="$(host_ip DC3.n1)" >"$L.cql$1" 2>&1; }
	n=0
	for spec in "DC2.n2|call:RunInstances:1|between-RunInstances-and-state" \
		"DC3.n2|line:^install +DC3 n2 .*creating Cassandra install|during-bootstrap" \
		"DC1.n2|line:^start +DC1 n2 .*starting Cassandra$|during-start"; do
		IFS='|' read -r node trig what <<<"$spec"
		n=$((n + 1))
		old=$(host_ip "$node")
		if ! terminate "$node"; then bad "3 terminate $node: its host did not go"; continue; fi
		cg plan "$CLUSTER" >"$L.plan-t$n" 2>&1
		if grep -qE "^  (\+|-/\+) machine\.$node( |$)" "$L.plan-t$n"; then
			ok "3 $node terminated behind its back: plan shows $(grep -E "^  (\+|-/\+) machine\.$node" "$L.plan-t$n" | head -1 | sed 's/^ *//')"
		else
			show "$L.plan-t$n"; bad "3 plan does not replace terminated $node"
		fi
		kill_point "replace-$node-$what" "$trig" 6
		# it took over its dead predecessor's tokens (replace_address)
		if ! grep -qE "replacing dead node $old " "$L.replace-$node-$what" "$L.replace-$node-$what.rec"; then
			show "$L.replace-$node-$what.rec" 30; bad "3 replaced $node: did not replace dead node $old"
		elif j=$(joined "$node" "$old") && ring_check DC1.n1; then
			ok "3 $j, replacing dead node $old; ring $(cat "$L.ring")"
		else
			bad "3 replaced $node: $j"
		fi
	done
	# a seed's instance terminated: its replacement has a new address, so
	# every other node's seed list changes: written and reloaded (nodetool
	# reloadseeds), and none of them restarts (same Cassandra pid)
	others="DC1.n1 DC1.n2 DC2.n1 DC2.n2 DC3.n2"
	cass_pids() { local o; for o in $others; do printf '%s=%s ' "$o" "$(node_ssh "$o" /var/lib/cassandgo/bin/cgnode status | sed -n 's/^pid=//p')"; done; }
	before=$(cass_pids)
	old=$(host_ip DC3.n1)
	if ! terminate DC3.n1; then bad "3 terminate DC3.n1: its host did not go"; fi
	cg plan "$CLUSTER" >"$L.plan-seed" 2>&1
	nconf=$(grep -cE '^  ~ config\.DC[123]\.n[12]  \(seeds change with a new seed machine: written to cassandra\.yaml, reloaded without restart \(nodetool reloadseeds\)\)$' "$L.plan-seed")
	if grep -qE '^  \+ machine\.DC3\.n1( |$)' "$L.plan-seed" && [ "$nconf" = 5 ] &&
		! grep -E '^  [-+~/]+ service\.' "$L.plan-seed" | grep -qv 'service\.DC3\.n1 '; then
		ok "3 seed DC3.n1 terminated: plan replaces it and reloads the seeds of the 5 others, no restart: $(grep -m1 -E '^  ~ config\.' "$L.plan-seed" | sed 's/^ *//' | cut -c1-150)"
	else
		show "$L.plan-seed" 40; bad "3 plan for the terminated seed DC3.n1: $nconf config reloads, expected 5 and no other service step"
	fi
	if apply_ok apply-seed && [ "$(grep -c 'seeds reloaded without restart' "$L.apply-seed")" = 5 ]; then
		ok "3 seed DC3.n1 replaced, the seeds of 5 nodes reloaded (${LAST_T}s)"
	else
		show "$L.apply-seed" 40; bad "3 apply for the terminated seed DC3.n1"
	fi
	after=$(cass_pids)
	[ "$before" = "$after" ] && ! grep -q '= ' <<<"$after " && ok "3 no other node restarted: Cassandra pids $after" ||
		bad "3 Cassandra pids changed: before '$before', after '$after'"
	new=$(host_ip DC3.n1)
	if j=$(joined DC3.n1 "$old") && got=$(nodetool DC1.n2 getseeds 2>&1) &&
		grep -qF "/$new:" <<<"$got" && ! grep -qF "/$old:" <<<"$got" && ring_check DC1.n1; then
		ok "3 $j; DC1.n2's seeds now: $(grep -oE '([0-9]+\.){3}[0-9]+' <<<"$got" | tr '\n' ' ')"
	else
		bad "3 seed DC3.n1: $j; DC1.n2 getseeds '$got' (want $new, not $old)"
	fi

	# no dead predecessor left in the ring (ring_check above counts only
	# live hosts; this looks for any DN at all)
	if nodetool DC1.n1 status >"$L.status-dn" 2>&1; then
		dn=$(awk '$1 == "DN" { print $2 }' "$L.status-dn" | tr '\n' ' ')
		[ -z "$dn" ] && ok "3 after 3 replacements no dead node is left in the ring" ||
			{ show "$L.status-dn"; bad "3 dead nodes left in the ring: $dn"; }
	else
		show "$L.status-dn"; bad "3 nodetool status from DC1.n1"
	fi
	cql_dc 3 && ok "3 after 3 replacements a new row written at EACH_QUORUM reads back in every DC" ||
		{ show "$L.cql3"; bad "3 CQL after the replacements"; }

	# a cassandra: setting -> rolling restart, one at a time
	aws_config 2 "  cassandra: {concurrent_reads: 48}
"
	cg plan "$CLUSTER" >"$L.plan-set" 2>&1
	nu=$(grep -cE '^  ~ service\.' "$L.plan-set")
	[ "$nu" = 6 ] && ok "3 concurrent_reads: 48: plan restarts 6 services" || { show "$L.plan-set"; bad "3 plan for a setting: $nu service updates"; }
	kill_point restart-2nd "nth:2:restarting Cassandra\\.\\.\\." 6
	s1=$(sequential "$L.restart-2nd" "restarting Cassandra" "Cassandra restarted") &&
		s2=$(sequential "$L.restart-2nd.rec" "restarting Cassandra" "Cassandra restarted") &&
		ok "3 rolling restart one at a time: killed run $s1; next apply $s2" ||
		{ show "$L.restart-2nd.rec"; bad "3 restarts overlapped: $s1 / $s2"; }
	good=0
	for h in $(hosts | awk '{print $1}'); do
		node_ssh "$h" grep -q "'^concurrent_reads: 48'" /var/lib/cassandgo/conf/cassandra.yaml && good=$((good + 1))
	done
	[ $good = 6 ] && ring_check DC2.n1 && ok "3 all 6 nodes run with concurrent_reads: 48; ring $(cat "$L.ring")" ||
		bad "3 setting on $good of 6 nodes"

	# add a node to DC1
	aws_config 3 "  cassandra: {concurrent_reads: 48}
"
	cg plan "$CLUSTER" >"$L.plan-add" 2>&1
	grep -qE '^  \+ machine\.DC1\.n3' "$L.plan-add" && ok "3 nodes: 3 in DC1: plan shows + machine.DC1.n3" ||
		{ show "$L.plan-add"; bad "3 plan does not add DC1.n3"; }
	if kill_point add-DC1.n3-start 'line:^start +DC1 n3 .*starting Cassandra' 7; then
		j=$(joined DC1.n3 none) && ring_check DC3.n1 && ok "3 added: $j; ring $(cat "$L.ring")" || bad "3 DC1.n3 did not join: $j"
		# system_auth's RF in DC1 went 2 -> 3: DC1.n3 streamed only its share
		# of the roles when it joined; each DC1 node is repaired after the raise
		r=$(grep -cE 'full repair of system_auth on DC1 n[1-3] \([1-3] of 3 in DC1\)' "$L.add-DC1.n3-start.rec")
		[ "$r" = 3 ] && ok "3 system_auth's RF in DC1 2 -> 3: a full repair of system_auth on each of the 3 DC1 nodes" ||
			{ show "$L.add-DC1.n3-start.rec" 30; bad "3 system_auth repairs after the RF raise: $r of 3"; }
	fi

	# remove it again: decommissioned before its instance goes
	aws_config 2 "  cassandra: {concurrent_reads: 48}
"
	cg plan "$CLUSTER" >"$L.plan-rm" 2>&1
	grep -qE '^  - machine\.DC1\.n3' "$L.plan-rm" && ok "3 back to 2 nodes: plan shows - machine.DC1.n3" ||
		{ show "$L.plan-rm"; bad "3 plan does not remove DC1.n3"; }
	if kill_point remove-DC1.n3-decommission 'line:^start +DC1 n3 .*destroying Cassandra' 6; then
		cat "$L.remove-DC1.n3-decommission" "$L.remove-DC1.n3-decommission.rec" >"$L.rm-all"
		dl=$(grep -nE 'DC1 n3 .*decommissioned, stopped' "$L.rm-all" | head -1 | cut -d: -f1)
		ml=$(grep -nE 'DC1 n3 .*machine destroyed' "$L.rm-all" | head -1 | cut -d: -f1)
		if [ -n "$dl" ] && [ -n "$ml" ] && [ "$dl" -lt "$ml" ]; then
			ok "3 DC1.n3 decommissioned (line $dl) before its machine was destroyed (line $ml)"
		else
			show "$L.rm-all" 40; bad "3 decommission/terminate order: decommissioned at '$dl', destroyed at '$ml'"
		fi
		ring_check DC1.n1 && ok "3 ring after the removal: $(cat "$L.ring")" || bad "3 ring after the removal"
	fi
	# a node removed while it is down (instance stopped): it cannot
	# decommission itself; a live node removes it (removenode), then its
	# instance is terminated
	aws_config 3 "  cassandra: {concurrent_reads: 48}
"
	if apply_ok add2 && ring_check DC2.n1 >/dev/null; then
		id=$(host_id DC1.n3)
		python3 - "$MOTO_URL" "$id" <<'EOF2'
import sys, boto3
c = boto3.client("ec2", region_name="eu-west-1", endpoint_url=sys.argv[1], aws_access_key_id="t", aws_secret_access_key="t")
c.stop_instances(InstanceIds=[sys.argv[2]])
EOF2
		for _ in $(seq 1 100); do [ -z "$(host_id DC1.n3)" ] && break; sleep 0.1; done
		aws_config 2 "  cassandra: {concurrent_reads: 48}
"
		if apply_ok rm-down && grep -qE 'removing dead node .*no machine has it' "$L.rm-down" &&
			ring_check DC1.n1 && c=$(consistent 6); then
			ok "3 DC1.n3 stopped, then removed from the config: removed from the ring by a live node (removenode), instance terminated; ring $(cat "$L.ring"); $c"
		else
			show "$L.rm-down" 30; bad "3 removing a node that is down: $c"
		fi
	else
		show "$L.add2" 30; bad "3 adding DC1.n3 again"
	fi
	apply_ok apply-after3 && grep -q '^No changes\.' "$L.apply-after3" && ok "3 then: No changes." ||
		{ head -n 40 "$L.apply-after3" | sed 's/^/    | /'; bad "3 not converged after drift and change"; }
	# the replaced and re-added machines got theirs with their config
	if t=$(tools_check 6); then
		ok "3 after replacements, additions and removals: the login user's nodetool and cqlsh work on all $t"
	else
		bad "3 the login user's tools:$t"
	fi
fi

# --- 4: the same apply from nothing behind the fault proxy (30% faults) ------
if has 4; then
	destroy_ok d-before4
	start_proxy --throttle 0.12 --error 0.08 --drop 0.05 --drop-after 0.05 --seed 5
	use_endpoint "$PROXY_URL"
	if apply_ok apply-faults; then
		f=$(curl -s "$PROXY_URL/__counts" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(sum(d["requests"].values()), "calls,", sum(d["faults"].values()), "faults", d["faults"])')
		ok "4 apply from nothing through the fault proxy: Apply complete! (${LAST_T}s; $f)"
		c=$(consistent 6) && ok "4 boto3: $c; state = world" || bad "4 world: $c"
		ring_check DC3.n2 && ok "4 ring: $(cat "$L.ring")" || bad "4 ring"
	else
		show "$L.apply-faults" 30; bad "4 apply through the fault proxy"
	fi
	stop_proxy
	use_endpoint "$KP_URL"
fi

# --- 6: parking: stop and start with the data still readable --------------
if has 6; then
	rows() { "$PY" "$AWS_DIR/park_rows.py" "$1" park 50 DC1="$(host_ip DC1.n1)" DC2="$(host_ip DC2.n1)" DC3="$(host_ip DC3.n1)" >"$L.rows-$1" 2>&1; }
	# the Cassandra JVMs of the instances' hosts, and how many of them still live
	jvm_pids() { for ns in $(ip netns list | awk '$1 ~ /^cga-/ {print $1}'); do
		for p in $(ip netns pids "$ns"); do
			grep -qsF CassandraDaemon "/proc/$p/cmdline" && echo "$p"; done; done | tr '\n' ' '; }
	alive() { local n=0 p; for p in $1; do [ -d "/proc/$p" ] && n=$((n + 1)); done; echo $n; }
	# nodes whose drain began in either log: the killed stop may have stopped a
	# node it had not yet said was done (or said so without recording it), so
	# "drained" lines alone count a node zero or two times
	drained() { grep -hE ' draining$' "$@" | awk '{print $2 "." $3}' | sort -u | wc -l; }
	if rows write; then
		ok "6 $(cat "$L.rows-write")"
		t0=$(now)
		jvms=$(jvm_pids)
		# killed after the first node is drained: stop again finishes it
		if CRASH_CMD=stop crash park-stop "line:drained, Cassandra stopped"; then
			cg stop --auto-approve "$CLUSTER" >"$L.stop" 2>&1
			rc=$?
			for _ in $(seq 1 100); do ip netns list | grep -q '^cga-' || break; sleep 0.1; done
			w=$(world)
			if [ $rc = 0 ] && grep -q "^Stop complete! Cluster $CLUSTER is parked" "$L.stop" &&
				case "$w" in "running=0 other=6 "*) true ;; *) false ;; esac &&
				[ "$(alive "$jvms")" = 0 ] && ! ip netns list | grep -q '^cga-' &&
				[ "$(drained "$L.park-stop" "$L.stop")" = 6 ]; then
				ok "6 stop, killed after a drain, then stop again: 6 nodes drained, parked in $(( $(now) - t0 ))s; boto3 ${w%% nodes=*}; no host, none of the $(echo $jvms | wc -w) JVMs left"
			else
				show "$L.stop" 30; bad "6 stop: rc $rc, $w, $(alive "$jvms") of the JVMs ($jvms) alive"
			fi
		fi
		cg plan "$CLUSTER" >"$L.plan-parked" 2>&1
		grep -q "No changes: cluster $CLUSTER is parked" "$L.plan-parked" && ok "6 plan: parked, nothing planned" ||
			{ show "$L.plan-parked"; bad "6 plan of the parked cluster"; }
		t0=$(now)
		# killed once its instances run again: start again goes on from there
		if CRASH_CMD=start crash park-start "line:machine started"; then
			cg start --auto-approve "$CLUSTER" >"$L.start" 2>&1
			rc=$?
			if [ $rc = 0 ] && grep -q "^Start complete! Cluster $CLUSTER runs" "$L.start"; then
				ok "6 start, killed once the machines ran, then start again: complete in $(( $(now) - t0 ))s"
			else
				show "$L.start" 40; bad "6 start: rc $rc"
			fi
		fi
		c=$(consistent 6) && ok "6 boto3 after start: $c; state = world" || bad "6 world after start: $c"
		ring_check DC2.n2 && ok "6 ring after start: $(cat "$L.ring")" || bad "6 ring after start"
		rows read && ok "6 $(tr '\n' ';' <"$L.rows-read")" || { show "$L.rows-read"; bad "6 rows after start"; }
		apply_ok apply-after6 && grep -q '^No changes\.' "$L.apply-after6" && ok "6 then apply: No changes." ||
			{ show "$L.apply-after6" 30; bad "6 not converged after start"; }
	else
		show "$L.rows-write"; bad "6 writing rows before the stop"
	fi
fi

# --- 5: destroy leaves nothing -------------------------------------------
if has 5; then
	pids=$(for ns in $(ip netns list | awk '$1 ~ /^cga-/ {print $1}'); do ip netns pids "$ns"; done | tr '\n' ' ')
	cg destroy --auto-approve "$CLUSTER" >"$L.destroy" 2>&1 && grep -q '^Destroy complete!' "$L.destroy" &&
		ok "5 destroy: Destroy complete!" || { show "$L.destroy"; bad "5 destroy"; }
	# the data plane powers the hosts off at its next poll
	for _ in $(seq 1 100); do
		ip netns list | grep -q '^cga-' || break
		sleep 0.1
	done
	left=()
	w=$(world)
	case "$w" in "running=0 other=0 sg=0 keys=0 dup=0 "*) ;; *) left+=("world: $w") ;; esac
	for ns in $(ip netns list | awk '$1 ~ /^cga-/ {print $1}'); do left+=("netns $ns"); done
	# a zombie has exited (pid 1 here may reap late): it does not count
	for p in $pids; do
		st=$(awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$p/stat" 2>/dev/null) || continue
		[ -n "$st" ] && [ "$st" != Z ] && left+=("process $p ($(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | cut -c1-50))")
	done
	[ "$(hosts | wc -l)" = 0 ] || left+=("hosts $(hosts | tr '\n' ' ')")
	[ -n "$pids" ] && [ ${#left[@]} = 0 ] && ok "5 nothing left: no instance, SG, key pair, namespace or process (${pids// /,} gone)" ||
		bad "5 left behind: ${left[*]:-(no process recorded before)}"
fi

echo "# kill points (instances counted by boto3):"
for k in "${KILLS[@]}"; do echo "#   $k"; done
finish
