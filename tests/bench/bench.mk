# Benchmarks of the core (make bench): plan from state for 1,000 nodes.
$(BUILD)/bench/mkstate: tests/bench/mkstate.c $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)

bench-plan: $(BUILD)/bench/mkstate
