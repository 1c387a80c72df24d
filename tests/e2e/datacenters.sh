#!/usr/bin/env bash
# make check-datacenters: a datacenter added to and removed from a live Lab
# of its own (10.88.0.0/16; #12), with a client in DC1 writing and reading at
# LOCAL_QUORUM (keyspace e2e, RF 3 in DC1) during every change:
#   1 Lab of DC1 x 3 and DC2 x 1 with keyspace e2e declared; rows written;
#     an undeclared keyspace (scratch)
#   2 DC3 (1 node) added: the plan shows its nodes starting empty, the
#     keyspaces gaining DC3, `rebuild DC3 n1 from DC1`, the check, and that
#     scratch is not carried; the apply is killed (kill -9) during the
#     rebuild, the next plan still owes it, the next apply finishes it;
#     system_auth, system_distributed, system_traces and e2e replicate to
#     DC3, the rows read back from DC3 at LOCAL_QUORUM
#   3 DC3 removed: a config whose keyspace still names DC3 is refused
#     (FILE:LINE:COL); then the apply: keyspaces off DC3 first, its node
#     decommissioned, gone from the ring
#   4 DC2's only node killed (its JVM, behind cassandgo's back), then DC2
#     removed: the apply removes it from a live node (removenode) and
#     completes without waiting for an SSH timeout
#   each change: the client saw no failed request (counts and time printed)
# usage: tests/e2e/datacenters.sh [CASSANDGO]; prints "N passed, M failed".
set -uo pipefail
CG=$(realpath "${1:-./cassandgo}")
E2E_RANGE=${DATACENTERS_RANGE:-10.88.0.0/16}
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

e2e_preflight datacenters || { echo "0 passed, 1 failed"; exit 1; }
e2e_setup datacenters || { echo "0 passed, 1 failed"; exit 1; }
CLIENT=
client_stop() {	# STEP WHAT: stop the client, check what it saw
	[ -n "$CLIENT" ] || return 0
	touch "$TMP/steady.stop"
	wait "$CLIENT"
	CLIENT=
	local r
	if r=$(steady_result "$TMP/steady.out"); then
		ok "$1 the client in DC1 at LOCAL_QUORUM during $2: $r"
	else
		show "$TMP/steady.out"; show "$L.steady"
		bad "$1 the client in DC1 during $2: ${r:-no result}"
	fi
}
trap 'touch "$TMP/steady.stop"; [ -n "$CLIENT" ] && wait "$CLIENT"; e2e_cleanup' EXIT
trap 'echo "datacenters: interrupted"; echo "$pass passed, $((fail + 1)) failed"; exit 130' INT TERM
L=$TMP/log

# conf DCS KS: the Lab with those DCs ("DC1:3 DC2:1 DC3:1") and keyspace
# e2e's replication ("{DC1: 3, DC2: 1}")
conf() {
	local d n region
	{
		printf 'Lab:\n  provider: local\n  heap: 512M\n  network: %s\n  datacenters:\n' "$E2E_RANGE"
		for d in $1; do
			n=${d#*:} d=${d%%:*}
			case $d in DC1) region=lab-east ;; DC2) region=lab-west ;; *) region=lab-south ;; esac
			printf '    - datacenter: %s\n      region: %s\n      zones: [a, b]\n      nodes: %s\n      seeds: 1\n' \
				"$d" "$region" "$n"
		done
		printf '  keyspaces:\n    - name: e2e\n      replication: %s\n' "$2"
	} >"$CONF"
}
ks() { "$PY" "$HERE/ks_check.py" "$@"; }
ip_of() {	# machine address -> IP
	local i
	for i in "${!N_ADDR[@]}"; do [ "${N_ADDR[$i]}" = "$1" ] && { echo "${N_IP[$i]}"; return; }; done
}
idx_of() {
	local i
	for i in "${!N_ADDR[@]}"; do [ "${N_ADDR[$i]}" = "$1" ] && { echo "$i"; return; }; done
}
client_start() {
	rm -f "$TMP/steady.stop" "$TMP/steady.out"
	STEADY_CL=LOCAL_QUORUM STEADY_DC=DC1 CG_SECURITY_DIR=$TMP/.cassandgo/Lab \
		"$PY" "$HERE/steady_client.py" "$TMP/steady.stop" "$TMP/steady.out" tls "${DC1_IPS[@]}" \
		>"$L.steady" 2>&1 &
	CLIENT=$!
	sleep 5	# connected and writing before the change starts
}
# ring DC: the DCs nodetool status shows through DC1 n1
ring_dcs() {
	local i
	i=$(idx_of machine.DC1.n1)
	e2e_ssh "$i" "sudo -n '${N_BASE[$i]}/bin/cgnode' nodetool status" 2>/dev/null | sed -n 's/^Datacenter: //p' | paste -sd' '
}
echo "# datacenters: Lab on $E2E_RANGE in $TMP"

# --- 1. DC1 x 3, DC2 x 1, keyspace e2e, rows --------------------------------------
conf "DC1:3 DC2:1" "{DC1: 3, DC2: 1}"
t0=$(now)
cg apply --auto-approve Lab >"$L.apply1" 2>&1
rc=$?
t1=$(elapsed "$t0")
e2e_applied
DC1_IPS=("$(ip_of machine.DC1.n1)" "$(ip_of machine.DC1.n2)" "$(ip_of machine.DC1.n3)")
DC1=${DC1_IPS[0]}
if [ $rc = 0 ] && [ ${#N_ADDR[@]} = 4 ] && ks "$DC1" DC1 write e2e 2000 >"$L.write" 2>&1 &&
	"$PY" - "$DC1" "$HERE" >"$L.scratch" 2>&1 <<'EOF'
import sys
sys.path.insert(0, sys.argv[2])
import cqlsec
from cassandra.cluster import Cluster
c = Cluster([sys.argv[1]], protocol_version=5, **cqlsec.cluster_kwargs())
c.connect().execute("CREATE KEYSPACE IF NOT EXISTS scratch WITH replication = "
                    "{'class': 'NetworkTopologyStrategy', 'DC1': 1}")
c.shutdown()
EOF
then
	ok "1 apply DC1 x 3 + DC2 x 1 (${t1}s); $(cat "$L.write"); keyspace scratch made by hand"
else
	show "$L.apply1" 40; show "$L.write" 2>/dev/null; show "$L.scratch" 2>/dev/null
	bad "1 apply Lab (exit $rc)"
	finish
fi

# --- 2. DC3 added, killed during its rebuild, resumed ---------------------------------
conf "DC1:3 DC2:1 DC3:1" "{DC1: 3, DC2: 1, DC3: 1}"
cg plan Lab >"$L.plan2" 2>&1
if grep -qF "+ config.DC3.n1" "$L.plan2" &&
	grep -qF "~ keyspace.e2e  (DC3 0 -> 1 (a new DC: its nodes are rebuilt after this))" "$L.plan2" &&
	grep -qE "~ system_keyspaces  \(system_distributed,system_traces: .*DC3" "$L.plan2" &&
	grep -qF "+ rebuild.DC3.n1  (rebuild DC3 n1 from DC1: nodetool rebuild -- DC1" "$L.plan2" &&
	grep -qF "+ datacenter.DC3  (check DC3: rows written before read back from it at LOCAL_QUORUM" "$L.plan2" &&
	grep -qF "keyspace scratch is not declared: it will not be replicated to DC3" "$L.plan2" &&
	grep -qF "DC3 joins the running ring" "$L.plan2"; then
	ok "2 plan: DC3 starts empty, keyspaces gain it, rebuild DC3 n1 from DC1, check; scratch named"
else
	show "$L.plan2" 60; bad "2 plan of DC3's addition"
fi
client_start
t0=$(now)
cg apply --auto-approve Lab >"$L.apply2k" 2>&1 &
kill_apply_at $! "$L.apply2k" "rebuilding DC3 n1 from DC1" 6000
tk=$(elapsed "$t0")
if [ -n "$KILLED" ] && grep -q "rebuilding DC3 n1 from DC1" "$L.apply2k"; then
	ok "2 apply killed (kill -9) during the rebuild of DC3 n1 (${tk}s in)"
else
	show "$L.apply2k" 40; bad "2 the apply did not reach the rebuild before it ended"
fi
cg plan Lab >"$L.plan2r" 2>&1
if grep -qF "+ rebuild.DC3.n1" "$L.plan2r" && grep -qF "+ datacenter.DC3" "$L.plan2r" &&
	! grep -qE '^  [+~] (config|service)\.DC3' "$L.plan2r"; then
	ok "2 the next plan owes DC3 n1's rebuild and the check, nothing else of DC3"
else
	show "$L.plan2r" 40; bad "2 plan after the kill"
fi
t0=$(now)
cg apply --auto-approve Lab >"$L.apply2" 2>&1
rc=$?
t2=$(elapsed "$t0")
t2all=$(awk -v a="$tk" -v b="$t2" 'BEGIN { printf "%.1f", a + b }')
sleep 2
client_stop 2 "DC3's addition (${t2all}s: ${tk}s killed + ${t2}s resumed)"
e2e_load_nodes
DC3=$(ip_of machine.DC3.n1)
reps=0
for k in system_auth system_distributed system_traces; do
	ks "$DC3" DC3 replication "$k" DC1:3,DC2:1,DC3:1 >>"$L.rep2" 2>&1 && reps=$((reps + 1))
done
ks "$DC3" DC3 replication e2e DC1:3,DC2:1,DC3:1 >>"$L.rep2" 2>&1 && reps=$((reps + 1))
if [ $rc = 0 ] && grep -qE "rebuilt DC3 n1 from DC1 in" "$L.apply2" &&
	grep -qE "rows? of [0-9]+ tables? read back from DC3 at LOCAL_QUORUM" "$L.apply2"; then
	ok "2 apply finished DC3 (${t2}s): $(grep -oE 'rebuilt DC3 n1 from DC1 in [0-9.]+s' "$L.apply2"); $(grep -oE '[0-9]+ rows? of [0-9]+ tables? read back from DC3 at LOCAL_QUORUM' "$L.apply2")"
else
	show "$L.apply2" 40; bad "2 apply after the kill (exit $rc)"
fi
if [ $reps = 4 ]; then
	ok "2 system_auth, system_distributed, system_traces and e2e replicate to DC3 (DC1:3,DC2:1,DC3:1)"
else
	show "$L.rep2"; bad "2 replication of the keyspaces in DC3 ($reps of 4)"
fi
if ks "$DC3" DC3 read e2e 2000 >"$L.read2" 2>&1; then
	ok "2 rows written before read back through DC3 at LOCAL_QUORUM: $(cat "$L.read2")"
else
	show "$L.read2"; bad "2 reading the rows through DC3"
fi
cg plan --detailed-exitcode Lab >"$L.plan2n" 2>&1
rc=$?
if [ $rc = 0 ]; then ok "2 then the plan: No changes."; else show "$L.plan2n" 30; bad "2 plan after DC3's addition: exit $rc"; fi

# --- 3. DC3 removed ----------------------------------------------------------------------
conf "DC1:3 DC2:1" "{DC1: 3, DC2: 1, DC3: 1}"
cg plan Lab >"$L.plan3e" 2>&1
rc=$?
if [ $rc = 65 ] && grep -qE "lab.yaml:[0-9]+:[0-9]+: Lab.keyspaces\[0\]\.replication\.DC3: unknown datacenter 'DC3'" "$L.plan3e"; then
	ok "3 a keyspace still naming DC3 is refused: $(grep -oE 'lab.yaml:[0-9]+:[0-9]+: [^;]*' "$L.plan3e" | head -n1)"
else
	show "$L.plan3e"; bad "3 plan with e2e still naming DC3: exit $rc"
fi
conf "DC1:3 DC2:1" "{DC1: 3, DC2: 1}"
cg plan Lab >"$L.plan3" 2>&1
if grep -qF "~ keyspace.e2e  (DC3 1 -> 0; before the decommissions)" "$L.plan3" &&
	grep -qF -- "- service.DC3.n1" "$L.plan3" && grep -qF -- "- machine.DC3.n1" "$L.plan3" &&
	grep -qF "DC3 leaves the ring: every keyspace stops replicating to it first" "$L.plan3"; then
	ok "3 plan: keyspaces off DC3 before its decommission, then its machine"
else
	show "$L.plan3" 60; bad "3 plan of DC3's removal"
fi
client_start
t0=$(now)
cg apply --auto-approve Lab >"$L.apply3" 2>&1
rc=$?
t3=$(elapsed "$t0")
sleep 2
client_stop 3 "DC3's removal (${t3}s)"
dcs=$(ring_dcs)
if [ $rc = 0 ] && [ "$dcs" = "DC1 DC2" ] && ks "$DC1" DC1 replication e2e DC1:3,DC2:1 >"$L.rep3" 2>&1; then
	ok "3 apply removed DC3 (${t3}s): the ring shows $dcs; $(cat "$L.rep3")"
else
	show "$L.apply3" 40; bad "3 apply removing DC3 (exit $rc; ring: $dcs)"
fi

# --- 4. DC2's node killed, then DC2 removed ---------------------------------------------
e2e_load_nodes
i2=$(idx_of machine.DC2.n1)
e2e_ssh "$i2" "sudo -n '${N_BASE[$i2]}/bin/cgnode' chaos-kill" >"$L.kill4" 2>&1
conf "DC1:3" "{DC1: 3}"
client_start
t0=$(now)
cg apply --auto-approve Lab >"$L.apply4" 2>&1
rc=$?
t4=$(elapsed "$t0")
sleep 2
client_stop 4 "DC2's removal with its node down (${t4}s)"
dcs=$(ring_dcs)
if [ $rc = 0 ] && [ "$dcs" = "DC1" ] && grep -q "removing dead node $(ip_of machine.DC2.n1) " "$L.apply4" &&
	! grep -q "decommissioning" "$L.apply4" && awk -v t="$t4" 'BEGIN { exit !(t < 300) }'; then
	ok "4 apply removed DC2 with its node down (${t4}s, no SSH timeout): $(grep -oE 'removing dead node [0-9.]+ \(host [^)]*\): [^[]*' "$L.apply4" | head -n1)"
else
	show "$L.kill4"; show "$L.apply4" 40; bad "4 apply removing DC2 with its node down (exit $rc; ring: $dcs)"
fi
cg plan --detailed-exitcode Lab >"$L.plan4" 2>&1
rc=$?
if [ $rc = 0 ]; then ok "4 then the plan: No changes."; else show "$L.plan4" 30; bad "4 plan after DC2's removal: exit $rc"; fi
if ks "$DC1" DC1 read e2e 2000 >"$L.read4" 2>&1; then
	ok "4 the rows read back through DC1: $(cat "$L.read4")"
else
	show "$L.read4"; bad "4 reading the rows through DC1"
fi
finish
