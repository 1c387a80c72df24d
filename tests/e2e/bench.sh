#!/usr/bin/env bash
# make bench-lab: how fast a new Lab (2 DCs x 2 nodes, security on) comes
# up, this tree against a baseline build, measured in the same run.
#
#   A  this tree's cassandgo
#   B  the baseline: BENCH_BASE (a git revision; default the last commit
#      before the start levers of issue 15: class-data sharing, a new ring's
#      nodes started together) built from `git archive` in the scratch dir
# Alternating runs, BENCH_RUNS of each (default 5): destroy, then
# `apply --auto-approve Lab`, timed from the tool's own output as it comes:
#   all-UN  apply start -> "ring verified" (the ring step: every node Up and
#           Normal in its DC and rack, as nodetool shows it)
#   apply   the whole apply (the auth and system keyspace steps too)
#   rss     cassandgo's peak RSS during the apply (GNU time), and the RSS of
#           each Cassandra once the apply returned
# Medians and A/B ratios at the end; then three no-op applies of A, whose
# peak RSS must not grow. Before the runs one apply of A makes the
# release's class-data archive when the machine has none yet (once per
# release and machine): its time is reported, never counted in a run.
# ccm's figure (about 37 s to all-UN here with its defaults, on the same
# jars and cores: 2.1 times the baseline) is compared by ratio to B.
# usage: tests/e2e/bench.sh [CASSANDGO]
set -uo pipefail
CG=$(realpath "${1:-./cassandgo}")
E2E_RANGE=${E2E_RANGE:-10.74.0.0/16}	# its own range: e2e runs use 10.78
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
RUNS=${BENCH_RUNS:-5}
BASE=${BENCH_BASE:-4081515}
ROOT=$(cd "$HERE/../.." && pwd)

die() { echo "bench-lab: $*; FAILED" >&2; exit 1; }
e2e_preflight bench-lab || exit 1
[ -x "$CG" ] || die "$CG not built"
e2e_setup bench-lab || exit 1
trap e2e_cleanup EXIT
trap 'exit 130' INT TERM
A=$CG
LAST=$A	# the binary whose apply made what the state holds destroys it

echo "# bench-lab: Lab (2 DCs x 2 nodes, heap 512M, security on) on $E2E_RANGE; $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg)"
mkdir -p "$TMP/base" && git -C "$ROOT" archive "$BASE" | tar -x -C "$TMP/base" ||
	die "cannot check out the baseline $BASE"
make -C "$TMP/base" -j"$(nproc)" cassandgo >"$TMP/base.build.log" 2>&1 ||
	{ tail -n 20 "$TMP/base.build.log" >&2; die "cannot build the baseline $BASE"; }
B=$TMP/base/cassandgo
echo "A: this tree ($(git -C "$ROOT" describe --always --dirty 2>/dev/null)); B: baseline $(git -C "$ROOT" rev-parse --short "$BASE")"

# lab_pids: the pids of this Lab's Cassandras
lab_pids() {
	local pid
	for pid in $(pgrep -f "CassandraDaemon"); do
		tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$TMP/nodes/" && echo "$pid"
	done
}

# one BINARY TAG: destroy (with the binary that made what is there), then a
# timed apply (e2e_timed_apply: T_UN T_ALL T_RSS); NODE_RSS: each node's MB
one() {
	local bin=$1 tag=$2 pid
	if [ -e "$CASSANDGO_STATE" ]; then
		CG=$LAST cg destroy --auto-approve Lab >"$TMP/destroy.$tag.log" 2>&1 ||
			{ tail -n 20 "$TMP/destroy.$tag.log" >&2; die "destroy before $tag"; }
	fi
	LAST=$bin
	CG=$bin e2e_timed_apply "$TMP/apply.$tag.log" ||
		{ tail -n 30 "$TMP/apply.$tag.log" >&2; die "apply ($tag) failed"; }
	NODE_RSS=
	for pid in $(lab_pids); do
		NODE_RSS="$NODE_RSS $(awk '/^VmRSS/ { printf "%d", $2 / 1024 }' "/proc/$pid/status")"
	done
	NODE_RSS=${NODE_RSS# }
}

# the class-data archive, made by the first start of A when missing
one "$A" warm
echo "warm-up apply of A (makes the release's class-data archive if the machine has none): ${T_ALL}s, all-UN ${T_UN}s"
cds=0
for pid in $(lab_pids); do
	tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q 'SharedArchiveFile=' && cds=$((cds + 1))
done
echo "  A's nodes mapping a class-data archive: $cds of 4"

a_un=() a_all=() b_un=() b_all=() a_rss=() b_rss=() a_node=() b_node=()
for r in $(seq 1 "$RUNS"); do
	for side in B A; do
		if [ $side = A ]; then one "$A" "a$r"; else one "$B" "b$r"; fi
		echo "run $r $side: all-UN ${T_UN}s, apply ${T_ALL}s, cassandgo peak RSS ${T_RSS} MB, nodes' RSS ${NODE_RSS} MB"
		m=$(median $NODE_RSS)
		if [ $side = A ]; then a_un+=("$T_UN") a_all+=("$T_ALL") a_rss+=("$T_RSS") a_node+=("$m")
		else b_un+=("$T_UN") b_all+=("$T_ALL") b_rss+=("$T_RSS") b_node+=("$m"); fi
	done
done
mau=$(median "${a_un[@]}") mbu=$(median "${b_un[@]}")
maa=$(median "${a_all[@]}") mba=$(median "${b_all[@]}")
echo "median of $RUNS: all-UN A ${mau}s, B ${mbu}s (B/A $(ratio "$mbu" "$mau")x);" \
	"apply A ${maa}s, B ${mba}s (B/A $(ratio "$mba" "$maa")x)"
echo "  ccm's defaults (~2.1 x B by the issue's measure): ~$(awk -v b="$mbu" -v a="$mau" 'BEGIN { printf "%.1f", 2.1 * b / a }')x A's all-UN"
echo "  memory: cassandgo peak RSS A $(median "${a_rss[@]}") MB, B $(median "${b_rss[@]}") MB;" \
	"a node's RSS (median) A $(median "${a_node[@]}") MB, B $(median "${b_node[@]}") MB"

# no growth from one apply to the next: no-op applies of the running Lab
grow=()
for i in 1 2 3; do
	/usr/bin/time -o "$TMP/time.noop$i" -f '%M' timeout "$E2E_TIMEOUT" "$A" -c "$CONF" apply --auto-approve Lab \
		>"$TMP/noop$i.log" 2>&1 || { tail -n 20 "$TMP/noop$i.log" >&2; die "no-op apply $i"; }
	grep -q 'No changes' "$TMP/noop$i.log" || { tail -n 20 "$TMP/noop$i.log" >&2; die "apply $i after the Lab is up changed something"; }
	grow+=("$(awk '{ printf "%.1f", $1 / 1024 }' "$TMP/time.noop$i")")
done
echo "  no-op applies of A: cassandgo peak RSS ${grow[*]} MB"
awk -v a="${grow[0]}" -v c="${grow[2]}" 'BEGIN { exit !(c <= a * 1.05 + 1) }' ||
	die "cassandgo's peak RSS grew from one apply to the next (${grow[*]} MB)"
CG=$LAST cg destroy --auto-approve Lab >"$TMP/destroy.end.log" 2>&1 || die "final destroy"
echo "bench-lab: done (load $(cut -d' ' -f1-3 /proc/loadavg))"
