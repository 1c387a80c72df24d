#!/usr/bin/env bash
# check-cloudinit: the REAL cloud-init (Debian's package) on the user-data
# cassandgo generates for an EC2 node, in a throwaway machine: each Debian
# root that `make deps` caches (tests/deps.d/cloudinit.sh; suites in
# lib.sh, CASSANDGO_CLOUDINIT_SUITES to pick) as the read-only lower layer
# of an overlay, booted twice (tests/cloudinit/boot.sh) in fresh namespaces. Checks the host key, users and files, the metadata
# firewall (live, against a stand-in metadata service at 169.254.169.254
# and fd00:ec2::254) and every file that still holds the private key.
#
#   tests/cloudinit/run.sh USERDATA_DUMP
#   tests/cloudinit/run.sh --user-data FILE --host-key-pub FILE --version V [--install MODE]
# The second form runs given user-data (e.g. what moto stored for an
# instance: tests/cloudinit/moto.sh), the public key pinned for it, the
# Cassandra version and the install mode it was made for (default apt:
# Cassandra from Apache's repository at boot; maven, upload, dir: nothing
# of Cassandra at boot, cgnode installs it over SSH).
# Root. Prints "N passed, M failed"; exit 1 on any failure, missing
# component included.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
need() { echo "FAIL: cloudinit: $* (run \`make deps\`)" >&2; exit 1; }
die() { echo "FAIL: cloudinit: $*" >&2; exit 1; }

usage="usage: run.sh USERDATA_DUMP | --user-data FILE --host-key-pub FILE --version V [--install MODE]"
dump= ud= pub= version=5.0.6 install=apt
case "${1:-}" in
--user-data)
	[ $# = 6 ] || [ $# = 8 ] || die "$usage"
	[ "$3" = --host-key-pub ] && [ "$5" = --version ] || die "$usage"
	[ $# = 6 ] || { [ "$7" = --install ] && [ -n "$8" ]; } || die "$usage"
	ud=$(realpath "$2") pub=$(realpath "$4") version=$6 install=${8:-apt} ;;
"") die "$usage" ;;
*) dump=$(realpath "$1") ;;
esac

[ "$(id -u)" = 0 ] || die "needs root (mount and network namespaces, chroot)"
for suite in $CG_CI_SUITES; do
	root=$(cg_ci_root "$suite")
	[ -f "$root/$CG_CI_STAMP" ] || need "no cloud-init root at $root"
	cmp -s "$root/$CG_CI_STAMP" <(cg_ci_recipe "$suite") || need "$root was built from another recipe"
done
for t in unshare nsenter chroot ip python3 ssh-keygen mount; do
	command -v "$t" >/dev/null || need "$t is missing"
done
grep -qw overlay /proc/filesystems || die "this kernel has no overlayfs"

t0=$(date +%s%N)
W=$(mktemp -d /tmp/cg-cloudinit.XXXXXX)
# Every mount lives in a boot's private namespace: removing W is all.
trap 'rm -rf "$W"' EXIT
trap 'exit 130' INT TERM
mkdir -p "$W/in"
if [ -n "$dump" ]; then
	"$dump" "$W/in" apt "$version" ubuntu "CloudInit DC1 n1" || die "$dump failed"
else
	install -m 0600 "$ud" "$W/in/user-data"
	cp "$pub" "$W/in/host_key.pub"
fi
# The cluster's key pair (EC2's KeyName, served as public-keys).
ssh-keygen -q -t ed25519 -N '' -C cassandgo-test -f "$W/in/cluster"
cut -d' ' -f1,2 "$W/in/cluster.pub" >"$W/in/cluster.pub1" && mv "$W/in/cluster.pub1" "$W/in/cluster.pub"
echo "$version" >"$W/in/cassandra-version"
echo "$install" >"$W/in/install"
echo i-0c1d0000cafe00001 >"$W/in/instance-id"
cat >"$W/in/meta-data" <<EOF
instance-id: $(cat "$W/in/instance-id")
local-hostname: ip-10-0-0-1
public-keys:
  - $(cat "$W/in/cluster.pub")
EOF
size=$(wc -c <"$W/in/user-data")
echo "user-data: $size bytes (EC2 accepts 16384)"

pass=0 fail=0
[ "$size" -lt 16384 ] && pass=$((pass + 1)) || { echo "FAIL - user-data is $size bytes"; fail=$((fail + 1)); }
# The same user-data, key and instance on each suite's machine; the
# suites' machines boot side by side (each in its own namespaces).
boots() {	# SUITE: its two boots, one after the other
	local n rc
	mkdir -p "$W/$1/upper" "$W/$1/work" "$W/$1/merged"
	for n in 1 2; do
		rc=0
		unshare --mount --net --uts --pid --fork --mount-proc --propagation private \
			bash "$here/boot.sh" "$W" "$1" "$n" >"$W/$1/boot$n.out" 2>&1 || rc=$?
		echo "$rc" >"$W/$1/boot$n.rc"
	done
}
pids=()
for suite in $CG_CI_SUITES; do
	boots "$suite" &
	pids+=($!)
done
wait "${pids[@]}" || true	# each boot's outcome is in its files
for suite in $CG_CI_SUITES; do
	for n in 1 2; do
		out=$W/$suite/boot$n.out rc=$(cat "$W/$suite/boot$n.rc" 2>/dev/null || echo "?")
		cat "$out"
		pass=$((pass + $(grep -c '^ok - ' "$out" || true)))
		fail=$((fail + $(grep -c '^FAIL - ' "$out" || true)))
		if ! grep -qx "$suite boot $n: done" "$out" || { [ "$rc" != 0 ] && ! grep -q '^FAIL - ' "$out"; }; then
			echo "FAIL - $suite boot $n stopped early (exit $rc)"
			fail=$((fail + 1))
		fi
	done
done
echo "cloudinit: $(( ($(date +%s%N) - t0) / 1000000 )) ms in all"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
