# Host unit tests for the monitor's pure logic. Included by the top-level
# Makefile, and usable alone: make -f test/unit/unit.mk unit-test
# Paths are relative to the repository root. The host compiler is used on
# purpose (sanitizers need the host C library); the firmware sources under
# test are compiled unchanged.

UNIT_PREV_GOAL := $(.DEFAULT_GOAL)

UNIT_CC ?= cc
UNIT_CFLAGS := -std=gnu11 -O1 -g
UNIT_CFLAGS += -Wall -Wextra -Werror
UNIT_CFLAGS += -fsanitize=address,undefined
UNIT_CFLAGS += -fno-sanitize-recover=all
UNIT_CFLAGS += -Ifirmware/include -Ifirmware/core
UNIT_DEPFLAGS := -MMD -MP

UNIT_OUT := build/unit
UNIT_TESTS := test_memmap test_bootinfo test_pmm test_acpi
UNIT_TESTS += test_insn_decode test_guest_walk test_fmt test_cmdline test_shell_line
UNIT_FW_SRCS := errno memmap bootinfo pmm acpi
# vms.cfg parser (firmware/core/vmcfg.c) and its host checker tool.
UNIT_TESTS += test_vmcfg
UNIT_FW_SRCS += vmcfg
UNIT_FW_SRCS += insn_decode guest_walk fmt cmdline shell_line

UNIT_BINS := $(addprefix $(UNIT_OUT)/,$(UNIT_TESTS))
UNIT_FW_OBJS := $(addprefix $(UNIT_OUT)/fw/,$(addsuffix .o,$(UNIT_FW_SRCS)))
UNIT_TEST_OBJS := $(addprefix $(UNIT_OUT)/,$(addsuffix .o,$(UNIT_TESTS)))

.PHONY: unit-test unit-build unit-clean
# Objects are reached only through pattern chains; keep them for reuse.
.SECONDARY: $(UNIT_FW_OBJS) $(UNIT_TEST_OBJS)

# Every test runs even after a failure; the target fails if any did.
unit-test: $(UNIT_BINS)
	@unit_failed=0; \
	for t in $(UNIT_BINS); do \
		echo "== $$t"; \
		./$$t || { echo "UNIT FAILED: $$t"; unit_failed=1; }; \
	done; \
	exit $$unit_failed

unit-build: $(UNIT_BINS)

unit-clean:
	rm -rf $(UNIT_OUT)

$(UNIT_OUT)/fw/%.o: firmware/core/%.c
	@mkdir -p $(dir $@)
	$(UNIT_CC) $(UNIT_CFLAGS) $(UNIT_DEPFLAGS) -c $< -o $@

$(UNIT_OUT)/%.o: test/unit/%.c
	@mkdir -p $(dir $@)
	$(UNIT_CC) $(UNIT_CFLAGS) $(UNIT_DEPFLAGS) -c $< -o $@

# Each test links every core object: the linker only pulls what it uses.
$(UNIT_OUT)/test_%: $(UNIT_OUT)/test_%.o $(UNIT_FW_OBJS)
	$(UNIT_CC) $(UNIT_CFLAGS) $^ -o $@

-include $(UNIT_FW_OBJS:.o=.d) $(UNIT_TEST_OBJS:.o=.d)

# vmcfg_check FILE: the monitor's vms.cfg parser as a host tool, used by
# test/toolchain/vms.test.ts to check what the TypeScript emitter writes.
unit-test unit-build: $(UNIT_OUT)/vmcfg_check
.SECONDARY: $(UNIT_OUT)/vmcfg_check.o
$(UNIT_OUT)/vmcfg_check: $(UNIT_OUT)/vmcfg_check.o $(UNIT_FW_OBJS)
	$(UNIT_CC) $(UNIT_CFLAGS) $^ -o $@
-include $(UNIT_OUT)/vmcfg_check.d

# Included from another makefile: do not steal its default goal.
ifneq ($(firstword $(MAKEFILE_LIST)),test/unit/unit.mk)
.DEFAULT_GOAL := $(UNIT_PREV_GOAL)
endif
