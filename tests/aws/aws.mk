# The AWS path end to end without AWS (issue 5): moto as EC2's control plane,
# network-namespace hosts as its data plane, real Cassandra, crash safety
# under kill -9 at 11 points, drift and change, the fault proxy. ~15 min.
#   make e2e-aws
.PHONY: e2e-aws
CHECKS += e2e-aws

e2e-aws: cassandgo cassandra
	@tests/aws/run.sh ./cassandgo

# stress on AWS (issue 13): a load node made with the cluster runs latte
# (moto + the data plane, one node). Same bridge and namespaces as e2e-aws:
# never beside it, so it follows it on its lane.
.PHONY: check-stress-aws
CHECKS += check-stress-aws
check-stress-aws: cassandgo cassandra
	@tests/aws/stress.sh ./cassandgo
