# providers/ec2/ec2.mk - the EC2 provider's integration test and benchmark
# (a real moto server on loopback, a fault-injecting proxy in front of it).
# Included by the top Makefile.

EC2_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(sort $(wildcard providers/ec2/*.c)))

# The command with the EC2 provider linked in explicitly: the registry only
# holds weak references, which do not pull members out of the archive.
EC2_CLI := $(BUILD)/tests/ec2/cassandgo
$(EC2_CLI): $(CMD_OBJ) $(REG_OBJ) $(EC2_OBJ) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)

.PHONY: check-ec2 bench-ec2
CHECKS += check-ec2
BENCHES += bench-ec2
# `check: $(CHECKS)` and `bench: $(BENCHES)` are expanded before this file
# is read: add the prerequisites directly.
check: check-ec2
bench: bench-ec2
check-ec2: $(EC2_CLI)
	tests/ec2/run.sh $(EC2_CLI)
bench-ec2: $(EC2_CLI)
	tests/ec2/bench.sh $(EC2_CLI)
