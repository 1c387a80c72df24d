#!/bin/sh
# fetch.sh - resolve the Cassandra runtime (cassandra-all + runtime deps) from
# Maven Central once into $CASSANDGO_CASSANDRA_CACHE/cassandra-<version>/lib
# (default root /var/cache/cassandgo). Idempotent: a complete cache (marker
# present and every jar it lists intact) is left alone. Prints the lib dir.
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

if is_complete; then
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
echo "$dir/lib"
