# State store benchmark: make bench-state (figures for put and load).
BENCHES += bench-state
.PHONY: bench-state
$(BUILD)/tests/bench_state: tests/state/bench_state.c $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)
bench-state: $(BUILD)/tests/bench_state
	@$(BUILD)/tests/bench_state
