#!/usr/bin/env bash
# make e2e: the Lab cluster for real (local provider, SSH bootstrap, four
# Cassandra 5.0 nodes in two DCs), end to end:
#   1 apply from nothing            4 a second apply changes nothing
#   2 nodetool: layout, ownership   5 a killed Cassandra is planned and restarted
#   3 CQL across DCs                6 destroy leaves nothing
# usage: tests/e2e/run.sh [CASSANDGO]. Prints "N passed, M failed"; exits 1 on
# any failure. Cleans up (destroy, then by hand) on every exit (trap).
set -uo pipefail
CG=$(realpath "${1:-./cassandgo}")
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

# A missing component is a failure, never a skip.
e2e_preflight e2e || { echo "0 passed, 1 failed"; exit 1; }
[ -x "$CG" ] || { echo "e2e: $CG not built; FAILED" >&2; echo "0 passed, 1 failed"; exit 1; }
e2e_setup e2e || { echo "0 passed, 1 failed"; exit 1; }
pass=0 fail=0
trap e2e_cleanup EXIT
trap 'echo "e2e: interrupted; cleaning up"; echo "$pass passed, $((fail + 1)) failed"; exit 130' INT TERM

ok() { pass=$((pass + 1)); echo "ok   - $*"; }
bad() { fail=$((fail + 1)); echo "FAIL - $*"; }
# show FILE: the evidence of a failure, indented
show() { sed 's/^/    | /' "$1" | tail -n "${2:-25}"; }
finish() {
	echo "$pass passed, $fail failed"
	[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
	exit $?
}
abort() { bad "$*; the remaining steps cannot run"; finish; }

# A Cassandra 5.0 log line or a JVM stack trace is not what we test; the
# tool's own output is kept in the scratch dir and shown on failure.
L=$TMP/log

# --- 1. apply from nothing -------------------------------------------------
echo "# e2e: Lab on $E2E_RANGE in $TMP"
t0=$(now)
cg apply --auto-approve Lab >"$L.apply1" 2>&1
rc=$?
t_apply=$(elapsed "$t0")
if [ $rc = 0 ] && grep -q '^Apply complete!' "$L.apply1"; then
	ok "1 apply Lab from nothing: exit 0, Apply complete! (${t_apply}s)"
else
	show "$L.apply1" 40
	abort "1 apply Lab: exit $rc after ${t_apply}s"
fi
E2E_TAG=$(e2e_tag)
if e2e_load_nodes && [ "${N_IP[*]}" = "$E2E_PREFIX.1.1 $E2E_PREFIX.1.2 $E2E_PREFIX.2.1 $E2E_PREFIX.2.2" ] &&
	[ -n "$E2E_TAG" ] && [ "${N_ID[*]}" = "cg-$E2E_TAG-DC1-n1 cg-$E2E_TAG-DC1-n2 cg-$E2E_TAG-DC2-n1 cg-$E2E_TAG-DC2-n2" ]; then
	ok "1 state records 4 machines: ${N_ID[*]} at ${N_IP[*]}"
else
	abort "1 state machines: ids '${N_ID[*]:-}' ips '${N_IP[*]:-}' (tag '$E2E_TAG')"
fi

# --- 2. the ring through SSH (cluster key, pinned host keys) ---------------
# Seen from one node of each DC: both must see the same, whole ring.
for i in 0 3; do
	if e2e_nodetool "$i" status >"$L.status$i" 2>&1 && e2e_status_check <"$L.status$i" >"$L.check$i"; then
		ok "2 nodetool status via ssh to ${N_ADDR[$i]}: $(cat "$L.check$i"), racks as configured"
	else
		cat "$L.check$i" 2>/dev/null
		show "$L.status$i"
		bad "2 nodetool status via ssh to ${N_ADDR[$i]}"
	fi
done

# --- 3. security on by default; a row written in DC1 is read in DC2 --------
# The tests' clients connect the way `output --json` says (cqlsec.py).
if cg output Lab --json >"$TMP/output.json" 2>"$L.output" &&
	"$PY" -c 'import json,sys; s=json.load(open(sys.argv[1]))["security"]; sys.exit(not (s["tls"] and s["auth"]))' "$TMP/output.json"; then
	export CG_OUTPUT_JSON=$TMP/output.json
	ok "3 output --json: security on (tls, auth, CA and password files)"
else
	show "$L.output"
	bad "3 output --json has no security object with tls and auth on"
fi
# a key and certificate of another CA: what an intruder would hold
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
	-subj /CN=intruder -keyout "$TMP/foreign.key" -out "$TMP/foreign.crt" >/dev/null 2>&1
if "$PY" "$HERE/sec_check.py" "${N_IP[0]}" DC1 "$TMP/foreign.crt" "$TMP/foreign.key" >"$L.sec" 2>&1; then
	ok "3 security from outside: $(grep -c '^ok' "$L.sec") checks (plaintext, no login, cassandra/cassandra, wrong CA refused; 7000 mutual TLS)"
else
	show "$L.sec"
	bad "3 security from outside"
fi
# The password is nowhere but in its 0600 file and cqlsh's credentials file.
pw=$(cat "$TMP/.cassandgo/Lab/superuser.password" 2>/dev/null)
leaks=$(grep -rlF -- "$pw" "$TMP" 2>/dev/null | grep -v -e '/superuser.password$' -e '/cqlsh.credentials$')
if [ -n "$pw" ] && [ -z "$leaks" ] && ! sqlite3 "$CASSANDGO_STATE" .dump | grep -qF -- "$pw"; then
	ok "3 the password is in no log, plan or state (only its 0600 files)"
else
	bad "3 password found in: ${leaks:-state.db}"
fi
if "$PY" "$HERE/cql_check.py" "${N_IP[0]}" "${N_IP[3]}" e2e e2e_bal >"$L.cql" 2>&1; then
	ok "3 CQL: $(tr '\n' ';' <"$L.cql" | sed 's/;$//; s/;/; /')"
else
	show "$L.cql"
	bad "3 CQL: write through DC1 ${N_IP[0]}, LOCAL_ONE read through DC2 ${N_IP[3]}"
fi

# Ownership (step 2 of the brief), per keyspace: {DC1:1, DC2:1} gives each
# node its share of its DC (50% when balanced); {DC1:2, DC2:2} gives 100%.
for ks in e2e_bal:50 e2e:100; do
	if e2e_nodetool 1 status "${ks%:*}" >"$L.own" 2>&1 &&
		e2e_status_check --owns "${ks#*:}" <"$L.own" >"$L.owncheck"; then
		ok "2 ownership of keyspace ${ks%:*}: $(cat "$L.owncheck")"
	else
		cat "$L.owncheck" 2>/dev/null
		show "$L.own"
		bad "2 ownership of keyspace ${ks%:*} not ${ks#*:}% +- 1 per node"
	fi
done

# --- 4. a second apply changes nothing ---------------------------------------
t0=$(now)
cg apply --auto-approve Lab >"$L.apply2" 2>&1
rc=$?
# No action line at all ("... [1.2s]" ends every finished action).
if [ $rc = 0 ] && grep -q '^No changes\.' "$L.apply2" && ! grep -qE 'Apply complete|\[[0-9.]+m?s\]$' "$L.apply2"; then
	ok "4 second apply: No changes. ($(elapsed "$t0")s)"
else
	show "$L.apply2"
	bad "4 second apply: exit $rc, expected 'No changes.'"
fi
cg plan Lab --detailed-exitcode >"$L.plan0" 2>&1
rc=$?
if [ $rc = 0 ]; then
	ok "4 plan --detailed-exitcode: 0 (nothing to do)"
else
	show "$L.plan0"
	bad "4 plan --detailed-exitcode: exit $rc, expected 0"
fi

# --- 4b. damaged security material: a clear error naming the file, nothing
# changed; a node certificate replaced behind our back is reissued ---------
SEC=$TMP/.cassandgo/Lab
cp -p "$SEC/superuser.password" "$TMP/pw.bak"
# bad_input WHAT EXPECTED_TEXT FILE: plan fails with 1, names FILE and says EXPECTED_TEXT
bad_input() {
	cg plan Lab >"$L.bad" 2>&1
	local rc=$?
	if [ $rc = 1 ] && grep -qF -- "$2" "$L.bad" && grep -qF -- "$3" "$L.bad"; then
		ok "4 $1: plan exits 1: $(grep -m1 -F -- "$2" "$L.bad" | cut -c1-150)"
	else
		show "$L.bad"
		bad "4 $1: plan exit $rc, expected 1 naming $3 ($2)"
	fi
}
chmod 644 "$SEC/superuser.password"
bad_input "password file readable by others" "readable by others" "$SEC/superuser.password"
chmod 600 "$SEC/superuser.password"
printf 'not a\npassword\n' >"$SEC/superuser.password"
bad_input "corrupted password file" "is not a password file" "$SEC/superuser.password"
printf 'abcdefghijklmnopqrstuvwxyz012345\n' >"$SEC/superuser.password"
bad_input "wrong password in the file" "refuses the superuser's password" "$SEC/superuser.password"
cp -p "$TMP/pw.bak" "$SEC/superuser.password"
mv "$SEC/tls/ca.crt" "$TMP/ca.crt.bak"
bad_input "missing CA certificate" "is missing" "$SEC/tls/ca.crt"
mv "$TMP/ca.crt.bak" "$SEC/tls/ca.crt"
cg plan Lab --detailed-exitcode >"$L.plan1" 2>&1
rc=$?
[ $rc = 0 ] && ok "4 files restored: plan --detailed-exitcode 0, nothing was changed" ||
	{ show "$L.plan1"; bad "4 after restoring the files: plan exit $rc, expected 0"; }
# another CA's certificate on DC1.n2 (an intruder's, or a botched manual swap)
# (e2e_ssh reads no stdin: write the file with the node's own cp)
cat "$TMP/foreign.key" "$TMP/foreign.crt" >"$TMP/foreign.pem" && chmod 644 "$TMP/foreign.pem"
e2e_ssh 1 "cp '$TMP/foreign.pem' '${N_BASE[1]}/conf/tls/node.pem'" 2>"$L.swap"
cg plan Lab >"$L.plan2" 2>&1
if grep -qE '^  ~ config\.DC1\.n2 .*certificate' "$L.plan2" && grep -q 'Plan: 0 to add, 1 to change' "$L.plan2"; then
	ok "4 a replaced node certificate is seen: $(grep -E '^  ~ config\.DC1\.n2' "$L.plan2" | sed 's/^ *//')"
else
	show "$L.plan2"
	bad "4 plan after replacing DC1.n2's node.pem: expected ~ config.DC1.n2 (certificate)"
fi
cg apply --auto-approve Lab >"$L.apply3" 2>&1 && cg plan Lab --detailed-exitcode >"$L.plan3" 2>&1
rc=$?
if [ $rc = 0 ] && e2e_ssh 1 "openssl x509 -noout -issuer -in '${N_BASE[1]}/conf/tls/node.pem'" 2>/dev/null | grep -q 'cassandgo CA'; then
	ok "4 apply reissued DC1.n2's certificate from the cluster's CA; plan: nothing to do"
else
	show "$L.apply3"; show "$L.plan3"
	bad "4 reissue of DC1.n2's certificate (rc $rc)"
fi

# --- 5. kill one node's Cassandra; plan sees it, apply restarts it ----------
victim=3
ns=${N_ID[$victim]}
jpid=
for p in $(ip netns pids "$ns" 2>/dev/null); do
	tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q CassandraDaemon && jpid=$p
done
if [ -n "$jpid" ]; then
	kill -9 "$jpid"
	# gone or a zombie: either way no longer running
	for _ in $(seq 1 50); do
		proc_start "$jpid" >/dev/null || break
		sleep 0.1
	done
	ok "5 killed Cassandra of ${N_ADDR[$victim]} (pid $jpid, kill -9 in netns $ns)"
else
	bad "5 no Cassandra process in netns $ns"
fi
cg plan Lab --detailed-exitcode >"$L.plan" 2>&1
rc=$?
cg plan Lab --json >"$L.planjson" 2>"$L.planjson.err"
svc=service.${N_ADDR[$victim]#machine.}
node_lab=${svc#service.}
node_lab=${node_lab/./ }	# "DC2 n2", as the progress lines label it
if [ $rc = 2 ] && grep -qE "^  ~ $svc .*running" "$L.plan" &&
	"$PY" - "$L.planjson" "$svc" <<'EOF'
import json, sys
plan = json.load(open(sys.argv[1]))
acts = {a["address"]: a for a in plan["actions"]}
a = acts.get(sys.argv[2])
ok = a and a["action"] == "update" and "running" in a["reason"] \
    and a["before"]["attributes"]["running"] == "false" and a["after"]["attributes"]["running"] == "true"
# nothing else of the cluster may be touched but the ring check
others = [k for k in acts if k not in (sys.argv[2], "ring")]
sys.exit(0 if ok and not others and plan["summary"]["destroy"] == 0 else 1)
EOF
then
	ok "5 plan: $(grep -E "^  ~ $svc" "$L.plan" | sed 's/^ *//'), nothing else but the ring check (exit 2)"
else
	show "$L.plan"
	bad "5 plan after the kill: exit $rc, expected '~ $svc' (Cassandra not running) only"
fi
t0=$(now)
cg apply --auto-approve Lab >"$L.apply3" 2>&1
rc=$?
t_restart=$(elapsed "$t0")
if [ $rc = 0 ] && grep -q '^Apply complete!.* 0 destroyed' "$L.apply3" && grep -qE "^start +$node_lab .*Cassandra (re)?started|^$svc: Updated" "$L.apply3"; then
	ok "5 apply restarted $svc (${t_restart}s)"
else
	show "$L.apply3"
	bad "5 apply after the kill: exit $rc"
fi
# apply's own ring check waited for all UN; other nodes' gossip may lag by a
# heartbeat, so a few seconds of grace before calling it a failure.
good=0
for _ in 1 2 3 4 5 6; do
	if e2e_nodetool 0 status >"$L.status5" 2>&1 && e2e_status_check <"$L.status5" >"$L.check5" &&
		e2e_nodetool "$victim" status >"$L.status5v" 2>&1 && e2e_status_check <"$L.status5v" >>"$L.check5"; then
		good=1
		break
	fi
	sleep 5
done
if [ $good = 1 ]; then
	ok "5 after restart, seen from ${N_ADDR[0]} and ${N_ADDR[$victim]}: $(head -n1 "$L.check5")"
else
	cat "$L.check5" 2>/dev/null
	show "$L.status5"
	bad "5 ring not 4 UN after the restart"
fi
cg apply --auto-approve Lab >"$L.apply4" 2>&1
if [ $? = 0 ] && grep -q '^No changes\.' "$L.apply4"; then
	ok "5 then apply again: No changes."
else
	show "$L.apply4"
	bad "5 apply after the restart is not a no-op"
fi

# --- 6. destroy leaves nothing ---------------------------------------------
tag=$E2E_TAG
mapfile -t veths < <(ip -o link show master "cgb$tag" 2>/dev/null | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }')
# pid:starttime, so that a pid recycled by an unrelated process is not
# mistaken for one of ours
pids=()
for n in "${N_ID[@]}"; do
	for p in $(ip netns pids "$n" 2>/dev/null); do
		st=$(proc_start "$p") && pids+=("$p:$st")
	done
done
if [ ${#veths[@]} = 4 ] && [ ${#pids[@]} -ge 8 ]; then
	ok "6 before destroy: bridge cgb$tag with ${#veths[@]} veths, ${#pids[@]} processes in the namespaces"
else
	bad "6 before destroy: expected 4 veths and >= 8 processes (sshd + java per node), got ${#veths[@]} and ${#pids[@]}"
fi
t0=$(now)
cg destroy --auto-approve Lab >"$L.destroy" 2>&1
rc=$?
if [ $rc = 0 ] && grep -q '^Destroy complete!' "$L.destroy"; then
	ok "6 destroy: exit 0, Destroy complete! ($(elapsed "$t0")s)"
else
	show "$L.destroy"
	bad "6 destroy: exit $rc"
fi
left=()
for n in /run/netns/cg-"$tag"-*; do [ -e "$n" ] && left+=("netns ${n#/run/netns/}"); done
# A zombie has exited (pid 1 here may reap late): it does not count.
for p in "${pids[@]}"; do
	[ "$(proc_start "${p%:*}")" = "${p#*:}" ] &&
		left+=("process ${p%:*} ($({ tr '\0' ' ' <"/proc/${p%:*}/cmdline"; } 2>/dev/null | cut -c1-60))")
done
for p in $(grep -lsE -- "$TMP/nodes|cg-$tag-" /proc/[0-9]*/cmdline | cut -d/ -f3); do
	[ "$p" = $$ ] || [ "$p" = "$BASHPID" ] && continue
	proc_start "$p" >/dev/null || continue
	{ tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null | grep -qE 'java|sshd' && left+=("process $p")
done
# The kernel frees a deleted namespace (and with it both ends of its veth)
# asynchronously, seconds later on a busy machine: wait up to 30 s for that.
for _ in $(seq 1 60); do
	v_left=()
	for v in "${veths[@]}"; do ip link show "$v" >/dev/null 2>&1 && v_left+=("veth $v"); done
	[ ${#v_left[@]} = 0 ] && break
	sleep 0.5
done
left+=("${v_left[@]}")
ip link show "cgb$tag" >/dev/null 2>&1 && left+=("bridge cgb$tag")
ip -o addr show | grep -q " inet $E2E_PREFIX\." && left+=("host address in $E2E_PREFIX.0.0/16")
for b in "${N_BASE[@]}"; do [ -e "$b" ] && left+=("dir $b"); done
for n in "${N_ID[@]}"; do [ -e "/run/cassandgo/$n" ] && left+=("dir /run/cassandgo/$n"); done
nres=$(cg state show Lab --json 2>/dev/null | "$PY" -c '
import json, sys
print(sum(len(c["resources"]) for c in json.load(sys.stdin)["clusters"] if c["cluster"] == "Lab"))')
[ "$nres" = 0 ] || left+=("state: '${nres}' resources of Lab")
if [ ${#left[@]} = 0 ] && [ ${#veths[@]} -gt 0 ]; then
	ok "6 nothing left: no netns, process, veth, bridge, base dir, /run dir or state of Lab"
else
	bad "6 left behind: ${left[*]:-(nothing recorded before destroy)}"
fi

finish
