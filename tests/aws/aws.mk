# The AWS path end to end without AWS (issue 5): moto as EC2's control plane,
# network-namespace hosts as its data plane, real Cassandra, crash safety
# under kill -9 at 11 points, drift and change, the fault proxy. ~15 min.
#   make e2e-aws
.PHONY: e2e-aws
CHECKS += e2e-aws

e2e-aws: cassandgo cassandra
	@tests/aws/run.sh ./cassandgo
