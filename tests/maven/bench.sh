#!/usr/bin/env bash
# tests/maven/bench.sh - time to install one node: `install: maven` from a
# mirror (mirror.py on loopback: download, verify every SHA-256, assemble,
# rename) and `install: upload` as the region's first node gets it (the
# artifacts as one tar stream on stdin, then every SHA-256, assemble,
# rename; the SSH transport itself is not in it) against `install: dir:`
# (the jars already on the machine: checks only), in the same run, 3 times
# each; medians and their ratios.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
VERSION=$(tr -d ' \n' <"$repo/tests/cassandra/VERSION")
CACHE=${CASSANDGO_CASSANDRA_CACHE:-/var/cache/cassandgo}/cassandra-$VERSION
[ "$(id -u)" = 0 ] || { echo "bench-maven: needs root" >&2; exit 1; }
[ -s "$CACHE/manifest" ] || { echo "bench-maven: no $CACHE/manifest (make cassandra)" >&2; exit 1; }
tmp=$(mktemp -d /tmp/cg-maven-bench.XXXXXX)
MPID=
trap '[ -n "$MPID" ] && kill "$MPID" 2>/dev/null; rm -rf "$tmp"' EXIT
python3 "$here/mirror.py" --root "$CACHE/repo" --port-file "$tmp/port" &
MPID=$!
for _ in $(seq 1 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
URL=http://127.0.0.1:$(cat "$tmp/port")
now() { date +%s.%N; }
median() { sort -n | sed -n 2p; }
for i in 1 2 3; do
	for m in dir maven upload; do
		n=$tmp/$m$i
		install -D -m 0755 "$repo/providers/ssh/cgnode" "$n/bin/cgnode"
		t0=$(now)
		if [ $m = dir ]; then
			"$n/bin/cgnode" install "dir:$CACHE/lib" "$VERSION" >/dev/null
		elif [ $m = maven ]; then
			"$n/bin/cgnode" install maven "$VERSION" "$URL" <"$CACHE/manifest" >/dev/null
		else
			awk '!/^#/ && NF == 3 { print $3 }' "$CACHE/manifest" | tar -C "$CACHE/repo" -c -T - |
				"$n/bin/cgnode" install-receive "$VERSION" >/dev/null
			"$n/bin/cgnode" install upload "$VERSION" <"$CACHE/manifest" >/dev/null
		fi
		echo "$(now) - $t0" | bc >>"$tmp/$m.times"
		rm -rf "$n"
	done
done
d=$(median <"$tmp/dir.times") mv=$(median <"$tmp/maven.times") up=$(median <"$tmp/upload.times")
size=$(awk '{ s += $2 } END { printf "%.1f", s / 1048576 }' "$CACHE/manifest")
printf 'bench-maven: install one node, Cassandra %s (%d artifacts, %s MiB), median of 3\n' \
	"$VERSION" "$(grep -c . "$CACHE/manifest")" "$size"
printf '  install: dir:    %6.2f s  (jars already on the machine: checks only)\n' "$d"
printf '  install: maven   %6.2f s  (download from the mirror, SHA-256 of each, assemble, rename)\n' "$mv"
printf '  install: upload  %6.2f s  (the set received as one tar stream, SHA-256 of each, assemble, rename)\n' "$up"
printf '  ratio maven/dir  %6.1f x\n' "$(echo "$mv / $d" | bc -l)"
printf '  ratio upload/dir %6.1f x\n' "$(echo "$up / $d" | bc -l)"

# The Lab's install stage through the tool (4 nodes in 2 regions, SSH,
# --stage install), dir: against upload (the operator sends one copy per
# region, the region's other node fetches it from the first).
bin=$repo/cassandgo
[ -x "$bin" ] || { echo "bench-maven: no ./cassandgo: Lab install stage skipped"; exit 0; }
stage() {	# stage NAME METHOD: seconds of the install stage
	local m=$1 s=
	cat >"$tmp/$m.yaml" <<EOT
BenchUp:
  provider: local
  install: $2
  network: 10.89.8.0/22
  datacenters:
    - { datacenter: DC1, region: bench-east, nodes: 2, seeds: 1 }
    - { datacenter: DC2, region: bench-west, nodes: 2, seeds: 1 }
EOT
	CASSANDGO_STATE=$tmp/$m.db "$bin" -c "$tmp/$m.yaml" apply --stage infra --auto-approve BenchUp >/dev/null 2>&1
	t0=$(now)
	CASSANDGO_STATE=$tmp/$m.db "$bin" -c "$tmp/$m.yaml" apply --stage install --auto-approve BenchUp \
		>"$tmp/$m.apply" 2>&1 || { tail -n 5 "$tmp/$m.apply" >&2; s=-1; }
	[ "$s" = -1 ] || echo "$(now) - $t0" | bc
	CASSANDGO_STATE=$tmp/$m.db "$bin" -c "$tmp/$m.yaml" destroy --auto-approve BenchUp >/dev/null 2>&1
}
ld=$(stage dir "dir:$CACHE/lib") lu=$(stage upload upload)
printf 'bench-maven: the Lab install stage (4 nodes, 2 regions, over SSH)\n'
printf '  install: dir:    %6.2f s\n' "$ld"
printf '  install: upload  %6.2f s  (one copy per region from the operator, the other node from the first)\n' "$lu"
printf '  ratio upload/dir %6.1f x\n' "$(echo "$lu / $ld" | bc -l)"
