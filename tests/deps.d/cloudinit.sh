#!/usr/bin/env bash
# deps for tests/cloudinit (make check-cloudinit): one Debian root per suite
# of tests/cloudinit/lib.sh (debootstrap minbase, then Debian's cloud-init,
# OpenSSH server, nftables, iptables and sudo inside), built once per
# machine under /var/cache/cassandgo (~2.5 min and ~260 MB each) and reused
# read-only by the test (as an overlay's lower layer). Also the host tools
# the test drives them with. Idempotent; Debian 12, root.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/cloudinit/lib.sh

pkgs=(debootstrap debian-archive-keyring util-linux iproute2 python3 openssh-client)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The mirror this machine's apt already uses (debootstrap's default otherwise).
mirror=$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\/debian\/\?\)[[:space:]]*$/\1/p' \
	/etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1 || true)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $2 ~ /\/debian\/?$/ { print $2; exit }' \
	/etc/apt/sources.list 2>/dev/null || true)

build() {	# SUITE
	local suite=$1 root tmp start f
	root=$(cg_ci_root "$suite")
	if [ -f "$root/$CG_CI_STAMP" ] && cmp -s "$root/$CG_CI_STAMP" <(cg_ci_recipe "$suite"); then
		echo "cloudinit deps: $root is up to date"
		return 0
	fi
	# Built beside the cache and renamed at the end: a killed build never
	# leaves a root that looks complete.
	mkdir -p "$(dirname "$root")"
	tmp="$root.tmp.$$"
	rm -rf "$tmp" "$tmp.log"
	trap 'rm -rf "$tmp" "$tmp.log"' EXIT
	start=$(date +%s)
	echo "cloudinit deps: debootstrap $suite into $root (a few minutes, once per machine)"
	# minbase first, then apt inside it: debootstrap's own --include fails
	# to configure cloud-init's Python dependencies in the right order.
	debootstrap --variant=minbase "$suite" "$tmp" ${mirror:+"$mirror"} >"$tmp.log" 2>&1 || {
		tail -n 30 "$tmp.log" >&2
		echo "cloudinit deps: debootstrap $suite failed (log above)" >&2
		exit 1
	}
	# No service may start inside the root while packages are configured.
	printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"
	chmod 755 "$tmp/usr/sbin/policy-rc.d"
	cp /etc/resolv.conf "$tmp/etc/resolv.conf"
	# A private mount namespace: /proc and /dev go away with it.
	unshare --mount --pid --fork --uts sh -c '
		set -e
		mount -t proc proc "$1/proc"
		mount --bind /dev "$1/dev"
		chroot "$1" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
			DEBIAN_FRONTEND=noninteractive sh -c "apt-get update -qq &&
			apt-get install -y -qq --no-install-recommends $2"
	' sh "$tmp" "${CG_CI_PACKAGES[*]}" >>"$tmp.log" 2>&1 || {
		tail -n 30 "$tmp.log" >&2
		echo "cloudinit deps: installing ${CG_CI_PACKAGES[*]} in the $suite root failed (log above)" >&2
		exit 1
	}
	rm -f "$tmp.log" "$tmp/usr/sbin/policy-rc.d"
	: >"$tmp/etc/resolv.conf"
	# Slim the root (470 -> ~260 MB): apt's lists and .debs run nothing.
	rm -rf "$tmp/var/cache/apt/"*.bin "$tmp/var/cache/apt/archives/"*.deb "$tmp/var/lib/apt/lists/"*_*
	# What the test relies on, checked now rather than at test time (-L:
	# alternatives links point at absolute paths, dangling from out here).
	for f in usr/bin/cloud-init usr/sbin/sshd usr/sbin/nft usr/sbin/iptables usr/bin/ssh-keygen \
		 usr/bin/python3 usr/sbin/useradd; do
		[ -e "$tmp/$f" ] || [ -L "$tmp/$f" ] ||
			{ echo "cloudinit deps: $f missing in the built $suite root" >&2; exit 1; }
	done
	cg_ci_recipe "$suite" >"$tmp/$CG_CI_STAMP"
	rm -rf "$root"
	mv "$tmp" "$root"
	trap - EXIT
	echo "cloudinit deps: built $root in $(( $(date +%s) - start )) s ($(du -sh "$root" | cut -f1))," \
		"cloud-init $(chroot "$root" cloud-init --version 2>&1 | awk '{ print $NF }')"
}

for suite in $CG_CI_SUITES; do
	build "$suite"
done
