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
LIB_SRC  := $(sort $(wildcard planner/*.c state/*.c providers/*/*.c))
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

.PHONY: all check check-unit check-cli asan valgrind bench deps clean help clang
all: cassandgo

# Module fragments (providers/*/*.mk, tests/*/*.mk) add their targets and
# append to CHECKS and BENCHES; read them before `check` and `bench` expand.
BENCHES := bench-plan
check: check-unit check-cli
include $(sort $(wildcard providers/*/*.mk tests/*/*.mk))

cassandgo: $(CMD_OBJ) $(REG_OBJ) $(LIB_A)
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

check: $(CHECKS)

check-unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; (cd tests && ../$$t); done

# CLI tests: the real command line against the test provider (tests/cli/*.sh).
check-cli: cassandgo $(BUILD)/cassandgo-test
	@tests/cli/run.sh $(BUILD)/cassandgo-test

asan:
	$(MAKE) BUILD=build-asan CC=clang \
	  CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	  LDFLAGS="-fsanitize=address,undefined" check-unit check-cli

clang:
	$(MAKE) BUILD=build-clang CC=clang cassandgo $(UNIT_BIN:$(BUILD)/%=build-clang/%)

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
	@echo "make check      run every test tier"
	@echo "make asan       unit and CLI tests under ASan+UBSan (clang)"
	@echo "make valgrind   unit tests under valgrind"
	@echo "make bench      benchmarks"
	@echo "make fuzz       libFuzzer targets (clang); make fuzz-run FUZZ_SECONDS=N runs each"

-include $(LIB_OBJ:.o=.d) $(CMD_OBJ:.o=.d) $(FAKE_OBJ:.o=.d) $(REG_OBJ:.o=.d) $(UNIT_SRC:%.c=$(BUILD)/%.d)
