#!/bin/sh
# fetch.sh - resolve the Cassandra runtime (cassandra-all + runtime deps) from
# Maven Central once into $CASSANDGO_CASSANDRA_CACHE/cassandra-<version>/lib
# (default root /var/cache/cassandgo). Idempotent: a complete cache (marker
# present and every jar it lists intact) is left alone. Prints the lib dir.
#
# Beside lib/: repo/, the same jars in Maven's repository layout, and
# manifest, one "SHA256 SIZE PATH" line per artifact (PATH in repo/, as in
# any Maven repository): what `install: maven` nodes download and verify
# (providers/ssh/maven.h); the AWS end-to-end test serves repo/ as the
# cluster's maven_mirror.
#
#   fetch.sh [--check] [VERSION]
#     --check   only verify; exit 1 when incomplete
#     VERSION   another 5.0.x than the pinned one (tests/cassandra/VERSION)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
check=0
if [ "${1:-}" = --check ]; then check=1; shift; fi
version=${1:-$(tr -d ' \n' <"$here/VERSION")}
case $version in
[0-9]*.[0-9]*.[0-9]*) ;;
*) echo "fetch.sh: bad version '$version' (X.Y.Z)" >&2; exit 64 ;;
esac
root=${CASSANDGO_CASSANDRA_CACHE:-/var/cache/cassandgo}
dir=$root/cassandra-$version
marker=$dir/.complete

is_complete() {
	[ -f "$marker" ] || return 1
	# The marker lists every jar with its checksum: a partial or damaged
	# cache fails here instead of failing later inside the JVM.
	(cd "$dir/lib" && sha256sum --quiet --status -c "$marker") || return 1
	[ -f "$dir/lib/cassandra-all-$version.jar" ]
}

# repo/ and manifest: complete when every jar of lib/ is in the manifest with
# its checksum, and repo/ holds exactly those bytes.
repo_complete() {
	[ -f "$dir/manifest" ] && [ -d "$dir/repo" ] || return 1
	awk '{ print $1 "  " $3 }' "$dir/manifest" | (cd "$dir/repo" && sha256sum --quiet --status -c -) || return 1
	[ "$(awk '{ n = split($3, p, "/"); print $1 "  " p[n] }' "$dir/manifest" | sort)" = "$(sort "$marker")" ]
}

# Lay lib/'s artifacts out in Maven's layout (resolved again from the local
# repository: only Maven knows each jar's coordinates) and write the
# manifest; readers see both or neither (renames, manifest last).
make_repo() {
	local t
	t=$(mktemp -d "$root/.repo.XXXXXX")
	mvn -B -q -f "$here/pom.xml" -Dcassandra.version="$version" \
		dependency:copy-dependencies -DincludeScope=runtime -Dmdep.useRepositoryLayout=true \
		-Dmdep.copyPom=false -DoutputDirectory="$t/repo" >"$t/mvn.log" 2>&1 || {
		tail -n 40 "$t/mvn.log" >&2
		rm -rf "$t"
		echo "fetch.sh: maven layout of cassandra-all $version failed" >&2
		return 1
	}
	(cd "$t/repo" && find . -type f ! -name '*.jar' -delete &&
		find . -type f -name '*.jar' | sed 's|^\./||' | sort | while read -r f; do
			printf '%s %s %s\n' "$(sha256sum <"$f" | cut -c1-64)" "$(stat -c %s "$f")" "$f"
		done) >"$t/manifest" || { rm -rf "$t"; return 1; }
	chmod -R a+rX "$t"
	rm -rf "$dir/repo.old" "$dir/manifest"
	[ -e "$dir/repo" ] && mv "$dir/repo" "$dir/repo.old"
	mv "$t/repo" "$dir/repo" && mv "$t/manifest" "$dir/manifest"
	rm -rf "$dir/repo.old" "$t"
	repo_complete || { echo "fetch.sh: $dir/manifest does not match $dir/lib" >&2; return 1; }
}

if is_complete && repo_complete; then
	echo "$dir/lib"
	exit 0
fi
if [ $check = 1 ]; then
	echo "cassandra runtime $version: cache $dir incomplete (run: make cassandra)" >&2
	exit 1
fi
command -v mvn >/dev/null || { echo "fetch.sh: mvn not found (run: make deps)" >&2; exit 1; }

mkdir -p "$root"
# One resolver at a time per version; whoever waited finds it complete.
exec 9>"$root/.fetch-$version.lock"
flock 9
if is_complete; then
	repo_complete || make_repo || exit 1
	echo "$dir/lib"
	exit 0
fi
tmp=$(mktemp -d "$root/.fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
mvn -B -q -f "$here/pom.xml" -Dcassandra.version="$version" \
	dependency:copy-dependencies -DincludeScope=runtime \
	-DoutputDirectory="$tmp/lib" >"$tmp/mvn.log" 2>&1 || {
	tail -n 40 "$tmp/mvn.log" >&2
	echo "fetch.sh: maven resolution of cassandra-all $version failed" >&2
	exit 1
}
for want in "cassandra-all-$version.jar" 'jamm-*.jar' 'jna-*.jar'; do
	# shellcheck disable=SC2086
	set -- "$tmp"/lib/$want
	[ -f "$1" ] || { echo "fetch.sh: $want missing after resolution" >&2; exit 1; }
done
(cd "$tmp/lib" && sha256sum -- *.jar) >"$tmp/.complete"
rm -f "$tmp/mvn.log"
chmod -R a+rX "$tmp"
chmod 755 "$tmp"
# Swap in the complete directory with a rename so readers never see half.
rm -rf "$dir.old"
[ -e "$dir" ] && mv "$dir" "$dir.old"
mv "$tmp" "$dir"
rm -rf "$dir.old"
trap - EXIT INT TERM
make_repo || exit 1
echo "$dir/lib"
