#!/usr/bin/env bash
# make check-monitoring: a Lab copy (local provider, 4 nodes, 2 DCs) with
# `monitoring: yes` on DC1, on its own range (10.83.0.0/16):
#   1 apply; Prometheus on DC1.n1 ($P.1.1:9090)
#   2 from the host through Prometheus' HTTP API: 8 targets (JMX exporter and
#     node exporter of every node) up; a Cassandra metric (JMX exporter) and a
#     host metric (node exporter) with samples from every node
#   3 output --json shows the URL      4 a second apply: "No changes."
#   4b a stopped node exporter: plan re-creates monitoring, apply restores it
#   5 destroy leaves no namespace, no Prometheus, no exporter
# Removed by hand if destroy fails (trap). usage: run.sh [CASSANDGO]
set -uo pipefail
# shellcheck disable=SC2034 # used by e2e/lib.sh
CG=$(realpath "${1:-./cassandgo}")
E2E_RANGE=${MONITORING_RANGE:-10.83.0.0/16}
. "$(dirname "$0")/../e2e/lib.sh"
MON=$(cd "$(dirname "$0")" && pwd)

e2e_preflight check-monitoring || { echo "0 passed, 1 failed"; exit 1; }
for b in prometheus prometheus-node-exporter curl; do
	command -v "$b" >/dev/null || { echo "check-monitoring: $b missing (make deps); FAILED" >&2; echo "0 passed, 1 failed"; exit 1; }
done
ls /var/cache/cassandgo/jmx_prometheus_javaagent-*.jar >/dev/null 2>&1 ||
	{ echo "check-monitoring: JMX exporter jar missing (make deps); FAILED" >&2; echo "0 passed, 1 failed"; exit 1; }
e2e_setup monitoring || { echo "0 passed, 1 failed"; exit 1; }
trap e2e_cleanup EXIT
trap 'exit 130' INT TERM

L=$TMP/log
P=$E2E_PREFIX
URL=http://$P.1.1:9090
IPS=("$P.1.1" "$P.1.2" "$P.2.1" "$P.2.2")

# The Lab with monitoring on DC1 (the seed tool's key, `opscenter`, works too).
sed -i '/^ *- datacenter: DC1$/a\      monitoring: yes' "$CONF"
grep -q '^      monitoring: yes$' "$CONF" || { echo "cannot set monitoring in $CONF" >&2; bad "setup"; finish; }

# --- 1. apply -----------------------------------------------------------------
echo "# check-monitoring: Lab on $E2E_RANGE in $TMP"
t0=$(now)
cg apply --auto-approve Lab >"$L.apply" 2>&1
rc=$?
echo "# apply: ${rc} after $(elapsed "$t0")s"
if [ $rc = 0 ] && grep -q '^Apply complete!' "$L.apply" && grep -q '^  + monitoring' "$L.apply" &&
	grep -qxF "$URL" "$L.apply"; then
	ok "1 apply with monitoring: planned, applied, URL $URL printed"
	grep -E 'cluster +created +\[[0-9.]+s\]' "$L.apply" | sed 's/^/# monitoring: /' | tail -n 1
else
	show "$L.apply" 40
	bad "1 apply Lab with monitoring: exit $rc"
	finish
fi

# --- 2. Prometheus' HTTP API, from the host --------------------------------------
if curl -fsS -m 10 "$URL/api/v1/targets?state=active" >"$L.targets" 2>&1 &&
	r=$("$PY" "$MON/check.py" targets 8 <"$L.targets" 2>&1); then
	ok "2 /api/v1/targets: $r"
else
	show "$L.targets" 5
	bad "2 targets: ${r:-no answer}"
fi
# A scrape every 10 s: the first may predate a node's metrics.
q() { curl -fsS -m 10 -G "$URL/api/v1/query" --data-urlencode "query=$1"; }
for m in 'cassandra_storage_load' 'jvm_memory_used_bytes{area="heap"}' 'node_load1'; do
	r=
	for _ in $(seq 30); do
		q "$m" >"$L.q" 2>&1 && r=$("$PY" "$MON/check.py" samples "${IPS[@]}" <"$L.q" 2>&1) && break
		r=
		sleep 2
	done
	if [ -n "$r" ]; then
		ok "2 $m: samples from every node ($r)"
	else
		show "$L.q" 5
		bad "2 $m: not from every node ($("$PY" "$MON/check.py" samples "${IPS[@]}" <"$L.q" 2>&1))"
	fi
done

# --- 3. output --json -----------------------------------------------------------
if cg output Lab --json >"$L.out" 2>"$L.out.err" && r=$("$PY" "$MON/check.py" url "$URL" <"$L.out" 2>&1); then
	ok "3 output --json: monitoring_url $r"
else
	show "$L.out.err"
	bad "3 output --json: ${r:-exit $?}"
fi

# --- 4. a second apply plans nothing ----------------------------------------------
t0=$(now)
cg apply --auto-approve Lab >"$L.apply2" 2>&1
rc=$?
if [ $rc = 0 ] && grep -q 'No changes\.' "$L.apply2"; then
	ok "4 second apply: No changes. ($(elapsed "$t0")s, refresh included)"
else
	show "$L.apply2" 30
	bad "4 second apply: exit $rc, changes planned"
fi

# --- 4b. a dead exporter is drift: planned and repaired ------------------------------
e2e_load_nodes
e2e_ssh 3 "${N_BASE[3]}/bin/cgnode" exporter-stop >"$L.xstop" 2>&1 || { show "$L.xstop"; bad "4b exporter-stop on DC2.n2"; }
rc=0
for _ in $(seq 30); do	# Prometheus sees it at its next scrape
	cg plan Lab --detailed-exitcode >"$L.plan3" 2>&1
	rc=$?
	[ $rc = 2 ] && break
	sleep 2
done
if [ $rc = 2 ] && grep -q '^  + monitoring' "$L.plan3"; then
	cg apply --auto-approve Lab >"$L.apply3" 2>&1
	rc=$?
	if [ $rc = 0 ] && curl -fsS -m 10 "$URL/api/v1/targets?state=active" >"$L.targets3" 2>&1 &&
		r=$("$PY" "$MON/check.py" targets 8 <"$L.targets3" 2>&1); then
		ok "4b exporter of DC2.n2 stopped: plan re-creates monitoring, apply restores it ($r)"
	else
		show "$L.apply3" 20
		bad "4b apply after a stopped exporter: exit $rc ${r:-}"
	fi
else
	show "$L.plan3" 20
	bad "4b a stopped exporter is not planned (plan exit $rc)"
fi

# --- 5. destroy leaves nothing ------------------------------------------------------
tag=$(e2e_tag)
cg destroy --auto-approve Lab >"$L.destroy" 2>&1
rc=$?
left=
[ -n "$tag" ] && compgen -G "/run/netns/cg-$tag-*" >/dev/null && left="$left namespaces"
pgrep -f -- "--storage.tsdb.path=$TMP/" >/dev/null && left="$left prometheus"
pgrep -f -- "--web.listen-address=$P\.[0-9.]*:9100" >/dev/null && left="$left node-exporter"
if [ $rc = 0 ] && [ -z "$left" ]; then
	ok "5 destroy: no namespace, Prometheus or exporter left"
else
	show "$L.destroy" 20
	bad "5 destroy: exit $rc, left:${left:- nothing}"
fi

finish
