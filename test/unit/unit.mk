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
UNIT_CFLAGS += -Ifirmware -Ifirmware/include
UNIT_DEPFLAGS := -MMD -MP

UNIT_OUT := build/unit
UNIT_TESTS := test_memmap test_bootinfo test_pmm test_acpi
UNIT_TESTS += test_insn_decode test_guest_walk test_fmt test_cmdline test_shell_line
UNIT_FW_SRCS := errno memmap bootinfo pmm acpi
# vms.cfg parser (firmware/core/vmcfg*.c) and its host checker tool.
UNIT_TESTS += test_vmcfg
UNIT_FW_SRCS += vmcfg vmcfg_lex vmcfg_vm vmcfg_net
UNIT_FW_SRCS += insn_decode guest_walk fmt cmdline shell_line json
UNIT_TESTS += test_json
# Linux bzImage loader (firmware/loader/guest_linux*.c).
UNIT_TESTS += test_guest_linux
UNIT_FW_SRCS += guest_linux guest_linux_hdr
# Split virtqueue and virtio-blk parsing; copy-on-write disk overlay.
UNIT_TESTS += test_virtq test_blk_overlay
UNIT_FW_SRCS += virtq blk_overlay
# PCI bus, virtio-pci transport, virtio-blk, disks and token buckets.
UNIT_TESTS += test_pci test_token_bucket test_virtio_blk
# Its limits, budgets and overlay quota (same rig: virtio_blk_rig.h).
UNIT_TESTS += test_virtio_blk_limits
UNIT_FW_SRCS += dev_pci pci_msix virtio_pci virtio_blk disk token_bucket
# Guest networks: the switch, and virtio-net through it.
UNIT_TESTS += test_net_switch test_virtio_net
UNIT_FW_SRCS += net_switch virtio_net
# Host devices the monitor drives: the Intel 8254x rings against a fake
# device, host PCI enumeration and the MCFG table against fake buses.
UNIT_TESTS += test_e1000 test_pci_host
UNIT_FW_SRCS += e1000 pci_host
# The interrupt-storm bound the uplinks' NIC interrupts go through.
UNIT_TESTS += test_irq_storm
UNIT_FW_SRCS += irq_storm
# 8254 PIT and port 0x61 model (firmware/devices/dev_pit.c).
UNIT_TESTS += test_pit
UNIT_FW_SRCS += dev_pit
# 8259A pair and ELCR model (firmware/devices/dev_pic.c).
UNIT_TESTS += test_pic
UNIT_FW_SRCS += dev_pic
# Guest ACPI tables (firmware/loader/guest_acpi.c), checked with acpi.c.
UNIT_TESTS += test_guest_acpi
UNIT_FW_SRCS += guest_acpi
# The DSDT's AML emitter (guest_aml.c); the tables through iasl (acpica-tools).
UNIT_TESTS += test_guest_aml test_guest_acpi_iasl
UNIT_FW_SRCS += guest_aml
# CMOS RTC model and civil-time arithmetic (dev_rtc.c, calendar.c).
UNIT_TESTS += test_rtc
UNIT_FW_SRCS += dev_rtc calendar
# Reset control, i8042 and ACPI sleep registers (dev_sysctl.c).
UNIT_TESTS += test_sysctl
UNIT_FW_SRCS += dev_sysctl
# 16550A and fw_cfg models through fake envs (dev_uart.c, dev_fwcfg.c).
UNIT_TESTS += test_uart
UNIT_FW_SRCS += dev_uart dev_fwcfg
# The "@cg" escape in guest console output (lib/marker_guard.c).
UNIT_TESTS += test_marker_guard
UNIT_FW_SRCS += marker_guard

# vLAPIC timer, IOAPIC and MSI delivery (vlapic*.c, dev_ioapic.c, irq.c;
# core/virt.c passes level EOIs on to the IOAPIC).
UNIT_TESTS += test_vlapic
UNIT_FW_SRCS += vlapic vlapic_timer dev_ioapic irq virt
# The LINT pins (vlapic_lint.c), the NMI button and NMI messages (same rig:
# vlapic_rig.h).
UNIT_TESTS += test_vlapic_lint
UNIT_FW_SRCS += vlapic_lint

# Injected events' error codes, reflected #DB, VPID flush decisions
# (vmx_event.h, vmx_tlb.h); string I/O's element loop (io_string.c).
UNIT_TESTS += test_vmx_event test_io_string
UNIT_FW_SRCS += io_string
# Breakpoints on emulated accesses and the pending-#DB field rules
# (bp_match.c, pending_dbg.h).
UNIT_TESTS += test_debug
UNIT_FW_SRCS += bp_match
# Speculative-execution decision between VMs (arch/x86/vmx/spec_policy.c).
UNIT_TESTS += test_spec_ctrl
UNIT_FW_SRCS += spec_policy
# A vCPU's own state: XSAVE components and XCR0 rules (xstate.c), the MSR
# table (vcpu_msr.c), the CPUID table (cpuid_policy.c) and its per-CPU
# cache of answers (cpuid_cache.h: header-only).
UNIT_TESTS += test_xstate test_vcpu_msr test_cpuid_policy test_cpuid_cache
UNIT_FW_SRCS += xstate vcpu_msr cpuid_policy
# The VM's TSC offset against the SDM's TSC/TSC_ADJUST pair, and
# IA32_MISC_ENABLE's write rules (vmx_tsc.h, misc_enable.h: header-only).
UNIT_TESTS += test_tsc_offset test_misc_enable

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

# Sources are named by basename; each layer folder is searched.
UNIT_FW_DIRS := core loader devices devices/virtio drivers arch/x86/vmx lib init shell
vpath %.c $(addprefix firmware/,$(UNIT_FW_DIRS))
$(UNIT_OUT)/fw/%.o: %.c
	@mkdir -p $(dir $@)
	$(UNIT_CC) $(UNIT_CFLAGS) $(UNIT_DEPFLAGS) -c $< -o $@

$(UNIT_OUT)/%.o: test/unit/%.c
	@mkdir -p $(dir $@)
	$(UNIT_CC) $(UNIT_CFLAGS) $(UNIT_DEPFLAGS) -c $< -o $@

# The core objects go into one archive, so each test links only the
# objects it uses (and a test supplies the stubs those need, e.g. a fake
# arch_timestamp for the timer code).
# It depends on this file too: the objects are .SECONDARY, so a source
# added to UNIT_FW_SRCS would otherwise not rebuild an existing archive.
UNIT_FW_LIB := $(UNIT_OUT)/libfw.a
$(UNIT_FW_LIB): $(UNIT_FW_OBJS) test/unit/unit.mk
	rm -f $@
	ar rcs $@ $(filter %.o,$^)

$(UNIT_OUT)/test_%: $(UNIT_OUT)/test_%.o $(UNIT_FW_LIB)
	$(UNIT_CC) $(UNIT_CFLAGS) $^ -o $@

-include $(UNIT_FW_OBJS:.o=.d) $(UNIT_TEST_OBJS:.o=.d)

# vmcfg_check FILE: the monitor's vms.cfg parser as a host tool, used by
# test/toolchain/vms.test.ts to check what the TypeScript emitter writes.
unit-test unit-build: $(UNIT_OUT)/vmcfg_check
.SECONDARY: $(UNIT_OUT)/vmcfg_check.o
$(UNIT_OUT)/vmcfg_check: $(UNIT_OUT)/vmcfg_check.o $(UNIT_FW_LIB)
	$(UNIT_CC) $(UNIT_CFLAGS) $^ -o $@
-include $(UNIT_OUT)/vmcfg_check.d

# The policy WebAssembly runtime (firmware/policy/rt): test modules from
# test/unit/wasm/*.wat go through wat2wasm, wasm2c and the metering sed
# script into $(UNIT_WASM_OUT)/<name>.c/.h, then link with the runtime.
# Needs wabt (wat2wasm, wasm2c 1.0.32); skipped with a warning without it.
UNIT_WASM2C := $(shell command -v wasm2c 2>/dev/null)
UNIT_WAT2WASM := $(shell command -v wat2wasm 2>/dev/null)
UNIT_WASM_OUT := $(UNIT_OUT)/wasm
UNIT_WASM_RT := firmware/policy/rt
UNIT_WASM_MODS := basic growable toobig
UNIT_WASM_SRCS := $(addprefix $(UNIT_WASM_OUT)/,$(addsuffix .c,$(UNIT_WASM_MODS)))
UNIT_WASM_HDRS := $(UNIT_WASM_SRCS:.c=.h)
UNIT_WASM_OBJS := $(UNIT_WASM_SRCS:.c=.o)
UNIT_WASM_RT_OBJS := $(UNIT_WASM_OUT)/rt/wasm_rt.o $(UNIT_WASM_OUT)/rt/wasm_rt_jmp.o
# Generated code: libc shims first; wasm2c's output trips these warnings
# (TRAP's comma expression, unused float helpers, unused instance).
UNIT_WASM_GEN_CFLAGS := -I$(UNIT_WASM_RT)/include -I$(UNIT_WASM_RT)
UNIT_WASM_GEN_CFLAGS += -Wno-unused-value -Wno-unused-function -Wno-unused-parameter

# The monitor's freestanding flags (as in the top-level Makefile), for
# policy-rt-check: proves the runtime and generated code build for it.
UNIT_MON_CC ?= gcc
UNIT_MON_CFLAGS := -std=gnu11 -O2
UNIT_MON_CFLAGS += -Wall -Wextra -Werror -Wno-unused-parameter
UNIT_MON_CFLAGS += -ffreestanding
UNIT_MON_CFLAGS += -fno-builtin
UNIT_MON_CFLAGS += -fno-tree-loop-distribute-patterns
UNIT_MON_CFLAGS += -fno-stack-protector
UNIT_MON_CFLAGS += -fno-pic -fno-pie
UNIT_MON_CFLAGS += -fno-asynchronous-unwind-tables
UNIT_MON_CFLAGS += -mcmodel=small
UNIT_MON_CFLAGS += -mno-red-zone
UNIT_MON_CFLAGS += -mgeneral-regs-only
UNIT_MON_CFLAGS += -Ifirmware -Ifirmware/include
UNIT_MON_OUT := $(UNIT_OUT)/policy-rt-check

.PHONY: policy-rt-check
ifneq ($(and $(UNIT_WASM2C),$(UNIT_WAT2WASM)),)
UNIT_BINS += $(UNIT_OUT)/test_wasm_rt $(UNIT_OUT)/test_wasm_guard
unit-test unit-build: $(UNIT_OUT)/test_wasm_rt $(UNIT_OUT)/test_wasm_guard policy-rt-check
else
unit-test unit-build: unit-wasm-skip
.PHONY: unit-wasm-skip
unit-wasm-skip:
	@echo "WARNING: wabt (wat2wasm, wasm2c) not found: test_wasm_rt and policy-rt-check skipped"
endif
.SECONDARY: $(UNIT_WASM_SRCS) $(UNIT_WASM_HDRS) $(UNIT_WASM_OBJS) $(UNIT_WASM_RT_OBJS)
.SECONDARY: $(UNIT_WASM_SRCS:.c=.wasm) $(UNIT_OUT)/test_wasm_rt.o

$(UNIT_WASM_OUT)/%.wasm: test/unit/wasm/%.wat
	@mkdir -p $(dir $@)
	$(UNIT_WAT2WASM) $< -o $@

# wasm2c writes <name>.c and <name>.h; the sed pass adds fuel/stack metering.
$(UNIT_WASM_OUT)/%.c $(UNIT_WASM_OUT)/%.h: $(UNIT_WASM_OUT)/%.wasm $(UNIT_WASM_RT)/wasm2c-meter.sed
	$(UNIT_WASM2C) -n $* $< -o $(UNIT_WASM_OUT)/$*.c
	sed -i -f $(UNIT_WASM_RT)/wasm2c-meter.sed $(UNIT_WASM_OUT)/$*.c || { rm -f $(UNIT_WASM_OUT)/$*.c; exit 1; }

$(UNIT_WASM_OUT)/%.o: $(UNIT_WASM_OUT)/%.c
	$(UNIT_CC) $(UNIT_CFLAGS) $(UNIT_WASM_GEN_CFLAGS) $(UNIT_DEPFLAGS) -c $< -o $@

$(UNIT_WASM_OUT)/rt/%.o: $(UNIT_WASM_RT)/%.c
	@mkdir -p $(dir $@)
	$(UNIT_CC) $(UNIT_CFLAGS) -I$(UNIT_WASM_RT) $(UNIT_DEPFLAGS) -c $< -o $@

$(UNIT_WASM_OUT)/rt/%.o: $(UNIT_WASM_RT)/%.S
	@mkdir -p $(dir $@)
	$(UNIT_CC) -I$(UNIT_WASM_RT) $(UNIT_DEPFLAGS) -c $< -o $@

$(UNIT_OUT)/test_wasm_rt.o: test/unit/test_wasm_rt.c $(UNIT_WASM_HDRS)
	@mkdir -p $(dir $@)
	$(UNIT_CC) $(UNIT_CFLAGS) -I$(UNIT_WASM_RT) -I$(UNIT_WASM_OUT) $(UNIT_DEPFLAGS) -c $< -o $@

$(UNIT_OUT)/test_wasm_rt: $(UNIT_WASM_OBJS) $(UNIT_WASM_RT_OBJS)

# Guard mode (as the monitor): the same modules and runtime built again
# with -DWASM_RT_GUARD_REGION=1, no bounds checks in the generated code.
UNIT_GUARD_OUT := $(UNIT_WASM_OUT)/guard
UNIT_GUARD_CFLAGS := -DWASM_RT_GUARD_REGION=1
UNIT_GUARD_OBJS := $(UNIT_GUARD_OUT)/basic.o $(UNIT_GUARD_OUT)/growable.o
UNIT_GUARD_OBJS += $(UNIT_GUARD_OUT)/wasm_rt.o $(UNIT_GUARD_OUT)/wasm_rt_jmp.o
.SECONDARY: $(UNIT_GUARD_OBJS) $(UNIT_OUT)/test_wasm_guard.o

$(UNIT_GUARD_OUT)/%.o: $(UNIT_WASM_OUT)/%.c
	@mkdir -p $(dir $@)
	$(UNIT_CC) $(UNIT_CFLAGS) $(UNIT_GUARD_CFLAGS) $(UNIT_WASM_GEN_CFLAGS) $(UNIT_DEPFLAGS) -c $< -o $@

$(UNIT_GUARD_OUT)/%.o: $(UNIT_WASM_RT)/%.c
	@mkdir -p $(dir $@)
	$(UNIT_CC) $(UNIT_CFLAGS) $(UNIT_GUARD_CFLAGS) -I$(UNIT_WASM_RT) $(UNIT_DEPFLAGS) -c $< -o $@

$(UNIT_GUARD_OUT)/%.o: $(UNIT_WASM_RT)/%.S
	@mkdir -p $(dir $@)
	$(UNIT_CC) -I$(UNIT_WASM_RT) $(UNIT_DEPFLAGS) -c $< -o $@

$(UNIT_OUT)/test_wasm_guard.o: test/unit/test_wasm_guard.c $(UNIT_WASM_HDRS)
	@mkdir -p $(dir $@)
	$(UNIT_CC) $(UNIT_CFLAGS) $(UNIT_GUARD_CFLAGS) -I$(UNIT_WASM_RT) -I$(UNIT_WASM_OUT) $(UNIT_DEPFLAGS) -c $< -o $@

$(UNIT_OUT)/test_wasm_guard: $(UNIT_GUARD_OBJS)

# -c only, monitor flags; then no SSE/x87 instruction may appear.
policy-rt-check: $(UNIT_MON_OUT)/wasm_rt.o $(UNIT_MON_OUT)/wasm_rt_jmp.o $(UNIT_MON_OUT)/basic.o
	@if objdump -d $^ | grep -Eq "%[xyz]mm|$$(printf '\t')f(ld|st|add|sub|mul|div)"; then \
		echo "policy-rt-check: floating-point instructions in $^"; exit 1; fi
	@echo "policy-rt-check: runtime and generated module build freestanding"

$(UNIT_MON_OUT)/%.o: $(UNIT_WASM_RT)/%.c
	@mkdir -p $(dir $@)
	$(UNIT_MON_CC) $(UNIT_MON_CFLAGS) -I$(UNIT_WASM_RT) $(UNIT_DEPFLAGS) -c $< -o $@

$(UNIT_MON_OUT)/%.o: $(UNIT_WASM_RT)/%.S
	@mkdir -p $(dir $@)
	$(UNIT_MON_CC) $(UNIT_MON_CFLAGS) -I$(UNIT_WASM_RT) $(UNIT_DEPFLAGS) -c $< -o $@

$(UNIT_MON_OUT)/%.o: $(UNIT_WASM_OUT)/%.c
	@mkdir -p $(dir $@)
	$(UNIT_MON_CC) $(UNIT_MON_CFLAGS) $(UNIT_WASM_GEN_CFLAGS) $(UNIT_DEPFLAGS) -c $< -o $@

-include $(UNIT_WASM_OBJS:.o=.d) $(UNIT_WASM_RT_OBJS:.o=.d) $(UNIT_OUT)/test_wasm_rt.d
-include $(wildcard $(UNIT_MON_OUT)/*.d)

# Included from another makefile: do not steal its default goal.
ifneq ($(firstword $(MAKEFILE_LIST)),test/unit/unit.mk)
.DEFAULT_GOAL := $(UNIT_PREV_GOAL)
endif
