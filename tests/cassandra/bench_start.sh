#!/usr/bin/env bash
# bench_start.sh RENDER [RUNS] - time from `cgnode start` to CQL ready for
# one fresh node, with the lab flags the local provider renders (C1-only
# JIT, short memtable overhead estimate) and with the full flags an AWS
# node gets. Prints the median wall time and the CPU time the JVM spent up
# to readiness (CPU is the fairer figure on a busy machine). Runs in its
# own network namespace; cleans up on exit.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
render=$(readlink -f "${1:?usage: bench_start.sh CASS-RENDER [RUNS]}")
runs=${2:-3}
[ "$(id -u)" = 0 ] || { echo "bench_start: needs root (ip netns)" >&2; exit 1; }
lib=$("$here/fetch.sh" --check)

ns=cgbench-$$
tmp=$(mktemp -d /tmp/cgbench.XXXXXX)
node=
cleanup() {
	if [ -n "$node" ]; then
		ip netns exec "$ns" "$node/bin/cgnode" stop >/dev/null 2>&1 || true
	fi
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
ip netns add "$ns"
ip -n "$ns" link set lo up

one() {	# KIND -> "wall_ms cpu_ms"
	local kind=$1 t0 t pid ut st
	rm -rf "$tmp/n"
	"$render" "$tmp/n" "$lib" Bench 512M 16 "DC1:127.0.0.1/r1" >/dev/null
	node=$tmp/n/DC1.n1
	mkdir -p "$node/bin"
	install -m 0755 "$repo/providers/ssh/cgnode" "$node/bin/cgnode"
	if [ "$kind" = full ]; then
		sed -i 's/ -XX:TieredStopAtLevel=1 -Dcassandra.memtable_row_overhead_computation_step=100//' \
			"$node/conf/cgnode.env"
	fi
	t0=$(date +%s%N)
	ip netns exec "$ns" "$node/bin/cgnode" start >/dev/null
	ip netns exec "$ns" "$node/bin/cgnode" wait-ready 300 >/dev/null
	t=$((($(date +%s%N) - t0) / 1000000))
	pid=$(cat "$node/run/cassandra.pid")
	read -r ut st < <(awk '{print $14, $15}' "/proc/$pid/stat")
	echo "$t $(((ut + st) * 1000 / $(getconf CLK_TCK)))"
	ip netns exec "$ns" "$node/bin/cgnode" stop >/dev/null
	node=
}

median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

: >"$tmp/full" && : >"$tmp/lab"
for _ in $(seq 1 "$runs"); do
	one full >>"$tmp/full"
	one lab >>"$tmp/lab"
done
for k in full lab; do
	printf 'bench-cassandra: %-4s flags: start->CQL ready median %6d ms wall, %6d ms CPU (%d runs)\n' \
		"$k" "$(cut -d' ' -f1 "$tmp/$k" | median)" "$(cut -d' ' -f2 "$tmp/$k" | median)" "$runs"
done
echo "bench-cassandra: load average $(cut -d' ' -f1-3 /proc/loadavg)"
