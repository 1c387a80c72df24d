# tests/cloudinit/cloudinit.mk - check-cloudinit: the real cloud-init on the
# generated EC2 user-data, in the Debian root `make deps` caches (see
# tests/cloudinit/run.sh). Included by the top Makefile.

.PHONY: check-cloudinit check-cloudinit-moto
CHECKS += check-cloudinit check-cloudinit-moto

# Prints a node's user-data the way the EC2 provider makes it.
$(BUILD)/tests/cloudinit/userdata_dump: $(BUILD)/tests/cloudinit/userdata_dump.o $(LIB_A)
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)

check-cloudinit: $(BUILD)/tests/cloudinit/userdata_dump
	tests/cloudinit/run.sh $(BUILD)/tests/cloudinit/userdata_dump

# The same boots on the user-data moto stored for an instance that
# `cassandgo apply` launched (what IMDS would serve it).
check-cloudinit-moto: cassandgo
	tests/cloudinit/moto.sh ./cassandgo

-include $(BUILD)/tests/cloudinit/userdata_dump.d
