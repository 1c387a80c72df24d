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
