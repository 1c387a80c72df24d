#!/usr/bin/env bash
# tests/maven/upload.sh BINARY - `install: upload` through the real tool on
# the local provider (network namespaces with real sshd, --stage install:
# nothing started): two nodes of one region. The operator sends the
# verified set once, over SSH, to the region's first node; the second node
# fetches it from the first over the private network (its HTTP log counts
# the requests) and the operator sends it nothing. An apply killed (kill -9)
# while the first node receives leaves nothing installed; the next apply
# sends only what is still owed and finishes. ~10 s.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
bin=$(realpath "${1:-$repo/cassandgo}")
VERSION=$(tr -d ' \n' <"$repo/tests/cassandra/VERSION")
CACHE=${CASSANDGO_CASSANDRA_CACHE:-/var/cache/cassandgo}/cassandra-$VERSION
. "$repo/tests/tally.sh"
die() { echo "FAIL: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (network namespaces)"
[ -s "$CACHE/manifest" ] || die "no $CACHE/manifest (make cassandra)"
NJARS=$(grep -c . "$CACHE/manifest")
TOTAL=$(awk '{ s += $2 } END { print s }' "$CACHE/manifest")

tmp=$(mktemp -d /tmp/cg-upload.XXXXXX)
chmod 0755 "$tmp"
export CASSANDGO_STATE=$tmp/state.db
cat >"$tmp/cassandgo.yaml" <<'EOF'
MavenUp:
  provider: local
  install: upload
  network: 10.89.4.0/22
  datacenters:
    - datacenter: DC1
      region: up-east
      nodes: 2
      seeds: 1
EOF
cg() { "$bin" -c "$tmp/cassandgo.yaml" "$@"; }
APID=
cleanup() {
	[ -n "$APID" ] && kill -9 "$APID" 2>/dev/null
	cg state unlock "$(sqlite3 "$CASSANDGO_STATE" 'select id from lock' 2>/dev/null)" >/dev/null 2>&1
	cg destroy --auto-approve MavenUp >"$tmp/destroy.log" 2>&1 ||
		{ echo "destroy failed:"; tail -5 "$tmp/destroy.log"; }
	[ -n "${KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

attr() {	# attr ADDR KEY: from state show
	cg state show 2>/dev/null | awk -v a="$1" -v k="$2" '
		$1 == a { on = 1; next } /^[^ ]/ { on = 0 }
		on && $1 == k { gsub(/"/, "", $3); print $3 }'
}
node_dir() { ls -d /var/lib/cassandgo/MavenUp-*/"$1" 2>/dev/null | head -n1; }
installed() {	# the release complete and every hash right
	local d
	d=$(node_dir "$1") && [ -f "$d/cassandra-$VERSION/.complete" ] &&
		(cd "$d/cassandra-$VERSION/lib" && sha256sum --quiet --status -c ../.complete)
}

# 1. killed (kill -9) while DC1 n1 receives from the operator
cg plan --stage install MavenUp >"$tmp/plan.log" 2>&1
if grep -A3 '+ install.DC1.n1' "$tmp/plan.log" | grep -q 'source  = "operator"' &&
	grep -A3 '+ install.DC1.n2' "$tmp/plan.log" | grep -q 'source  = "machine.DC1.n1"'; then
	ok "plan: install.DC1.n1 from the operator, install.DC1.n2 from machine.DC1.n1"
else
	bad "plan: $(grep -A3 '+ install' "$tmp/plan.log")"
fi
# the machines first; then DC1 n1's link slowed (tbf on the bridge's side
# of its veth: what the operator sends it takes ~3 s) so that the kill
# lands in the middle of the transfer
cg apply --stage infra --auto-approve MavenUp >"$tmp/apply0.log" 2>&1 ||
	die "apply --stage infra: $(tail -n 5 "$tmp/apply0.log")"
# DC1 n1's namespace: the one holding its address (other tiers may run
# clusters of their own beside this one: `make check` runs two lanes)
ip1=$(cg state show 2>/dev/null | awk '$1 == "machine.DC1.n1" { on = 1; next } /^[^ ]/ { on = 0 }
	on && $1 == "private_ip" { gsub(/"/, "", $3); print $3 }')
ns1=$(for ns in $(ip netns list | awk '/^cg-.*-DC1-n1( |$)/ { print $1 }'); do
	ip -n "$ns" -4 -o addr show 2>/dev/null | grep -q " inet $ip1/" && echo "$ns"; done | head -n1)
peer=$(ip netns exec "$ns1" ip -o link 2>/dev/null | sed -n 's/^[0-9]*: [^@]*@if\([0-9]*\):.*/\1/p' | head -n1)
veth=$(ip -o link | sed -n "s/^$peer: \([^@:]*\).*/\1/p")
[ -n "$veth" ] && tc qdisc add dev "$veth" root tbf rate 200mbit burst 256kb latency 500ms ||
	die "cannot slow DC1 n1's link (veth '$veth' of $ns1)"
"$bin" -c "$tmp/cassandgo.yaml" apply --stage install --auto-approve MavenUp >"$tmp/apply1.log" 2>&1 &
APID=$!
got=0
for _ in $(seq 1 600); do
	d=$(node_dir DC1-n1)
	[ -n "$d" ] && got=$(find "$d/.download/$VERSION/repo" -name '*.jar' 2>/dev/null | wc -l)
	[ "$got" -ge 20 ] && break
	kill -0 "$APID" 2>/dev/null || break
	sleep 0.05
done
kill -9 "$APID" 2>/dev/null
wait "$APID" 2>/dev/null
APID=
tc qdisc del dev "$veth" root 2>/dev/null
# the node's side ends with the connection (its tar reads EOF)
for _ in $(seq 1 100); do
	pgrep -f "cgnode install-receive" >/dev/null || break
	sleep 0.05
done
d=$(node_dir DC1-n1)
got=$(find "$d/.download/$VERSION/repo" -name '*.jar' 2>/dev/null | wc -l)
if [ "$got" -ge 20 ] && [ "$got" -lt "$NJARS" ] && [ ! -e "$d/cassandra-$VERSION" ] &&
	[ ! -e "$d/.install" ]; then
	ok "apply killed (kill -9) while DC1 n1 received: $got of $NJARS artifacts there, nothing installed"
else
	bad "kill during the upload: got=$got, in $d: $(ls "$d" 2>/dev/null | tr '\n' ' ')"
	show "$tmp/apply1.log"
fi
cg state unlock "$(sqlite3 "$CASSANDGO_STATE" 'select id from lock' 2>/dev/null)" >/dev/null 2>&1

# 2. the next apply: DC1 n1 gets the rest from the operator, DC1 n2
#    everything from DC1 n1
cg apply --stage install --auto-approve MavenUp >"$tmp/apply2.log" 2>&1
rc=$?
s1=$(attr install.DC1.n1 sent_bytes) s2=$(attr install.DC1.n2 sent_bytes)
src2=$(attr install.DC1.n2 source)
n1=$(node_dir DC1-n1)
ip2=$(cg state show 2>/dev/null | awk '$1 == "machine.DC1.n2" { on = 1; next } /^[^ ]/ { on = 0 }
	on && $1 == "private_ip" { gsub(/"/, "", $3); print $3 }')
gets2=$(grep -c "^$ip2 \"GET /$VERSION/" "$n1/share.log" 2>/dev/null)
if [ $rc = 0 ] && installed DC1-n1 && [ -n "$s1" ] && [ "$s1" -gt 0 ] && [ "$s1" -lt "$TOTAL" ]; then
	ok "the next apply finished DC1 n1: the operator sent $s1 of $TOTAL bytes (what was still owed)"
else
	bad "DC1 n1 after the kill: rc=$rc sent=$s1 $(tail -n 5 "$tmp/apply2.log")"
fi
if [ $rc = 0 ] && installed DC1-n2 && [ "$s2" = 0 ] && [ "$src2" = machine.DC1.n1 ] &&
	[ "$gets2" = "$NJARS" ]; then
	ok "DC1 n2 fetched all $NJARS artifacts from DC1 n1 ($ip2 in its log), 0 bytes from the operator"
else
	bad "fan-out: rc=$rc sent=$s2 source=$src2 gets from $ip2=$gets2 $(grep 'DC1 n2' "$tmp/apply2.log" | tail -n 3)"
fi

# 3. nothing to do the third time; the nodes' releases untouched
cg plan --stage install --detailed-exitcode MavenUp >"$tmp/plan3.log" 2>&1
if [ $? = 0 ]; then ok "a third plan: no changes"; else bad "plan 3: $(tail -n 5 "$tmp/plan3.log")"; fi

finish
