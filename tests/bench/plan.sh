#!/usr/bin/env bash
# make bench-plan: plan from the state (no refresh) for 1,000 nodes in 10
# DCs. Target: under 100 ms and 50 MB peak. Baseline in the same run:
# `validate` of the same file (process start + config load).
set -euo pipefail
BIN=$(realpath "$1")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MK=$ROOT/build/bench/mkstate
W=$(mktemp -d /tmp/cg-bench.XXXXXX)
trap 'rm -rf "$W"' EXIT
export CG_FAKE_WORLD=$W/world
"$MK" "$ROOT/tests/bench/big.yaml" Big "$W/state.db" >/dev/null

# median wall time (ms) and peak RSS (KB) over N runs of a command
measure() {
	python3 - "$@" <<'PY'
import resource, subprocess, sys, time
runs = []
peak = 0
for _ in range(7):
    t = time.perf_counter()
    p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    runs.append((time.perf_counter() - t) * 1000)
    if p.returncode:
        sys.exit("failed: %s" % p.stderr.decode())
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
runs.sort()
print("%.1f %d" % (runs[len(runs) // 2], peak))
PY
}
read -r base_ms base_kb < <(measure "$BIN" -c "$ROOT/tests/bench/big.yaml" validate)
read -r plan_ms plan_kb < <(measure "$BIN" -c "$ROOT/tests/bench/big.yaml" --state "$W/state.db" plan Big --refresh=false)
out=$("$BIN" -c "$ROOT/tests/bench/big.yaml" --state "$W/state.db" plan Big --refresh=false)
grep -q "No changes" <<<"$out" || { echo "bench-plan: expected a converged plan"; exit 1; }
instr=""
if command -v valgrind >/dev/null; then
	valgrind --tool=callgrind --callgrind-out-file="$W/cg" "$BIN" -c "$ROOT/tests/bench/big.yaml" \
		--state "$W/state.db" plan Big --refresh=false >/dev/null 2>&1
	instr=$(grep -m1 '^summary:' "$W/cg" | awk '{print $2}')
fi
printf 'bench-plan: 1,000 nodes / 10 DCs / %s resources, plan --refresh=false\n' \
	"$(sqlite3 "$W/state.db" 'select count(*) from resources' 2>/dev/null || echo '?')"
printf '  plan:      %7.1f ms median of 7, peak RSS %6.1f MB%s\n' "$plan_ms" \
	"$(echo "$plan_kb / 1024" | bc -l)" "${instr:+, $instr instructions}"
printf '  baseline:  %7.1f ms (validate of the same file), peak RSS %6.1f MB\n' "$base_ms" \
	"$(echo "$base_kb / 1024" | bc -l)"
printf '  ratio:     plan/baseline = %.1fx; targets: < 100 ms (%s), < 50 MB (%s)\n' \
	"$(echo "$plan_ms / $base_ms" | bc -l)" \
	"$(awk -v t="$plan_ms" 'BEGIN{print (t < 100) ? "met" : "MISSED"}')" \
	"$(awk -v k="$plan_kb" 'BEGIN{print (k < 51200) ? "met" : "MISSED"}')"
