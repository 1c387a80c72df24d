# providers/ec2/ec2.mk - the EC2 provider's integration test and benchmark
# (a real moto server on loopback, a fault-injecting proxy in front of it),
# both through the real command line. Included by the top Makefile.

.PHONY: check-ec2 bench-ec2
CHECKS += check-ec2
BENCHES += bench-ec2
check-ec2: cassandgo
	tests/ec2/run.sh ./cassandgo
bench-ec2: cassandgo
	tests/ec2/bench.sh ./cassandgo
