#!/usr/bin/env bash
# check-local / bench-local: the local provider against the real kernel and
# OpenSSH. usage: tests/local/run.sh BINARY [ARGS...] (runs BINARY STATE_DIR ARGS)
# Needs root; cleans up namespaces, links, processes and files even when the
# test dies (trap), using the tag the test writes first.
set -euo pipefail
bin=$(realpath "$1")
if [ "$(id -u)" != 0 ]; then
	echo "check-local: needs root (network namespaces, bridges, sshd); FAILED" >&2
	exit 1
fi
for p in ip /usr/sbin/sshd ssh ssh-keygen useradd; do
	command -v "$p" >/dev/null || { echo "check-local: $p missing (make deps); FAILED" >&2; exit 1; }
done
tmp=$(mktemp -d /tmp/cg-local-test.XXXXXX)
cleanup() {
	local tag
	tag=$(cat "$tmp/state/tag" 2>/dev/null || true)
	if [ -n "$tag" ]; then
		for ns in /run/netns/cg-"$tag"-*; do
			[ -e "$ns" ] || continue
			ns=${ns#/run/netns/}
			for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
			ip netns del "$ns" 2>/dev/null || true
			rm -rf "/run/cassandgo/$ns"
		done
		ip link del "cgb$tag" 2>/dev/null || true
	fi
	# the accounts the test made (the login accounts' tests)
	for u in $(cat "$tmp/state/users" 2>/dev/null); do userdel -r "$u" >/dev/null 2>&1 || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
chmod 755 "$tmp"	# the nodes' login user walks down to its base_dir
mkdir -p "$tmp/state" "$tmp/nodes"
export CASSANDGO_LOCAL_ROOT="$tmp/nodes"
export CG_LOCAL_TEST_RANGE="${CG_LOCAL_TEST_RANGE:-10.213.0.0/16}"
"$bin" "$tmp/state" "${@:2}"
