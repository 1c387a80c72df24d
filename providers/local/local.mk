# local provider: integration test and benchmark against the real kernel and
# OpenSSH (root).
LOCAL_TEST  := $(BUILD)/local/local_test
LOCAL_BENCH := $(BUILD)/local/local_bench

$(BUILD)/local/%: tests/local/%.c $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)

CHECKS += check-local
BENCHES += bench-local
.PHONY: check-local bench-local
check-local: $(LOCAL_TEST)
	@tests/local/run.sh $(LOCAL_TEST)

# 20 machines (4 DCs x 5): create, refresh, destroy
bench-local: $(LOCAL_BENCH)
	@CG_LOCAL_TEST_RANGE=10.212.0.0/16 tests/local/run.sh $(LOCAL_BENCH) 5
