#!/usr/bin/env bash
# tests/fuzz/run.sh BINDIR SECONDS TARGET... - run each libFuzzer target for
# SECONDS on a copy of its seed corpus (tests/fuzz/corpus/TARGET: the tree is
# never written), with its dictionary when there is one. Every target runs
# even after a failure; exit 1 if any crashed, leaked, timed out or ran out
# of memory. Findings and logs go to BINDIR/../fuzz-out/TARGET/.
set -uo pipefail
cd "$(dirname "$0")/../.."
bindir=$1 secs=$2
shift 2
out=$(dirname "$bindir")/fuzz-out
failed=()
for t in "$@"; do
	bin=$bindir/fuzz_$t
	dir=$out/$t
	rm -rf "$dir"
	mkdir -p "$dir/corpus" "$dir/artifacts"
	cp -R "tests/fuzz/corpus/$t/." "$dir/corpus/"
	dict=()
	[ -f "tests/fuzz/$t.dict" ] && dict=("-dict=tests/fuzz/$t.dict")
	# -timeout: one input taking 10 s is a hang worth reporting;
	# -rss_limit_mb: libFuzzer's default (2048) made explicit.
	"$bin" "${dict[@]}" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$dir/artifacts/" \
		"$dir/corpus" >"$dir/log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/log")
	if [ $rc -ne 0 ]; then
		echo "fuzz $t: FAILED (exit $rc), see $dir/log; input(s):" >&2
		ls "$dir/artifacts" >&2
		grep -m1 -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|.*contract violated)' "$dir/log" >&2
		failed+=("$t")
	else
		echo "fuzz $t: ok, ${execs:-?} runs in ${secs} s (${rate:-?}/s), corpus $(ls "$dir/corpus" | wc -l)"
	fi
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzz: failed: ${failed[*]}" >&2
	exit 1
fi
