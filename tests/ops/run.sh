#!/usr/bin/env bash
# make check-ops: what the operator sees, against a live Lab of its own
# (local provider, 4 Cassandra nodes, 2 DCs, range 10.81.0.0/16):
#   1 apply prints latencies, how to connect and a healthy ring
#   2 status --json: 4 UN, 2 DCs, racks     4 output --json; one printed ssh
#   3 latency --json: every zone and DC       command and one printed cqlsh
#     pair measured, > 0                      command run as given
#   5 cassandgo ssh / status after stopping a node: marked DOWN, exit 1
# Destroyed at the end, and removed by hand if that fails (trap).
# usage: tests/ops/run.sh [CASSANDGO]. Prints "N passed, M failed".
set -uo pipefail
CG=$(realpath "${1:-./cassandgo}")
E2E_RANGE=${OPS_RANGE:-10.81.0.0/16}
. "$(dirname "$0")/../e2e/lib.sh"
OPS=$(cd "$(dirname "$0")" && pwd)

e2e_preflight check-ops || { echo "0 passed, 1 failed"; exit 1; }
command -v cqlsh >/dev/null || { echo "check-ops: cqlsh missing (make deps); FAILED" >&2; echo "0 passed, 1 failed"; exit 1; }
e2e_setup ops || { echo "0 passed, 1 failed"; exit 1; }
trap e2e_cleanup EXIT
trap 'exit 130' INT TERM

L=$TMP/log
P=$E2E_PREFIX

# --- 1. apply, and its report ----------------------------------------------
e2e_apply_first check-ops
missing=
for s in 'Intra-Cluster latencies...' 'Inter-Cluster latencies...' "How to connect to Lab's nodes..." \
	'Cluster status...' 'Healthy: 4 nodes, all up and normal.'; do
	grep -qF -- "$s" "$L.apply" || missing="$missing [$s]"
done
# a measured figure beside each DC's box and between the DCs' boxes
for dc in east west; do
	grep -Eq "^\|=+\| lab-$dc-a <----> lab-$dc-b : [0-9]+\.[0-9]{2} ms \(min " "$L.apply" ||
		missing="$missing [$dc zone figure]"
done
grep -Eq '^\| +lab-east +\| +[0-9]+\.[0-9]{2} ms +\| +lab-west +\|$' "$L.apply" || missing="$missing [DC figure]"
if [ -z "$missing" ]; then
	ok "1 apply's report: latencies (zones, DCs), how to connect, healthy ring"
else
	sed -n '/^Apply complete!/,$p' "$L.apply" | show /dev/stdin 60
	bad "1 apply's report lacks:$missing"
fi

# --- 2. status --json -------------------------------------------------------
t0=$(now)
cg status Lab --json >"$L.status" 2>"$L.status.err"
rc=$?
t_status=$(elapsed "$t0")
if [ $rc = 0 ] && r=$("$PY" "$OPS/check.py" status "$P" <"$L.status"); then
	ok "2 status --json (${t_status}s): $r"
else
	show "$L.status.err"; show "$L.status"
	bad "2 status --json: exit $rc ${r:-}"
fi

# --- 3. latency --json ------------------------------------------------------
t0=$(now)
cg latency Lab --json >"$L.lat" 2>"$L.lat.err"
rc=$?
t_lat=$(elapsed "$t0")
if [ $rc = 0 ] && r=$("$PY" "$OPS/check.py" latency "$P" <"$L.lat"); then
	ok "3 latency --json (${t_lat}s): $r"
else
	show "$L.lat.err"; show "$L.lat"
	bad "3 latency --json: exit $rc ${r:-}"
fi
cg latency Lab >"$L.lattext" 2>&1 && grep -Eq '^zone +DC1 lab-east-a +DC1 lab-east-b +[0-9.]+ +[0-9.]+ +[0-9.]+ +5 ' "$L.lattext" &&
	grep -Eq '^dc +DC1 +DC2 +[0-9.]+ +[0-9.]+ +[0-9.]+ +5 ' "$L.lattext" && grep -q '^Inter-Cluster latencies' "$L.lattext" &&
	ok "3 latency (text): table and boxes" || { show "$L.lattext"; bad "3 latency text"; }

# --- 4. output --json, and its commands as printed -------------------------
cg output Lab --json >"$L.out" 2>"$L.out.err"
rc=$?
if [ $rc = 0 ] && r=$("$PY" "$OPS/check.py" output "$P" <"$L.out"); then
	ok "4 output --json: $r"
else
	show "$L.out.err"; show "$L.out"
	bad "4 output --json: exit $rc ${r:-}"
fi
# The printed ssh command of DC2.n2, with a command appended, from a HOME
# without any ssh configuration: it must log in, pinned, and land on that node.
ssh_cmd=$("$PY" "$OPS/check.py" field "$P" ssh 3 <"$L.out")
mkdir -p "$TMP/home"
if r=$(HOME=$TMP/home bash -c "$ssh_cmd -o BatchMode=yes ip -4 -o addr show dev eth0" </dev/null 2>"$L.ssh.err") &&
	grep -q "inet $P.2.2/" <<<"$r" && [ ! -e "$TMP/home/.ssh" ]; then
	ok "4 printed ssh command of DC2.n2 runs as given (lands on $P.2.2, ~/.ssh untouched)"
else
	show "$L.ssh.err"
	bad "4 printed ssh command: '$ssh_cmd' -> '${r:-}'"
fi
cql_cmd=$("$PY" "$OPS/check.py" field "$P" cqlsh 2 <"$L.out")
if r=$(timeout 120 bash -c "$cql_cmd -e \"SELECT data_center, rack FROM system.local\"" </dev/null 2>"$L.cql.err") &&
	grep -Eq '^ *DC2 \| +lab-west-a *$' <<<"$r"; then
	ok "4 printed cqlsh command of DC2.n1 runs as given (system.local: DC2, lab-west-a)"
else
	show "$L.cql.err"
	bad "4 printed cqlsh command: '$cql_cmd' -> '${r:-}'"
fi
# cqlsh checks the node's certificate: the same cqlshrc trusting another CA
# is refused (cqlsh from PyPI needs the fix tests/deps.d/ops.sh applies).
rc_file=$("$PY" -c 'import json,sys; print(json.load(sys.stdin)["security"]["cqlshrc"])' <"$L.out")
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=other \
	-keyout "$TMP/other.key" -out "$TMP/other.crt" >/dev/null 2>&1
sed "s|^certfile = .*|certfile = $TMP/other.crt|" "$rc_file" >"$TMP/other.cqlshrc"
if ! r=$(timeout 120 cqlsh --cqlshrc="$TMP/other.cqlshrc" "$P.2.1" 9042 -e "SELECT now() FROM system.local" </dev/null 2>&1) &&
	grep -qi "certificate verify failed" <<<"$r"; then
	ok "4 cqlsh with another CA in its cqlshrc is refused (certificate verify failed)"
else
	bad "4 cqlsh trusting another CA: '${r:-}'"
fi
if r=$(cg ssh Lab DC1/2 ip -4 -o addr show dev eth0 </dev/null 2>"$L.cgssh.err") && grep -q "inet $P.1.2/" <<<"$r"; then
	ok "4 cassandgo ssh Lab DC1/2 CMD runs on $P.1.2"
else
	show "$L.cgssh.err"
	bad "4 cassandgo ssh Lab DC1/2: '${r:-}'"
fi

# cqlsh reads statements from a stdin that is not a terminal
if r=$(echo "SELECT data_center, rack FROM system.local;" | timeout 120 "$CG" -c "$CONF" cqlsh Lab DC1.n2 2>"$L.cgcql.err") &&
	grep -Eq '^ *DC1 \| +lab-east-b *$' <<<"$r"; then
	ok "4 cassandgo cqlsh Lab DC1.n2 (statements on stdin): DC1, lab-east-b"
else
	show "$L.cgcql.err"
	bad "4 cassandgo cqlsh Lab DC1.n2: '${r:-}'"
fi

# --- 5. a stopped node is marked, and status fails --------------------------
e2e_load_nodes
e2e_ssh 3 "${N_BASE[3]}/bin/cgnode" stop >"$L.stop" 2>&1 || { show "$L.stop"; bad "5 stop DC2.n2"; }
rc=0
for _ in $(seq 60); do
	cg status Lab >"$L.down" 2>&1
	rc=$?
	[ $rc != 0 ] && grep -q "$P.2.2 .*<-- DOWN" "$L.down" && break
	sleep 1
done
if [ $rc = 1 ] && grep -Eq "^  DN  $P\.2\.2 .*<-- DOWN$" "$L.down" && grep -q '^NOT HEALTHY: 3 of 4 nodes up and normal.' "$L.down"; then
	ok "5 status with DC2.n2 stopped: DN marked DOWN, NOT HEALTHY, exit 1"
else
	show "$L.down"
	bad "5 status with a stopped node: exit $rc"
fi

finish
