#!/usr/bin/env bash
# The layers of docs/ARCHITECTURE.md ("Layers"), checked: every #include "..."
# of the tree (tests/ aside) must be allowed by the rule of the longest
# matching prefix below, and with BUILD given, every cg_ symbol the util/,
# state/ and planner/ objects need must come from a layer they may use (a
# weak declaration or a call without a header would slip past the include
# check). Exits 1 naming each violation. Usage: check.sh [BUILD]
set -u
cd "$(dirname "$0")/../.." || exit 2

# who: what it may include (a trailing / is a whole directory). A file may
# always include its own directory.
rules='
util/                 util/
state/                util/ planner/model.h
planner/              util/ state/state.h providers/provider.h
providers/            util/ planner/config.h planner/model.h planner/cassconf.h planner/monitoring.h providers/provider.h providers/ssh/ssh.h providers/tls/tls.h
providers/registry.c  util/ planner/model.h providers/
cmd/                  util/ planner/ state/ providers/ cmd/
'

rule_for() {	# longest prefix of the rules matching $1
	local best='' allow='' who rest
	while read -r who rest; do
		[ -n "$who" ] || continue
		case $1 in "$who"*) [ ${#who} -gt ${#best} ] && { best=$who; allow=$rest; } ;; esac
	done <<<"$rules"
	[ -n "$best" ] && echo "$allow"
}

bad=0
while IFS= read -r f; do
	allow=$(rule_for "$f") || { echo "layers: $f: no rule for its directory (tests/layers/check.sh)"; bad=1; continue; }
	dir=$(dirname "$f")
	while IFS=: read -r line inc; do
		t=$(realpath -m --relative-to=. "$dir/$inc")
		[ "$(dirname "$t")" = "$dir" ] && continue
		ok=0
		for a in $allow; do
			case $a in */) case $t in "$a"*) ok=1 ;; esac ;; *) [ "$t" = "$a" ] && ok=1 ;; esac
		done
		[ $ok = 1 ] || { echo "layers: $f:$line includes $t, which its layer may not use"; bad=1; }
	done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" | sed 's/^\([0-9]*\):[^"]*"\([^"]*\)".*/\1:\2/')
done < <(find . -path ./tests -prune -o -path './build*' -prune -o -path ./.git -prune -o \
	       -type f \( -name '*.c' -o -name '*.h' \) -print | sed 's|^\./||' | sort)

# Symbols: which objects may define what each layer's objects call.
if [ $# -ge 1 ]; then
	B=$1
	defs=$(mktemp); trap 'rm -f "$defs"' EXIT
	for o in $(find "$B/util" "$B/state" "$B/planner" "$B/providers" "$B/cmd" -name '*.o' 2>/dev/null); do
		nm --defined-only "$o" | awk -v o="${o#"$B"/}" '$2 ~ /^[TDBRVW]$/ && $3 ~ /^cg_/ {print $3, o}'
	done >"$defs"
	for layer in util:util/ state:'util/ planner/ state/' planner:'util/ planner/ state/'; do
		name=${layer%%:*} allow=${layer#*:}
		for o in "$B/$name"/*.o; do
			[ -e "$o" ] || continue
			for s in $(nm --undefined-only "$o" | awk '$2 ~ /^cg_/ {print $2}'); do
				from=$(awk -v s="$s" '$1 == s {print $2; exit}' "$defs")
				ok=0
				for a in $allow; do case $from in "$a"*) ok=1 ;; esac; done
				[ $ok = 1 ] || { echo "layers: ${o#"$B"/} uses $s from ${from:-outside the library}, which its layer may not use"; bad=1; }
			done
		done
	done
fi
[ $bad = 0 ] && echo "layers: every include and link follows the layers"
exit $bad
