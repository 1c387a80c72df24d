# local provider: integration test against the real kernel and OpenSSH (root).
LOCAL_TEST := $(BUILD)/local/local_test

$(LOCAL_TEST): tests/local/local_test.c $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)

CHECKS += check-local
.PHONY: check-local
check-local: $(LOCAL_TEST)
	@tests/local/run.sh $(LOCAL_TEST)
