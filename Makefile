# Meerkat: the one entry point. `make` builds the library and examples into build/,
# `make test` runs every suite (plain and under ASan+UBSan), `make run` starts the
# demo server, `make dist` writes the two-file amalgamation, `make fuzz` and
# `make bench` do what they say.

CC       ?= cc
BUILD    ?= build
WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CSTD     := -std=c99
OPT      ?= -O2 -g
CPPFLAGS := -Icore/include -Icore
CFLAGS   ?= $(OPT)
FUZZ_SECONDS ?= 30

CORE_SRC := $(sort $(wildcard core/*/*.c))
CORE_HDR := $(wildcard core/include/*.h core/*.h)
EXAMPLES := $(notdir $(wildcard examples/*))
UNIT_SRC := $(sort $(wildcard test/unit/test_*.c))
FUZZ_SRC := $(sort $(wildcard test/fuzz/fuzz_*.c))

# Quiet by default; `make V=1` shows the commands
Q := $(if $(V),,@)

# One build flavour per directory: $(BUILD) plain, $(BUILD)/asan with sanitizers.
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

.PHONY: all run test test-unit dist fuzz fuzz-build bench clean
all: $(BUILD)/libmeerkat.a $(EXAMPLES:%=$(BUILD)/examples/%) $(BUILD)/packer/packer

include packer/packer.mk

define flavour
# $(1) = output dir, $(2) = extra flags, $(3) = compiler
$(1)/obj/%.o: %.c $(CORE_HDR)
	@mkdir -p $$(dir $$@)
	@echo "  CC      $$@"
	$$(Q)$(3) $$(CSTD) $$(WARN) $$(CPPFLAGS) $$(CFLAGS) $(2) -c $$< -o $$@
$(1)/libmeerkat.a: $(CORE_SRC:%.c=$(1)/obj/%.o)
	@rm -f $$@
	@echo "  AR      $$@"
	$$(Q)ar rcs $$@ $$^
$(1)/examples/%: examples/%/main.c $(1)/libmeerkat.a
	@mkdir -p $$(dir $$@)
	@echo "  LINK    $$@"
	$$(Q)$(3) $$(CSTD) $$(WARN) $$(CPPFLAGS) $$(CFLAGS) $(2) $$< $(1)/libmeerkat.a -o $$@
$(1)/test/unit/%: test/unit/%.c $(1)/libmeerkat.a
	@mkdir -p $$(dir $$@)
	@echo "  TEST    $$@"
	$$(Q)$(3) -std=gnu99 $$(WARN) -Wno-missing-prototypes $$(CPPFLAGS) $$(CFLAGS) $(2) $$< $(1)/libmeerkat.a -lcriterion -lpthread -o $$@
endef
$(eval $(call flavour,$(BUILD),,$(CC)))
$(eval $(call flavour,$(BUILD)/asan,$(SAN_FLAGS),$(CC)))
$(eval $(call flavour,$(BUILD)/poll,-DMG_ENABLE_EPOLL=0,$(CC)))
$(eval $(call flavour,$(BUILD)/clang,,clang))

UNIT_BINS      := $(UNIT_SRC:test/unit/%.c=$(BUILD)/test/unit/%)
UNIT_BINS_ASAN := $(UNIT_SRC:test/unit/%.c=$(BUILD)/asan/test/unit/%)
EXAMPLES_ASAN  := $(EXAMPLES:%=$(BUILD)/asan/examples/%)
# The poll() backend runs the event-loop tests and the examples' integration tests;
# clang builds everything once more so both compilers keep -Werror clean.
POLL_TESTS     := $(BUILD)/poll/test/unit/test_net $(EXAMPLES:%=$(BUILD)/poll/examples/%)
CLANG_BUILD    := $(UNIT_SRC:test/unit/%.c=$(BUILD)/clang/test/unit/%) $(EXAMPLES:%=$(BUILD)/clang/examples/%)

# Amalgamation: public headers in meerkat.h's order, then internal headers and sources.
dist: dist/meerkat.c dist/meerkat.h dist/mongoose.h
dist/meerkat.h dist/meerkat.c dist/mongoose.h: $(CORE_SRC) $(CORE_HDR) tools/amalgamate.sh
	tools/amalgamate.sh dist

$(BUILD)/fuzz/%: test/fuzz/%.c $(CORE_SRC) $(CORE_HDR)
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	$(Q)clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all $(CPPFLAGS) $< $(CORE_SRC) -o $@
fuzz-build: $(FUZZ_SRC:test/fuzz/%.c=$(BUILD)/fuzz/%)
fuzz: fuzz-build
	test/fuzz/run.sh $(BUILD)/fuzz $(FUZZ_SECONDS)

test-unit: $(UNIT_BINS)
	@for t in $(UNIT_BINS); do $$t || exit 1; done

test: all $(UNIT_BINS) $(UNIT_BINS_ASAN) $(EXAMPLES_ASAN) $(POLL_TESTS) $(CLANG_BUILD) dist fuzz-build
	BUILD=$(BUILD) test/run.sh

run: all
	$(BUILD)/examples/http-server -d . -l http://0.0.0.0:8000

bench: all
	BUILD=$(BUILD) test/bench/run.sh

clean:
	rm -rf $(BUILD) dist
