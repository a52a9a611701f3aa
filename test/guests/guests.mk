# Test guest kernels (QEMU-style, kvm-unit-tests shape): one Multiboot1
# ELF32 per test in build/guests/<name>.elf, listed in manifest.ini.
# Included by the top-level Makefile, and usable alone:
#   make -f test/guests/guests.mk guests
# Paths are relative to the repository root. Only the host toolchain is
# needed: gcc -m32 compiles freestanding code without gcc-multilib, and the
# link uses ld directly, so no 32-bit libgcc or C library is involved.

GUESTS_PREV_GOAL := $(.DEFAULT_GOAL)

GUEST_CC ?= gcc
GUEST_NASM ?= nasm
GUEST_LD ?= ld

GUEST_SRC := test/guests
GUEST_OUT := build/guests

GUEST_CFLAGS := -m32 -std=gnu11
GUEST_CFLAGS += -ffreestanding
GUEST_CFLAGS += -fno-pic -fno-pie
GUEST_CFLAGS += -fno-stack-protector
GUEST_CFLAGS += -nostdlib
GUEST_CFLAGS += -mno-sse
# Keeps gcc from turning the loops in lib/string.c into calls to themselves.
GUEST_CFLAGS += -fno-tree-loop-distribute-patterns
GUEST_CFLAGS += -mgeneral-regs-only
GUEST_CFLAGS += -fno-asynchronous-unwind-tables
GUEST_CFLAGS += -O2 -g
GUEST_CFLAGS += -Wall -Wextra -Werror
GUEST_CFLAGS += -MMD -MP
GUEST_CFLAGS += -I$(GUEST_SRC)/lib
# abi/hypercall.h: the call numbers the monitor uses too
GUEST_CFLAGS += -Ifirmware/include
GUEST_LDFLAGS := -m elf_i386 -nostdlib -static -T $(GUEST_SRC)/lib/guest.ld
GUEST_LDFLAGS += --no-warn-rwx-segments -z noexecstack

# One C file per guest; a guest may add <name>.asm next to it.
GUEST_NAMES := cpuid msr pio mmio vmcall hlt_ipi smp realmode vmxon unassigned \
	isolation_victim isolation_attacker triple_fault exitcode task_switch bench_exits spinner echo console_flood \
	apic_timer reset reflect init_bsp vcpu_state msr_tsc apic_disable pcid
# virtio-net isolation (a VM set on one network: guests.test.ts).
GUEST_NAMES += vnet

# virtio-blk (needs a disk: run by test/boot/disk.test.ts, not the manifest).
GUEST_NAMES += vblk
# Overlay quota and a disk-flooding neighbour (test/boot/disk_quota.test.ts).
GUEST_NAMES += disk_flood
# Debug exceptions around the instructions the monitor completes.
GUEST_NAMES += debug
# NMIs, and how events reach handlers (RF, two events at once).
GUEST_NAMES += nmi nmi_pin delivery delivery_unassigned

GUEST_LIB_C := $(wildcard $(GUEST_SRC)/lib/*.c)
GUEST_LIB_ASM := $(wildcard $(GUEST_SRC)/lib/*.asm)
GUEST_LIB_OBJ := $(patsubst $(GUEST_SRC)/%,$(GUEST_OUT)/obj/%.o,$(GUEST_LIB_C) $(GUEST_LIB_ASM))
GUEST_ELFS := $(addprefix $(GUEST_OUT)/,$(addsuffix .elf,$(GUEST_NAMES)))

.PHONY: guests guests-clean
guests: $(GUEST_ELFS)

guests-clean:
	rm -rf $(GUEST_OUT)

$(GUEST_OUT)/obj/%.c.o: $(GUEST_SRC)/%.c
	@mkdir -p $(dir $@)
	@echo "  CC    $<"
	@$(GUEST_CC) $(GUEST_CFLAGS) -c -o $@ $<

$(GUEST_OUT)/obj/%.asm.o: $(GUEST_SRC)/%.asm
	@mkdir -p $(dir $@)
	@echo "  NASM  $<"
	@$(GUEST_NASM) -f elf32 -g -MD $(@:.o=.d) -MP -o $@ $<

# One link rule per guest, so a guest's optional .asm joins its link
# (explicit rules: no .SECONDEXPANSION leaking into the including Makefile).
define GUEST_LINK_DEPS
$(GUEST_OUT)/$(1).elf: $(GUEST_OUT)/obj/$(1).c.o $(if $(wildcard $(GUEST_SRC)/$(1).asm),$(GUEST_OUT)/obj/$(1).asm.o)
endef
$(foreach g,$(GUEST_NAMES),$(eval $(call GUEST_LINK_DEPS,$(g))))

$(GUEST_ELFS): $(GUEST_LIB_OBJ) $(GUEST_SRC)/lib/guest.ld
	@echo "  LD    $@"
	@$(GUEST_LD) $(GUEST_LDFLAGS) -Map=$(@:.elf=.map) -o $@ $(filter %.o,$^)

.SECONDARY: $(GUEST_LIB_OBJ) $(patsubst %,$(GUEST_OUT)/obj/%.c.o,$(GUEST_NAMES)) \
	$(patsubst $(GUEST_SRC)/%.asm,$(GUEST_OUT)/obj/%.asm.o,$(wildcard $(GUEST_SRC)/*.asm))

-include $(shell find $(GUEST_OUT)/obj -name '*.d' 2>/dev/null)

# Included from another makefile: do not steal its default goal.
ifneq ($(firstword $(MAKEFILE_LIST)),test/guests/guests.mk)
.DEFAULT_GOAL := $(GUESTS_PREV_GOAL)
endif
