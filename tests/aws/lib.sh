# tests/aws/lib.sh - the AWS path without AWS (sourced by run.sh): moto on
# loopback as EC2's control plane (tests/ec2/lib.sh), dataplane.py as its data
# plane (a network-namespace host per running instance), a 3-region cluster
# config, helpers to reach the nodes and count the world.
# Caller sets CG (absolute path of the cassandgo binary).

AWS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$AWS_DIR/../.." && pwd)
. "$REPO/tests/ec2/lib.sh"		# WORK, PIDS, cleanup trap, moto, proxy, env
PY=/usr/bin/python3			# Debian's python3-cassandra
CLUSTER=AwsE2E
REGIONS=eu-west-1,us-east-1,us-west-1
LOGIN=cgaws				# a clean login user (no rc files)
BRIDGE=cgawsbr0
AWS_TIMEOUT=${AWS_TIMEOUT:-600}		# per cassandgo command (seconds)
JARS=$(ls -d /var/cache/cassandgo/cassandra-5.0.9/lib 2>/dev/null || true)
# install: maven as on EC2, from a real HTTP server in a namespace of ours
# on the data plane's bridge, serving the release's repo/ (Maven's layout)
MIRROR_NS=cgm-aws-mirror		# not cga-*: those are the instances (step 5 counts them)
MIRROR_IP=169.254.77.2
MIRROR_URL=http://$MIRROR_IP/maven2

aws_preflight() {
	[ "$(id -u)" = 0 ] || die "needs root (network namespaces, sshd)"
	local p
	for p in ip unshare /usr/sbin/sshd ssh java sqlite3 "$PY"; do
		command -v "$p" >/dev/null || die "$p missing (make deps)"
	done
	"$PY" -c 'import cassandra.cluster' 2>/dev/null || die "python3-cassandra missing (make deps)"
	[ -n "$JARS" ] || die "Cassandra 5.0.9 jars missing (make cassandra)"
	[ -s "$JARS/../manifest" ] && [ -d "$JARS/../repo" ] ||
		die "Cassandra 5.0.9 manifest and repo/ missing (make cassandra)"
	need
}

aws_user() {
	id "$LOGIN" >/dev/null 2>&1 ||
		useradd --system --user-group --no-create-home --home-dir /var/lib/cassandgo \
			--shell /bin/bash --password '*' "$LOGIN"
	usermod -p '*' "$LOGIN"
	# what cloud-init gives the image's default user (tests/cloudinit checks it)
	printf '%s ALL=(ALL) NOPASSWD:ALL\n' "$LOGIN" >"/etc/sudoers.d/cg-test-$LOGIN"
	chmod 0440 "/etc/sudoers.d/cg-test-$LOGIN"
}

# aws_config_head: the cluster's settings, up to its datacenters: line
aws_config_head() {
	cat <<EOF2
$CLUSTER:
  provider: aws
  heap: 512M
  num_tokens: 8
  ssh_user: $LOGIN
  ssh_address: private
  broadcast_address: private
  install: maven
  maven_mirror: $MIRROR_URL
EOF2
}

# aws_config [DC1_NODES [EXTRA]]: the issue's shape, 3 regions x 2 nodes
aws_config() {
	local n1=${1:-2} extra=${2:-}
	{ aws_config_head; cat <<EOF2
$extra  datacenters:
    - {datacenter: DC1, region: eu-west-1, zones: [a, b], nodes: $n1, seeds: 1, node_type: t3.large}
    - {datacenter: DC2, region: us-east-1, zones: [a, b], nodes: 2, seeds: 1, node_type: t3.large}
    - {datacenter: DC3, region: us-west-1, zones: [a, b], nodes: 2, seeds: 1, node_type: t3.large}
EOF2
	} >"$WORK/cassandgo.yaml"
}

# cassandgo reaches moto through the kill proxy (transparent until armed);
# sets KP_PORT and KP_URL and points the endpoint at it.
start_kill_proxy() {
	KP_PORT=$(free_port)
	python3 "$AWS_DIR/kill_proxy.py" --port "$KP_PORT" --upstream "$MOTO_URL" \
		--ready "$WORK/kp.ready" >"$WORK/kp.log" 2>&1 &
	PIDS+=($!)
	for _ in $(seq 1 100); do [ -e "$WORK/kp.ready" ] && break; sleep 0.1; done
	KP_URL=http://127.0.0.1:$KP_PORT
	use_endpoint "$KP_URL"
}

start_dataplane() {
	rm -f "$WORK/dp.ready"
	mkdir -p "$WORK/dp"
	chmod 755 "$WORK"	# sshd reads authorized_keys as the login user
	python3 "$AWS_DIR/dataplane.py" --endpoint "$MOTO_URL" --regions "$REGIONS" --cluster "$CLUSTER" \
		--keys "$WORK/state/keys" --user "$LOGIN" --bridge "$BRIDGE" --root "$WORK/dp" \
		--ready "$WORK/dp.ready" >"$WORK/dp.log" 2>&1 &
	DP_PID=$!
	local i
	for i in $(seq 1 100); do [ -e "$WORK/dp.ready" ] && return 0; sleep 0.1; done
	cat "$WORK/dp.log" >&2
	die "data plane did not start"
}

# start_mirror: the Maven mirror the nodes download from (after
# start_dataplane: it joins the data plane's bridge). aws_cleanup takes its
# namespace down.
start_mirror() {
	ip netns del "$MIRROR_NS" 2>/dev/null	# a crashed run's
	ip netns add "$MIRROR_NS" || die "cannot add namespace $MIRROR_NS"
	ip link add cgvmirror type veth peer name eth0 netns "$MIRROR_NS" &&
		ip link set cgvmirror master "$BRIDGE" up &&
		ip -n "$MIRROR_NS" link set lo up && ip -n "$MIRROR_NS" link set eth0 up &&
		ip -n "$MIRROR_NS" addr add "$MIRROR_IP/32" dev eth0 &&
		ip -n "$MIRROR_NS" route add default dev eth0 &&
		ip route replace "$MIRROR_IP/32" dev "$BRIDGE" src 169.254.77.1 ||
		die "cannot wire $MIRROR_NS to $BRIDGE"
	# the repository under /maven2, as Maven Central lays it out
	ip netns exec "$MIRROR_NS" python3 "$REPO/tests/maven/mirror.py" --root "$JARS/../repo" --prefix maven2 \
		--bind "$MIRROR_IP" --port 80 --log "$WORK/mirror.log" 2>"$WORK/mirror.err" &
	PIDS+=($!)
	local first
	first=$(awk 'NR == 1 { print $3 }' "$JARS/../manifest")
	for _ in $(seq 1 100); do
		curl -fsS -o /dev/null -m 2 "$MIRROR_URL/$first" 2>/dev/null && return 0
		sleep 0.1
	done
	cat "$WORK/mirror.err" >&2
	die "the mirror at $MIRROR_URL does not answer"
}

# stop the data plane (it takes its hosts down), then anything left by hand
aws_cleanup() {
	set +e
	local ns pid
	[ -n "${APPLY_PID:-}" ] && kill -9 "$APPLY_PID" 2>/dev/null
	if [ -n "${DP_PID:-}" ]; then
		kill "$DP_PID" 2>/dev/null
		for _ in $(seq 1 200); do kill -0 "$DP_PID" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$DP_PID" 2>/dev/null
	fi
	for ns in $(ip netns list 2>/dev/null | awk '$1 ~ /^cga-/ { print $1 }'); do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
		ip netns del "$ns" 2>/dev/null
	done
	for pid in $(ip netns pids "$MIRROR_NS" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
	ip netns del "$MIRROR_NS" 2>/dev/null
	ip link del "$BRIDGE" 2>/dev/null
	for pid in $(grep -lsF -- "$WORK/" /proc/[0-9]*/cmdline | cut -d/ -f3); do
		[ "$pid" != $$ ] && kill -9 "$pid" 2>/dev/null
	done
	cleanup
}

# cg ARGS...: the tool on the test's config and state, bounded in time
cg() { timeout --foreground "$AWS_TIMEOUT" "$CG" -c "$WORK/cassandgo.yaml" --state "$WORK/state/state.db" "$@"; }

# hosts: "NODE ID IP NS" per data-plane host, sorted by node (DC1.n1 ...)
hosts() {
	python3 -c 'import json,sys
for h in json.load(open(sys.argv[1])): print(h["node"], h["id"], h["ip"], h["ns"])' "$WORK/dp/hosts.json"
}
host_ip() { hosts | awk -v n="$1" '$1 == n { print $3 }'; }
host_id() { hosts | awk -v n="$1" '$1 == n { print $2 }'; }

# node_ssh NODE CMD...: as cassandgo logs in (cluster key, pinned host key)
node_ssh() {
	local n=$1 region
	shift
	region=$(hosts | awk -v n="$n" '$1 == n { print $0 }' >/dev/null; python3 -c 'import json,sys
print([h["region"] for h in json.load(open(sys.argv[1])) if h["node"] == sys.argv[2]][0])' "$WORK/dp/hosts.json" "$n")
	ssh -F /dev/null -n -i "$WORK/state/keys/$CLUSTER-$region" -o IdentitiesOnly=yes -o BatchMode=yes \
		-o StrictHostKeyChecking=yes -o UserKnownHostsFile="$WORK/state/$CLUSTER/known_hosts" \
		-o GlobalKnownHostsFile=/dev/null -o HostKeyAlias="$(host_id "$n")" \
		-o ConnectTimeout=10 -o LogLevel=ERROR "$LOGIN@$(host_ip "$n")" "$@"
}
nodetool() { local n=$1; shift; node_ssh "$n" /var/lib/cassandgo/bin/cgnode nodetool "$@"; }

# world: "running=N pending=N stopped=N terminated=N sg=N keys=N dup=N" of our cluster
world() { python3 "$AWS_DIR/world.py" "$MOTO_URL" "$CLUSTER" "$REGIONS"; }

# infra_cluster CASSANDGO (the repros): moto behind the kill proxy, the test
# config, its cloud resources applied (--stage infra: no data plane needed);
# sets CG to a private copy of the binary
infra_cluster() {
	CG=$(realpath "$1")
	need
	isolate_env
	cp "$CG" "$WORK/cassandgo" && CG=$WORK/cassandgo
	start_moto
	start_kill_proxy
	JARS=/nonexistent aws_config
	mkdir -p "$WORK/state"
	cg apply --auto-approve --stage infra "$CLUSTER" >"$WORK/a1" 2>&1 || { cat "$WORK/a1"; die "first apply"; }
}

# unlock_killed CMD...: the lock a killed run left, named by the next run, broken by its ID
unlock_killed() {
	local id
	id=$(cg "$@" 2>&1 | grep -oE 'state unlock [^ ]+' | awk '{print $3}' | tr -d "'\`\".,")
	cg state unlock "$id" >/dev/null
}
