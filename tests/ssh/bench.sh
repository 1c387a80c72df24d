#!/usr/bin/env bash
# tests/ssh/bench.sh BINARY - SSH fan-out benchmark: N namespace hosts
# (CG_BENCH_HOSTS, default 40; 10.201.3.0/24 on a private bridge), each with
# sshd and a node dir holding cgnode. Cleans up on any exit.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=$(realpath "$1")
. "$here/lib.sh"
[ "$(id -u)" = 0 ] || { echo "bench-ssh: needs root (network namespaces)" >&2; exit 1; }
n=${CG_BENCH_HOSTS:-40}
[ "$n" -ge 1 ] && [ "$n" -le 200 ] || { echo "bench-ssh: CG_BENCH_HOSTS 1..200" >&2; exit 64; }
BR=cgtbench1
USER_=cgssh
# Two runs at once (two people running make check) would share names and
# addresses: the second waits for the first.
exec 9>"/run/lock/cassandgo-bench-ssh.lock"
flock 9
tmp=$(mktemp -d /tmp/cg-bench-ssh.XXXXXX)
export CG_NETNS_RUN=$tmp/run
names=()
for i in $(seq 1 "$n"); do names+=("cgt-bench-h$i"); done

cleanup() {
	for h in "${names[@]}"; do "$here/netns-host.sh" down "$h" >/dev/null 2>&1 || true; done
	"$here/netns-host.sh" bridge-down "$BR" || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
for h in "${names[@]}"; do "$here/netns-host.sh" down "$h" >/dev/null 2>&1 || true; done

cg_test_user "$USER_"
chmod 0711 "$tmp"
mkdir -p "$tmp/keys" "$tmp/nodes"
ssh-keygen -q -t ed25519 -N '' -f "$tmp/keys/user"
"$here/netns-host.sh" bridge-up "$BR" 10.201.3.1/24
hosts=""
t0=$(date +%s%N)
for i in $(seq 1 "$n"); do
	h=cgt-bench-h$i a=10.201.3.$((i + 9))
	ssh-keygen -q -t ed25519 -N '' -C "$h" -f "$tmp/keys/$h"
	install -d -o "$USER_" -m 0755 "$tmp/nodes/$h" "$tmp/nodes/$h/bin" "$tmp/nodes/$h/conf"
	install -o "$USER_" -m 0755 "$root/providers/ssh/cgnode" "$tmp/nodes/$h/bin/cgnode"
	echo 0123456789abcdef > "$tmp/nodes/$h/conf/.hash"
	"$here/netns-host.sh" up "$h" "$BR" "$a/24" "$tmp/keys/$h" "$tmp/keys/user.pub" "$USER_"
	hosts+="${hosts:+,}$h=$a"
done
echo "setup: $n hosts in $(( ($(date +%s%N) - t0) / 1000000 )) ms"

CG_SSH_HOSTS=$hosts CG_SSH_KEY=$tmp/keys/user CG_SSH_USER=$USER_ CG_SSH_KEYDIR=$tmp/keys \
CG_SSH_TMP=$tmp CG_BENCH_BASE=$tmp/nodes "$bin"
