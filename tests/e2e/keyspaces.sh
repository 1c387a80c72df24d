#!/usr/bin/env bash
# make check-keyspaces: keyspaces declared in the config (#12) on a live Lab of
# its own (10.86.0.0/16; security on, KS_SECURITY=off for the other path):
#   1 apply with `app` {DC1: 2, DC2: 1}: system_schema shows that replication
#   2 a second apply changes nothing
#   3 rows written; DC2's RF raised to 2: the plan says so and that a full
#     repair follows in DC2; an apply killed (kill -9) during the repair
#     leaves it owed (the next plan says so); apply runs it node by node; the
#     rows read back at LOCAL_QUORUM through DC2
#   4 `app` removed from the config: the plan says it is only forgotten; apply
#     forgets it; the keyspace and its rows are still there; nothing to do
# usage: tests/e2e/keyspaces.sh [CASSANDGO]; prints "N passed, M failed".
set -uo pipefail
CG=$(realpath "${1:-./cassandgo}")
E2E_RANGE=${KEYSPACES_RANGE:-10.86.0.0/16}
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

e2e_preflight keyspaces || { echo "0 passed, 1 failed"; exit 1; }
e2e_setup keyspaces || { echo "0 passed, 1 failed"; exit 1; }
# ok, bad, show, finish: tests/e2e/lib.sh
trap e2e_cleanup EXIT
trap 'echo "keyspaces: interrupted"; echo "$pass passed, $((fail + 1)) failed"; exit 130' INT TERM
L=$TMP/log

[ "${KS_SECURITY:-on}" = off ] && sed -i 's/^  heap: 512M$/  heap: 512M\n  security: off/' "$CONF"
keyspace() {	# DC2's RF, or nothing: no keyspaces: section
	sed -i '/^  keyspaces:/,$d' "$CONF"
	[ -n "$1" ] && printf '  keyspaces:\n    - name: app\n      replication: {DC1: 2, DC2: %s}\n' "$1" >>"$CONF"
}
ks() { "$PY" "$HERE/ks_check.py" "$@"; }
# planned STEP WANT SUMMARY: the plan holds the line WANT and the summary
planned() {
	cg plan Lab >"$L.plan$1" 2>&1
	if grep -qF -- "$2" "$L.plan$1" && grep -qF "Plan: $3." "$L.plan$1"; then
		ok "$1 plan: $2"
	else
		show "$L.plan$1"; bad "$1 plan: expected '$2' and 'Plan: $3.'"
	fi
}
# unchanged STEP WHAT CMD...: CMD (an apply or plan) exits 0 saying No changes.
unchanged() {
	local step=$1 what=$2 t0 rc
	shift 2
	t0=$(now)
	cg "$@" >"$L.same$step" 2>&1
	rc=$?
	if [ $rc = 0 ] && grep -q '^No changes\.' "$L.same$step"; then
		ok "$step $what: No changes. ($(elapsed "$t0")s)"
	else
		show "$L.same$step"; bad "$step $what: exit $rc, expected No changes."
	fi
}
echo "# keyspaces: Lab on $E2E_RANGE in $TMP (security ${KS_SECURITY:-on})"

# --- 1. created with its replication ------------------------------------------
keyspace 1
t0=$(now)
cg apply --auto-approve Lab >"$L.apply1" 2>&1
rc=$?
t1=$(elapsed "$t0")
e2e_applied
DC1=${N_IP[0]} DC2=${N_IP[3]}
if [ $rc = 0 ] && grep -qE '^verify +keyspace\.app .*keyspace created' "$L.apply1" &&
	ks "$DC2" DC2 replication app DC1:2,DC2:1 >"$L.rep1" 2>&1; then
	ok "1 apply from nothing (${t1}s): keyspace app created: $(cat "$L.rep1")"
else
	show "$L.apply1"; show "$L.rep1" 2>/dev/null
	bad "1 apply with keyspace app (exit $rc)"
	finish
fi

# --- 2. nothing to do -----------------------------------------------------------
unchanged 2 "second apply" apply --auto-approve Lab

# --- 3. DC2's RF raised: the repair follows there ----------------------------------
if ks "$DC1" DC1 write app 200 >"$L.write" 2>&1; then
	ok "3 $(cat "$L.write")"
else
	show "$L.write"; bad "3 writing rows into app"
fi
keyspace 2
planned 3 "~ keyspace.app  (DC2 1 -> 2; then a full repair of app in DC2 (nodetool repair -full app on each of its nodes, one at a time))" \
	"0 to add, 1 to change, 0 to destroy"
# killed (kill -9) during the repair: the next plan still owes it
cg apply --auto-approve Lab >"$L.apply3k" 2>&1 &
kill_apply_at $! "$L.apply3k" 'full repair of app on DC2 n1' 600
if [ -n "$KILLED" ] && [ -n "$KILL_LOCK" ] && grep -q 'full repair of app on DC2 n1' "$L.apply3k" &&
	! grep -q 'repaired app on DC2 n2' "$L.apply3k"; then
	ok "3 apply killed (kill -9) during the full repair of app on DC2 n1"
else
	show "$L.apply3k"; bad "3 apply did not reach the repair before it ended"
fi
planned 3 "~ keyspace.app  (the full repair after the last RF raise did not finish (an interrupted apply); then a full repair of app in DC2" \
	"0 to add, 1 to change, 0 to destroy"
t0=$(now)
cg apply --auto-approve Lab >"$L.apply3" 2>&1
rc=$?
t3=$(elapsed "$t0")
repairs=$(grep -cE 'repaired app on DC2 n[12] in' "$L.apply3")
if [ $rc = 0 ] && [ "$repairs" = 2 ] && ! grep -q 'repaired app on DC1' "$L.apply3" &&
	ks "$DC2" DC2 replication app DC1:2,DC2:2 >"$L.rep3" 2>&1 &&
	ks "$DC2" DC2 read app 200 >"$L.read3" 2>&1; then
	ok "3 apply (${t3}s): $(grep -oE 'repaired app on DC2 n[12] in [0-9.]+s' "$L.apply3" | paste -sd, | sed 's/,/, /g'); $(cat "$L.rep3"); $(cat "$L.read3")"
else
	show "$L.apply3"; show "$L.rep3" 2>/dev/null; show "$L.read3" 2>/dev/null
	bad "3 apply raising DC2's RF (exit $rc, $repairs repairs in DC2)"
fi
unchanged 3 "then the plan" plan --detailed-exitcode Lab

# --- 4. removed from the config: forgotten, never dropped --------------------------
keyspace ""
planned 4 "- keyspace.app  (removed from the configuration: cassandgo never drops a keyspace; its data stays)" \
	"0 to add, 0 to change, 0 to destroy"
cg apply --auto-approve Lab >"$L.apply4" 2>&1
rc=$?
if [ $rc = 0 ] && grep -q 'keyspace.app .*forgotten (the keyspace and its data stay)' "$L.apply4" &&
	! cg state list 2>/dev/null | grep -q keyspace.app &&
	ks "$DC2" DC2 replication app DC1:2,DC2:2 >"$L.rep4" 2>&1 && ks "$DC1" DC1 read app 200 >"$L.read4" 2>&1; then
	ok "4 apply forgot it; the cluster still has it: $(cat "$L.rep4"); $(cat "$L.read4")"
else
	show "$L.apply4"; show "$L.rep4" 2>/dev/null; show "$L.read4" 2>/dev/null
	bad "4 apply after removing app (exit $rc)"
fi
unchanged 4 "then the plan (the keyspace is left alone)" plan --detailed-exitcode Lab
finish
