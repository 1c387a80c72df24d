# End to end (issue 4): the Lab cluster for real, and its benchmark.
#   make e2e        apply, ring/ownership/CQL checks, no-op, kill+restart, destroy
#   make bench-lab  cassandgo's apply to all-UN vs. one-node-at-a-time starts
#   make bench-security  Lab with security on vs off (same run, medians, ratio)
#   make check-keyspaces  keyspaces declared in the config on a Lab of its own:
#                   created, RF raised (repair in that DC), removed (forgotten)
#   make check-upgrade  a rolling upgrade 2 DCs x 3 nodes, pinned release - 1
#                   -> pinned, a client per DC at LOCAL_QUORUM throughout,
#                   killed once and resumed (tests/e2e/upgrade.sh)
#   make bench-upgrade  the same run; its figure: upgrade time per node
#   make check-datacenters  a DC added (rebuilt, killed once and resumed) and
#                   removed, a DC removed with its node down (removenode), a
#                   client in DC1 at LOCAL_QUORUM throughout
#                   (tests/e2e/datacenters.sh, 10.88)
.PHONY: e2e bench-lab bench-security check-keyspaces check-upgrade bench-upgrade check-datacenters
CHECKS += e2e check-keyspaces check-upgrade check-datacenters
LAB_CHECKS += e2e check-keyspaces check-upgrade check-datacenters
BENCHES += bench-lab bench-security bench-upgrade

e2e: cassandgo cassandra
	@tests/e2e/run.sh ./cassandgo

check-keyspaces: cassandgo cassandra
	@tests/e2e/keyspaces.sh ./cassandgo

bench-lab: cassandgo cassandra
	@tests/e2e/bench.sh ./cassandgo

bench-security: cassandgo cassandra
	@tests/e2e/bench_security.sh ./cassandgo

check-upgrade: cassandgo cassandra
	@tests/e2e/upgrade.sh ./cassandgo

check-datacenters: cassandgo cassandra
	@tests/e2e/datacenters.sh ./cassandgo

bench-upgrade: cassandgo cassandra
	@tests/e2e/upgrade.sh ./cassandgo > $(BUILD)/bench-upgrade.log 2>&1; rc=$$?; \
	  grep -E '^upgrade: |passed,' $(BUILD)/bench-upgrade.log; \
	  [ $$rc = 0 ] || { tail -n 30 $(BUILD)/bench-upgrade.log; exit $$rc; }
