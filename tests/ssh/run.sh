#!/usr/bin/env bash
# tests/ssh/run.sh BINARY - the SSH layer against real OpenSSH sshds in 3
# network namespaces on a private bridge (10.201.1.0/24, traffic stays there).
# Cleans up everything it made, also on failure or interrupt.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$(realpath "$1")
. "$here/lib.sh"
[ "$(id -u)" = 0 ] || { echo "check-ssh: needs root (network namespaces)" >&2; exit 1; }
for t in /usr/sbin/sshd ssh-keygen ip; do
	command -v "$t" >/dev/null || { echo "check-ssh: missing $t (make deps)" >&2; exit 1; }
done

BR=cgtssh1
NAMES=(cgt-ssh-h1 cgt-ssh-h2 cgt-ssh-h3)
ADDRS=(10.201.1.11 10.201.1.12 10.201.1.13)
RSA_NAME=cgt-ssh-rsa RSA_ADDR=10.201.1.14
USER_=cgssh
# Two runs at once (two people running make check) would share names and
# addresses: the second waits for the first.
exec 9>"/run/lock/cassandgo-check-ssh.lock"
flock 9
tmp=$(mktemp -d /tmp/cg-check-ssh.XXXXXX)
export CG_NETNS_RUN=$tmp/run

cleanup() {
	for n in "${NAMES[@]}" "$RSA_NAME"; do "$here/netns-host.sh" down "$n" || true; done
	"$here/netns-host.sh" bridge-down "$BR" || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cleanup_stale() { for n in "${NAMES[@]}" "$RSA_NAME"; do "$here/netns-host.sh" down "$n" >/dev/null 2>&1 || true; done; }
cleanup_stale

cg_test_user "$USER_"
chmod 0711 "$tmp"
mkdir -p "$tmp/keys" "$tmp/remote"
chown "$USER_" "$tmp/remote"
"$bin" keygen "$tmp/keys/user" >/dev/null
cp "$tmp/keys/user.pub" "$tmp/keys/authorized_keys"

"$here/netns-host.sh" bridge-up "$BR" 10.201.1.1/24
hosts=""
for i in "${!NAMES[@]}"; do
	n=${NAMES[$i]} a=${ADDRS[$i]}
	"$bin" keygen "$tmp/keys/$n" >/dev/null	# host keys in our own format
	"$here/netns-host.sh" up "$n" "$BR" "$a/24" "$tmp/keys/$n" "$tmp/keys/authorized_keys" "$USER_"
	hosts+="${hosts:+,}$n=$a"
done
# One more host that offers only an RSA host key (ed25519 is required).
ssh-keygen -q -t rsa -b 2048 -N '' -f "$tmp/keys/rsa-host"
"$here/netns-host.sh" up "$RSA_NAME" "$BR" "$RSA_ADDR/24" "$tmp/keys/rsa-host" "$tmp/keys/authorized_keys" "$USER_"
export CG_SSH_RSA_HOST=$RSA_NAME=$RSA_ADDR

CG_SSH_HOSTS=$hosts CG_SSH_KEY=$tmp/keys/user CG_SSH_USER=$USER_ CG_SSH_KEYDIR=$tmp/keys \
CG_SSH_TMP=$tmp CG_NETNS=$here/netns-host.sh ${CG_SSH_WRAP:-} "$bin"
