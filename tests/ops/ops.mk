# What the operator sees (issue 6), on a live Lab of its own (10.81.0.0/16):
#   make check-ops   apply's report, status/latency/output --json against the
#                    live ring, a printed ssh and cqlsh command run as given,
#                    a stopped node marked DOWN, destroy
.PHONY: check-ops
CHECKS += check-ops
LAB_CHECKS += check-ops

check-ops: cassandgo cassandra
	@tests/ops/run.sh ./cassandgo

# The same commands through the test provider, offline (seconds).
.PHONY: check-ops-cli
CHECKS += check-ops-cli

check-ops-cli: $(BUILD)/cassandgo-test
	@tests/ops/cli.sh $(BUILD)/cassandgo-test
