# tests/e2e/lib.sh - shared by the e2e test and the Lab benchmark (sourced).
# shellcheck shell=bash
#
# A scratch copy of examples/lab.yaml on its own range (E2E_RANGE, default
# 10.78.0.0/16; other tests use 10.77 and 10.79) with its own state and node
# root under one temp dir, so nothing collides with a user's Lab or with
# another test. Traffic goes only to the namespaces created here.
#
# Caller sets: CG (absolute path of the cassandgo binary). Provides: e2e_setup,
# e2e_cleanup (trap), e2e_nodes (machines from the state), e2e_ssh, e2e_nodetool,
# e2e_status_check, now.

E2E_RANGE=${E2E_RANGE:-10.78.0.0/16}
E2E_PREFIX=${E2E_RANGE%.0.0/16}	# 10.78
E2E_TIMEOUT=${E2E_TIMEOUT:-900}	# per cassandgo command (seconds)
PY=/usr/bin/python3		# Debian's python3-cassandra lives here, not in a pyenv
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

now() { echo "${EPOCHREALTIME/,/.}"; }
# elapsed START [END]: seconds with one decimal
elapsed() { awk -v a="$1" -v b="${2:-$(now)}" 'BEGIN { printf "%.1f", b - a }'; }

# descendant NAME PID: the first process named NAME under PID (by parent ids)
descendant() {
	local c
	for c in $(pgrep -P "$2"); do
		[ "$(cat "/proc/$c/comm" 2>/dev/null)" = "$1" ] && { echo "$c"; return 0; }
		descendant "$1" "$c" && return 0
	done
	return 1
}

# kill_apply_at PID LOG REGEX [TENTHS]: once REGEX shows in LOG (or PID
# ends, or TENTHS tenths of a second pass; default 3000), kill -9 the
# cassandgo under PID (the apply a test started in the background), reap it
# and release the state lock it left. Sets KILLED (its pid, empty when none
# was found) and KILL_LOCK (the lock it held, empty when none).
kill_apply_at() {
	local pid=$1 log=$2 re=$3 n=${4:-3000}
	for _ in $(seq 1 "$n"); do
		grep -qE -- "$re" "$log" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	KILLED=$(descendant cassandgo "$pid") && kill -9 "$KILLED"
	wait "$pid" 2>/dev/null
	KILL_LOCK=$(sqlite3 "$CASSANDGO_STATE" 'select id from lock' 2>/dev/null)
	[ -n "$KILL_LOCK" ] && cg state unlock "$KILL_LOCK" >/dev/null 2>&1
	return 0
}

# proc_start PID: the start time (clock ticks since boot) of a live process;
# fails for no process or a zombie.
proc_start() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	# fields after the command name, which may hold spaces: ") S ppid ..."
	# shellcheck disable=SC2086 # split on purpose; no glob characters here
	set -- ${stat##*) }
	[ "$1" != Z ] && [ -n "${20:-}" ] && echo "${20}"
}

e2e_preflight() {
	local p
	if [ "$(id -u)" != 0 ]; then
		echo "$1: needs root (network namespaces, bridges, sshd); FAILED" >&2
		return 1
	fi
	for p in ip /usr/sbin/sshd ssh java "$PY"; do
		command -v "$p" >/dev/null || { echo "$1: $p missing (make deps); FAILED" >&2; return 1; }
	done
	"$PY" -c 'import cassandra.cluster' 2>/dev/null ||
		{ echo "$1: python3-cassandra missing (make deps); FAILED" >&2; return 1; }
	ls /var/cache/cassandgo/cassandra-*/lib >/dev/null 2>&1 ||
		{ echo "$1: Cassandra jars missing (make cassandra); FAILED" >&2; return 1; }
}

# e2e_setup NAME: scratch dir, config, environment.
e2e_setup() {
	TMP=$(mktemp -d "/tmp/cg-$1.XXXXXX")
	chmod 755 "$TMP"	# the nodes' login user walks down to its base_dir
	CONF=$TMP/lab.yaml
	sed "s#^\([[:space:]]*network:\).*#\1 $E2E_RANGE#" "$HERE/../../examples/lab.yaml" >"$CONF"
	grep -q "network: $E2E_RANGE" "$CONF" || { echo "cannot set the range in $CONF" >&2; return 1; }
	mkdir -p "$TMP/nodes"
	# Our own copy: others build in the same tree, and a `make clean` or a
	# relink must not pull the binary away in the middle of the test.
	cp "$CG" "$TMP/cassandgo" || return 1
	CG=$TMP/cassandgo
	export CASSANDGO_LOCAL_ROOT=$TMP/nodes
	export CASSANDGO_STATE=$TMP/.cassandgo/state.db
	unset CASSANDGO_CONFIG
}

# cg ARGS...: the tool on the scratch config, bounded in time. --foreground:
# timeout otherwise moves the tool out of the terminal's process group, and a
# Ctrl-C of make would not reach it (the trap waits for it to return).
cg() { timeout --foreground "$E2E_TIMEOUT" "$CG" -c "$CONF" "$@"; }

# The cluster's tag: from the node root (Lab-TAG), which exists from the
# first machine on; empty before.
e2e_tag() {
	local d
	for d in "$TMP"/nodes/Lab-*; do
		[ -d "$d" ] && { echo "${d##*/Lab-}"; return; }
	done
	[ -n "${E2E_TAG:-}" ] && echo "$E2E_TAG"
}

# e2e_cleanup: destroy through the tool, then remove by hand whatever is
# left (a failed destroy must not leave namespaces or JVMs behind).
e2e_cleanup() {
	local tag ns pid l
	set +e
	tag=$(e2e_tag)
	# Whatever the state holds (a bridge and keys exist before any machine).
	if [ -e "$CASSANDGO_STATE" ] && cg state show Lab --json 2>/dev/null | grep -q '"address"'; then
		E2E_TIMEOUT=300 cg destroy --auto-approve Lab >"$TMP/cleanup-destroy.log" 2>&1 ||
			echo "cleanup: destroy failed (removing by hand): $(tail -n 3 "$TMP/cleanup-destroy.log")" >&2
	fi
	if [ -n "$tag" ]; then
		for ns in /run/netns/cg-"$tag"-*; do
			[ -e "$ns" ] || continue
			ns=${ns#/run/netns/}
			for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
			ip netns del "$ns" 2>/dev/null
			rm -rf "/run/cassandgo/$ns"
		done
		ip link del "cgb$tag" 2>/dev/null
	fi
	# A bridge of ours whose tag is unknown holds an address of our range,
	# which no one else uses.
	for l in $(ip -o -4 addr show | awk -v p="$E2E_PREFIX." 'index($4, p) == 1 && $2 ~ /^cgb/ { print $2 }'); do
		ip link del "$l" 2>/dev/null
	done
	# JVMs or sshds of ours that escaped their namespace (never expected)
	for pid in $(grep -lsF -- "$TMP/" /proc/[0-9]*/cmdline | cut -d/ -f3); do
		[ "$pid" != $$ ] && kill -9 "$pid" 2>/dev/null
	done
	rm -rf "$TMP"
}

# e2e_nodes: one line per machine, sorted by address:
#   ADDRESS ID IP BASE_DIR KEY_FILE   (e.g. machine.DC1.n1 cg-TAG-DC1-n1 10.78.1.1 ...)
e2e_nodes() {
	cg state show Lab --json | "$PY" -c '
import json, sys
res = [r for c in json.load(sys.stdin)["clusters"] if c["cluster"] == "Lab" for r in c["resources"]]
keys = {r["region"]: r["resource"]["attributes"]["key_file"] for r in res if r["kind"] == "keypair"}
for r in sorted((r for r in res if r["kind"] == "machine"), key=lambda r: r["address"]):
    a = r["resource"]["attributes"]
    print(r["address"], r["resource"]["id"], a["private_ip"], a["base_dir"], keys[r["region"]])
'
}

# e2e_load_nodes: arrays N_ADDR N_ID N_IP N_BASE N_KEY from the state.
e2e_load_nodes() {
	local a i p b k
	N_ADDR=() N_ID=() N_IP=() N_BASE=() N_KEY=()
	while read -r a i p b k; do
		N_ADDR+=("$a") N_ID+=("$i") N_IP+=("$p") N_BASE+=("$b") N_KEY+=("$k")
	done < <(e2e_nodes)
	[ ${#N_ADDR[@]} -gt 0 ]
}

# e2e_ssh IDX CMD...: run a command on node IDX as the cluster's login user,
# with the cluster's key and only its pinned host keys (no TOFU, no user
# config, nothing written to ~/.ssh).
e2e_ssh() {
	local i=$1
	shift
	ssh -F /dev/null -n -i "${N_KEY[$i]}" -o IdentitiesOnly=yes -o BatchMode=yes \
		-o StrictHostKeyChecking=yes -o UserKnownHostsFile="$TMP/.cassandgo/Lab/known_hosts" \
		-o GlobalKnownHostsFile=/dev/null -o HostKeyAlias="${N_ID[$i]}" \
		-o ConnectTimeout=10 -o ServerAliveInterval=10 -o LogLevel=ERROR \
		"cassandgo@${N_IP[$i]}" "$@"
}

# e2e_nodetool IDX ARGS...: nodetool of node IDX through SSH and cgnode.
e2e_nodetool() {
	local i=$1
	shift
	e2e_ssh "$i" "${N_BASE[$i]}/bin/cgnode" nodetool "$@"
}

# e2e_status_check [--owns PCT] < nodetool status: the Lab layout (4 UN,
# 2 per DC, racks as configured, per-node effective ownership PCT +- 1).
e2e_status_check() {
	"$PY" "$HERE/status_check.py" \
		"$E2E_PREFIX.1.1=DC1/lab-east-a" "$E2E_PREFIX.1.2=DC1/lab-east-b" \
		"$E2E_PREFIX.2.1=DC2/lab-west-a" "$E2E_PREFIX.2.2=DC2/lab-west-b" "$@"
}

# ok, bad, show, finish: the tally every test script prints
# shellcheck source=tests/tally.sh
. "$HERE/../tally.sh"

# e2e_apply_first WHAT: the first apply of Lab, timed, into $L.apply; when it
# fails, the log's tail, a failed step 1 and the end of the test.
e2e_apply_first() {
	local t0 rc
	echo "# $1: Lab on $E2E_RANGE in $TMP"
	t0=$(now)
	cg apply --auto-approve Lab >"$L.apply" 2>&1
	rc=$?
	echo "# apply: $rc after $(elapsed "$t0")s"
	if [ $rc != 0 ] || ! grep -q '^Apply complete!' "$L.apply"; then
		show "$L.apply" 40
		bad "1 apply Lab: exit $rc"
		finish
	fi
}

# e2e_timed_apply LOG: `apply --auto-approve Lab` with $CG on $CONF, its
# output in LOG, timed from the output as it comes: T_UN seconds to the ring
# step's "ring verified" (all UN), T_ALL the whole apply, T_RSS cassandgo's
# peak RSS in MB (GNU time). False when the apply did not complete.
e2e_timed_apply() {
	local log=$1 t0 line
	T_UN='' T_ALL='' T_RSS=''
	: >"$log"
	t0=$(now)
	while IFS= read -r line; do
		case $line in *"ring verified  ["*) T_UN=$(elapsed "$t0") ;; esac
		echo "$line" >>"$log"
	done < <(/usr/bin/time -o "$log.rss" -f '%M' timeout "$E2E_TIMEOUT" "$CG" -c "$CONF" \
		apply --auto-approve Lab 2>&1)
	T_ALL=$(elapsed "$t0")
	T_RSS=$(awk '{ printf "%.1f", $1 / 1024 }' "$log.rss" 2>/dev/null)
	grep -q '^Apply complete!' "$log" && [ -n "$T_UN" ]
}

# median V...: with one decimal; ratio A B: A/B with two
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { printf "%.1f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# steady_result FILE: steady_client.py's result line (first line of FILE:
# "requests=N retried=R failures=M"), printed; true when it made requests
# and none failed
steady_result() {
	local r n
	r=$(head -n1 "$1" 2>/dev/null)
	echo "${r:-no result}"
	n=${r#requests=}
	n=${n%% *}
	[ -n "$r" ] && [ "${r##*failures=}" = 0 ] && [ -n "$n" ] && [ "$n" != 0 ] &&
		[ -z "${n//[0-9]/}" ]
}

# e2e_applied: after an apply of the Lab, its nodes (e2e_load_nodes) and
# its `output --json` for the Python checks (CG_OUTPUT_JSON)
e2e_applied() {
	e2e_load_nodes
	cg output Lab --json >"$TMP/output.json" 2>"$L.output" && export CG_OUTPUT_JSON=$TMP/output.json
}
