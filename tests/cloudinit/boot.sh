#!/usr/bin/env bash
# tests/cloudinit/boot.sh W SUITE N - boot N of the throwaway machine made
# of SUITE's cached root, run by run.sh inside fresh mount, network, UTS and
# PID namespaces (unshare); its inputs are in W/in. The disk is an overlay
# (the cached root read-only below, W/SUITE/upper above, kept from boot to
# boot); /run, /tmp, /dev, /proc, /sys and the network stack
# (so the firewall) are new at each boot, as after a reboot. Runs the four
# cloud-init stages as systemd would, then checks the machine as it is
# after boot N. Prints "ok - ..." / "FAIL - ..." lines, then "boot N: done"
# (missing: it stopped early); exit 1 on a failure.
#
# Boot 1 finds nft (Ubuntu 24.04); boot 2 has it hidden, so the user-data's
# iptables branch (Ubuntu 22.04) runs, and checks what a reboot re-creates.
set -euo pipefail
W=$1 S=$2 N=$3
trap 'echo "FAIL - $S boot $N: stopped by a failed command at boot.sh:$LINENO"' ERR
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
D=$W/$S
M=$D/merged B=$D/boot$N
mkdir -p "$B"
failed=0
ok() { echo "ok - $S boot $N: $*"; }
bad() { echo "FAIL - $S boot $N: $*"; failed=1; }
is() {	# DESCRIPTION GOT WANT
	if [ "$2" = "$3" ]; then ok "$1"; else bad "$1"; echo "    got:  $2"; echo "    want: $3"; fi
}
check() {	# DESCRIPTION COMMAND...: ok when the command succeeds
	local what=$1
	shift
	if "$@" >"$B/check.out" 2>&1; then ok "$what"; else bad "$what"; sed 's/^/    /' "$B/check.out"; fi
}
# Run in the machine as root with a clean environment, as systemd would.
ch() {
	chroot "$M" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root LANG=C.UTF-8 "$@"
}

# --- the machine ---------------------------------------------------------
mount -t overlay overlay -o "lowerdir=$(cg_ci_root "$S"),upperdir=$D/upper,workdir=$D/work" "$M"
mount -t proc proc "$M/proc"
mount -t sysfs sysfs "$M/sys"
mount -t tmpfs -o mode=0755 run "$M/run"
mount -t tmpfs -o mode=1777 tmp "$M/tmp"
# A /dev with no block device: nothing cloud-init does (growpart, mounts)
# can reach this machine's disks.
mount -t tmpfs -o mode=0755 dev "$M/dev"
for d in null zero full random urandom tty; do
	touch "$M/dev/$d"
	mount --bind "/dev/$d" "$M/dev/$d"
done
mkdir "$M/dev/pts" "$M/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666 devpts "$M/dev/pts"
ln -s pts/ptmx "$M/dev/ptmx"
ln -s /proc/self/fd "$M/dev/fd"
ip link set lo up
hostname localhost

if [ "$N" = 1 ]; then
	# The image: what differs from an Ubuntu cloud image and is not
	# under test. The default user is Ubuntu's; NoCloud stands for EC2's
	# datasource (seed = what IMDS serves; its public-keys = the KeyName);
	# no disk to grow; no locales package in this root.
	mkdir -p "$M/etc/cloud/cloud.cfg.d" "$M/var/lib/cloud/seed/nocloud" "$M/var/log/cassandgo-test"
	cat >"$M/etc/cloud/cloud.cfg.d/99-cassandgo-test.cfg" <<-'EOF'
	datasource_list: [NoCloud]
	system_info:
	  default_user:
	    name: ubuntu
	growpart: {mode: "off"}
	resize_rootfs: false
	locale: false
	EOF
	install -m 0600 "$W/in/user-data" "$M/var/lib/cloud/seed/nocloud/user-data"
	install -m 0600 "$W/in/meta-data" "$M/var/lib/cloud/seed/nocloud/meta-data"
	# apt and curl record what they are asked and touch no network (this
	# namespace has none): installing Java and Cassandra is Ubuntu's job,
	# what cassandgo asks for is what is checked.
	mkdir -p "$M/usr/local/sbin" "$M/usr/local/bin"
	printf '#!/bin/sh\necho "apt-get $*" >>/var/log/cassandgo-test/calls\n' >"$M/usr/local/sbin/apt-get"
	cat >"$M/usr/local/bin/curl" <<-'EOF'
	#!/bin/sh
	echo "curl $*" >>/var/log/cassandgo-test/calls
	while [ $# -gt 0 ]; do [ "$1" = -o ] && { echo stand-in >"$2"; shift; }; shift; done
	EOF
	# cloud-init >= 23 asks apt-cache which of the packages exist
	cat >"$M/usr/local/bin/apt-cache" <<-'EOF'
	#!/bin/sh
	[ "$1" = pkgnames ] || exec /usr/bin/apt-cache "$@"
	printf '%s\n' openjdk-17-jre-headless curl ca-certificates python3 cassandra
	EOF
	chmod 0755 "$M/usr/local/sbin/apt-get" "$M/usr/local/bin/curl" "$M/usr/local/bin/apt-cache"
else
	# Ubuntu 22.04 has iptables but maybe no nft: the other branch.
	mv "$M/usr/sbin/nft" "$M/usr/sbin/nft.hidden"
fi

# The metadata service's and a container's network namespaces (wired up
# after cloud-init has run: its fallback network config is not under test).
# The stand-in service starts now, so it is up by then.
unshare --net sleep 600 &
imds=$!
unshare --net sleep 600 &
ctr=$!
for pid in $imds $ctr; do
	until [ "$(readlink "/proc/$pid/ns/net")" != "$(readlink /proc/self/ns/net)" ]; do sleep 0.01; done
done
in_imds() { nsenter --net="/proc/$imds/ns/net" "$@"; }
in_ctr() { nsenter --net="/proc/$ctr/ns/net" "$@"; }
mkdir -p "$D/imds"
in_imds python3 - "$D/imds" >"$B/imds.log" 2>&1 <<-'EOF' &
	import functools, http.server, socket, sys
	class V6(http.server.ThreadingHTTPServer):
	    address_family = socket.AF_INET6  # "::" takes IPv4 too
	h = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
	s = V6(("::", 80), h)
	print("ready", flush=True)
	s.serve_forever()
	EOF

# --- cloud-init, as cloud-init-local, cloud-init, cloud-config, cloud-final
t0=$(date +%s%N)
logstart=1
[ ! -f "$M/var/log/cloud-init.log" ] || logstart=$(( $(wc -l <"$M/var/log/cloud-init.log") + 1 ))
for stage in "init --local" "init" "modules --mode=config" "modules --mode=final"; do
	# shellcheck disable=SC2086
	if ! ch cloud-init $stage >"$B/stage.log" 2>&1; then
		bad "cloud-init $stage failed"
		sed 's/^/    /' "$B/stage.log" | tail -n 20
		tail -n 30 "$M/var/log/cloud-init.log" | sed 's/^/    log: /'
		exit 1
	fi
	cat "$B/stage.log" >>"$B/stages.log"
done
echo "    $S boot $N: cloud-init $(ch cloud-init --version 2>&1 | awk '{ print $NF }')'s four stages took $(( ($(date +%s%N) - t0) / 1000000 )) ms"
check "cloud-init reports no error (result.json)" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["v1"]
sys.exit("errors: %s" % r["errors"] if r["errors"] else 0)' "$M/run/cloud-init/result.json"
check "cloud-init used the NoCloud seed (EC2's stand-in)" \
	grep -q '"datasource": "DataSourceNoCloud' "$M/run/cloud-init/result.json"
# When the firewall goes up: bootcmd is in cloud-init.service's stage,
# which systemd starts before sshd and before any login is allowed.
tail -n "+$logstart" "$M/var/log/cloud-init.log" | grep -o 'Running module [a-z_-]*' |
	sed 's/Running module //' >"$B/modules"
check "this boot ran bootcmd, before the users and ssh modules" sh -c "
	grep -qx bootcmd '$B/modules' && ! sed '/^bootcmd\$/q' '$B/modules' | grep -qx -e users-groups -e ssh"
unit=$M/usr/lib/systemd/system/cloud-init-network.service	# its name since 24.3
[ -e "$unit" ] || unit=$M/lib/systemd/system/cloud-init.service
check "cloud-init.service runs before sshd and user sessions (packaged unit)" sh -c "
	grep -qx Before=sshd.service '$unit' && grep -qx Before=systemd-user-sessions.service '$unit'"

# --- host key: the one cassandgo pinned, and only it ----------------------
pinned=$(cut -d' ' -f1,2 "$W/in/host_key.pub")
key=$M/etc/ssh/ssh_host_ed25519_key
check "ssh_host_ed25519_key is root 0600" test "$(stat -c '%u:%g %a' "$key")" = "0:0 600"
check "its public half is the pinned key" test "$(ch ssh-keygen -y -f /etc/ssh/ssh_host_ed25519_key |
	cut -d' ' -f1,2)" = "$pinned"
check "ssh_host_ed25519_key.pub is the pinned key, root's, not writable by others" test \
	"$(cut -d' ' -f1,2 "$key.pub") $(stat -c '%u:%g' "$key.pub")" = "$pinned 0:0" -a \
	"$(( 0$(stat -c %a "$key.pub") & 022 ))" = 0
check "no other host key (the image's were deleted, none generated)" test \
	"$(cd "$M/etc/ssh" && echo ssh_host_*)" = "ssh_host_ed25519_key ssh_host_ed25519_key.pub"

# --- users and files ------------------------------------------------------
uid=$(ch id -u ubuntu) gid=$(ch id -g ubuntu)
check "the login user ubuntu exists (uid $uid)" test "$uid" -gt 0
check "its authorized_keys is the key pair's public key, ubuntu 0600" test \
	"$(cat "$M/home/ubuntu/.ssh/authorized_keys") $(stat -c '%u %a' "$M/home/ubuntu/.ssh/authorized_keys")" \
	= "$(cat "$W/in/cluster.pub") $uid 600"
check "its sudo rule" grep -q '^ubuntu ALL=(ALL) NOPASSWD:ALL' "$M/etc/sudoers.d/90-cloud-init-users"
check "/var/lib/cassandgo belongs to ubuntu" test "$(stat -c '%u:%g' "$M/var/lib/cassandgo")" = "$uid:$gid"
check "the end marker is there" test -f "$M/var/lib/cassandgo/.cloud-init-done"
check "the per-boot scrub script is root 0700" test \
	"$(stat -c '%u %a' "$M/var/lib/cloud/scripts/per-boot/cassandgo-scrub-user-data")" = "0 700"
if [ "$N" = 1 ]; then
	# apt/curl stand-ins: what the image was asked to install, in order
	grep -E '^(apt-get|curl)' "$M/var/log/cassandgo-test/calls" |
		sed -E 's/--option=[^ ]* //g; s/--(assume-yes|quiet) //g' >"$B/calls"
	cp "$B/calls" "$D/calls.boot1"
	# (in any order: newer cloud-init installs them from a set)
	is "packages: Java 17, curl, certificates, Python" \
		"$(sed -n 's/^apt-get install \([a-z]\)/\1/p' "$B/calls" | tr ' ' '\n' | grep -v = | sort | xargs)" \
		"ca-certificates curl openjdk-17-jre-headless python3"
	v=$(cat "$W/in/cassandra-version")
	install=$(cat "$W/in/install")
	if [ "$install" = apt ]; then
		repo=$(echo "$v" | cut -d. -f1,2 | tr -d .)x
		check "Apache's key, then Cassandra $v from the $repo repository" sh -c "
			grep -q '^curl .*downloads.apache.org/cassandra/KEYS -o /etc/apt/keyrings/apache-cassandra.asc' '$B/calls' &&
			grep -qx 'apt-get install -y -q cassandra=$v' '$B/calls' &&
			grep -q ' $repo main' '$M/etc/apt/sources.list.d/cassandra.list'"
	else
		# maven, upload, dir: cgnode installs Cassandra over SSH later
		check "install: $install: no Apache repository, no Cassandra package at boot" sh -c "
			! grep -q cassandra '$B/calls' && [ ! -e '$M/etc/apt/sources.list.d/cassandra.list' ]"
	fi
else
	check "a reboot re-ran no per-instance step (no apt, no curl)" \
		cmp -s "$D/calls.boot1" <(grep -E '^(apt-get|curl)' "$M/var/log/cassandgo-test/calls" |
		sed -E 's/--option=[^ ]* //g; s/--(assume-yes|quiet) //g')
fi

# --- the metadata service: root only --------------------------------------
# The firewall bootcmd installed in this boot's (new) network namespace:
# the kernel's own listing of it. Re-running it (cloud-init may be re-run
# in a boot) runs bootcmd's script itself: `cloud-init single` finds no
# user-data once the per-boot scrub ran.
ch python3 -c 'import sys, yaml
print(yaml.safe_load(open(sys.argv[1])).get("bootcmd", [""])[0], end="")' \
	/var/lib/cloud/seed/nocloud/user-data >"$M/tmp/bootcmd.sh"
if [ "$N" = 1 ]; then
	ch nft list table inet cassandgo_imds >"$B/ruleset" 2>&1 || true
	sed -n 's/^[[:space:]]*//p' "$B/ruleset" | grep -E 'daddr|hook' >"$B/rules" || true
	cat >"$B/rules.want" <<-'EOF'
	type filter hook output priority filter; policy accept;
	ip daddr 169.254.169.254 meta skuid != 0 reject with icmp port-unreachable
	ip6 daddr fd00:ec2::254 meta skuid != 0 reject with icmpv6 port-unreachable
	type filter hook forward priority filter; policy accept;
	ip daddr 169.254.169.254 reject with icmp port-unreachable
	ip6 daddr fd00:ec2::254 reject with icmpv6 port-unreachable
	EOF
	check "bootcmd loaded the nft table (nft list table inet cassandgo_imds)" diff "$B/rules.want" "$B/rules"
	# bootcmd runs at every boot, and cloud-init may be re-run: no duplicate
	ch sh /tmp/bootcmd.sh >"$B/again.log" 2>&1 || bad "bootcmd's script failed when run again"
	ch nft list table inet cassandgo_imds 2>&1 | sed -n 's/^[[:space:]]*//p' | grep -E 'daddr|hook' >"$B/rules2" || true
	check "bootcmd run again leaves the same table" diff "$B/rules.want" "$B/rules2"
else
	{ ch iptables -S OUTPUT; ch iptables -S FORWARD; ch ip6tables -S OUTPUT; ch ip6tables -S FORWARD; } \
		2>&1 | grep -- '-A ' >"$B/rules" || true
	cat >"$B/rules.want" <<-'EOF'
	-A OUTPUT -d 169.254.169.254/32 -m owner ! --uid-owner 0 -j REJECT --reject-with icmp-port-unreachable
	-A FORWARD -d 169.254.169.254/32 -j REJECT --reject-with icmp-port-unreachable
	-A OUTPUT -d fd00:ec2::254/128 -m owner ! --uid-owner 0 -j REJECT --reject-with icmp6-port-unreachable
	-A FORWARD -d fd00:ec2::254/128 -j REJECT --reject-with icmp6-port-unreachable
	EOF
	check "without nft, bootcmd loaded the iptables/ip6tables rules" diff "$B/rules.want" "$B/rules"
	ch sh /tmp/bootcmd.sh >"$B/again.log" 2>&1 || bad "bootcmd's script failed when run again"
	{ ch iptables -S OUTPUT; ch iptables -S FORWARD; ch ip6tables -S OUTPUT; ch ip6tables -S FORWARD; } \
		2>&1 | grep -- '-A ' >"$B/rules2" || true
	check "bootcmd run again adds no duplicate rule" diff "$B/rules.want" "$B/rules2"
fi

# A stand-in metadata service at the real addresses, off the machine as on
# EC2 (its own network namespace behind a veth: a local one would also see
# its ICMP errors, addressed to 169.254.169.254, caught by the rule), serving
# the real user-data; and a "container" namespace routed through the
# machine. 169.254.169.253 and fd00:ec2::253 answer too, unfiltered: the
# controls that show a refusal is the rule's doing, not the network's.
mkdir -p "$D/imds/latest"
cp "$W/in/user-data" "$D/imds/latest/user-data"
ip link add vm0 type veth peer name md0 netns "$imds"
ip link add vc0 type veth peer name ct0 netns "$ctr"
ip addr add 10.0.0.1/24 dev vm0
ip addr add fd00:ec2::1/64 dev vm0 nodad
ip addr add 10.0.1.1/24 dev vc0
ip link set vm0 up
ip link set vc0 up
ip route add 169.254.169.252/30 dev vm0
echo 1 >/proc/sys/net/ipv4/ip_forward
# A refusal is an ICMP error: unthrottled, so refusals in a row are instant.
echo 0 >/proc/sys/net/ipv4/icmp_ratelimit
echo 0 >/proc/sys/net/ipv6/icmp/ratelimit
in_imds ip link set lo up
in_imds ip addr add 169.254.169.254/32 dev md0
in_imds ip addr add 169.254.169.253/32 dev md0
in_imds ip addr add fd00:ec2::254/64 dev md0 nodad
in_imds ip addr add fd00:ec2::253/64 dev md0 nodad
in_imds ip link set md0 up
in_imds ip route add 10.0.0.0/24 dev md0
in_imds ip route add 10.0.1.0/24 via 10.0.0.1
in_ctr ip link set lo up
in_ctr ip addr add 10.0.1.2/24 dev ct0
in_ctr ip link set ct0 up
in_ctr ip route add default via 10.0.1.1
for _ in $(seq 1 50); do grep -q ready "$B/imds.log" 2>/dev/null && break; sleep 0.1; done
grep -q ready "$B/imds.log" || { bad "the stand-in metadata service did not start"; cat "$B/imds.log"; exit 1; }
probe='import sys, urllib.request
try:
    body = urllib.request.urlopen(sys.argv[1], timeout=3).read().decode()
    print("served", "private-key" if "BEGIN OPENSSH PRIVATE KEY" in body else "no-key")
except OSError as e:
    print("refused" if "refused" in str(e) else "error: %s" % e)'
probe_as() {	# USER URL: the probe as USER on the machine
	chroot --userspec="$1:$(ch id -g "$1")" "$M" /usr/bin/env -i PATH=/usr/bin:/bin \
		python3 -c "$probe" "$2"
}
for a in 169.254.169.254 '[fd00:ec2::254]'; do
	url=http://$a/latest/user-data ctl=http://${a%254*}253${a##*254}/latest/user-data
	is "root reads the user-data at $url" "$(probe_as root "$url")" "served private-key"
	for who in ubuntu nobody; do
		is "$who is refused at $url" "$(probe_as "$who" "$url")" refused
		is "  (control: $who reads $ctl)" "$(probe_as "$who" "$ctl")" "served private-key"
	done
done
url=http://169.254.169.254/latest/user-data ctl=http://169.254.169.253/latest/user-data
is "root of a container routed through the machine is refused at $url" \
	"$(in_ctr chroot "$M" python3 -c "$probe" "$url")" refused
is "  (control: it reads $ctl)" "$(in_ctr chroot "$M" python3 -c "$probe" "$ctl")" "served private-key"
if [ "$N" = 2 ]; then
	# No firewall tool at all: bootcmd must fail, and say why.
	mv "$M/usr/sbin/iptables" "$M/usr/sbin/iptables.hidden"
	if ch sh /tmp/bootcmd.sh >"$B/none.log" 2>&1; then
		bad "with no nft and no iptables bootcmd's script succeeded"
	else
		check "with no nft and no iptables bootcmd's script fails, saying so" \
			grep -q 'no nft, no iptables' "$B/none.log"
	fi
	mv "$M/usr/sbin/iptables.hidden" "$M/usr/sbin/iptables"
	mv "$M/usr/sbin/nft.hidden" "$M/usr/sbin/nft"
fi

# --- where the private key still is --------------------------------------
t0=$(date +%s%N)
if python3 "$here/keyscan.py" "$M" "$W/in/user-data" "$W/in/instance-id" >"$B/keyscan" 2>&1; then
	ok "the private key is only where it may be:"
else
	bad "the private key is somewhere it must not be:"
fi
sed 's/^/    /' "$B/keyscan"
echo "    $S boot $N: the key search took $(( ($(date +%s%N) - t0) / 1000000 )) ms"
echo "$S boot $N: done"
exit $failed
