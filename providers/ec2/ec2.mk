# providers/ec2/ec2.mk - the EC2 provider's integration test and benchmark
# (a real moto server on loopback, a fault-injecting proxy in front of it),
# both through the real command line. Included by the top Makefile.

.PHONY: check-ec2 bench-ec2
CHECKS += check-ec2
# no Lab, but it rides the Lab lane: e2e-aws makes the other one the longer
LAB_LANE_ALSO += check-ec2
BENCHES += bench-ec2
check-ec2: cassandgo
	tests/ec2/run.sh ./cassandgo
bench-ec2: cassandgo
	tests/ec2/bench.sh ./cassandgo

# The price table (providers/ec2/price.h) in the library; `make prices`
# regenerates it from the ec2instances.info data of PRICES_VERSION (the Go
# module proxy serves it; not part of the build or the tests).
$(eval $(call embed,providers/ec2/prices.tsv,cg_ec2_prices_tsv))
PRICES_VERSION ?= v0.0.0-20250528091325-32acf84f42eb
.PHONY: prices
prices:
	d=$$(go mod download -json github.com/cristim/ec2-instances-info@$(PRICES_VERSION) | \
	  python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])') && \
	python3 providers/ec2/prices.py "$$d/data/instances.json" $(PRICES_VERSION) >providers/ec2/prices.tsv.tmp && \
	mv providers/ec2/prices.tsv.tmp providers/ec2/prices.tsv
