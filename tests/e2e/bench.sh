#!/usr/bin/env bash
# make bench-lab: wall time from `apply` to all-UN for Lab (4 nodes, 2 DCs),
# against a baseline in the same run that starts the same 4 nodes one at a
# time, each waiting until it is UN before the next starts (how the 2014
# tool and most others do it).
#
#   A  cassandgo: destroy (nothing exists), then `apply --auto-approve Lab`;
#      the clock stops when nodetool (through SSH on DC1 n1) first shows all
#      4 nodes UN after apply returned. The tool's output is timestamped to
#      split it: machines ready (last machine created) -> all UN.
#   B  baseline: same machines, same rendered config (precomputed tokens),
#      same cgnode over SSH. All 4 Cassandras stopped and their data dirs
#      wiped so they start as a new cluster; then, seeds first, for each node:
#      `cgnode start`, `cgnode wait-ready`, poll nodetool on DC1 n1 until
#      that node is UN; next node.
# Both clocks end with the same probe (nodetool status through SSH).
# usage: tests/e2e/bench.sh [CASSANDGO]; BENCH_RUNS=N (default 3) repeats A
# and B and reports the medians: a shared 2-CPU machine is noisy, one run
# proves little.
set -uo pipefail
CG=$(realpath "${1:-./cassandgo}")
# Its own range, so that a concurrent `make e2e` (10.78) does not collide.
E2E_RANGE=${E2E_RANGE:-10.74.0.0/16}
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
RUNS=${BENCH_RUNS:-3}

e2e_preflight bench-lab || exit 1
[ -x "$CG" ] || { echo "bench-lab: $CG not built; FAILED" >&2; exit 1; }
e2e_setup bench-lab || exit 1
trap e2e_cleanup EXIT
trap 'exit 130' INT TERM
L=$TMP/log

die() { echo "bench-lab: $*; FAILED" >&2; exit 1; }

# up_from IDX IP...: nodetool status on node IDX lists every IP as UN.
up_from() {
	local i=$1 ip
	shift
	e2e_nodetool "$i" status >"$L.probe" 2>&1 || return 1
	for ip in "$@"; do
		grep -qE "^UN +$ip " "$L.probe" || return 1
	done
}
# wait_up IDX SECONDS IP...: poll up_from until true or the deadline.
wait_up() {
	local i=$1 secs=$2 end
	shift 2
	end=$(($(date +%s) + secs))
	until up_from "$i" "$@"; do
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 1
	done
}

# stamp: prefix every line with seconds since $1 (timestamps taken as the
# line arrives, so the phases of the tool's run can be told apart).
stamp() {
	local t0=$1 line
	while IFS= read -r line; do
		printf '%s %s\n' "$(elapsed "$t0")" "$line"
	done
}

run_cassandgo() {
	local t0 rc
	t0=$(now)
	set -o pipefail
	# line-buffered, so that every line is stamped when it is written
	stdbuf -oL -eL timeout --foreground "$E2E_TIMEOUT" "$CG" -c "$CONF" apply --auto-approve Lab 2>&1 | stamp "$t0" >"$L.apply"
	rc=$?
	[ $rc = 0 ] || { tail -n 30 "$L.apply" >&2; die "apply: exit $rc"; }
	e2e_load_nodes || die "no machines in the state"
	E2E_TAG=$(e2e_tag)
	wait_up 0 300 "${N_IP[@]}" || { cat "$L.probe" >&2; die "not all UN after apply"; }
	A_TOTAL=$(elapsed "$t0")
	A_APPLY=$(awk '/Apply complete!/ { print $1 }' "$L.apply")
	# The tool's progress lines ("cloud   DC1 n1    lab-east-a    machine
	# running  [0.3s]", "start   DC2 n2 ... Cassandra started  [9s]",
	# "verify  cluster ... ring verified"); the older "machine.DC1.n1: Created"
	# form is understood too.
	A_MACH=$(awk '/ machine running  \[|^[0-9.]+ machine\.[^ ]*: Created/ { t = $1 } END { print t }' "$L.apply")
	A_SVC=$(awk '/^[0-9.]+ start .*starting Cassandra|^[0-9.]+ service\.[^ ]*: Creating/ { print $1; exit }' "$L.apply")
	[ -n "$A_MACH" ] && [ -n "$A_APPLY" ] || { tail -n 20 "$L.apply" >&2; die "cannot find the phases in the apply output"; }
	# when each node's Cassandra was up for the tool, and the ring check
	A_LINE=$(awk '
		/^[0-9.]+ start .*Cassandra started/ { n = $3 "." $4 }
		/^[0-9.]+ service\.[^ ]*: Created/ { n = $2; sub(/^service\./, "", n); sub(/:$/, "", n) }
		/ ring verified  \[|^[0-9.]+ ring: Created/ { n = "ring" }
		n != "" { printf "%s%s=%ss", sep, n, $1; sep = " "; n = "" }' "$L.apply")
	A_AFTER=$(awk -v a="$A_TOTAL" -v m="$A_MACH" 'BEGIN { printf "%.1f", a - m }')
}

# baseline_reset: every Cassandra stopped, data wiped (logs kept: cgnode
# reads only this run's part of them).
baseline_reset() {
	local i pids=()
	for i in "${!N_IP[@]}"; do
		e2e_ssh "$i" "${N_BASE[$i]}/bin/cgnode stop >/dev/null && rm -rf '${N_BASE[$i]}/data' && ${N_BASE[$i]}/bin/cgnode status" \
			>"$L.reset$i" 2>&1 &
		pids+=($!)
	done
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}" || { cat "$L.reset$i" >&2; die "cannot stop/wipe ${N_ADDR[$i]}"; }
		grep -qx 'running=0' "$L.reset$i" || die "${N_ADDR[$i]} still runs"
	done
}

run_baseline() {
	local t0 t i order=() idx up=() per=()
	# seeds first (n1 of each DC), as a serial tool must
	for i in "${!N_ADDR[@]}"; do [[ ${N_ADDR[$i]} == *.n1 ]] && order+=("$i"); done
	for i in "${!N_ADDR[@]}"; do [[ ${N_ADDR[$i]} != *.n1 ]] && order+=("$i"); done
	t0=$(now)
	for idx in "${order[@]}"; do
		t=$(now)
		e2e_ssh "$idx" "${N_BASE[$idx]}/bin/cgnode start && ${N_BASE[$idx]}/bin/cgnode wait-ready 300" \
			>"$L.start$idx" 2>&1 || { cat "$L.start$idx" >&2; die "baseline: ${N_ADDR[$idx]} did not start"; }
		up+=("${N_IP[$idx]}")
		# seen from the first node started: the ring knows the new node
		wait_up "${order[0]}" 300 "${up[@]}" || { cat "$L.probe" >&2; die "baseline: ${N_ADDR[$idx]} not UN"; }
		per+=("${N_ADDR[$idx]#machine.}=$(elapsed "$t")s")
	done
	B_TOTAL=$(elapsed "$t0")
	B_PER=${per[*]}
	# the baseline formed the same ring (layout and racks)
	e2e_nodetool 0 status >"$L.bstatus" 2>&1 && e2e_status_check <"$L.bstatus" >/dev/null ||
		{ cat "$L.bstatus" >&2; die "baseline ring differs from Lab's"; }
}

median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { printf "%.1f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

echo "# bench-lab: Lab (2 DCs x 2 nodes, heap 512M) on $E2E_RANGE; $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg)"
all_a=() all_after=() all_b=()
for r in $(seq 1 "$RUNS"); do
	# A: from nothing
	if [ -e "$CASSANDGO_STATE" ]; then
		cg destroy --auto-approve Lab >"$L.destroy" 2>&1 || { tail "$L.destroy" >&2; die "destroy"; }
	fi
	run_cassandgo
	# B: same machines, fresh Cassandras, one at a time
	baseline_reset
	run_baseline
	all_a+=("$A_TOTAL") all_after+=("$A_AFTER") all_b+=("$B_TOTAL")
	echo "run $r/$RUNS:"
	echo "  cassandgo apply, nothing -> all UN:        ${A_TOTAL}s  (apply returned at ${A_APPLY}s)"
	echo "    machines ready at ${A_MACH}s, first service start at ${A_SVC}s; machines ready -> all UN: ${A_AFTER}s"
	echo "    done at: ${A_LINE}"
	echo "  baseline one at a time, start -> all UN:   ${B_TOTAL}s  (${B_PER})"
	echo "  ratio baseline / cassandgo:                $(ratio "$B_TOTAL" "$A_TOTAL")x total, $(ratio "$B_TOTAL" "$A_AFTER")x against machines ready -> all UN"
done
ma=$(median "${all_a[@]}") mafter=$(median "${all_after[@]}") mb=$(median "${all_b[@]}")
echo "median of $RUNS run(s): cassandgo ${ma}s (machines ready -> all UN ${mafter}s), baseline ${mb}s;" \
	"ratio $(ratio "$mb" "$ma")x total, $(ratio "$mb" "$mafter")x against machines ready -> all UN"
cg destroy --auto-approve Lab >"$L.destroy" 2>&1 || { tail "$L.destroy" >&2; die "final destroy"; }
ls /run/netns/cg-"$(e2e_tag)"-* >/dev/null 2>&1 && die "namespaces left after destroy"
echo "bench-lab: done (load $(cut -d' ' -f1-3 /proc/loadavg))"
