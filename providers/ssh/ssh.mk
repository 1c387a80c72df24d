# providers/ssh/ssh.mk - the SSH layer's integration test (real sshds in
# network namespaces; needs root). Included by the top Makefile.
SSH_INTEG := $(BUILD)/tests/ssh/ssh_integ

$(SSH_INTEG): tests/ssh/ssh_integ.c $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS) -lcmocka

.PHONY: check-ssh
CHECKS += check-ssh
# `check: $(CHECKS)` is expanded before this file is read: add it directly.
check: check-ssh
check-ssh: $(SSH_INTEG)
	tests/ssh/run.sh $(SSH_INTEG)

# The node control script, compiled into the library (uploaded by the
# bootstrap provider to <base_dir>/bin/cgnode when its hash differs).
CGNODE_GEN := $(BUILD)/gen/cgnode_script.c
$(CGNODE_GEN): providers/ssh/cgnode providers/ssh/ssh.mk
	@mkdir -p $(dir $@)
	@{ echo '/* generated from providers/ssh/cgnode by providers/ssh/ssh.mk */'; \
	  echo '#include <stddef.h>'; \
	  echo 'extern const unsigned char cg_cgnode_script[];'; \
	  echo 'extern const size_t cg_cgnode_script_len;'; \
	  echo 'const unsigned char cg_cgnode_script[] = {'; \
	  od -An -v -tx1 providers/ssh/cgnode | sed 's/ \([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	  echo '};'; \
	  echo 'const size_t cg_cgnode_script_len = sizeof(cg_cgnode_script);'; } > $@.tmp
	@mv -f $@.tmp $@
$(BUILD)/gen/cgnode_script.o: $(CGNODE_GEN)
	$(CC) $(CFLAGS) -c -o $@ $<
$(LIB_A): $(BUILD)/gen/cgnode_script.o

# The CQL client cgnode runs (uploaded beside it, same hash).
CGCQL_GEN := $(BUILD)/gen/cgcql_source.c
$(CGCQL_GEN): providers/ssh/CgCql.java providers/ssh/ssh.mk
	@mkdir -p $(dir $@)
	@{ echo '/* generated from providers/ssh/CgCql.java by providers/ssh/ssh.mk */'; \
	  echo '#include <stddef.h>'; \
	  echo 'extern const unsigned char cg_cgcql_source[];'; \
	  echo 'extern const size_t cg_cgcql_source_len;'; \
	  echo 'const unsigned char cg_cgcql_source[] = {'; \
	  od -An -v -tx1 providers/ssh/CgCql.java | sed 's/ \([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	  echo '};'; \
	  echo 'const size_t cg_cgcql_source_len = sizeof(cg_cgcql_source);'; } > $@.tmp
	@mv -f $@.tmp $@
$(BUILD)/gen/cgcql_source.o: $(CGCQL_GEN)
	$(CC) $(CFLAGS) -c -o $@ $<
$(LIB_A): $(BUILD)/gen/cgcql_source.o

# The bootstrap provider on a real 2-node Cassandra ring (slow: ~2 min).
BOOT_INTEG := $(BUILD)/tests/ssh/boot_integ
$(BOOT_INTEG): tests/ssh/boot_integ.c $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS) -lcmocka

.PHONY: check-ssh-boot
CHECKS += check-ssh-boot
check: check-ssh-boot
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
