# cassandgo - see README.md. `make help` lists the targets.
CC      ?= gcc
PKGS    := libcurl openssl libssh2 yaml-0.1 sqlite3 libxxhash libxml-2.0
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS  ?= -O2 -g
override CFLAGS += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -pthread $(PKG_CFLAGS)
override LDLIBS += $(PKG_LIBS) -pthread -lm
BUILD   ?= build

# Library: everything but the command layer and the provider registry, so
# that the test build can link its own registry (with the test provider).
LIB_SRC  := $(sort $(wildcard util/*.c planner/*.c state/*.c providers/*/*.c))
CMD_SRC  := $(sort $(wildcard cmd/*.c))
FAKE_SRC := $(sort $(wildcard tests/fake/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))

LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
CMD_OBJ  := $(CMD_SRC:%.c=$(BUILD)/%.o)
FAKE_OBJ := $(FAKE_SRC:%.c=$(BUILD)/%.o)
REG_OBJ  := $(BUILD)/providers/registry.o
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
LIB_A    := $(BUILD)/libcassandgo.a

# Checks that `make check` runs; included .mk files append to it.
CHECKS := check-unit check-cli

.PHONY: all check check-tiers check-unit check-cli asan valgrind bench deps clean help clang
all: cassandgo

# Files compiled into the library as byte arrays (what cgnode ships to the
# nodes, the EC2 price table):
# $(call embed,SOURCE,SYMBOL) defines SYMBOL[] and SYMBOL_len.
define embed
$(BUILD)/gen/$(2).c: $(1) Makefile
	@mkdir -p $$(dir $$@)
	@{ echo '/* generated from $(1) by the Makefile */'; \
	  echo '#include <stddef.h>'; \
	  echo 'extern const unsigned char $(2)[];'; \
	  echo 'extern const size_t $(2)_len;'; \
	  echo 'const unsigned char $(2)[] = {'; \
	  od -An -v -tx1 $(1) | sed 's/ \([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	  echo '};'; \
	  echo 'const size_t $(2)_len = sizeof($(2));'; } > $$@.tmp
	@mv -f $$@.tmp $$@
$(BUILD)/gen/$(2).o: $(BUILD)/gen/$(2).c
	$$(CC) $$(CFLAGS) -c -o $$@ $$<
$(LIB_A): $(BUILD)/gen/$(2).o
endef

# Module fragments (providers/*/*.mk, tests/*/*.mk) add their targets and
# append to CHECKS and BENCHES; read them before `check` and `bench` expand.
BENCHES := bench-plan
include $(sort $(wildcard providers/*/*.mk tests/*/*.mk))

cassandgo: $(CMD_OBJ) $(REG_OBJ) $(LIB_A)
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)

# The tool inside a build directory: the sanitizer and clang builds make
# theirs there, never over ./cassandgo (CI runs them beside `make check`).
$(BUILD)/cassandgo: $(CMD_OBJ) $(REG_OBJ) $(LIB_A)
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)

# The same tool with the test provider linked in (tests only, never installed).
$(BUILD)/cassandgo-test: $(CMD_OBJ) $(FAKE_OBJ) $(LIB_A)
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)

$(LIB_A): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(FAKE_OBJ) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS) -lcmocka

# make check: every tier of CHECKS, on two lanes at once (two cores; most
# of a tier's time is nodes waiting for gossip, ring delays and timeouts).
# The tiers that run a local Lab of Cassandra nodes (LAB_CHECKS, named by
# their .mk) go one after another on one lane, all the others on the other,
# so that two Labs never start at once; every tier has an address range of
# its own. Each tier runs in its own make (run-TIER) after everything is
# built once (CHECK_PREP), prints its output whole when it ends (-Otarget)
# and, when it fails, is noted and the lane goes on: one run reports every
# tier. CHECK_JOBS=1: one tier at a time.
CHECK_JOBS ?= 2
CHECK_FAILED = $(BUILD)/check-failed
CHECK_PREP := cassandgo $(BUILD)/cassandgo $(BUILD)/cassandgo-test $(UNIT_BIN) $(LIB_OBJ) \
	$(LOCAL_TEST) $(SSH_INTEG) $(BOOT_INTEG) $(BUILD)/tests/cass-render \
	$(BUILD)/tests/cloudinit/userdata_dump
check:
	@mkdir -p $(BUILD) && rm -f $(CHECK_FAILED)
	@$(MAKE) --no-print-directory $(CHECK_PREP)
	@$(MAKE) --no-print-directory cassandra
	@$(MAKE) --no-print-directory -j$(CHECK_JOBS) -Otarget check-tiers
	@if [ -s $(CHECK_FAILED) ]; then \
	  echo "== make check: FAILED: $$(sort $(CHECK_FAILED) | tr '\n' ' ')"; exit 1; fi
	@echo "== make check: every tier passed"
check-tiers: $(CHECKS:%=run-%)
run-%:
	@t0=$$(date +%s); if $(MAKE) --no-print-directory $*; then \
	  echo "== $*: passed in $$(( $$(date +%s) - t0 ))s"; else \
	  echo "$*" >>$(CHECK_FAILED); echo "== $*: FAILED after $$(( $$(date +%s) - t0 ))s"; fi
# $(call lane,T1 T2 T3...): T2 waits for T1, T3 for T2... (order-only, and
# only inside `make check`: `make T2` alone does not run T1)
lane = $(if $(word 2,$(1)),$(eval run-$(word 2,$(1)): | run-$(word 1,$(1)))$(call lane,$(wordlist 2,$(words $(1)),$(1))))
# SOLO_CHECKS (timing-sensitive: a rate to reach) run last, alone, once
# both lanes are done.
LANED := $(filter-out $(SOLO_CHECKS),$(CHECKS))
ifneq ($(filter check-tiers,$(MAKECMDGOALS)),)
$(call lane,$(filter $(LAB_LANE_ALSO),$(LANED)) $(filter $(LAB_CHECKS),$(LANED)))
$(call lane,$(filter-out $(LAB_CHECKS) $(LAB_LANE_ALSO),$(LANED)))
$(foreach t,$(SOLO_CHECKS),$(eval run-$(t): | $(LANED:%=run-%)))
$(call lane,$(SOLO_CHECKS))
endif

check-unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; (cd tests && ../$$t); done

# CLI tests: the real command line against the test provider (tests/cli/*.sh).
check-cli: $(BUILD)/cassandgo $(BUILD)/cassandgo-test
	@tests/cli/run.sh $(BUILD)/cassandgo-test

asan:
	$(MAKE) BUILD=build-asan CC=clang \
	  CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	  LDFLAGS="-fsanitize=address,undefined" check-unit check-cli

clang:
	$(MAKE) BUILD=build-clang CC=clang build-clang/cassandgo $(UNIT_BIN:$(BUILD)/%=build-clang/%)

valgrind: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== valgrind $$t"; \
	  (cd tests && valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite ../$$t); done

bench: $(BENCHES)
bench-plan: cassandgo $(BUILD)/cassandgo-test $(BUILD)/bench/mkstate
	@tests/bench/plan.sh $(BUILD)/cassandgo-test

deps:
	tests/deps.sh

clean:
	rm -rf build build-asan build-clang cassandgo

help:
	@echo "make            build ./cassandgo"
	@echo "make deps       install everything the project needs (Debian 12, root)"
	@echo "make check      run every test tier, on two lanes (CHECK_JOBS=1: one at a time)"
	@echo "  Lab lane:     $(filter $(LAB_LANE_ALSO),$(filter-out $(SOLO_CHECKS),$(CHECKS))) $(filter $(LAB_CHECKS),$(filter-out $(SOLO_CHECKS),$(CHECKS)))"
	@echo "  other lane:   $(filter-out $(LAB_CHECKS) $(LAB_LANE_ALSO) $(SOLO_CHECKS),$(CHECKS))"
	$(if $(SOLO_CHECKS),@echo "  then alone:   $(SOLO_CHECKS)")
	@echo "make asan       unit and CLI tests under ASan+UBSan (clang)"
	@echo "make valgrind   unit tests under valgrind"
	@echo "make bench      benchmarks"
	@echo "make fuzz       libFuzzer targets (clang); make fuzz-run FUZZ_SECONDS=N runs each"

-include $(LIB_OBJ:.o=.d) $(CMD_OBJ:.o=.d) $(FAKE_OBJ:.o=.d) $(REG_OBJ:.o=.d) $(UNIT_SRC:%.c=$(BUILD)/%.d)
