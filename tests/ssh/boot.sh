#!/usr/bin/env bash
# tests/ssh/boot.sh BINARY - the bootstrap provider end to end on 2 network
# namespace hosts (10.201.2.0/24 on a private bridge) running real sshd and
# real Cassandra from the Maven cache (make deps). Cleans up on any exit.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=$(realpath "$1")
. "$here/lib.sh"
[ "$(id -u)" = 0 ] || { echo "check-ssh-boot: needs root (network namespaces)" >&2; exit 1; }
version=$(cat "$root/tests/cassandra/VERSION")
lib=${CASSANDGO_CASSANDRA_CACHE:-/var/cache/cassandgo}/cassandra-$version/lib
ls "$lib"/cassandra-all-*.jar >/dev/null 2>&1 ||
	{ echo "check-ssh-boot: no Cassandra $version jars in $lib (run make deps)" >&2; exit 1; }

BR=cgtboot1
NAMES=(cgt-boot-n1 cgt-boot-n2)
ADDRS=(10.201.2.11 10.201.2.12)
USER_=cgssh
# Two runs at once (two people running make check) would share names and
# addresses: the second waits for the first.
exec 9>"/run/lock/cassandgo-check-ssh-boot.lock"
flock 9
tmp=$(mktemp -d /tmp/cg-check-boot.XXXXXX)
export CG_NETNS_RUN=$tmp/run

cleanup() {
	for n in "${NAMES[@]}"; do "$here/netns-host.sh" down "$n" || true; done
	"$here/netns-host.sh" bridge-down "$BR" || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
for n in "${NAMES[@]}"; do "$here/netns-host.sh" down "$n" >/dev/null 2>&1 || true; done

cg_test_user "$USER_"
chmod 0711 "$tmp"
mkdir -p "$tmp/keys" "$tmp/nodes"
# n1's node dir is made here, n2's by the provider on first contact.
chown "$USER_" "$tmp/nodes"
"$here/../../build/tests/ssh/ssh_integ" keygen "$tmp/keys/user" >/dev/null 2>&1 ||
	ssh-keygen -q -t ed25519 -N '' -f "$tmp/keys/user"
"$here/netns-host.sh" bridge-up "$BR" 10.201.2.1/24
for i in "${!NAMES[@]}"; do
	n=${NAMES[$i]}
	ssh-keygen -q -t ed25519 -N '' -C "$n" -f "$tmp/keys/$n"
	[ "$i" != 0 ] || install -d -o "$USER_" -m 0755 "$tmp/nodes/$n"
	"$here/netns-host.sh" up "$n" "$BR" "${ADDRS[$i]}/24" "$tmp/keys/$n" "$tmp/keys/user.pub" "$USER_"
done

CG_BOOT_ADDRS=$(IFS=,; echo "${ADDRS[*]}") CG_BOOT_NAMES=$(IFS=,; echo "${NAMES[*]}") \
CG_BOOT_LIB=$lib CG_BOOT_VERSION=$version CG_SSH_KEY=$tmp/keys/user CG_SSH_USER=$USER_ \
CG_SSH_KEYDIR=$tmp/keys CG_SSH_TMP=$tmp CASSANDGO_RING_TIMEOUT=${CASSANDGO_RING_TIMEOUT:-180} \
	${CG_SSH_WRAP:-} "$bin"
