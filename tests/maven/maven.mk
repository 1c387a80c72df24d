# install: maven on a node (cgnode) against a real HTTP mirror on loopback:
# verification, faults, resume, kill (~30 s); then install: upload through
# the tool on two local nodes of one region: fan-out, kill (~10 s). The
# cluster path of install: maven is e2e-aws.
.PHONY: check-maven bench-maven
CHECKS += check-maven
check-maven: cassandra cassandgo
	@tests/maven/run.sh
	@tests/maven/upload.sh ./cassandgo

# Time to install a node from the mirror vs dir: (same run, a ratio).
BENCHES += bench-maven
bench: bench-maven
bench-maven: cassandra cassandgo
	@tests/maven/bench.sh
