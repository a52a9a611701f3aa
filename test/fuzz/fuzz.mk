# Coverage-guided fuzzing with clang's libFuzzer (Debian's clang and
# libclang-rt-dev, installed by toolchain/setup.sh). Included by the
# top-level Makefile; see docs/fuzzing.md.
#
#   make fuzz          every harness for FUZZ_SECONDS (default 300) each,
#                      growing a corpus kept in build/fuzz/work/<name>
#   make fuzz-smoke    every harness for FUZZ_SMOKE_SECONDS (default 5) on
#                      a fresh copy of its seed corpus, one per core at a
#                      time; part of `make test`
#   make fuzz-replay   the harnesses without libFuzzer (unit-test compiler
#                      and sanitizers) over test/fuzz/corpus/<name> and
#                      test/fuzz/crashes/<name>; part of `make unit-test`
#   make fuzz-<name>   one harness, FUZZ_SECONDS long
#
# Harnesses are test/fuzz/fuzz_<name>.c around the firmware sources,
# compiled unchanged as in test/unit/unit.mk. A crash leaves its input in
# build/fuzz/artifacts/<name>/; copy it to test/fuzz/crashes/<name>/ with
# the fix so the replay keeps it fixed.

FUZZ_CC ?= clang
FUZZ_NAMES := insn_decode guest_walk virtq virtio_blk virtio_net vmcfg shell_line json linux_hdr bootinfo acpi memmap
FUZZ_SECONDS ?= 300
FUZZ_SMOKE_SECONDS ?= 5
FUZZ_OUT := build/fuzz
FUZZ_DIR := test/fuzz

FUZZ_CFLAGS := -std=gnu11 -O1 -g
FUZZ_CFLAGS += -Wall -Wextra -Werror
FUZZ_CFLAGS += -fsanitize=address,undefined
FUZZ_CFLAGS += -fno-sanitize-recover=all
FUZZ_CFLAGS += -Ifirmware -Ifirmware/include
# Edge coverage for the code under test without libFuzzer's main.
FUZZ_COV_FLAGS := -fsanitize=fuzzer-no-link
FUZZ_LINK_FLAGS := -fsanitize=fuzzer,address,undefined
# libFuzzer options for every run: a slow input or a memory hog is a
# finding too (per-exit work must stay bounded).
FUZZ_RUN_FLAGS := -timeout=10 -rss_limit_mb=2048 -print_final_stats=1

# The firmware sources the harnesses reach (found through unit.mk's vpath).
FUZZ_FW_SRCS := errno fmt insn_decode guest_walk virtq virtio_blk virtio_pci dev_pci pci_msix
FUZZ_FW_SRCS += disk token_bucket blk_overlay vmcfg vmcfg_lex vmcfg_vm vmcfg_net shell_line json
FUZZ_FW_SRCS += net_switch virtio_net
FUZZ_FW_SRCS += guest_linux_hdr bootinfo memmap acpi

FUZZ_BINS := $(addprefix $(FUZZ_OUT)/fuzz_,$(FUZZ_NAMES))
FUZZ_FW_OBJS := $(addprefix $(FUZZ_OUT)/fw/,$(addsuffix .o,$(FUZZ_FW_SRCS)))
FUZZ_FW_LIB := $(FUZZ_OUT)/libfw.a
FUZZ_REPLAY_OUT := $(UNIT_OUT)/fuzz
FUZZ_REPLAYS := $(addprefix $(FUZZ_REPLAY_OUT)/replay_,$(FUZZ_NAMES))

.PHONY: fuzz fuzz-build fuzz-smoke fuzz-replay fuzz-check-cc $(addprefix fuzz-,$(FUZZ_NAMES))
.SECONDARY: $(FUZZ_FW_OBJS) $(FUZZ_BINS:=.o) $(FUZZ_REPLAYS:$(FUZZ_REPLAY_OUT)/replay_%=$(FUZZ_REPLAY_OUT)/fuzz_%.o)
.SECONDARY: $(FUZZ_REPLAY_OUT)/replay_main.o

fuzz-check-cc:
	@command -v $(FUZZ_CC) >/dev/null || { echo "fuzz: $(FUZZ_CC) not found: run 'make setup' (installs clang and libclang-rt-dev)"; exit 1; }

fuzz-build: fuzz-check-cc $(FUZZ_BINS)

$(FUZZ_OUT)/fw/%.o: %.c | fuzz-check-cc
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_COV_FLAGS) -MMD -MP -c $< -o $@

$(FUZZ_OUT)/fuzz_%.o: $(FUZZ_DIR)/fuzz_%.c | fuzz-check-cc
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_COV_FLAGS) -MMD -MP -c $< -o $@

$(FUZZ_FW_LIB): $(FUZZ_FW_OBJS) $(FUZZ_DIR)/fuzz.mk
	rm -f $@
	ar rcs $@ $(filter %.o,$^)

$(FUZZ_OUT)/fuzz_%: $(FUZZ_OUT)/fuzz_%.o $(FUZZ_FW_LIB)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_LINK_FLAGS) $^ -o $@

# Every harness briefly, on a copy of its seeds (the repository is never
# written), FUZZ_SMOKE_JOBS at a time (default: one per core); saved crashes
# are read too, so one that is back fails at once (test/fuzz/smoke.sh).
FUZZ_SMOKE_JOBS ?= $(shell nproc 2>/dev/null || echo 1)
fuzz-smoke: fuzz-build
	@bash $(FUZZ_DIR)/smoke.sh $(FUZZ_OUT) $(FUZZ_DIR) $(FUZZ_SMOKE_SECONDS) $(FUZZ_SMOKE_JOBS) "$(FUZZ_RUN_FLAGS)" $(FUZZ_NAMES)

# Long runs: the corpus grows in build/fuzz/work/<name> from the seeds.
fuzz: fuzz-build
	@failed=""; for n in $(FUZZ_NAMES); do $(MAKE) --no-print-directory fuzz-$$n || failed="$$failed $$n"; done; \
	if [ -n "$$failed" ]; then echo "fuzz: crashes in:$$failed (see $(FUZZ_OUT)/artifacts/)"; exit 1; fi

$(addprefix fuzz-,$(FUZZ_NAMES)): fuzz-%: $(FUZZ_OUT)/fuzz_%
	@mkdir -p $(FUZZ_OUT)/work/$* $(FUZZ_OUT)/artifacts/$*/
	@cp -n $(FUZZ_DIR)/corpus/$*/* $(FUZZ_OUT)/work/$*/ 2>/dev/null || true
	@echo "fuzz: $* for $(FUZZ_SECONDS) s (corpus $(FUZZ_OUT)/work/$*, crashes to $(FUZZ_OUT)/artifacts/$*/)"
	$(FUZZ_OUT)/fuzz_$* $(FUZZ_RUN_FLAGS) -max_total_time=$(FUZZ_SECONDS) \
		-artifact_prefix=$(FUZZ_OUT)/artifacts/$*/ $(FUZZ_OUT)/work/$* $(wildcard $(FUZZ_DIR)/crashes/$*)

# Replays: the same harness sources, unit-test compiler and flags, linked
# with replay_main.c and the unit tests' firmware archive.
$(FUZZ_REPLAY_OUT)/%.o: $(FUZZ_DIR)/%.c
	@mkdir -p $(dir $@)
	$(UNIT_CC) $(UNIT_CFLAGS) $(UNIT_DEPFLAGS) -c $< -o $@

$(FUZZ_REPLAY_OUT)/replay_%: $(FUZZ_REPLAY_OUT)/fuzz_%.o $(FUZZ_REPLAY_OUT)/replay_main.o $(UNIT_FW_LIB)
	$(UNIT_CC) $(UNIT_CFLAGS) $^ -o $@

fuzz-replay: $(FUZZ_REPLAYS)
	@failed=0; \
	for n in $(FUZZ_NAMES); do \
		$(FUZZ_REPLAY_OUT)/replay_$$n $(FUZZ_DIR)/corpus/$$n $(FUZZ_DIR)/crashes/$$n || \
			{ echo "FUZZ REPLAY FAILED: $$n"; failed=1; }; \
	done; \
	exit $$failed

unit-test: fuzz-replay
unit-build: $(FUZZ_REPLAYS)

-include $(FUZZ_FW_OBJS:.o=.d) $(FUZZ_BINS:=.d) $(wildcard $(FUZZ_REPLAY_OUT)/*.d)
