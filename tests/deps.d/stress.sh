#!/usr/bin/env bash
# deps for `cassandgo stress` and make e2e-stress (Debian 12, root,
# idempotent): latte, the Cassandra load generator (FACTS.md), built from the
# crates registry ONCE per version into the machine cache
# /var/cache/cassandgo/latte-<version>/bin/latte (~13 min on 2 cores and
# ~1.9 GB of build tree, removed afterwards; the result is a 12.6 MB binary
# needing libssl3 and libc). cassandgo finds it there (or $CASSANDGO_LATTE).
# It needs rustc >= 1.82: rustup's, not Debian's (too old).
set -euo pipefail
cd "$(dirname "$0")/../.."
v=$(sed -n 's/^#define CG_STRESS_LATTE_VERSION "\(.*\)"$/\1/p' planner/stress.h)
[ -n "$v" ] || { echo "stress.sh: no CG_STRESS_LATTE_VERSION in planner/stress.h" >&2; exit 1; }
root=${CASSANDGO_CASSANDRA_CACHE:-/var/cache/cassandgo}
dest=$root/latte-$v
bin=$dest/bin/latte
. tests/deps.lib.sh
# libssl3 at run time; pkg-config and libssl-dev for the openssl-sys crate.
deps_apt pkg-config libssl-dev libssl3 ca-certificates
if [ -x "$bin" ] && "$bin" --version 2>/dev/null | grep -q " $v\$"; then
	echo "stress: $("$bin" --version) in $dest (cached)"
	exit 0
fi
export PATH="$HOME/.cargo/bin:$PATH"
command -v cargo >/dev/null || { echo "stress deps: no cargo; install rustup (rustc >= 1.82) first" >&2; exit 1; }
rv=$(rustc --version | awk '{print $2}')
[ "$(printf '%s\n1.82.0\n' "$rv" | sort -V | head -n1)" = 1.82.0 ] ||
	{ echo "stress deps: rustc $rv is too old for latte $v (needs >= 1.82; use rustup's)" >&2; exit 1; }
# Built beside the cache and renamed at the end: a killed build never leaves
# a binary that looks complete. The build tree is thrown away (1.9 GB).
mkdir -p "$root"
tmp="$dest.tmp.$$"
rm -rf "$tmp"
trap 'rm -rf "$tmp"' EXIT
start=$(date +%s)
echo "stress deps: building latte-cli $v into $dest (~13 min on 2 cores, once per machine)"
# nice: the machine is shared with other builds and tests.
CARGO_TARGET_DIR="$tmp/target" nice -n 15 cargo install latte-cli --version "=$v" --locked \
	--root "$tmp/out" >"$tmp.log" 2>&1 || {
	tail -n 40 "$tmp.log" >&2
	echo "stress deps: cargo install latte-cli $v failed (log above)" >&2
	rm -f "$tmp.log"
	exit 1
}
rm -f "$tmp.log"
"$tmp/out/bin/latte" --version | grep -q " $v\$" ||
	{ echo "stress deps: the built latte does not say version $v" >&2; exit 1; }
mkdir -p "$tmp/final/bin"
install -m 0755 "$tmp/out/bin/latte" "$tmp/final/bin/latte"
rm -rf "$dest"
mv "$tmp/final" "$dest"
echo "stress: $("$bin" --version) built in $(( $(date +%s) - start )) s into $dest"
