#!/usr/bin/env bash
# tests/maven/run.sh - `cgnode install maven` (the default install on AWS)
# against a real HTTP server (mirror.py) serving the release's repo/ in
# Maven's layout on loopback, with real curl and sha256sum: what a node
# does, run here as root on a node directory of its own. The whole cluster
# path (cassandgo over SSH, a mirror in the test's namespace) is in
# tests/aws (make e2e-aws).
#
# Cases: a clean install and its no-op rerun; a tampered jar refused; a
# missing artifact; an unreachable mirror; a mirror that drops every
# answer half-way (resumed); the install killed during download (the next
# run resumes and finishes, nothing installed meanwhile); a hostile
# manifest line; Java too old; a release that needs another Java (4.1).
# Nothing half-installed in any of them.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
VERSION=$(tr -d ' \n' <"$repo/tests/cassandra/VERSION")
CACHE=${CASSANDGO_CASSANDRA_CACHE:-/var/cache/cassandgo}/cassandra-$VERSION

pass=0 failed=0
ok() { echo "ok - $*"; pass=$((pass + 1)); }
bad() { echo "FAIL - $*"; failed=$((failed + 1)); }
die() { echo "FAIL: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (cgnode installs as root)"
[ -s "$CACHE/manifest" ] && [ -d "$CACHE/repo" ] || die "no $CACHE/manifest (make cassandra)"
for p in curl sha256sum python3 setsid; do command -v "$p" >/dev/null || die "$p missing (make deps)"; done

tmp=$(mktemp -d /tmp/cg-maven.XXXXXX)
MPID=
cleanup() {
	[ -n "$MPID" ] && kill "$MPID" 2>/dev/null
	[ -n "${IPID:-}" ] && kill -9 -- "-$IPID" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
MANIFEST=$CACHE/manifest
NJARS=$(grep -c . "$MANIFEST")

# mirror ARGS...: (re)start the server with these faults; sets URL
mirror() {
	[ -n "$MPID" ] && { kill "$MPID" 2>/dev/null; wait "$MPID" 2>/dev/null; }
	rm -f "$tmp/port" "$tmp/mirror.log"
	python3 "$here/mirror.py" --root "$CACHE/repo" --port-file "$tmp/port" \
		--log "$tmp/mirror.log" "$@" 2>>"$tmp/mirror.err" &
	MPID=$!
	for _ in $(seq 1 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
	[ -s "$tmp/port" ] || die "mirror did not start: $(cat "$tmp/mirror.err")"
	URL=http://127.0.0.1:$(cat "$tmp/port")/
	: >"$tmp/mirror.log"
}

# node NAME: a fresh node directory with cgnode in bin/
node() {
	rm -rf "${tmp:?}/$1"
	install -D -m 0755 "$repo/providers/ssh/cgnode" "$tmp/$1/bin/cgnode"
	N=$tmp/$1
}

# install [MANIFEST]: cgnode install maven on $N from $URL; out in $OUT, exit in $RC
install_maven() {
	OUT=$("$N/bin/cgnode" install maven "$VERSION" "$URL" <"${1:-$MANIFEST}" 2>&1)
	RC=$?
}

# cgnode status of $N (whole: grep -q on a pipe would cut it short)
status_has() { grep -qx "$1" <<<"$("$N/bin/cgnode" status)"; }

nothing_installed() {
	[ ! -e "$N/cassandra-$VERSION" ] && [ ! -e "$N/.install" ] && status_has installed=0
}

gets() { grep -c '^GET ' "$tmp/mirror.log"; }

# 1. clean install, then a rerun that downloads nothing
mirror
node n1
t0=$(date +%s.%N)
install_maven
t1=$(date +%s.%N)
if [ $RC = 0 ] && [ "$OUT" = "installed $VERSION" ] &&
	[ "$(ls "$N/cassandra-$VERSION/lib" | wc -l)" = "$NJARS" ] &&
	(cd "$N/cassandra-$VERSION/lib" && sha256sum --quiet --status -c ../.complete) &&
	status_has installed=1 && status_has method=maven &&
	[ ! -e "$N/.download/$VERSION" ] && [ "$(gets)" = "$NJARS" ]; then
	ok "install maven: $NJARS artifacts downloaded, verified, installed in $(echo "$t1 - $t0" | bc | cut -c1-4) s"
else
	bad "install maven: rc=$RC out=$OUT gets=$(gets)"
fi
# every file as cassandgo lays them: root's, nobody else may write
if [ -z "$(find "$N/cassandra-$VERSION" ! -user root -o -perm /022 ! -type l 2>/dev/null | head -1)" ]; then
	ok "the installed release is root's and read-only to others"
else
	bad "installed files: $(find "$N/cassandra-$VERSION" ! -user root -o -perm /022 | head -3)"
fi
: >"$tmp/mirror.log"
install_maven
if [ $RC = 0 ] && [ "$(gets)" = 0 ]; then ok "rerun: nothing downloaded"; else bad "rerun: rc=$RC gets=$(gets) $OUT"; fi

# 2. a tampered jar (same size, one byte changed) is refused, by name
mirror --tamper "cassandra-all-$VERSION.jar"
node n2
install_maven
if [ $RC != 0 ] && grep -q "cassandra-all-$VERSION.jar: SHA-256 .*, expected" <<<"$OUT" && nothing_installed &&
	[ ! -e "$N/.download/$VERSION/repo/org/apache/cassandra/cassandra-all/$VERSION/cassandra-all-$VERSION.jar.part" ]; then
	ok "tampered jar refused: $(tail -n1 <<<"$OUT" | cut -c1-150)..."
else
	bad "tampered jar: rc=$RC out=$OUT"
fi

# 3. a missing artifact stops the install, named
victim=$(sed -n '50p' "$MANIFEST" | awk '{print $3}')
mirror --missing "$victim"
node n3
install_maven
if [ $RC != 0 ] && grep -qF "$victim: not found (404)" <<<"$OUT" && nothing_installed; then
	ok "missing artifact: $(tail -n1 <<<"$OUT")"
else
	bad "missing artifact: rc=$RC out=$OUT"
fi

# 4. an unreachable mirror (nothing listens) stops it, naming the artifact
node n4
OUT=$(CGNODE_FETCH_TRIES=2 "$N/bin/cgnode" install maven "$VERSION" http://127.0.0.1:9/maven2 <"$MANIFEST" 2>&1)
RC=$?
if [ $RC != 0 ] && grep -q "artifact http://127.0.0.1:9/maven2/.*\.jar: 0 of [0-9]* bytes after 2 attempts" <<<"$OUT" &&
	nothing_installed; then
	ok "unreachable mirror: $(tail -n1 <<<"$OUT" | cut -c1-160)..."
else
	bad "unreachable mirror: rc=$RC out=$OUT"
fi

# 5. every answer dropped half-way twice: resumed with ranges, installed
mirror --drop-times 2 --drop-at 0.4
node n5
install_maven
ranged=$(grep -c '^GET .* bytes=[1-9][0-9]*- 206 ' "$tmp/mirror.log")
if [ $RC = 0 ] && (cd "$N/cassandra-$VERSION/lib" && sha256sum --quiet --status -c ../.complete) &&
	[ "$ranged" -ge "$NJARS" ]; then
	ok "mirror dropping connections half-way: $(gets) requests, $ranged resumed with a range, installed"
else
	bad "dropping mirror: rc=$RC ranged=$ranged out=$OUT"
fi

# 6. the install killed (kill -9, as a power-off) during the download:
#    nothing installed; the next run resumes and finishes
mirror --rate 4000000
node n6
setsid "$N/bin/cgnode" install maven "$VERSION" "$URL" <"$MANIFEST" >"$tmp/n6.out" 2>&1 &
IPID=$!
for _ in $(seq 1 300); do
	[ "$(find "$N/.download" -name '*.jar' 2>/dev/null | wc -l)" -ge 20 ] && break
	sleep 0.1
done
kill -9 -- "-$IPID" 2>/dev/null
{ wait "$IPID"; } 2>/dev/null
IPID=
done_before=$(find "$N/.download" -name '*.jar' | wc -l)
if nothing_installed && [ "$done_before" -ge 20 ] && [ "$done_before" -lt "$NJARS" ]; then
	ok "killed during download: $done_before of $NJARS artifacts there, nothing installed"
else
	bad "killed during download: before=$done_before status=$("$N/bin/cgnode" status | head -1)"
fi
mirror
install_maven
if [ $RC = 0 ] && [ "$(gets)" -le $((NJARS - done_before + 1)) ] &&
	(cd "$N/cassandra-$VERSION/lib" && sha256sum --quiet --status -c ../.complete); then
	ok "the next install finished it: $(gets) more downloads"
else
	bad "after the kill: rc=$RC gets=$(gets) out=$OUT"
fi

# 7. a manifest line that would leave the download directory is refused
node n7
: >"$tmp/mirror.log"
{ head -n 3 "$MANIFEST"; printf '%s 10 ../../../etc/x/1/x-1.jar\n' "$(printf 'a%.0s' $(seq 64))"; } >"$tmp/evil"
install_maven "$tmp/evil"
if [ $RC != 0 ] && grep -q "bad manifest line" <<<"$OUT" && nothing_installed && [ "$(gets)" = 0 ]; then
	ok "hostile manifest line refused before any download"
else
	bad "hostile manifest: rc=$RC out=$OUT"
fi

# 8. Java older than 17: a clear error before any download
mkdir -p "$tmp/oldjava/bin"
printf '#!/bin/sh\necho "openjdk version \\"11.0.22\\" 2024-01-16" >&2\n' >"$tmp/oldjava/bin/java"
chmod 755 "$tmp/oldjava/bin/java"
node n8
OUT=$(JAVA_HOME=$tmp/oldjava "$N/bin/cgnode" install maven "$VERSION" "$URL" <"$MANIFEST" 2>&1)
RC=$?
if [ $RC != 0 ] && grep -q "is Java 11: Cassandra $VERSION needs Java 17 or newer (apt-get install openjdk-17-jre-headless)" <<<"$OUT" &&
	nothing_installed; then
	ok "Java 11 refused: $OUT"
else
	bad "old Java: rc=$RC out=$OUT"
fi

# 9. a release that does not run on this node's Java (4.1: Java 8 or 11
#    only; the distribution packages 17): said before any download
mkdir -p "$tmp/java17/bin"
printf '#!/bin/sh\necho "openjdk version \\"17.0.13\\" 2024-10-15" >&2\n' >"$tmp/java17/bin/java"
chmod 755 "$tmp/java17/bin/java"
node n9
: >"$tmp/mirror.log"
OUT=$(JAVA_HOME=$tmp/java17 "$N/bin/cgnode" install maven 4.1.5 "$URL" <"$MANIFEST" 2>&1)
RC=$?
if [ $RC != 0 ] && grep -q "is Java 17: Cassandra 4.1.5 runs only on Java 8 or 11" <<<"$OUT" &&
	[ "$(gets)" = 0 ] && [ ! -e "$N/cassandra-4.1.5" ]; then
	ok "a release that needs another Java refused: $OUT"
else
	bad "Java 8/11 release: rc=$RC out=$OUT"
fi

echo "$pass passed, $failed failed"
[ "$failed" = 0 ]
