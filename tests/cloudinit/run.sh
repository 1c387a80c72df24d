#!/usr/bin/env bash
# check-cloudinit: the REAL cloud-init (Debian's package) on the user-data
# cassandgo generates for an EC2 node, in a throwaway machine: the Debian
# root that `make deps` caches (tests/deps.d/cloudinit.sh) as the read-only
# lower layer of an overlay, booted twice (tests/cloudinit/boot.sh) in
# fresh namespaces. Checks the host key, users and files, the metadata
# firewall (live, against a stand-in metadata service at 169.254.169.254
# and fd00:ec2::254) and every file that still holds the private key.
#
#   tests/cloudinit/run.sh USERDATA_DUMP
#   tests/cloudinit/run.sh --user-data FILE --host-key-pub FILE --version V
# The second form runs given user-data (e.g. what moto stored for an
# instance: tests/cloudinit/moto.sh), the public key pinned for it and the
# Cassandra version it must install (apt).
# Root. Prints "N passed, M failed"; exit 1 on any failure, missing
# component included.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
need() { echo "FAIL: cloudinit: $* (run \`make deps\`)" >&2; exit 1; }
die() { echo "FAIL: cloudinit: $*" >&2; exit 1; }

usage="usage: run.sh USERDATA_DUMP | --user-data FILE --host-key-pub FILE --version V"
dump= ud= pub= version=5.0.6
case "${1:-}" in
--user-data)
	[ $# = 6 ] && [ "$3" = --host-key-pub ] && [ "$5" = --version ] || die "$usage"
	ud=$(realpath "$2") pub=$(realpath "$4") version=$6 ;;
"") die "$usage" ;;
*) dump=$(realpath "$1") ;;
esac

[ "$(id -u)" = 0 ] || die "needs root (mount and network namespaces, chroot)"
[ -f "$CG_CI_ROOT/$CG_CI_STAMP" ] || need "no cloud-init root at $CG_CI_ROOT"
cmp -s "$CG_CI_ROOT/$CG_CI_STAMP" <(cg_ci_recipe) || need "$CG_CI_ROOT was built from another recipe"
for t in unshare nsenter chroot ip python3 ssh-keygen mount; do
	command -v "$t" >/dev/null || need "$t is missing"
done
grep -qw overlay /proc/filesystems || die "this kernel has no overlayfs"

t0=$(date +%s%N)
W=$(mktemp -d /tmp/cg-cloudinit.XXXXXX)
# Every mount lives in a boot's private namespace: removing W is all.
trap 'rm -rf "$W"' EXIT
trap 'exit 130' INT TERM
mkdir -p "$W/in" "$W/upper" "$W/work" "$W/merged"
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
for n in 1 2; do
	rc=0
	unshare --mount --net --uts --pid --fork --mount-proc --propagation private \
		bash "$here/boot.sh" "$W" "$n" >"$W/boot$n.out" 2>&1 || rc=$?
	cat "$W/boot$n.out"
	pass=$((pass + $(grep -c '^ok - ' "$W/boot$n.out" || true)))
	fail=$((fail + $(grep -c '^FAIL - ' "$W/boot$n.out" || true)))
	if ! grep -qx "boot $n: done" "$W/boot$n.out" || { [ "$rc" != 0 ] && ! grep -q '^FAIL - ' "$W/boot$n.out"; }; then
		echo "FAIL - boot $n stopped early (exit $rc)"
		fail=$((fail + 1))
	fi
done
echo "cloudinit: $(( ($(date +%s%N) - t0) / 1000000 )) ms in all"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
