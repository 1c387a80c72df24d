#!/usr/bin/env bash
# test_node.sh RENDER - real Cassandra nodes from the Maven cache, driven by
# providers/ssh/cgnode with files rendered by planner/cassconf.c (RENDER is
# the cass-render helper).
#
# Everything runs inside a network namespace created here, so loopback
# addresses and ports (7000, 7199, 9042) collide with nothing on the host.
#  1. one node on 127.0.0.1, cgnode as root (as sudo runs it on a node),
#     Cassandra as the unprivileged RUN_USER cassandgo-db (a system
#     account cgnode makes): start returns at once, wait-ready, status, nodetool status parsed UN, stop,
#     nothing left running; time to ready is printed.
#  2. three nodes in two DCs (127.0.0.2-4): seeds first, then the other; the
#     ring forms (all UN in DC and rack), ownership is even per DC, and a row
#     written through DC1 is read through DC2 (CQL via Cql.java).
# Needs root (ip netns) and the runtime (make cassandra); fails, never skips.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
render=$(readlink -f "${1:?usage: test_node.sh CASS-RENDER}")
cgnode_src=$repo/providers/ssh/cgnode

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok - $*"; }

[ "$(id -u)" = 0 ] || fail "needs root (network namespaces)"
lib=$("$here/fetch.sh" --check) || fail "Cassandra runtime not in the cache (run: make cassandra)"
java --list-modules 2>/dev/null | grep -q '^jdk.compiler' ||
	fail "no JDK (jdk.compiler) for Cql.java (run: make deps)"

ns=cgcass-$$
tmp=$(mktemp -d /tmp/cgcass.XXXXXX)
chmod 755 "$tmp"
nodes=()

cleanup() {
	local d pid
	for d in "${nodes[@]}"; do
		ip netns exec "$ns" "$d/bin/cgnode" stop >/dev/null 2>&1 || true
		# Belt and braces: whatever the script could not stop dies here.
		pid=$(cat "$d/run/cassandra.pid" 2>/dev/null || true)
		[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
	done
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

ip netns add "$ns"
ip -n "$ns" link set lo up

# Run in the namespace as root: cgnode is root's on a node (the login user
# runs it through sudo) and drops to RUN_USER for Cassandra and its tools.
as_root() { ip netns exec "$ns" "$@"; }

install_cgnode() {	# BASE
	mkdir -p "$1/bin"
	install -m 0755 "$cgnode_src" "$1/bin/cgnode"
	nodes+=("$1")
}

# Alive and not a zombie (this machine's pid 1 may not reap orphans).
alive() {
	local st
	st=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null)
	[ -n "$st" ] && [ "$st" != Z ]
}

kv() {	# KEY < status output
	sed -n "s/^$1=//p"
}

# ---- 0. the cache is verified, not trusted -----------------------------------
ver=$(cat "$here/VERSION")
mkdir -p "$tmp/cache"
cp -r "$(dirname "$lib")" "$tmp/cache/"
CASSANDGO_CASSANDRA_CACHE=$tmp/cache "$here/fetch.sh" --check >/dev/null ||
	fail "a copy of the complete cache does not verify"
jars=("$tmp/cache/cassandra-$ver/lib/"jna-*.jar)
jar=$(basename "${jars[0]}")
: >"$tmp/cache/cassandra-$ver/lib/$jar"
if CASSANDGO_CASSANDRA_CACHE=$tmp/cache "$here/fetch.sh" --check >/dev/null 2>&1; then
	fail "a cache with a truncated $jar passes --check"
fi
rm -rf "$tmp/cache"
pass "cache: complete copy verifies, a truncated jar does not"

# ---- 1. one node, unprivileged ---------------------------------------------
root1=$tmp/one
"$render" "$root1" "$lib" Single 512M 16 "DC1:127.0.0.1/rack1" >/dev/null ||
	fail "render of the single node"
n1=$root1/DC1.n1
install_cgnode "$n1"
sed -i "s/^RUN_USER=.*/RUN_USER='cassandgo-db'/" "$n1/conf/cgnode.env"
grep -qx "RUN_USER='cassandgo-db'" "$n1/conf/cgnode.env" || fail "RUN_USER not set in $n1/conf/cgnode.env"
c1=$n1/bin/cgnode

st=$(as_root "$c1" status)
[ "$(kv running <<<"$st")" = 0 ] || fail "status before start says running: $st"
[ "$(kv installed <<<"$st")" = 0 ] || fail "status before install says installed: $st"
pass "status before install/start: installed=0 running=0"

out=$(as_root "$c1" install "dir:$lib" "$ver") || fail "install dir:$lib $ver"
[ "$out" = "installed $ver" ] || fail "install printed: $out"
out=$(as_root "$c1" install "dir:$lib" "$ver") || fail "second install"
st=$(as_root "$c1" status)
[ "$(kv installed <<<"$st")" = 1 ] && [ "$(kv version <<<"$st")" = "$ver" ] &&
	[ "$(kv method <<<"$st")" = "dir:$lib" ] || fail "status after install: $st"
if as_root "$c1" install "dir:$lib" 4.1.0 >/dev/null 2>&1; then
	fail "install accepted jars of another version"
fi
if as_root "$c1" install "dir:$tmp" "$ver" >/dev/null 2>&1; then
	fail "install accepted a directory without jars"
fi
pass "install dir: (idempotent; refuses a wrong version or an empty dir)"

t0=$(date +%s%N)
# Command substitution waits for EOF on the pipe: if Cassandra kept the
# caller's stdout (an SSH channel), this would hang until the timeout.
out=$(timeout 20 bash -c "ip netns exec $ns $c1 start") ||
	fail "cgnode start did not return at once (fds not detached?)"
t_start=$((($(date +%s%N) - t0) / 1000000))
case $out in "started "*) ;; *) fail "start printed: $out" ;; esac
pid=${out#started }
[ "$(stat -c %U "/proc/$pid")" = cassandgo-db ] || fail "Cassandra does not run as cassandgo-db"
[ "$(ps -o sid= -p "$pid" | tr -d ' ')" = "$pid" ] || fail "Cassandra is not a session leader (setsid)"
pass "start returned in ${t_start} ms (pid $pid, user cassandgo-db, own session)"

out=$(as_root "$c1" start)
[ "$out" = "running $pid" ] || fail "second start is not a no-op: $out"
pass "second start is a no-op"

as_root "$c1" wait-ready 180 >/dev/null || fail "node not ready in 180 s"
t_ready=$((($(date +%s%N) - t0) / 1000000))
pass "ready (CQL) $t_ready ms after start"

st=$(as_root "$c1" status)
[ "$(kv running <<<"$st")" = 1 ] || fail "status: not running: $st"
[ "$(kv pid <<<"$st")" = "$pid" ] || fail "status: pid differs: $st"
[ "$(kv cql <<<"$st")" = 1 ] || fail "status: cql=0 while ready: $st"
h=$(cat "$n1/conf/.hash")
[ "$(kv config_hash <<<"$st")" = "$h" ] || fail "status: config_hash != conf/.hash ($h): $st"
[ "$(kv running_hash <<<"$st")" = "$h" ] || fail "status: running_hash != $h: $st"
pass "status: running=1 cql=1 config_hash=$h"

t0=$(date +%s%N)
as_root "$c1" nodetool status >"$tmp/status1" 2>"$tmp/status1.err" ||
	fail "nodetool status: $(cat "$tmp/status1.err")"
t_nt=$((($(date +%s%N) - t0) / 1000000))
"$render" --parse <"$tmp/status1" >"$tmp/parsed1" || fail "nodetool status does not parse: $(cat "$tmp/status1")"
[ "$(cat "$tmp/parsed1")" = "DC1 127.0.0.1 UN rack1 16 100.0" ] ||
	fail "unexpected ring: $(cat "$tmp/parsed1")"
pass "nodetool status (${t_nt} ms): $(cat "$tmp/parsed1")"

[ "$(as_root "$c1" log-tail 5 | wc -l)" -ge 5 ] || fail "log-tail 5 printed fewer than 5 lines"
pass "log-tail"

as_root "$c1" stop >/dev/null || fail "stop failed"
st=$(as_root "$c1" status)
[ "$(kv running <<<"$st")" = 0 ] || fail "status after stop: $st"
alive "$pid" && fail "pid $pid still alive after stop"
pgrep -f "$n1/conf/cassandra.yaml" >/dev/null && fail "a process of the node is left"
out=$(as_root "$c1" stop) && [ "$out" = stopped ] || fail "second stop is not a no-op: $out"
if as_root "$c1" wait-ready 5 >/dev/null 2>&1; then
	fail "wait-ready succeeded with the node stopped (readiness of an old run?)"
fi
pass "stop: nothing left running; stop again is a no-op; wait-ready refuses a stopped node"

# Restart (what a config change does): readiness must come from the new run,
# not from the old run's "Starting listening" line still in system.log.
t0=$(date +%s%N)
# Two starts at once (a retried command): one JVM, and it does not keep
# cgnode's lock open.
as_root "$c1" start >"$tmp/start.a" & sa=$!
as_root "$c1" start >"$tmp/start.b" & sb=$!
wait "$sa" || fail "restart (first of two)"
wait "$sb" || fail "restart (second of two)"
[ "$(pgrep -fc "$n1/conf/cassandra.yaml")" = 1 ] || fail "two concurrent starts launched two JVMs"
pid=$(cat "$n1/run/cassandra.pid")
for fd in "/proc/$pid/fd/"*; do
	[ "$(readlink "$fd")" != "$n1/run/.lock" ] || fail "Cassandra inherited cgnode's lock"
done
grep -qx "running $pid" "$tmp/start.a" "$tmp/start.b" || fail "no start saw the other's JVM"
[ "$(cat "$n1/run/log.offset")" -gt 0 ] || fail "restart did not record the log offset"
as_root "$c1" wait-ready 180 >/dev/null || fail "restarted node not ready"
t_restart=$((($(date +%s%N) - t0) / 1000000))
[ "$(grep -c 'Starting listening for CQL clients' "$n1/logs/system.log")" = 2 ] ||
	fail "wait-ready returned before the restarted node listened"
as_root "$c1" nodetool status >"$tmp/status1b" 2>/dev/null || fail "nodetool after restart"
"$render" --parse <"$tmp/status1b" | grep -q '^DC1 127.0.0.1 UN rack1 16 ' ||
	fail "restarted node not UN: $(cat "$tmp/status1b")"
grep -q "$(awk '/^UN/{print $(NF-1)}' "$tmp/status1")" "$tmp/status1b" ||
	fail "host id changed across a restart"
as_root "$c1" stop >/dev/null || fail "stop after restart"
pass "restart (two concurrent starts, one JVM): ready from the new run in ${t_restart} ms, same host id, UN"

# A start that is stuck (its JVM frozen: no log line) fails after IDLE
# seconds of a still log, and says so; the same start, thawed, is ready.
out=$(as_root "$c1" start) || fail "start before the freeze"
pid=${out#started }
kill -STOP "$pid"
t0=$(date +%s)
if as_root "$c1" wait-ready 3 >/dev/null 2>"$tmp/frozen.err"; then
	kill -CONT "$pid"
	fail "wait-ready 3 succeeded on a frozen JVM"
fi
t_frozen=$(($(date +%s) - t0))
kill -CONT "$pid"
grep -q "its log has not moved for 3s" "$tmp/frozen.err" || fail "wait-ready on a frozen JVM said: $(head -3 "$tmp/frozen.err")"
[ "$t_frozen" -le 10 ] || fail "wait-ready 3 on a frozen JVM took ${t_frozen}s"
as_root "$c1" wait-ready 180 >/dev/null || fail "thawed node not ready"
as_root "$c1" stop >/dev/null || fail "stop after the freeze"
pass "wait-ready 3 gives up on a frozen start after ${t_frozen}s (its log still); thawed, it is ready"

# ---- 2. three nodes, two DCs, one ring ----------------------------------------
# DC1: 127.0.0.2 (seed, rack-a), 127.0.0.3 (rack-b); DC2: 127.0.0.4 (seed).
# The real order: seeds of every DC at once, then the other node.
root2=$tmp/ring
"$render" "$root2" "$lib" Ring 512M 16 "DC1:127.0.0.2/rack-a,127.0.0.3/rack-b" \
	"DC2:127.0.0.4/rack-a" >/dev/null || fail "render of the ring"
a=$root2/DC1.n1 b=$root2/DC1.n2 c=$root2/DC2.n1
for n in "$a" "$b" "$c"; do
	grep -q 'seeds: "127.0.0.2:7000,127.0.0.4:7000"' "$n/conf/cassandra.yaml" ||
		fail "seeds of every DC not rendered in $n"
done
# The nodes share this namespace's 127.0.0.1, where local JMX listens.
sed -i 's/7199/7299/g' "$b/conf/cgnode.env"
sed -i 's/7199/7399/g' "$c/conf/cgnode.env"
install_cgnode "$a"
install_cgnode "$b"
install_cgnode "$c"

t0=$(date +%s%N)
as_root "$a/bin/cgnode" start >/dev/null || fail "start DC1 seed"
as_root "$c/bin/cgnode" start >/dev/null || fail "start DC2 seed"
as_root "$a/bin/cgnode" wait-ready 240 >/dev/null || fail "DC1 seed not ready"
as_root "$c/bin/cgnode" wait-ready 240 >/dev/null || fail "DC2 seed not ready"
t_seeds=$((($(date +%s%N) - t0) / 1000000))
as_root "$b/bin/cgnode" start >/dev/null || fail "start DC1 node 2"
as_root "$b/bin/cgnode" wait-ready 240 >/dev/null || fail "DC1 node 2 not ready"
t_all=$((($(date +%s%N) - t0) / 1000000))
pass "seeds ready in ${t_seeds} ms, the third node ${t_all} ms after the first start"

want=$'DC1 127.0.0.2 UN rack-a 16\nDC1 127.0.0.3 UN rack-b 16\nDC2 127.0.0.4 UN rack-a 16'
deadline=$(($(date +%s) + 120))
while :; do
	got=
	if as_root "$a/bin/cgnode" nodetool status >"$tmp/status2" 2>/dev/null &&
		"$render" --parse <"$tmp/status2" >"$tmp/parsed2" 2>/dev/null; then
		got=$(cut -d' ' -f1-5 "$tmp/parsed2" | sort)
	fi
	[ "$got" = "$want" ] && break
	[ "$(date +%s)" -lt "$deadline" ] || fail "ring did not form in 120 s; last view: $(cat "$tmp/status2" 2>/dev/null)"
	sleep 1
done
t_ring=$((($(date +%s%N) - t0) / 1000000))
pass "ring of 2 DCs formed ${t_ring} ms after the first start"
for n in "$b" "$c"; do
	# every node converges to the same view; gossip may need a moment more
	# on a loaded machine than the first node did
	deadline=$(($(date +%s) + 60))
	until as_root "$n/bin/cgnode" nodetool status >"$tmp/status3" 2>/dev/null &&
		[ "$("$render" --parse <"$tmp/status3" | cut -d' ' -f1-5 | sort)" = "$want" ]; do
		[ "$(date +%s)" -lt "$deadline" ] || fail "$n sees another ring: $(cat "$tmp/status3")"
		sleep 1
	done
done
pass "every node sees the same ring"

# CQL through the driver in the Cassandra jars (Cql.java, needs a JDK):
# a keyspace with one replica per DC, then per-DC effective ownership must
# be exactly even (the precomputed tokens), and a row written in DC1 is
# read in DC2 at LOCAL_ONE.
cat >"$tmp/quiet.xml" <<'XML'
<configuration><root level="OFF"/></configuration>
XML
cql() {	# HOST DC STATEMENT...
	local h=$1 dc=$2
	shift 2
	ip netns exec "$ns" java -Dlogback.configurationFile="file://$tmp/quiet.xml" \
		-cp "$lib/*" "$here/Cql.java" "$h" 9042 "$dc" "$@" 2>"$tmp/cql.err"
}
cql 127.0.0.2 DC1 \
	"CREATE KEYSPACE t WITH replication = {'class': 'NetworkTopologyStrategy', 'DC1': 1, 'DC2': 1}" \
	"CREATE TABLE t.kv (k text PRIMARY KEY, v text)" \
	"INSERT INTO t.kv (k, v) VALUES ('cassandgo', 'dc1')" >/dev/null ||
	fail "CQL through DC1: $(tail -n 5 "$tmp/cql.err")"
as_root "$a/bin/cgnode" nodetool status t >"$tmp/status4" 2>/dev/null || fail "nodetool status t"
"$render" --parse <"$tmp/status4" | awk '{print $1, $2, $6}' | sort >"$tmp/owns"
[ "$(cat "$tmp/owns")" = $'DC1 127.0.0.2 50.0\nDC1 127.0.0.3 50.0\nDC2 127.0.0.4 100.0' ] ||
	fail "ownership not even per DC: $(cat "$tmp/status4")"
pass "effective ownership per DC: $(tr '\n' ';' <"$tmp/owns")"
deadline=$(($(date +%s) + 30))
until [ "$(cql 127.0.0.4 DC2 "SELECT v FROM t.kv WHERE k = 'cassandgo'" || true)" = dc1 ]; do
	[ "$(date +%s)" -lt "$deadline" ] || fail "row written in DC1 not read in DC2: $(tail -n 5 "$tmp/cql.err")"
	sleep 1
done
pass "row written through DC1 read through DC2 at LOCAL_ONE"

for n in "$b" "$a" "$c"; do
	as_root "$n/bin/cgnode" stop >/dev/null || fail "stop $n"
done
pgrep -f "$root2/" >/dev/null && fail "a process of the ring is left"
pass "ring stopped, nothing left"

echo "cassandra: single node ready in ${t_ready} ms (restart ${t_restart} ms);" \
	"3-node 2-DC ring: seeds ${t_seeds} ms, all ready ${t_all} ms, all UN ${t_ring} ms"
