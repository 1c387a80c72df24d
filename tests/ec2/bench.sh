#!/usr/bin/env bash
# bench-ec2: API calls and wall time of refresh (plan) and apply for
# 3 regions x N nodes (default 100), counted at the proxy in front of moto.
#   tests/ec2/bench.sh path/to/cassandgo [NODES_PER_REGION] [PARALLELISM]
set -euo pipefail
CG=$(realpath "${1:?usage: bench.sh CASSANDGO [NODES] [PARALLELISM]}")
N=${2:-100}
PAR=${3:-32}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
. "$REPO/tests/ec2/lib.sh"
need
isolate_env
cat >"$WORK/cassandgo.yaml" <<EOF
Bench:
  provider: aws
  allowed_cidrs: [203.0.113.7/32]
  datacenters:
    - {datacenter: DC1, region: eu-west-1, nodes: $N, seeds: 3, node_type: m7g.large}
    - {datacenter: DC2, region: us-east-1, nodes: $N, seeds: 3, node_type: m7g.large}
    - {datacenter: DC3, region: us-west-1, nodes: $N, seeds: 3, node_type: m7g.large}
EOF
# a default account (60 rules per group, moto enforces it): 200 remote nodes per region
# take one tcp 7000 rule each, over 4 groups
start_moto
start_proxy
use_endpoint "$PROXY_URL"

report() {	# LABEL SECONDS
	proxy_counts | python3 -c '
import json, sys
label, secs = sys.argv[1], float(sys.argv[2])
c = json.load(sys.stdin)["requests"]
per_action = {}
per_region = {}
for k, n in c.items():
    a, r = k.split(" ")
    per_action[a] = per_action.get(a, 0) + n
    per_region[r] = per_region.get(r, 0) + n
print("%-16s %6.2f s  %5d calls  per region %s" % (label, secs, sum(c.values()), dict(sorted(per_region.items()))))
print("%-16s %s" % ("", ", ".join("%s %d" % kv for kv in sorted(per_action.items()))))
' "$1" "$2"
	proxy_reset
}

timed() {	# LABEL CMD...: run, fail loudly, report calls and time
	local label=$1
	shift
	local t0 t1
	t0=$(date +%s.%N)
	"$@" >"$WORK/out.txt" 2>&1 || { tail -20 "$WORK/out.txt"; die "$label failed"; }
	t1=$(date +%s.%N)
	report "$label" "$(echo "$t1 - $t0" | bc)"
}

echo "bench-ec2: 3 regions x $N nodes, parallelism $PAR, moto on loopback"
proxy_reset
timed "plan (empty)" cg plan --stage infra Bench
timed "apply" cg apply --auto-approve --stage infra --parallelism "$PAR" Bench
timed "refresh (plan)" cg plan --stage infra Bench
grep -q "No changes." "$WORK/out.txt" || { grep -v "^ *$" "$WORK/out.txt" | head -40; die "plan after apply is not empty"; }
# --refresh=false: the state is fresh (plan above), and a full refresh would
# let the SSH bootstrap provider probe moto's invented public addresses
timed "destroy" cg destroy --auto-approve --refresh=false --parallelism "$PAR" Bench
