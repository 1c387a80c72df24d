#!/usr/bin/env bash
# make e2e-aws (issue 5): the AWS path end to end without AWS. cassandgo
# talks to moto on loopback as to EC2 and SSHes to the instances' private
# addresses, where dataplane.py runs a network-namespace host per instance:
#   1 apply -> a real 3-DC ring (6 UN, racks = zones); CQL at EACH_QUORUM
#     read back in every DC; a second apply prints No changes.
#   2 crash safety: kill -9 of apply at >= 10 points, apply again each time
#   3 drift and change: terminate behind its back, add a node, remove one,
#     change a cassandra: setting (rolling restart)
#   4 under the fault proxy (30% of EC2 calls fail) the same apply converges
#   5 destroy leaves no instance, SG, key pair, namespace or process
# usage: tests/aws/run.sh CASSANDGO [STEPS]   (STEPS e.g. "1 2 5"; default all)
# Prints "N passed, M failed"; exits 1 on any failure; cleans up on every exit.
set -uo pipefail
CG=$(realpath "${1:?usage: run.sh CASSANDGO}")
STEPS=${2:-1 2 3 4 5}
. "$(dirname "$0")/lib.sh"
trap aws_cleanup EXIT
aws_preflight
isolate_env
export CASSANDGO_EC2_WAIT_S=60
aws_user
start_moto
use_endpoint "$MOTO_URL"
aws_config
mkdir -p "$WORK/state"
start_dataplane

pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   - $*"; }
bad() { fail=$((fail + 1)); echo "FAIL - $*"; }
show() { sed 's/^/    | /' "$1" | tail -n "${2:-25}"; }
finish() {
	echo "$pass passed, $fail failed"
	[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
	exit $?
}
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

# --- 1 ------------------------------------------------------------------------
if has 1; then
	if apply_ok apply1; then
		ok "1 apply $CLUSTER from nothing: Apply complete! (${LAST_T}s)"
	else
		show "$L.apply1" 40; tail -5 "$WORK/dp.log"; abort "1 apply from nothing"
	fi
	w=$(world)
	case "$w" in
	"running=6 other=0 sg=3 keys=3 dup=0 "*) ok "1 boto3: $w" ;;
	*) bad "1 boto3: $w" ;;
	esac
	if ring_check DC1.n1; then ok "1 ring from DC1.n1: $(cat "$L.ring")"; else bad "1 ring from DC1.n1"; fi
fi
finish
