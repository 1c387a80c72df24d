#!/usr/bin/env bash
# make check-upgrade: a rolling upgrade (#12) of a live Lab of its own
# (10.87.0.0/16), DC1 and DC2 of 3 nodes each, from UPGRADE_FROM (default:
# the pinned release's patch - 1) to the pinned one (tests/cassandra/VERSION),
# with a client per DC writing and reading at LOCAL_QUORUM (keyspace e2e, RF 3
# in each DC) all along:
#   1 a release that does not exist is refused at plan time, listing those
#     that do; apply from UPGRADE_FROM (fetched into the jar cache on demand)
#   2 rows written; the clients start; a downgrade is refused at plan time
#   3 cassandra_version -> pinned: the plan shows one upgrade per node, DC by
#     DC, and says no upgradesstables is needed (a patch release); the apply
#     is killed (kill -9) once DC1 n2 is drained and stopped; the next plan
#     continues there (DC1 n1 is done); apply finishes it
#   4 the clients saw no failed request; the rows read back from both DCs;
#     every node runs the pinned release; nothing left to do
# Prints "upgrade: N s per node (median; ...)" for make bench-upgrade, and
# "N passed, M failed".
# usage: tests/e2e/upgrade.sh [CASSANDGO]
set -uo pipefail
CG=$(realpath "${1:-./cassandgo}")
E2E_RANGE=${UPGRADE_RANGE:-10.87.0.0/16}
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
TO=$(tr -d ' \n' <"$HERE/../cassandra/VERSION")
FROM=${UPGRADE_FROM:-${TO%.*}.$((${TO##*.} - 1))}

# ok, bad, show, finish: tests/tally.sh (through lib.sh)
e2e_preflight upgrade || { echo "0 passed, 1 failed"; exit 1; }
e2e_setup upgrade || { echo "0 passed, 1 failed"; exit 1; }
STEADY=()
stop_clients() { touch "$TMP/steady.stop"; for p in "${STEADY[@]}"; do wait "$p"; done; STEADY=(); }
trap 'stop_clients; e2e_cleanup' EXIT
trap 'echo "upgrade: interrupted"; echo "$pass passed, $((fail + 1)) failed"; exit 130' INT TERM
L=$TMP/log

# 3 nodes per DC, the keyspace of the clients at RF 3 in each
sed -i 's/^      nodes: 2$/      nodes: 3/' "$CONF"
sed -i "s/^  heap: 512M\$/  heap: 512M\n  cassandra_version: $FROM/" "$CONF"
printf '  keyspaces:\n    - name: e2e\n      replication: {DC1: 3, DC2: 3}\n' >>"$CONF"
version() { sed -i "s/^  cassandra_version: .*/  cassandra_version: $1/" "$CONF"; }
# stamp: each line of stdin prefixed with the time it was read (s)
stamp() { while IFS= read -r l; do echo "${EPOCHREALTIME/,/.} $l"; done; }
echo "# upgrade: Lab 2 DCs x 3 nodes on $E2E_RANGE in $TMP, $FROM -> $TO"

# --- 1. a release that does not exist; the cluster at FROM -------------------
version 5.0.99
cg plan Lab >"$L.plan0" 2>&1
rc=$?
if [ $rc = 65 ] && grep -q "cassandra_version 5.0.99 does not exist: .* has the releases .*5.0.0-5.0" "$L.plan0"; then
	ok "1 plan refuses 5.0.99 (exit 65): $(grep -o 'has the releases .*' "$L.plan0")"
else
	show "$L.plan0"; bad "1 plan with cassandra_version 5.0.99: exit $rc"
fi
version "$FROM"
t0=$(now)
cg apply --auto-approve Lab >"$L.apply1" 2>&1
rc=$?
t1=$(elapsed "$t0")
e2e_applied
runs() {	# RELEASE: every node's running Cassandra is of it
	local i v bad=0
	for i in "${!N_ID[@]}"; do
		v=$(e2e_ssh "$i" "sudo -n '${N_BASE[$i]}/bin/cgnode' status" 2>/dev/null | sed -n 's/^running_version=//p')
		[ "$v" = "$1" ] || { echo "${N_ADDR[$i]} runs '${v}'"; bad=1; }
	done
	return $bad
}
fetched=$(grep -oE "Cassandra $FROM in the jar cache \([0-9.]+s\)" "$L.apply1" | head -n1)
if [ $rc = 0 ] && [ ${#N_ID[@]} = 6 ] && runs "$FROM" >"$L.runs1"; then
	ok "1 apply at $FROM (${t1}s; ${fetched:-$FROM was already in the jar cache}): 6 nodes run $FROM"
else
	show "$L.apply1" 40; show "$L.runs1"
	bad "1 apply at $FROM (exit $rc)"
	finish
fi
DC1=${N_IP[0]} DC2=${N_IP[3]}

# --- 2. rows, clients, a downgrade refused ------------------------------------
ks() { "$PY" "$HERE/ks_check.py" "$@"; }
if ks "$DC1" DC1 write e2e 300 >"$L.write" 2>&1; then
	ok "2 $(cat "$L.write")"
else
	show "$L.write"; bad "2 writing rows into e2e"
fi
rm -f "$TMP/steady.stop"
# the clients' table, made once before both start (steady_client.py says why)
STEADY_SCHEMA_ONLY=1 CG_SECURITY_DIR=$TMP/.cassandgo/Lab "$PY" "$HERE/steady_client.py" \
	"$TMP/steady.stop" "$TMP/steady.schema" tls "${N_IP[0]}" >"$L.steady.schema" 2>&1 ||
	{ show "$L.steady.schema"; bad "2 creating e2e.steady for the clients"; }
for dc in DC1 DC2; do
	ips=()
	for i in "${!N_ADDR[@]}"; do
		case ${N_ADDR[$i]} in machine.$dc.*) ips+=("${N_IP[$i]}") ;; esac
	done
	STEADY_CL=LOCAL_QUORUM STEADY_DC=$dc CG_SECURITY_DIR=$TMP/.cassandgo/Lab \
		"$PY" "$HERE/steady_client.py" "$TMP/steady.stop" "$TMP/steady.$dc" tls "${ips[@]}" \
		>"$L.steady.$dc" 2>&1 &
	STEADY+=($!)
done
version "${FROM%.*}.$((${FROM##*.} - 1))"
cg plan Lab >"$L.plan2" 2>&1
rc=$?
if [ $rc = 65 ] && grep -q "a downgrade is refused" "$L.plan2"; then
	ok "2 plan refuses a downgrade (exit 65): $(grep -o 'cassandra_version .*' "$L.plan2" | head -n1)"
else
	show "$L.plan2"; bad "2 plan of a downgrade: exit $rc"
fi

# --- 3. the upgrade, killed once ------------------------------------------------
version "$TO"
cg plan Lab >"$L.plan3" 2>&1
order=$(grep -oE '^  ~ service\.DC[12]\.n[123]  \(upgrade' "$L.plan3" | grep -oE 'DC[12]\.n[123]' | paste -sd' ')
if grep -qF "~ service.DC1.n1  (upgrade $FROM -> $TO: start $TO on the same data" "$L.plan3" &&
	grep -qF "~ install.DC2.n3  (upgrade $FROM -> $TO: nodetool drain, stop Cassandra, install $TO)" "$L.plan3" &&
	grep -qF "rolling upgrade to Cassandra $TO (from $FROM): 6 nodes, one at a time, DC by DC; no upgradesstables" "$L.plan3" &&
	[ "$order" = "DC1.n1 DC1.n2 DC1.n3 DC2.n1 DC2.n2 DC2.n3" ]; then
	ok "3 plan: one upgrade per node ($order), no upgradesstables (a patch release)"
else
	show "$L.plan3"; bad "3 plan of the upgrade (services: $order)"
fi
t0=$(now)
cg apply --auto-approve Lab > >(stamp >"$L.apply3k") 2>&1 &
kill_apply_at $! "$L.apply3k" "DC1 n2 .*installing Cassandra $TO"
if [ -n "$KILLED" ] && grep -qE "DC1 n2 .*installing Cassandra $TO" "$L.apply3k" &&
	! grep -qE "DC1 n3 .*nodetool drain" "$L.apply3k"; then
	ok "3 apply killed (kill -9) after DC1 n2 was drained and stopped ($(elapsed "$t0")s in)"
else
	show "$L.apply3k"; bad "3 the apply did not reach DC1 n2's install before it ended"
fi
cg plan Lab >"$L.plan3r" 2>&1
if grep -qF "~ service.DC1.n2  (upgrade $FROM -> $TO: start $TO on the same data" "$L.plan3r" &&
	grep -q "(it is down: an upgrade was interrupted)" "$L.plan3r" &&
	! grep -qE '^  ~ (install|service)\.DC1\.n1 ' "$L.plan3r" &&
	grep -qF "rolling upgrade to Cassandra $TO (from $FROM): 5 nodes" "$L.plan3r"; then
	ok "3 the next plan continues with DC1 n2 (down, installed) and the 4 nodes not upgraded"
else
	show "$L.plan3r"; bad "3 plan after the kill"
fi
t0=$(now)
cg apply --auto-approve Lab > >(stamp >"$L.apply3") 2>&1
rc=$?
t3=$(elapsed "$t0")
sleep 1
# per node: from its drain to its service step's end (DC1 n1 in the apply
# killed; DC1 n2, resumed: from its start on the new release)
pernode=$(awk '
	{ t = $1; $1 = ""; l = $0 }
	match(l, /(DC[12]) (n[123])/) {
		n = substr(l, RSTART, RLENGTH); sub(/ /, ".", n); k = FILENAME SUBSEP n
		if (!(k in s) && (l ~ /nodetool drain/ || l ~ /starting Cassandra/)) s[k] = t
		if (l ~ /^ *start / && l ~ /\[[0-9.]+s\]$/ && (k in s) && !(n in e)) { e[n] = t - s[k] }
	}
	END { for (n in e) printf "%s %.1f\n", n, e[n] }' "$L.apply3k" "$L.apply3" | sort)
if [ $rc = 0 ] && [ "$(echo "$pernode" | grep -c .)" = 6 ]; then
	ok "3 apply finished the upgrade (${t3}s); per node: $(echo "$pernode" | awk '{ printf "%s%s %ss", (NR > 1 ? ", " : ""), $1, $2 }')"
else
	show "$L.apply3"; bad "3 apply after the kill (exit $rc; per node: $pernode)"
fi

# --- 4. what the clients and the data say -------------------------------------
sleep 3
stop_clients
for dc in DC1 DC2; do
	if r=$(steady_result "$TMP/steady.$dc"); then
		ok "4 a client in $dc at LOCAL_QUORUM through the upgrade: $r"
	else
		show "$TMP/steady.$dc"; show "$L.steady.$dc"
		bad "4 the client in $dc: ${r:-no result}"
	fi
done
for pair in "$DC1 DC1" "$DC2 DC2"; do
	set -- $pair
	if ks "$1" "$2" read e2e 300 >"$L.read.$2" 2>&1; then
		ok "4 read back through $2 after the upgrade: $(cat "$L.read.$2")"
	else
		show "$L.read.$2"; bad "4 reading the rows through $2"
	fi
done
if runs "$TO" >"$L.runs4"; then
	ok "4 every node runs $TO"
else
	show "$L.runs4"; bad "4 not every node runs $TO"
fi
cg plan --detailed-exitcode Lab >"$L.plan4" 2>&1
rc=$?
if [ $rc = 0 ] && grep -q '^No changes\.' "$L.plan4"; then
	ok "4 then the plan: No changes."
else
	show "$L.plan4"; bad "4 plan after the upgrade: exit $rc"
fi
# baseline from the same run: a node's start step in the first apply (start,
# serving CQL; no drain, no install, no ring and schema wait of its own)
first=$(grep -E '^start +DC[12] n[123] .*\[[0-9.]+s\]$' "$L.apply1" | grep -oE '[0-9.]+s\]$' | tr -d 's]' |
	sort -n | awk '{ v[NR] = $1 } END { if (NR) printf "%.1f", (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }')
if [ -n "$pernode" ]; then
	echo "upgrade: $(echo "$pernode" | awk '{ print $2 }' | sort -n | awk '{ v[NR] = $1; s += $1 }
		END { printf "%.1f s per node (median; mean %.1f, min %.1f, max %.1f, %d nodes)", (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2), s / NR, v[1], v[NR], NR }') $FROM -> $TO; a node's first start (apply from nothing, same run): ${first:-?} s (median)"
fi
finish
