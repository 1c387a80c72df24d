# tests/tally.sh - the tally the test scripts print (sourced).
# shellcheck shell=bash
#   ok MSG / bad MSG   count and print a line
#   show FILE [N]      the last N (25) lines of a log, indented
#   finish             "N passed, M failed"; exits 0 only when all passed
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   - $*"; }
bad() { fail=$((fail + 1)); echo "FAIL - $*"; }
show() { sed 's/^/    | /' "$1" | tail -n "${2:-25}"; }
finish() {
	echo "$pass passed, $fail failed"
	[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
	exit $?
}
