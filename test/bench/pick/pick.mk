# pick_next on the host: the wasm2c build of the fair policy (with the
# monitor's runtime and guarded calls) against fair_ref.c, its C port. See
# pick_bench.c. Included by the top-level Makefile, and usable alone:
#   make -f test/bench/pick/pick.mk pick-bench
# Paths are relative to the repository root. Needs build/policy/fair.c from
# `make firmware` (policy build + wasm2c + the metering sed pass); this file
# does not regenerate it. `pick-bench` runs the equivalence check first and
# prints the BENCH lines only if fair_ref.c still agrees with fair.c.

PICK_PREV_GOAL := $(.DEFAULT_GOAL)

# As unit.mk builds the runtime and generated modules for the host, but
# optimised like the monitor (-O2) and without sanitizers, which would
# dominate what is measured.
PICK_CC ?= cc
PICK_CFLAGS := -std=gnu11 -O2 -g
PICK_CFLAGS += -Wall -Wextra -Werror
PICK_CFLAGS += -Ifirmware -Ifirmware/include
# Guard mode, as the monitor (Makefile's RT_CFLAGS): no bounds checks in
# the generated code; pick_bench.c maps the memory in a PROT_NONE window.
PICK_CFLAGS += -DWASM_RT_GUARD_REGION=1
PICK_DEPFLAGS := -MMD -MP

PICK_OUT := build/bench/obj/pick
PICK_BIN := build/bench/pick
PICK_RT := firmware/policy/rt
PICK_FAIR_C := build/policy/fair.c
PICK_FAIR_SRCS := firmware/policy/fair.ts $(wildcard firmware/policy/lib/*.ts)
# Generated code: libc shims first, and wasm2c's warnings off (as unit.mk).
PICK_GEN_CFLAGS := -I$(PICK_RT)/include -I$(PICK_RT)
PICK_GEN_CFLAGS += -Wno-unused-value -Wno-unused-function -Wno-unused-parameter

PICK_OBJS := $(PICK_OUT)/fair.o $(PICK_OUT)/wasm_rt.o $(PICK_OUT)/wasm_rt_jmp.o
PICK_OBJS += $(PICK_OUT)/fair_ref.o $(PICK_OUT)/pick_bench.o

.PHONY: pick-bench pick-build pick-clean pick-need-fair
.SECONDARY: $(PICK_OBJS)

pick-bench: $(PICK_BIN)
	./$(PICK_BIN) --check
	./$(PICK_BIN)
	bash test/bench/pick/count.sh $(PICK_BIN)

pick-build: $(PICK_BIN)

pick-clean:
	rm -rf $(PICK_OUT) $(PICK_BIN)

# fair.c must exist and be newer than the policy's sources: a stale fair.c
# would make both the check and the figure describe old code.
pick-need-fair:
	@test -f $(PICK_FAIR_C) || { \
		echo "pick-bench: $(PICK_FAIR_C) is missing: run 'make firmware' first (policy build, wasm2c, metering)"; \
		exit 1; }
	@for s in $(PICK_FAIR_SRCS); do \
		if [ $$s -nt $(PICK_FAIR_C) ]; then \
			echo "pick-bench: $(PICK_FAIR_C) is older than $$s: run 'make firmware' to regenerate it"; \
			exit 1; fi; \
	done

$(PICK_BIN): $(PICK_OBJS)
	$(PICK_CC) $(PICK_CFLAGS) $^ -o $@

# The wildcard is empty when fair.c is missing, so make does not try to
# build it here; pick-need-fair then says what to do.
$(PICK_OUT)/fair.o: $(wildcard $(PICK_FAIR_C)) | pick-need-fair
	@mkdir -p $(dir $@)
	$(PICK_CC) $(PICK_CFLAGS) $(PICK_GEN_CFLAGS) $(PICK_DEPFLAGS) -c $(PICK_FAIR_C) -o $@

$(PICK_OUT)/%.o: $(PICK_RT)/%.c
	@mkdir -p $(dir $@)
	$(PICK_CC) $(PICK_CFLAGS) -I$(PICK_RT) $(PICK_DEPFLAGS) -c $< -o $@

$(PICK_OUT)/%.o: $(PICK_RT)/%.S
	@mkdir -p $(dir $@)
	$(PICK_CC) -I$(PICK_RT) $(PICK_DEPFLAGS) -c $< -o $@

# fair.h comes with fair.c; pick-need-fair runs before either is read.
$(PICK_OUT)/pick_bench.o: test/bench/pick/pick_bench.c | pick-need-fair
	@mkdir -p $(dir $@)
	$(PICK_CC) $(PICK_CFLAGS) -I$(PICK_RT) -Ibuild/policy -Itest/unit $(PICK_DEPFLAGS) -c $< -o $@

$(PICK_OUT)/fair_ref.o: test/bench/pick/fair_ref.c
	@mkdir -p $(dir $@)
	$(PICK_CC) $(PICK_CFLAGS) $(PICK_DEPFLAGS) -c $< -o $@

-include $(PICK_OBJS:.o=.d)

# Included from another makefile: do not steal its default goal.
ifneq ($(firstword $(MAKEFILE_LIST)),test/bench/pick/pick.mk)
.DEFAULT_GOAL := $(PICK_PREV_GOAL)
endif
