#!/usr/bin/env bash
# Every bad config through the real command line: `validate` and `plan` must
# exit 65 with "FILE:LINE:COL: ..." as the file's "# expect:" line says, and
# create nothing (no state folder). Usage: check-bad.sh CASSANDGO-BINARY
set -u
BIN=$(realpath "$1")
DIR=$(cd "$(dirname "$0")" && pwd)/bad
WORK=$(mktemp -d /tmp/cg-config-bad.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
pass=0 fail=0
cd "$WORK" || exit 1
for f in "$DIR"/*.yaml; do
	name=$(basename "$f")
	pos=$(head -1 "$f" | sed -n 's/^# expect: \([0-9]*:[0-9]*\): .*/\1/p')
	want=$(head -1 "$f" | sed -n 's/^# expect: [0-9]*:[0-9]*: //p')
	if [ -z "$pos" ] || [ -z "$want" ]; then
		echo "FAIL $name: no '# expect: LINE:COL: TEXT' line"; fail=$((fail + 1)); continue
	fi
	cp "$f" "$WORK/$name"
	for cmd in validate "plan MonoDC"; do
		# shellcheck disable=SC2086
		out=$("$BIN" -c "$name" $cmd 2>&1 </dev/null); rc=$?
		if [ "$rc" != 65 ]; then
			echo "FAIL $name ($cmd): exit $rc, expected 65"; fail=$((fail + 1))
		elif ! grep -qF -- "$name:$pos: " <<<"$out" || ! grep -qF -- "$want" <<<"$out"; then
			echo "FAIL $name ($cmd): output lacks '$name:$pos: ' or '$want':"; echo "$out" | head -3
			fail=$((fail + 1))
		elif [ -e .cassandgo ]; then
			echo "FAIL $name ($cmd): created .cassandgo"; rm -rf .cassandgo; fail=$((fail + 1))
		else
			pass=$((pass + 1))
		fi
	done
	rm -f "$WORK/$name"
done
echo "bad configs through the CLI: $pass passed, $fail failed"
[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
