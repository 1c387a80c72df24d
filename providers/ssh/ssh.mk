# providers/ssh/ssh.mk - the SSH layer's integration test (real sshds in
# network namespaces; needs root). Included by the top Makefile.
SSH_INTEG := $(BUILD)/tests/ssh/ssh_integ

$(SSH_INTEG): tests/ssh/ssh_integ.c $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS) -lcmocka

.PHONY: check-ssh
CHECKS += check-ssh
check-ssh: $(SSH_INTEG)
	tests/ssh/run.sh $(SSH_INTEG)

# Files shipped to the nodes, compiled into the library as byte arrays
# (uploaded by the bootstrap provider when their hash differs): see embed
# in the top Makefile.
# the node control script (<base_dir>/bin/cgnode) and the CQL client it runs
$(eval $(call embed,providers/ssh/cgnode,cg_cgnode_script))
$(eval $(call embed,providers/ssh/CgCql.java,cg_cgcql_source))

# The bootstrap provider on a real 2-node Cassandra ring (slow: ~2 min).
BOOT_INTEG := $(BUILD)/tests/ssh/boot_integ
$(BOOT_INTEG): tests/ssh/boot_integ.c $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS) -lcmocka

.PHONY: check-ssh-boot
CHECKS += check-ssh-boot
# not a Lab, but it rides the Lab lane too: e2e-aws and check-stress-aws make
# the other lane the longer
LAB_LANE_ALSO += check-ssh-boot
check-ssh-boot: $(BOOT_INTEG)
	tests/ssh/boot.sh $(BOOT_INTEG)

# SSH fan-out benchmark (N namespace hosts; CG_BENCH_HOSTS=40).
SSH_BENCH := $(BUILD)/tests/ssh/ssh_bench
$(SSH_BENCH): tests/ssh/ssh_bench.c $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)

.PHONY: bench-ssh
BENCHES += bench-ssh
bench: bench-ssh
bench-ssh: $(SSH_BENCH)
	tests/ssh/bench.sh $(SSH_BENCH)

# The release resolver (release.c runs it on demand for a release the jar
# cache lacks), with the pom it reads.
$(eval $(call embed,tests/cassandra/fetch.sh,cg_fetch_script))
$(eval $(call embed,tests/cassandra/pom.xml,cg_fetch_pom))
