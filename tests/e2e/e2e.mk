# End to end (issue 4): the Lab cluster for real, and its benchmark.
#   make e2e        apply, ring/ownership/CQL checks, no-op, kill+restart, destroy
#   make bench-lab  cassandgo's apply to all-UN vs. one-node-at-a-time starts
#   make bench-security  Lab with security on vs off (same run, medians, ratio)
.PHONY: e2e bench-lab bench-security
CHECKS += e2e
BENCHES += bench-lab bench-security

e2e: cassandgo cassandra
	@tests/e2e/run.sh ./cassandgo

bench-lab: cassandgo cassandra
	@tests/e2e/bench.sh ./cassandgo

bench-security: cassandgo cassandra
	@tests/e2e/bench_security.sh ./cassandgo
