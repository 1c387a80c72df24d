#!/usr/bin/env bash
# netns-host.sh - throwaway "hosts" for tests: a network namespace with a veth
# into a test bridge, one address, and its own OpenSSH sshd with a given host
# key and authorized key. Reused by the SSH tests and the AWS data-plane
# harness. Needs root. Every command is idempotent.
#
#   netns-host.sh bridge-up BRIDGE GW/PREFIX     bridge with the gateway address
#   netns-host.sh bridge-down BRIDGE
#   netns-host.sh up NAME BRIDGE ADDR/PREFIX HOSTKEY AUTHKEYS [USER] [PORT]
#                                                namespace + veth + sshd
#   netns-host.sh sshd-stop NAME | sshd-start NAME   (sshd only; ns stays)
#   netns-host.sh down NAME                      kill everything in it, remove
#   netns-host.sh ns-of-addr ADDR                print the test ns holding ADDR
#
# HOSTKEY is an OpenSSH private key file (ed25519), AUTHKEYS an
# authorized_keys file; both are copied. sshd runs as `sshd -f` from
# $CG_NETNS_RUN/NAME (default /run/cassandgo-netns/NAME) and logs to sshd.log
# there. Traffic stays on the bridge: no route to anything else is added.
set -euo pipefail

RUN=${CG_NETNS_RUN:-/run/cassandgo-netns}
die() { echo "netns-host.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (network namespaces)"

# Interface names are limited to 15 bytes: derive a stable short one.
vname() { echo "cgv$(printf '%s' "$1" | md5sum | cut -c1-10)"; }

sshd_start() {
	local name=$1 dir=$RUN/$1
	[ -f "$dir/sshd_config" ] || die "$name: not set up"
	if [ -f "$dir/sshd.pid" ] && kill -0 "$(cat "$dir/sshd.pid")" 2>/dev/null; then
		return 0
	fi
	mkdir -p /run/sshd
	# 9>&-: a caller's lock descriptor must not live on in the daemon.
	ip netns exec "$name" /usr/sbin/sshd -f "$dir/sshd_config" -E "$dir/sshd.log" 9>&-
	# sshd writes its pid file once it listens.
	for _ in $(seq 100); do
		[ -s "$dir/sshd.pid" ] && kill -0 "$(cat "$dir/sshd.pid")" 2>/dev/null && return 0
		sleep 0.05
	done
	cat "$dir/sshd.log" >&2 || true
	die "$name: sshd did not start"
}

sshd_stop() {
	local dir=$RUN/$1
	if [ -f "$dir/sshd.pid" ]; then
		local pid; pid=$(cat "$dir/sshd.pid")
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
		kill -9 "$pid" 2>/dev/null || true
		rm -f "$dir/sshd.pid"
	fi
}

cmd=${1:-}; shift || true
case "$cmd" in
bridge-up)
	[ $# -eq 2 ] || die "usage: bridge-up BRIDGE GW/PREFIX"
	ip link show "$1" >/dev/null 2>&1 || ip link add "$1" type bridge
	ip addr show dev "$1" | grep -q "inet $2 " || ip addr add "$2" dev "$1"
	ip link set "$1" up
	;;
bridge-down)
	[ $# -eq 1 ] || die "usage: bridge-down BRIDGE"
	ip link del "$1" 2>/dev/null || true
	;;
up)
	[ $# -ge 5 ] || die "usage: up NAME BRIDGE ADDR/PREFIX HOSTKEY AUTHKEYS [USER] [PORT]"
	name=$1 br=$2 cidr=$3 hostkey=$4 authkeys=$5 user=${6:-root} port=${7:-22}
	addr=${cidr%/*}
	dir=$RUN/$name
	v=$(vname "$name")
	ip netns list | grep -qw "^$name" || ip netns add "$name"
	if ! ip link show "$v" >/dev/null 2>&1; then
		ip link add "$v" type veth peer name eth0 netns "$name"
		ip link set "$v" master "$br" up
	fi
	ip -n "$name" link set lo up
	ip -n "$name" link set eth0 up
	ip -n "$name" addr show dev eth0 | grep -q "inet $cidr " || ip -n "$name" addr add "$cidr" dev eth0
	mkdir -p "$dir"
	chmod 0755 "$RUN" "$dir"
	install -m 0600 "$hostkey" "$dir/host_key"
	install -m 0644 "$authkeys" "$dir/authorized_keys"
	cat > "$dir/sshd_config" <<EOF
Port $port
ListenAddress $addr
HostKey $dir/host_key
PidFile $dir/sshd.pid
AuthorizedKeysFile $dir/authorized_keys
AllowUsers $user
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PermitRootLogin prohibit-password
StrictModes no
MaxStartups 500:30:1000
MaxSessions 100
ClientAliveInterval 30
LogLevel INFO
EOF
	sshd_start "$name"
	;;
sshd-start) sshd_start "$1" ;;
sshd-stop) sshd_stop "$1" ;;
down)
	[ $# -eq 1 ] || die "usage: down NAME"
	name=$1
	sshd_stop "$name"
	if ip netns list | grep -qw "^$name"; then
		# Everything still running inside (commands, Cassandra): TERM, then KILL.
		pids=$(ip netns pids "$name" 2>/dev/null || true)
		[ -z "$pids" ] || kill $pids 2>/dev/null || true
		for _ in $(seq 50); do [ -z "$(ip netns pids "$name" 2>/dev/null)" ] && break; sleep 0.1; done
		pids=$(ip netns pids "$name" 2>/dev/null || true)
		[ -z "$pids" ] || kill -9 $pids 2>/dev/null || true
		ip netns del "$name"
	fi
	ip link del "$(vname "$name")" 2>/dev/null || true
	rm -rf "${RUN:?}/$name"
	;;
ns-of-addr)
	for ns in $(ip netns list | awk '{print $1}'); do
		ip -n "$ns" -4 addr show 2>/dev/null | grep -q "inet $1/" && { echo "$ns"; exit 0; }
	done
	exit 1
	;;
*)
	sed -n '2,20p' "$0" >&2
	exit 64
	;;
esac
