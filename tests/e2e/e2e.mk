# End to end (issue 4): the Lab cluster for real, and its benchmark.
#   make e2e        apply, ring/ownership/CQL checks, no-op, kill+restart, destroy
#   make bench-lab  cassandgo's apply to all-UN vs. one-node-at-a-time starts
.PHONY: e2e bench-lab
CHECKS += e2e
BENCHES += bench-lab

e2e: cassandgo cassandra
	@tests/e2e/run.sh ./cassandgo

bench-lab: cassandgo cassandra
	@tests/e2e/bench.sh ./cassandgo
