#!/usr/bin/env bash
# make bench-security: what security costs a new Lab (4 nodes, 2 DCs), as a
# ratio measured in the same run. Alternating runs of the same tree on the
# same machine: ON is the default config (TLS everywhere, passwords, the
# auth step), OFF the same with `security: off`. Each run: destroy, then
# `apply --auto-approve Lab`; reported per run, then medians and ON/OFF:
#   all-UN   the ring step's end (every node up and normal, seen by nodetool)
#   apply    the whole apply (with security on: the auth step too)
# usage: tests/e2e/bench_security.sh [CASSANDGO]; BENCH_RUNS=N (default 3).
set -uo pipefail
CG=$(realpath "${1:-./cassandgo}")
E2E_RANGE=${E2E_RANGE:-10.73.0.0/16}	# its own range: e2e runs use 10.78
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
RUNS=${BENCH_RUNS:-3}

e2e_preflight bench-security || exit 1
[ -x "$CG" ] || { echo "bench-security: $CG not built; FAILED" >&2; exit 1; }
e2e_setup bench-security || exit 1
trap e2e_cleanup EXIT
trap 'exit 130' INT TERM
ON=$CONF
OFF=$TMP/lab-off.yaml
# `security: off` as the Lab's first setting
awk '{ print } /^Lab:/ && !done { print "  security: off"; done = 1 }' "$ON" >"$OFF"
grep -q '^  security: off' "$OFF" || { echo "bench-security: cannot write $OFF; FAILED" >&2; exit 1; }

# one MODE FILE: destroy, then a timed apply (e2e_timed_apply: T_UN, T_ALL)
one() {
	CONF=$2 cg destroy --auto-approve Lab >"$TMP/destroy.$1.log" 2>&1 ||
		{ echo "bench-security: destroy before $1 failed" >&2; exit 1; }
	CONF=$2 e2e_timed_apply "$TMP/apply.$1.log" ||
		{ tail -n 20 "$TMP/apply.$1.log" >&2; echo "bench-security: apply ($1) failed" >&2; exit 1; }
}

declare -a on_un on_all off_un off_all
for r in $(seq 1 "$RUNS"); do
	for mode in on off; do
		f=$ON; [ $mode = off ] && f=$OFF
		one "$mode" "$f"
		echo "run $r security $mode: all-UN ${T_UN}s, apply ${T_ALL}s"
		if [ $mode = on ]; then on_un+=("$T_UN"); on_all+=("$T_ALL"); else off_un+=("$T_UN"); off_all+=("$T_ALL"); fi
	done
done
mu=$(median "${on_un[@]}"); ma=$(median "${on_all[@]}")
fu=$(median "${off_un[@]}"); fa=$(median "${off_all[@]}")
awk -v mu="$mu" -v ma="$ma" -v fu="$fu" -v fa="$fa" -v n="$RUNS" 'BEGIN {
	printf "bench-security (%d runs each, medians): all-UN on %.1fs / off %.1fs = %.2f; apply on %.1fs / off %.1fs = %.2f\n",
		n, mu, fu, mu / fu, ma, fa, ma / fa }'
