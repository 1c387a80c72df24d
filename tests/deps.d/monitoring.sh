#!/usr/bin/env bash
# deps for monitoring (make check-monitoring; Debian 12, root, idempotent):
# Debian's prometheus and prometheus-node-exporter (run by cgnode inside the
# Lab's namespaces, not as host services), curl (cgnode asks Prometheus' API),
# and the pinned JMX exporter agent from Maven Central into the Cassandra
# cache, where cgnode takes it from on lab nodes.
set -euo pipefail
pkgs=(prometheus prometheus-node-exporter curl maven)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
	# The packages enable services on the host's default addresses: not wanted.
	systemctl disable --now prometheus prometheus-node-exporter >/dev/null 2>&1 || true
fi
here=$(cd "$(dirname "$0")/../.." && pwd)
v=$(sed -n 's/^#define CG_MON_JMX_EXPORTER_VERSION "\(.*\)"$/\1/p' "$here/planner/monitoring.h")
[ -n "$v" ] || { echo "monitoring.sh: no CG_MON_JMX_EXPORTER_VERSION in planner/monitoring.h" >&2; exit 1; }
root=${CASSANDGO_CASSANDRA_CACHE:-/var/cache/cassandgo}
jar=$root/jmx_prometheus_javaagent-$v.jar
if [ ! -s "$jar" ]; then
	mkdir -p "$root"
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	mvn -B -q dependency:copy -Dartifact="io.prometheus.jmx:jmx_prometheus_javaagent:$v" \
		-DoutputDirectory="$tmp" >"$tmp/mvn.log" 2>&1 || { tail -n 30 "$tmp/mvn.log" >&2; exit 1; }
	install -m 0644 "$tmp/jmx_prometheus_javaagent-$v.jar" "$jar"
fi
echo "monitoring: prometheus $(dpkg-query -W -f='${Version}' prometheus), node exporter $(dpkg-query -W -f='${Version}' prometheus-node-exporter), $jar"
