#!/usr/bin/env bash
# make check-stress: `cassandgo stress` against a live Lab of its own (local
# provider, 4 Cassandra nodes, 2 DCs, range 10.85.0.0/16) with the real latte
# that `make deps` builds (tests/deps.d/stress.sh):
#   1 apply
#   2 --dc DC9: exit 64 naming DC1 and DC2; no results folder, no client
#     namespace, the state unchanged
#   3 stress --dc DC2 --workload read (text), run with relative -c and
#     --state: the table and the TLS note
#   4 stress --json, 10 s at 200 op/s per DC: while it runs a client namespace
#     per DC with latte in it and the password on no `ps` line; then per DC
#     latte ran at that rate, 0 < ops <= 110% of it, errors 0, percentiles present, DC
#     names exactly DC1 and DC2; summary.json agrees with --json; report.html
#     self-contained with a chart per DC; the password in no file of the
#     results folder; the client namespaces gone
#   5 report.html of step 4 in a real headless browser (chromium): two
#     charts per DC, rendered, no console error, a screenshot
#   6 run Lab SCENARIO (tests/stress/browser.sh, check.py scenario): a bad
#     scenario refused with FILE:LINE:COL and nothing run; then 40 s of
#     LOCAL_QUORUM load with DC1.n2 killed at 10 s and healed at 20 s: both
#     fired on time, errors counted per phase (none before the kill nor in
#     DC2; DC1's after it, its two replicas needed), every node healed and
#     UN at the end (status too), the faults marked on every chart in the
#     browser
#   7 a stress killed with SIGKILL leaves its namespaces: destroy removes
#     them; the results folders outlive destroy
# usage: tests/stress/run.sh [CASSANDGO]. Prints "N passed, M failed".
# STRESS_SAVE=DIR keeps a copy of the results folders there.
set -uo pipefail
CG=$(realpath "${1:-./cassandgo}")
E2E_RANGE=${STRESS_RANGE:-10.85.0.0/16}
. "$(dirname "$0")/../e2e/lib.sh"
HERE_STRESS=$(cd "$(dirname "$0")" && pwd)

e2e_preflight check-stress || { echo "0 passed, 1 failed"; exit 1; }
LATTE=${CASSANDGO_LATTE:-${CASSANDGO_CASSANDRA_CACHE:-/var/cache/cassandgo}/latte-0.29.0/bin/latte}
[ -x "$LATTE" ] || { echo "check-stress: latte missing at $LATTE (make deps); FAILED" >&2; echo "0 passed, 1 failed"; exit 1; }
e2e_setup stress || { echo "0 passed, 1 failed"; exit 1; }
STRESS_PID=
stress_cleanup() {
	[ -n "$STRESS_PID" ] && kill -9 "$STRESS_PID" 2>/dev/null
	e2e_cleanup
}
trap stress_cleanup EXIT
trap 'exit 130' INT TERM

L=$TMP/log
RESULTS=$TMP/results/Lab
clients() { ls /run/netns 2>/dev/null | grep -E "^cg-$(e2e_tag)-.*-client\$" | sort | tr '\n' ' '; }

# --- 1. apply ---------------------------------------------------------------
e2e_apply_first check-stress
ok "1 apply Lab"
# The password is searched for with grep -f: on grep's command line it
# would be on a `ps` line itself.
PWF=$TMP/.cassandgo/Lab/superuser.password
[ "$(wc -c <"$PWF")" -ge 17 ] || { bad "1 no superuser password in $PWF"; finish; }

# --- 2. an unknown DC changes nothing ---------------------------------------
cg state list >"$L.state0" 2>&1
cg stress Lab --dc DC1 --dc DC9 --duration 5 >"$L.baddc" 2>&1
rc=$?
cg state list >"$L.state1" 2>&1
if [ $rc = 64 ] && grep -q 'DC9' "$L.baddc" && grep -q 'DC1, DC2' "$L.baddc" &&
	[ ! -e "$TMP/results" ] && [ -z "$(clients)" ] && cmp -s "$L.state0" "$L.state1"; then
	ok "2 --dc DC9: exit 64, '$(head -n1 "$L.baddc")'; nothing made, state unchanged"
else
	show "$L.baddc"
	bad "2 --dc DC9: exit $rc, results: $(ls "$TMP/results" 2>&1), clients: '$(clients)'"
fi

# --- 3. text output, one DC, read workload ----------------------------------
# First, on purpose: it also warms the fresh JVMs up, so that the rate of
# step 4 measures the cluster, not its JIT compiler.
# Also: from the config's directory with relative paths (-c, --state), as a
# user types them; latte runs elsewhere and must be given absolute ones.
(cd "$(dirname "$CONF")" && timeout --foreground "$E2E_TIMEOUT" "$CG" -c "$(basename "$CONF")" \
	--state .cassandgo/state.db stress Lab --dc DC2 --workload read --duration 5 --rate 100 \
	--consistency local_one) >"$L.text" 2>&1
rc=$?
if [ $rc = 0 ] && grep -Eq '^DC2 +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +0$' "$L.text" &&
	! grep -q '^DC1 ' "$L.text" && grep -q 'does not verify' "$L.text" &&
	grep -q 'read at LOCAL_ONE' "$L.text" && grep -q '^Results: ' "$L.text"; then
	ok "3 stress --dc DC2 --workload read: $(grep -E '^DC2 +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +0$' "$L.text" | tr -s ' ')"
else
	show "$L.text" 30
	bad "3 stress --dc DC2 --workload read: exit $rc"
fi

# --- 4. stress --json ------------------------------------------------------
t0=$(now)
cg stress Lab --duration 10 --rate 200 --json >"$L.json" 2>"$L.json.err" &
STRESS_PID=$!
seen_ns= seen_latte= pw_in_ps=0 ps_samples=0
while kill -0 "$STRESS_PID" 2>/dev/null; do
	# every command line on the machine, latte's included
	if ps -eo args= | grep -qFf "$PWF"; then pw_in_ps=1; fi
	ps_samples=$((ps_samples + 1))
	c=$(clients)
	# every namespace seen at any sample (the DCs' clients end apart)
	for ns in $c; do grep -qw -- "$ns" <<<"$seen_ns" || seen_ns="$seen_ns $ns"; done
	for ns in $c; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			grep -qa latte "/proc/$pid/cmdline" 2>/dev/null &&
				! grep -qw -- "$ns" <<<"$seen_latte" && seen_latte="$seen_latte $ns"
		done
	done
	sleep 0.3
done
wait "$STRESS_PID"
rc=$?
STRESS_PID=
echo "# stress --json: exit $rc after $(elapsed "$t0")s, $ps_samples ps samples"
if [ $rc = 0 ] && [ "$pw_in_ps" = 0 ] && [ "$ps_samples" -gt 5 ] &&
	grep -q -- '-DC1-client' <<<"$seen_ns" && grep -q -- '-DC2-client' <<<"$seen_ns" &&
	grep -q -- '-DC1-client' <<<"$seen_latte" && grep -q -- '-DC2-client' <<<"$seen_latte"; then
	ok "4 stress ran latte in $seen_ns; the password on none of $ps_samples ps snapshots"
else
	show "$L.json.err"
	bad "4 stress --json: exit $rc, namespaces '$seen_ns', latte in '$seen_latte', password in ps: $pw_in_ps"
fi
if r=$("$PY" "$HERE_STRESS/check.py" json 200 DC1,DC2 <"$L.json" 2>&1); then
	ok "4 --json: $r"
else
	show "$L.json"; show "$L.json.err"
	bad "4 --json figures: $r"
fi
DIR=$("$PY" -c 'import json,sys; print(json.load(sys.stdin)["report"])' <"$L.json" 2>/dev/null)
if [ -n "$DIR" ] && r=$("$PY" "$HERE_STRESS/check.py" folder "$DIR" "$L.json" "$RESULTS" 2>&1); then
	ok "4 results folder: $r"
else
	bad "4 results folder '$DIR': $r"
fi
if [ -n "$DIR" ] && [ -d "$DIR" ] && ! grep -rqFf "$PWF" "$DIR" && ! grep -qFf "$PWF" "$L.json" "$L.json.err"; then
	ok "4 the password is in no file of $DIR ($(ls "$DIR" | tr '\n' ' ')) nor in the output"
else
	bad "4 the password is in the results or the output: $(grep -rlFf "$PWF" "$DIR" "$L.json" "$L.json.err" 2>&1)"
fi
if [ -z "$(clients)" ]; then
	ok "4 the client namespaces are gone after the run"
else
	bad "4 client namespaces left: $(clients)"
fi

# --- 5. the report in a real browser ----------------------------------------
if [ -n "$DIR" ] && r=$("$HERE_STRESS/browser.sh" "$DIR/report.html" DC1,DC2 0 "$TMP/browser-stress" 2>&1); then
	ok "5 report.html of the stress: $r"
else
	bad "5 report.html in chromium: $r"
fi

# --- 6. a scenario: a node killed and healed under load ---------------------
cat >"$TMP/bad-scenario.yaml" <<'YAML'
load:
  duration: 40
faults:
  - {at: 10, kill: DC1.n3}
YAML
cg run Lab "$TMP/bad-scenario.yaml" >"$L.runbad" 2>&1
rc=$?
if [ $rc = 65 ] && grep -q "bad-scenario.yaml:4:20: faults\[0\].kill: DC1 has no node n3" "$L.runbad" &&
	grep -q 'DC1.n1 to DC1.n2, DC2.n1 to DC2.n2' "$L.runbad" && [ -z "$(clients)" ]; then
	ok "6 a bad scenario: exit 65, $(grep -o 'bad-scenario.yaml:[^;]*' "$L.runbad")"
else
	show "$L.runbad"
	bad "6 a bad scenario: exit $rc"
fi
cat >"$TMP/scenario.yaml" <<'YAML'
description: DC1.n2 killed for 10 s under load
load:
  workload: mixed
  rate: 200
  duration: 40
  consistency: LOCAL_QUORUM
faults:
  - {at: 10, kill: DC1.n2}
  - {at: 20, heal: DC1.n2}
YAML
t0=$(now)
cg run Lab "$TMP/scenario.yaml" >"$L.run" 2>&1
rc=$?
echo "# run: exit $rc after $(elapsed "$t0")s"
SDIR=$(sed -n 's/^Results: \(\/[^ ]*\) .*/\1/p' "$L.run")
if [ $rc = 0 ] && [ -d "$SDIR" ] && grep -q 'kill DC1.n2: DC1.n2: killed' "$L.run" &&
	grep -q '^Phases of DC1' "$L.run"; then
	ok "6 run Lab scenario.yaml: exit 0 in $(elapsed "$t0")s; $(grep -c '' "$L.run") lines of output"
else
	show "$L.run" 40
	bad "6 run Lab scenario.yaml: exit $rc"
fi
if [ -n "$SDIR" ] && r=$("$PY" "$HERE_STRESS/check.py" scenario "$SDIR" 2>&1); then
	ok "6 summary.json: $r"
else
	show "$L.run" 40
	bad "6 summary.json of the scenario: $r"
fi
cg status Lab >"$L.status" 2>&1
rc=$?
if [ $rc = 0 ] && [ "$(grep -Ec '^  UN  ' "$L.status")" = 4 ]; then
	ok "6 status after the run: exit 0, 4 UN"
else
	show "$L.status"
	bad "6 status after the run: exit $rc, $(grep -Ec '^  UN  ' "$L.status") UN"
fi
if [ -n "$SDIR" ] && r=$("$HERE_STRESS/browser.sh" "$SDIR/report.html" DC1,DC2 2 "$TMP/browser-run" 2>&1); then
	ok "6 report.html of the scenario: $r"
else
	bad "6 the scenario's report in chromium: $r"
fi
[ -n "${STRESS_SAVE:-}" ] && cp "$TMP/browser-run/report.png" "$STRESS_SAVE/scenario-report.png" 2>/dev/null

# --- 7. a killed stress, then destroy ---------------------------------------
cg stress Lab --duration 60 --rate 50 --json >"$L.kill" 2>&1 &
STRESS_PID=$!
for _ in $(seq 100); do
	c=$(clients)
	[ -n "$c" ] && ip netns pids "${c%% *}" 2>/dev/null | grep -q . && break
	sleep 0.2
done
kill -9 "$STRESS_PID" 2>/dev/null
wait "$STRESS_PID" 2>/dev/null
STRESS_PID=
left=$(clients)
tag=$(e2e_tag)	# before destroy, which takes the node root (and so the tag) away
nres=$(ls "$RESULTS" 2>/dev/null | wc -l)
t0=$(now)
cg destroy --auto-approve Lab >"$L.destroy" 2>&1
rc=$?
echo "# destroy: $rc after $(elapsed "$t0")s"
latte_left=$(pgrep -f "$TMP/results" || true)
if [ $rc = 0 ] && [ -n "$left" ] && [ -z "$(clients)" ] && [ -z "$latte_left" ] &&
	[ -n "$tag" ] && ! ip -o link show | grep -q "cgb$tag"; then
	ok "7 destroy removed the namespaces a killed stress left ($left) and its latte"
else
	show "$L.destroy"
	bad "7 destroy after a killed stress: exit $rc, left before '$left', after '$(clients)', latte '$latte_left'"
fi
if [ "$nres" -ge 4 ] && [ -d "$DIR" ] && [ -s "$DIR/report.html" ] && [ -s "$DIR/summary.json" ]; then
	ok "7 the results folders ($nres) outlive destroy"
else
	bad "7 results after destroy: $nres folders, $(ls "$DIR" 2>&1)"
fi
# keep the results for a look (the scratch dir goes with the cleanup)
[ -n "${STRESS_SAVE:-}" ] && cp -r "$RESULTS" "$STRESS_SAVE" && cp "$L.text" "$L.run" "$STRESS_SAVE/"
finish
