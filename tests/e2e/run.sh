#!/usr/bin/env bash
# make e2e: the Lab cluster for real (local provider, SSH bootstrap, four
# Cassandra 5.0 nodes in two DCs), end to end:
#   1 apply from nothing            4 a second apply changes nothing;
#                                     4d seeds changed: reloaded, no restart
#                                     4c security off and on, rolling
#   2 nodetool: layout, ownership   5 a killed Cassandra is planned and restarted;
#                                     5b chaos: partition, heal, pause, kill
#                                     5c a fault in the state: status, plan, apply;
#                                        cassandgo nodetool
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

# ok, bad, show, finish: tests/e2e/lib.sh
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
# The password is nowhere but in its 0600 file and cqlsh's credentials files
# (the operator's, and the login user's on each node).
pw=$(cat "$TMP/.cassandgo/Lab/superuser.password" 2>/dev/null)
leaks=$(grep -rlF -- "$pw" "$TMP" 2>/dev/null | grep -v -e '/superuser.password$' -e '/cqlsh.credentials$' \
	-e '/login/credentials$')
if [ -n "$pw" ] && [ -z "$leaks" ] && ! sqlite3 "$CASSANDGO_STATE" .dump | grep -qF -- "$pw"; then
	ok "3 the password is in no log, plan or state (only its 0600 files)"
else
	bad "3 password found in: ${leaks:-state.db}"
fi
# Least privilege on every node: Cassandra runs as the system account
# cassandgo-db (no login shell, no sudo, no supplementary group), which can
# write neither the node script nor the config, and reads node.pem only
# through its group; bin/ and conf/ are root's.
RU=cassandgo-db
priv_bad=
for i in "${!N_BASE[@]}"; do
	b=${N_BASE[$i]}
	pid=$(cat "$b/run/cassandra.pid" 2>/dev/null)
	[ "$(ps -o user= -p "${pid:-0}" 2>/dev/null)" = "$RU" ] ||
		priv_bad+=" ${N_ADDR[$i]}:cassandra-runs-as-$(ps -o user= -p "${pid:-0}" 2>/dev/null)"
	for f in "$b" "$b/bin" "$b/bin/cgnode" "$b/conf" "$b/conf/cassandra.yaml" "$b/conf/cgnode.env"; do
		[ "$(stat -c %U "$f" 2>/dev/null)" = root ] || priv_bad+=" ${N_ADDR[$i]}:$f-not-root's"
		! setpriv --reuid="$RU" --regid="$RU" --clear-groups test -w "$f" ||
			priv_bad+=" ${N_ADDR[$i]}:$f-writable-by-$RU"
	done
	[ "$(stat -c '%U:%G %a' "$b/conf/tls/node.pem" 2>/dev/null)" = "root:$RU 640" ] ||
		priv_bad+=" ${N_ADDR[$i]}:node.pem-$(stat -c '%U:%G-%a' "$b/conf/tls/node.pem" 2>/dev/null)"
done
case $(getent passwd "$RU" | cut -d: -f7) in */nologin) ;; *) priv_bad+=" $RU-has-a-login-shell" ;; esac
[ "$(id -nG "$RU" 2>/dev/null)" = "$RU" ] || priv_bad+=" $RU-groups:$(id -nG "$RU" 2>/dev/null)"
! grep -rqs "^$RU[[:space:]]" /etc/sudoers /etc/sudoers.d || priv_bad+=" $RU-in-sudoers"
! setpriv --reuid="$RU" --regid="$RU" --clear-groups sudo -n true 2>/dev/null || priv_bad+=" $RU-can-sudo"
if [ -z "$priv_bad" ]; then
	ok "3 least privilege: Cassandra runs as $RU (nologin, no sudo); bin/, conf/ root's; node.pem root:$RU 0640"
else
	bad "3 least privilege:$priv_bad"
fi
# nodetool and cqlsh for the login user on every node (cgnode tools): on its
# PATH in a command and in a login shell, with the cluster's TLS and the
# superuser's credentials (login/credentials: the login user's, 0600), and
# nothing to type; the wrappers are root's.
tools_bad=
for i in "${!N_BASE[@]}"; do
	b=${N_BASE[$i]} a=${N_ADDR[$i]}
	[ "$(stat -c '%U %a' "$b/login" 2>/dev/null)" = "cassandgo 700" ] ||
		tools_bad+=" $a:login/-$(stat -c '%U-%a' "$b/login" 2>&1 | tr ' ' -)"
	[ "$(stat -c '%U %a' "$b/login/credentials" 2>/dev/null)" = "cassandgo 600" ] ||
		tools_bad+=" $a:credentials-$(stat -c '%U-%a' "$b/login/credentials" 2>&1 | tr ' ' -)"
	for t in nodetool cqlsh; do
		[ "$(stat -c '%U %a' "$b/bin/$t" 2>/dev/null)" = "root 755" ] || tools_bad+=" $a:bin/$t-not-root's-0755"
	done
	if ! e2e_ssh "$i" nodetool status >"$L.tnt$i" 2>&1 || [ "$(grep -c '^UN ' "$L.tnt$i")" != 4 ]; then
		show "$L.tnt$i" 10
		tools_bad+=" $a:'nodetool status'"
	fi
	if ! e2e_ssh "$i" cqlsh -e "'SELECT release_version, data_center FROM system.local'" >"$L.tcq$i" 2>&1 ||
		! grep -qE '^ 5\.0\.[0-9]+ +\| DC[12] ' "$L.tcq$i" || ! grep -q '^(1 rows)' "$L.tcq$i"; then
		show "$L.tcq$i" 10
		tools_bad+=" $a:'cqlsh -e SELECT'"
	fi
done
# a login shell (/etc/profile resets PATH; the home's .profile puts the
# node's bin/ back, from what its sshd says)
[ "$(e2e_ssh 3 bash -lc "'command -v nodetool; command -v cqlsh'" 2>/dev/null | tr '\n' ' ')" = \
	"${N_BASE[3]}/bin/nodetool ${N_BASE[3]}/bin/cqlsh " ] || tools_bad+=" ${N_ADDR[3]}:login-shell-PATH"
if [ -z "$tools_bad" ]; then
	ok "3 login user on all ${#N_BASE[@]} nodes: 'nodetool status' shows 4 UN, 'cqlsh -e SELECT' answers over TLS as the superuser; login/credentials cassandgo's 0600"
else
	bad "3 nodetool/cqlsh for the login user:$tools_bad"
fi
# An interactive cqlsh (statements on stdin, a moment apart): the password
# is on no command line of the machine while it runs.
( sleep 3; echo "SELECT cluster_name"; echo "  FROM system.local;"; sleep 1; echo "EXIT" ) |
	ssh -F /dev/null -i "${N_KEY[0]}" -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes \
		-o UserKnownHostsFile="$TMP/.cassandgo/Lab/known_hosts" -o GlobalKnownHostsFile=/dev/null \
		-o HostKeyAlias="${N_ID[0]}" -o LogLevel=ERROR "cassandgo@${N_IP[0]}" cqlsh >"$L.tcqi" 2>&1 &
cq=$!
seen=0 inps=0
for _ in $(seq 1 40); do
	args=$(ps -eww -o args)
	grep -qE 'CgCql(\.java)? --shell' <<<"$args" && seen=$((seen + 1))
	grep -qF -- "$pw" <<<"$args" && inps=$((inps + 1))
	kill -0 "$cq" 2>/dev/null || break
	sleep 0.2
done
wait "$cq"
rc=$?
if [ $rc = 0 ] && [ "$seen" -gt 0 ] && [ "$inps" = 0 ] && grep -q '^ Lab' "$L.tcqi"; then
	ok "3 cqlsh with statements on stdin: answered; the password in no 'ps' line ($seen looks while it ran)"
else
	show "$L.tcqi"
	bad "3 interactive cqlsh: exit $rc, seen in ps $seen times, password in ps $inps times"
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

# --- 4d. the seed set changes (DC1 gets a second seed, then loses it): each
# node gets the new list in cassandra.yaml and reloads it (nodetool
# reloadseeds); no Cassandra restarts (same JVM pid and start time on every
# node); nodetool getseeds shows the new list (without the node itself) ---
jvm_pids() {	# pid:starttime of each node's Cassandra, in node order
	local n p out=()
	for n in "${N_ID[@]}"; do
		for p in $(ip netns pids "$n" 2>/dev/null); do
			tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q CassandraDaemon &&
				out+=("$p:$(proc_start "$p")")
		done
	done
	echo "${out[*]}"
}
seeds_step() {	# N (DC1's seed count) IDX... (the seeds' node indexes)
	local n=$1 before after i j want got bad_nodes=() nconf t
	shift
	sed -i "0,/^      seeds: [0-9]*$/s//      seeds: $n/" "$CONF"	# DC1's, the first
	before=$(jvm_pids)
	cg plan Lab >"$L.seedplan$n" 2>&1
	nconf=$(grep -cE '^  ~ config\.DC[12]\.n[12]  \(seeds [-+][0-9.:]+: written to cassandra\.yaml, reloaded without restart \(nodetool reloadseeds\)\)$' "$L.seedplan$n")
	if [ "$nconf" = 4 ] && ! grep -qE '^  [-+~/]+ (service|install)\.' "$L.seedplan$n"; then
		ok "4d DC1 seeds: $n: plan rewrites 4 configs without a restart: $(grep -m1 -E '^  ~ config\.' "$L.seedplan$n" | sed 's/^ *//' | cut -c1-160)"
	else
		show "$L.seedplan$n"
		bad "4d DC1 seeds: $n: plan: $nconf config updates 'reloaded without restart', expected 4 and no service step"
	fi
	t=$(now)
	cg apply --auto-approve Lab >"$L.seedapply$n" 2>&1
	local rc=$?
	if [ $rc = 0 ] && grep -q '^Apply complete!' "$L.seedapply$n" &&
		[ "$(grep -c 'seeds reloaded without restart' "$L.seedapply$n")" = 4 ]; then
		ok "4d DC1 seeds: $n: apply reloaded the seeds of 4 nodes ($(elapsed "$t")s)"
	else
		show "$L.seedapply$n"
		bad "4d DC1 seeds: $n: apply exit $rc, expected 4 'seeds reloaded without restart'"
	fi
	after=$(jvm_pids)
	if [ -n "$before" ] && [ "$(wc -w <<<"$before")" = 4 ] && [ "$before" = "$after" ]; then
		ok "4d DC1 seeds: $n: no Cassandra restarted (pid:start $after)"
	else
		bad "4d DC1 seeds: $n: Cassandra processes changed: before '$before', after '$after'"
	fi
	for i in 0 1 2 3; do
		want=$(for j in "$@"; do [ "$j" != "$i" ] && echo "${N_IP[$j]}"; done | sort | tr '\n' ' ')
		got=$(e2e_nodetool "$i" getseeds 2>&1 | grep -oE '([0-9]+\.){3}[0-9]+' | sort -u | tr '\n' ' ')
		[ "$want" = "$got" ] || bad_nodes+=("${N_ADDR[$i]}: getseeds '$got', expected '$want'")
	done
	if [ ${#bad_nodes[@]} = 0 ]; then
		ok "4d DC1 seeds: $n: nodetool getseeds on every node lists the new seeds but itself"
	else
		bad "4d DC1 seeds: $n: ${bad_nodes[*]}"
	fi
}
seeds_step 2 0 1 2
seeds_step 1 0 2
cg plan Lab --detailed-exitcode >"$L.seedplan" 2>&1
rc=$?
[ $rc = 0 ] && ok "4d seeds back to 1 per DC: plan has nothing to do" ||
	{ show "$L.seedplan"; bad "4d after the seed changes: plan exit $rc, expected 0"; }

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
# (e2e_ssh reads no stdin: write the file with the node's own cp; conf/ is
# root's, so as root: neither the login user nor Cassandra's account can)
cat "$TMP/foreign.key" "$TMP/foreign.crt" >"$TMP/foreign.pem" && chmod 644 "$TMP/foreign.pem"
if e2e_ssh 1 "cp '$TMP/foreign.pem' '${N_BASE[1]}/conf/tls/node.pem'" 2>"$L.swap"; then
	bad "4 the login user could overwrite ${N_BASE[1]}/conf/tls/node.pem without sudo"
fi
e2e_ssh 1 "sudo -n cp '$TMP/foreign.pem' '${N_BASE[1]}/conf/tls/node.pem'" 2>>"$L.swap"
cg plan Lab >"$L.plan2" 2>&1
if grep -qE '^  ~ config\.DC1\.n2 .*certificate' "$L.plan2" && grep -q 'Plan: 0 to add, 1 to change' "$L.plan2"; then
	ok "4 a replaced node certificate is seen: $(grep -E '^  ~ config\.DC1\.n2' "$L.plan2" | sed 's/^ *//')"
else
	show "$L.plan2"
	bad "4 plan after replacing DC1.n2's node.pem: expected ~ config.DC1.n2 (certificate)"
fi
cg apply --auto-approve Lab >"$L.apply3" 2>&1 && cg plan Lab --detailed-exitcode >"$L.plan3" 2>&1
rc=$?
if [ $rc = 0 ] && e2e_ssh 1 "sudo -n openssl x509 -noout -issuer -in '${N_BASE[1]}/conf/tls/node.pem'" 2>/dev/null | grep -q 'cassandgo CA'; then
	ok "4 apply reissued DC1.n2's certificate from the cluster's CA; plan: nothing to do"
else
	show "$L.apply3"; show "$L.plan3"
	bad "4 reissue of DC1.n2's certificate (rc $rc)"
fi

# nodetool, cqlsh or the credentials gone from a node (an apply killed
# before its config step, a hand): the plan updates that config alone, the
# apply puts them back without restarting Cassandra.
pid_before=$(cat "${N_BASE[2]}/run/cassandra.pid" 2>/dev/null)
rm -f "${N_BASE[2]}/login/credentials" "${N_BASE[2]}/bin/nodetool"
cg plan Lab >"$L.plant" 2>&1
if grep -qE '^  ~ config\.DC2\.n1 .*tools' "$L.plant" && grep -q 'Plan: 0 to add, 1 to change, 0 to destroy' "$L.plant"; then
	ok "4 tools missing on DC2.n1 are seen: $(grep -E '^  ~ config\.DC2\.n1' "$L.plant" | sed 's/^ *//')"
else
	show "$L.plant"
	bad "4 plan after removing DC2.n1's credentials and nodetool: expected ~ config.DC2.n1 (tools)"
fi
cg apply --auto-approve Lab >"$L.applyt" 2>&1 && cg plan Lab --detailed-exitcode >"$L.plant2" 2>&1
rc=$?
if [ $rc = 0 ] && [ "$(cat "${N_BASE[2]}/run/cassandra.pid" 2>/dev/null)" = "$pid_before" ] &&
	e2e_ssh 2 cqlsh -e "'SELECT data_center FROM system.local'" 2>&1 | grep -q '^ DC2' &&
	[ "$(e2e_ssh 2 nodetool status 2>/dev/null | grep -c '^UN ')" = 4 ]; then
	ok "4 apply put DC2.n1's nodetool and credentials back (Cassandra not restarted); plan: nothing to do"
else
	show "$L.applyt"; show "$L.plant2"
	bad "4 tools back on DC2.n1 (rc $rc, pid $pid_before -> $(cat "${N_BASE[2]}/run/cassandra.pid" 2>/dev/null))"
fi

# --- 4c. security off and back on for the running cluster: one rolling step
# per apply (on -> send -> accept -> off, and back), with a client writing and
# reading all along; it moves between TLS+password and plaintext where the
# plan's note says to -----------------------------------------------------
steady_start() {	# MODE
	rm -f "$TMP/steady.stop" "$TMP/steady.$1"
	CG_SECURITY_DIR=$TMP/.cassandgo/Lab "$PY" "$HERE/steady_client.py" "$TMP/steady.stop" \
		"$TMP/steady.$1" "$1" "${N_IP[@]}" >"$L.steady.$1" 2>&1 &
	STEADY=$!
	sleep 3
}
steady_stop() {		# MODE LABEL: stop the client, check it saw no failure
	touch "$TMP/steady.stop"
	wait "$STEADY"
	local r
	if r=$(steady_result "$TMP/steady.$1"); then
		ok "4c $2: a $1 client through it: $r"
	else
		show "$TMP/steady.$1"; show "$L.steady.$1"
		bad "4c $2: the $1 client: ${r:-no result}"
	fi
}
sec_apply() {		# on|off STEP: plan says the step, apply runs it
	local t
	cg plan Lab >"$L.secplan" 2>&1
	t=$(now)
	if grep -q "security turns $1 in 3 steps.*step $2 of 3" "$L.secplan" &&
		cg apply --auto-approve Lab >"$L.secapply" 2>&1; then
		ok "4c security $1, step $2 of 3: planned and applied ($(elapsed "$t")s, $(grep -c '^  ~ service' "$L.secplan") restarts)"
	else
		show "$L.secplan"; show "$L.secapply" 2>/dev/null
		bad "4c security $1, step $2 of 3"
	fi
}
sed -i 's/^  heap: 512M$/  heap: 512M\n  security: off/' "$CONF"
steady_start tls
sec_apply off 1
sec_apply off 2
steady_stop tls "security off, steps 1-2 (passwords, then internode TLS dropped)"
steady_start plain
sec_apply off 3
sed -i '/^  security: off$/d' "$CONF"
sec_apply on 1
sec_apply on 2
steady_stop plain "security off step 3 (no TLS), on steps 1-2 (TLS accepted, then sent)"
steady_start tls
sec_apply on 3
steady_stop tls "security on, step 3 (TLS and passwords required, superuser first)"
cg plan Lab --detailed-exitcode >"$L.secdone" 2>&1
rc=$?
if [ $rc = 0 ] && "$PY" "$HERE/sec_check.py" "${N_IP[0]}" DC1 "$TMP/foreign.crt" "$TMP/foreign.key" >"$L.sec2" 2>&1; then
	ok "4c security back on: plan has nothing to do; $(grep -c '^ok' "$L.sec2") checks from outside pass again"
else
	show "$L.secdone"; show "$L.sec2"
	bad "4c security back on (plan exit $rc)"
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

# --- 5b. faults on purpose: partition a DC, heal; pause a node; kill and heal;
# delay needs netem, which this kernel lacks: a clear error ------------------
# wait_ring IDX SECS PATTERN...: nodetool status from node IDX matches every
# extended regex PATTERN (one per line) within SECS
wait_ring() {
	local i=$1 secs=$2 t p all
	shift 2
	for t in $(seq 1 "$secs"); do
		e2e_nodetool "$i" status >"$L.ring" 2>&1
		all=1
		for p in "$@"; do grep -qE "$p" "$L.ring" || all=0; done
		[ $all = 1 ] && return 0
		sleep 1
	done
	return 1
}
P2=${E2E_PREFIX//./\\.}
t0=$(now)
if cg chaos Lab partition DC2 >"$L.chaos1" 2>&1 && [ "$(grep -c 'blocked [0-9]*$' "$L.chaos1")" = 2 ] &&
	wait_ring 0 90 "^DN +$P2\.2\.1 " "^DN +$P2\.2\.2 " "^UN +$P2\.1\.2 "; then
	ok "5b chaos partition DC2: DC1 sees both DC2 nodes down ($(elapsed "$t0")s)"
else
	show "$L.chaos1"; show "$L.ring"
	bad "5b chaos partition DC2"
fi
t0=$(now)
if cg chaos Lab heal all >"$L.chaos2" 2>&1 && [ "$(grep -c ': healed$' "$L.chaos2")" = 4 ] &&
	wait_ring 0 120 "^UN +$P2\.2\.1 " "^UN +$P2\.2\.2 " && wait_ring 3 60 "^UN +$P2\.1\.1 " "^UN +$P2\.1\.2 "; then
	ok "5b chaos heal all: 4 UN again, seen from both DCs ($(elapsed "$t0")s)"
else
	show "$L.chaos2"; show "$L.ring"
	bad "5b chaos heal all"
fi
t0=$(now)
# 45 s: gossip marks the node down after ~15-25 s, and each poll is a
# nodetool JVM; with a 25 s pause a loaded machine missed the few seconds
# it was seen down
if cg chaos Lab pause DC1.n2 45 >"$L.chaos3" 2>&1 && grep -q "paused .* for 45s" "$L.chaos3" &&
	wait_ring 3 60 "^DN +$P2\.1\.2 " && wait_ring 3 90 "^UN +$P2\.1\.2 "; then
	ok "5b chaos pause DC1.n2 45: down, then up again on its own ($(elapsed "$t0")s)"
else
	show "$L.chaos3"; show "$L.ring"
	bad "5b chaos pause DC1.n2"
fi
t0=$(now)
if cg chaos Lab kill DC2.n1 >"$L.chaos4" 2>&1 && grep -q "killed [0-9]" "$L.chaos4" &&
	wait_ring 0 60 "^DN +$P2\.2\.1 " && cg chaos Lab heal DC2.n1 >>"$L.chaos4" 2>&1 &&
	grep -q "healed; Cassandra started" "$L.chaos4" && wait_ring 0 120 "^UN +$P2\.2\.1 "; then
	ok "5b chaos kill DC2.n1, then heal DC2.n1: it runs again ($(elapsed "$t0")s)"
else
	show "$L.chaos4"; show "$L.ring"
	bad "5b chaos kill and heal DC2.n1"
fi
cg chaos Lab delay DC1 50 >"$L.chaos5" 2>&1
rc=$?
if [ $rc = 1 ] && grep -q "no netem (module sch_netem)" "$L.chaos5" && cg chaos Lab heal all >/dev/null 2>&1; then
	ok "5b chaos delay on this kernel: exit 1, names the missing sch_netem"
else
	show "$L.chaos5"
	bad "5b chaos delay: exit $rc"
fi
if cg chaos Lab partition DC9 >"$L.chaos6" 2>&1 || ! grep -q "has no datacenter or zone DC9" "$L.chaos6"; then
	show "$L.chaos6"
	bad "5b chaos partition of an unknown DC"
else
	ok "5b chaos partition DC9: refused, naming it"
fi

# --- 5c. a fault in the state: kill DC1.n2 -> status shows it -> plan heals
# it in place (a restart, nothing replaced) -> apply heals it -> status clean;
# nodetool on every node, each line prefixed by its node --------------------
t0=$(now)
cg chaos Lab kill DC1.n2 >"$L.f1" 2>&1 && wait_ring 0 60 "^DN +$P2\.1\.2 "
cg status Lab >"$L.f2" 2>&1
cg status Lab --json >"$L.f2j" 2>&1
if grep -qE '^  kill +DC1\.n2 +killed at [0-9]{2}:[0-9]{2}$' "$L.f2" &&
	grep -q '"faults": \[{"kind": "kill", "target": "DC1.n2"' "$L.f2j"; then
	ok "5c chaos kill DC1.n2: status shows the fault (text and --json)"
else
	show "$L.f1"; show "$L.f2"; show "$L.f2j"
	bad "5c status after chaos kill DC1.n2"
fi
cg plan Lab >"$L.f3" 2>&1
if grep -qE '^  ~ service\.DC1\.n2  \(chaos: killed at [0-9]{2}:[0-9]{2}\)$' "$L.f3" &&
	! grep -qE '^  (-/\+|\+|-) (machine|install|config|service)\.' "$L.f3"; then
	ok "5c plan: DC1.n2 restarted in place for the fault, nothing replaced"
else
	show "$L.f3"
	bad "5c plan after chaos kill DC1.n2"
fi
cg apply --auto-approve Lab >"$L.f4" 2>&1
rc=$?
cg status Lab >"$L.f5" 2>&1
if [ $rc = 0 ] && grep -q '^Apply complete!' "$L.f4" && wait_ring 3 60 "^UN +$P2\.1\.2 " &&
	grep -q "UN" "$L.f5" && ! grep -q "Active faults" "$L.f5"; then
	ok "5c apply heals DC1.n2: it runs again, status shows no fault ($(elapsed "$t0")s)"
else
	show "$L.f4" 30; show "$L.f5"
	bad "5c apply after chaos kill DC1.n2: exit $rc"
fi
cg nodetool Lab all status >"$L.nt1" 2>&1
rc=$?
if [ $rc = 0 ] && [ "$(grep -cE "^DC[12]\.n[12]: UN +$P2\." "$L.nt1")" = 16 ]; then
	ok "5c nodetool Lab all status: 4 nodes, each sees 4 UN, every line prefixed"
else
	show "$L.nt1"
	bad "5c nodetool Lab all status: exit $rc"
fi
cg nodetool Lab DC9 status >"$L.nt2" 2>&1
rc=$?
if [ $rc = 64 ] && grep -q "has no datacenter or zone DC9: it has DC1, DC2" "$L.nt2"; then
	ok "5c nodetool Lab DC9: refused (64), naming the DCs"
else
	show "$L.nt2"
	bad "5c nodetool Lab DC9: exit $rc"
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
