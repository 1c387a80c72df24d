# tests/fuzz/fuzz.mk - libFuzzer targets for the parsers of outside input
# (tests/fuzz/README.md). Included by the top Makefile.
#
#   make fuzz                       build them into build-fuzz/fuzz/ (clang)
#   make fuzz-run FUZZ_SECONDS=N    run each N s (default 30) on a copy of its
#                                   seed corpus; fails on any crash, leak,
#                                   timeout or out-of-memory
#
# The library is rebuilt in build-fuzz/ with coverage instrumentation
# (fuzzer-no-link) and ASan+UBSan, so the fuzzer sees inside the parsers.
# Not part of CHECKS: it is time-bounded, not a pass/fail test of behaviour.

FUZZ_TARGETS := config ec2_xml nodetool state_attrs planfile maven_manifest latte scenario maven_metadata
FUZZ_BUILD   := build-fuzz
FUZZ_SECONDS ?= 30
FUZZ_CFLAGS  := -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
		-fno-sanitize-recover=all
FUZZ_BIN      = $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz_%)

.PHONY: fuzz fuzz-run fuzz-bins clean-fuzz

fuzz:
	$(MAKE) BUILD=$(FUZZ_BUILD) CC=clang CFLAGS="$(FUZZ_CFLAGS)" fuzz-bins

fuzz-run: fuzz
	tests/fuzz/run.sh $(FUZZ_BUILD)/fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

clean-fuzz:
	rm -rf $(FUZZ_BUILD)

# Internal: only meaningful under `make fuzz` (clang, the flags above).
fuzz-bins: $(FUZZ_BIN)

# -fsanitize=fuzzer at link only: it brings libFuzzer's main().
FUZZ_PLAIN := $(filter-out planfile,$(FUZZ_TARGETS))
$(FUZZ_PLAIN:%=$(BUILD)/fuzz/fuzz_%): $(BUILD)/fuzz/fuzz_%: $(BUILD)/tests/fuzz/fuzz_%.o $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDFLAGS) $(LDLIBS)

# cmd/ is not in the library archive; the plan-file reader is linked alone
# (before the archive, which resolves what it calls).
$(BUILD)/fuzz/fuzz_planfile: $(BUILD)/tests/fuzz/fuzz_planfile.o $(BUILD)/cmd/planfile.o $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDFLAGS) $(LDLIBS)

-include $(FUZZ_TARGETS:%=$(BUILD)/tests/fuzz/fuzz_%.d)
