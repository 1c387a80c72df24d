# Monitoring (issue 6, the modern `opscenter: yes`), on a live Lab of its own
# with `monitoring: yes` on DC1 (range 10.83.0.0/16):
#   make check-monitoring   apply; through Prometheus' HTTP API every target
#                           up and Cassandra metrics from every node; output
#                           --json's URL; a second apply plans nothing; destroy
.PHONY: check-monitoring
CHECKS += check-monitoring
LAB_CHECKS += check-monitoring

check-monitoring: cassandgo cassandra
	@tests/monitoring/run.sh ./cassandgo
