#!/usr/bin/env bash
# test_cgnode_apt.sh - `cgnode install apt VERSION` (the EC2 path) without
# touching the host or the network: run as the unprivileged user nobody
# with stand-ins for sudo, apt-get, dpkg-query, curl, cloud-init and
# systemctl on PATH, and CGNODE_SYSROOT pointing the written system files
# (keyring, sources list, policy-rc.d) into a temp dir. Checks what cgnode
# asks of the system, in which order, and that it is idempotent.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok - $*"; }
[ "$(id -u)" = 0 ] || fail "needs root (to run cgnode as nobody)"

tmp=$(mktemp -d /tmp/cgapt.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP
fake=$tmp/fake root=$tmp/root state=$tmp/state log=$tmp/state/calls
mkdir -p "$fake" "$state" "$tmp/node/bin" "$root/etc/apt/sources.list.d" "$root/usr/sbin"
install -m 0755 "$repo/providers/ssh/cgnode" "$tmp/node/bin/cgnode"
: >"$log"

mk() { printf '#!/bin/sh\n%s\n' "$2" >"$fake/$1"; chmod 755 "$fake/$1"; }
# cgnode re-executes itself through `sudo -n --` when not root: the stand-in
# passes it on, still as nobody, with a stand-in `id` that answers root.
mk sudo '[ "$1" = -n ] || { echo "sudo without -n" >>'"$log"'; exit 1; }; shift; [ "$1" = -- ] && shift; exec env CG_FAKE_ROOT=1 "$@"'
mk id '[ "${CG_FAKE_ROOT:-}" = 1 ] && [ "$*" = -u ] && { echo 0; exit 0; }; exec /usr/bin/id "$@"'
mk cloud-init 'echo "cloud-init $*" >>'"$log"
mk curl 'echo "curl $*" >>'"$log"'; echo "-----BEGIN PGP PUBLIC KEY BLOCK----- (test)"'
mk dpkg-query '[ -f '"$state"'/installed ] || exit 1; cat '"$state"'/installed'
mk systemctl 'echo "systemctl $*" >>'"$log"
mk update-rc.d 'echo "update-rc.d $*" >>'"$log"
mk apt-get '
echo "apt-get $*" >>'"$log"'
case " $* " in *" install "*) ;; *) exit 0 ;; esac
[ -n "${FAKE_APT_FAIL:-}" ] && { echo "E: Unable to locate package cassandra"; exit 100; }
if grep -q "exit 101" '"$root"'/usr/sbin/policy-rc.d 2>/dev/null; then
	echo "policy-rc.d present during install" >>'"$log"'
fi
for a in "$@"; do case $a in cassandra=*) printf %s "${a#cassandra=}" >'"$state"'/installed ;; esac; done
mkdir -p '"$root"'/usr/share/cassandra/lib'
chown -R nobody:nogroup "$tmp"
chmod 755 "$tmp"

run() {
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		env PATH="$fake:$PATH" CGNODE_SYSROOT="$root" "$@"
}

out=$(run "$tmp/node/bin/cgnode" install apt 5.0.9) || fail "install apt: $out"
[ "$out" = "installed 5.0.9" ] || fail "install printed: $out"
grep -q '^cloud-init status --wait' "$log" || fail "did not wait for cloud-init"
[ "$(cat "$root/etc/apt/sources.list.d/cassandra.list")" = \
  "deb [signed-by=/etc/apt/keyrings/apache-cassandra.asc] https://debian.cassandra.apache.org 50x main" ] ||
	fail "sources list: $(cat "$root/etc/apt/sources.list.d/cassandra.list")"
grep -q 'BEGIN PGP' "$root/etc/apt/keyrings/apache-cassandra.asc" || fail "keyring not written"
grep -q '^curl .*https://downloads.apache.org/cassandra/KEYS' "$log" || fail "keys not from downloads.apache.org"
grep -q '^apt-get .*DPkg::Lock::Timeout=600.* install -y -qq openjdk-17-jre-headless cassandra=5.0.9$' "$log" ||
	fail "apt-get install call: $(grep apt-get "$log")"
grep -q '^policy-rc.d present during install' "$log" || fail "the package could start its own service"
[ ! -e "$root/usr/sbin/policy-rc.d" ] || fail "policy-rc.d left behind"
grep -q '^systemctl disable --now cassandra' "$log" || fail "packaged service not disabled"
pass "apt: cloud-init wait, Apache repo 50x + key, no service start during install, then disabled"

st=$(run "$tmp/node/bin/cgnode" status)
grep -qx installed=1 <<<"$st" && grep -qx version=5.0.9 <<<"$st" && grep -qx method=apt <<<"$st" ||
	fail "status after apt install: $st"
pass "status: installed=1 version=5.0.9 method=apt"

n=$(grep -c '^apt-get' "$log")
out=$(run "$tmp/node/bin/cgnode" install apt 5.0.9) || fail "second install: $out"
[ "$(grep -c '^apt-get' "$log")" = "$n" ] || fail "second install ran apt-get again"
pass "second install is a no-op"

# Another version: apt runs again; a failing apt-get is reported with its
# output, and policy-rc.d is removed anyway.
if out=$(FAKE_APT_FAIL=1 run env FAKE_APT_FAIL=1 "$tmp/node/bin/cgnode" install apt 5.0.8 2>&1); then
	fail "install succeeded although apt-get failed"
fi
grep -q 'Unable to locate package' <<<"$out" || fail "apt-get's error not shown: $out"
[ ! -e "$root/usr/sbin/policy-rc.d" ] || fail "policy-rc.d left behind after a failure"
st=$(run "$tmp/node/bin/cgnode" status)
grep -qx version=5.0.9 <<<"$st" || fail "a failed install changed the recorded version: $st"
pass "failed apt install: error shown, policy-rc.d removed"
