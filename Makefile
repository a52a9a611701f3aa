# crossguard: `make demo` boots the monitor, `make test` runs every test,
# `make bench` prints BENCH lines. Each installs what is missing first.

SHELL := /bin/bash
.DEFAULT_GOAL := all
B := build
VERSION := $(shell node -p 'require("./package.json").version' 2>/dev/null || echo 0.0.0)+$(shell git rev-parse --short HEAD 2>/dev/null || echo nogit)

CC := gcc
NASM := nasm
LD := ld

CFLAGS := -std=gnu11 -O2 -g
CFLAGS += -Wall -Wextra -Werror -Wno-unused-parameter
CFLAGS += -ffreestanding
CFLAGS += -fno-builtin
CFLAGS += -fno-tree-loop-distribute-patterns
CFLAGS += -fno-stack-protector
CFLAGS += -fno-pic -fno-pie
CFLAGS += -fno-asynchronous-unwind-tables
CFLAGS += -mcmodel=small
CFLAGS += -mno-red-zone
CFLAGS += -mgeneral-regs-only
CFLAGS += -MMD -MP
CFLAGS += -Ifirmware/include -Ifirmware/core
CFLAGS += -DCG_VERSION='"$(VERSION)"'
LDFLAGS := -nostdlib -static -z max-page-size=0x1000 --no-warn-rwx-segments -z noexecstack -T boot/linker.ld

FW_C := $(wildcard firmware/core/*.c) $(filter-out %/asm_offsets.c,$(wildcard firmware/arch/x86/*.c))
FW_ASM := boot/multiboot.asm boot/entry.asm boot/ap_blob.asm $(wildcard firmware/arch/x86/*.asm)
FW_OBJ := $(FW_C:%.c=$(B)/obj/%.o) $(FW_ASM:%.asm=$(B)/obj/%.o)

.PHONY: all firmware iso js setup test typecheck bench demo clean
all: firmware iso js guests

firmware: $(B)/crossguard.elf
iso: $(B)/crossguard.iso

$(B)/gen/asm_offsets.inc: firmware/arch/x86/asm_offsets.c firmware/arch/x86/trap.h firmware/arch/x86/smp.h firmware/core/vcpu.h firmware/core/vlapic.h
	@mkdir -p $(dir $@)
	@echo "  GEN   $@"
	@$(CC) $(filter-out -MMD -MP -g,$(CFLAGS)) -S -o $@.s $<
	@grep -o '@@define [A-Z_0-9]* [0-9]*' $@.s | sed 's/^@@/%/' > $@
	@rm -f $@.s

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC    $<"
	@$(CC) $(CFLAGS) -c -o $@ $<

$(B)/gen/ap_trampoline.bin: boot/ap_trampoline.asm $(B)/gen/asm_offsets.inc
	@echo "  NASM  $<"
	@$(NASM) -f bin -I$(B)/gen/ -o $@ $<

$(B)/obj/boot/ap_blob.o: boot/ap_blob.asm $(B)/gen/ap_trampoline.bin
	@mkdir -p $(dir $@)
	@echo "  NASM  $<"
	@$(NASM) -f elf64 -I$(B)/gen/ -o $@ $<

$(B)/obj/%.o: %.asm $(B)/gen/asm_offsets.inc
	@mkdir -p $(dir $@)
	@echo "  NASM  $<"
	@$(NASM) -f elf64 -g -I$(B)/gen/ -o $@ $<

# The shipped image has no debug sections; crossguard.debug.elf keeps them
# for gdb and addr2line, with the listing (.asm), symbols (.sym) and map.
$(B)/crossguard.elf: $(FW_OBJ) boot/linker.ld
	@echo "  LD    $@"
	@$(LD) $(LDFLAGS) -Map=$(B)/crossguard.map -o $(B)/crossguard.debug.elf $(FW_OBJ)
	@objcopy --strip-debug $(B)/crossguard.debug.elf $@
	@objdump -d -M intel $(B)/crossguard.debug.elf > $(B)/crossguard.asm
	@nm -n $(B)/crossguard.debug.elf > $(B)/crossguard.sym

js: $(B)/js/crossguard.mjs
JS_SRC := $(shell find toolchain/src qemu console test -name '*.ts' 2>/dev/null) toolchain/esbuild.mjs
$(B)/js/crossguard.mjs: $(JS_SRC) node_modules/.package-lock.json
	node toolchain/esbuild.mjs

$(B)/crossguard.iso: $(B)/crossguard.elf $(B)/js/crossguard.mjs
	node $(B)/js/crossguard.mjs image --elf $< --out $@

node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

setup:
	@bash toolchain/setup.sh

typecheck: node_modules/.package-lock.json
	npx tsc --noEmit -p tsconfig.json

include test/unit/unit.mk
include test/guests/guests.mk

test: setup
	$(MAKE) --no-print-directory all
	$(MAKE) --no-print-directory typecheck
	$(MAKE) --no-print-directory unit-test
	node toolchain/run-tests.mjs $(B)/js/test

bench: setup
	$(MAKE) --no-print-directory all
	node $(B)/js/test/bench/boot.bench.mjs
	node $(B)/js/test/bench/exits.bench.mjs

demo: setup
	$(MAKE) --no-print-directory all
	node $(B)/js/crossguard.mjs run --no-build

clean:
	rm -rf $(B)

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)
