/* Host tests for the debug-exception rules of the accesses and
 * instructions the monitor emulates: breakpoint matching
 * (arch/x86/vmx/bp_match.c, SDM Vol 3A 17.2.4-17.2.5, 17.3.1.2) against
 * fixed cases and a byte-by-byte reference over random registers, and the
 * pending-debug-exceptions field rules (pending_dbg.h, SDM Vol 3C 25.4.2,
 * 27.3.1.5, 27.7.3). */
#include "check.h"
#include "arch/x86/vmx/bp_match.h"
#include "arch/x86/vmx/pending_dbg.h"

/* DR7 for breakpoint n: L<n>, R/W<n>, LEN<n> */
static u64 bp(u32 n, u32 rw, u32 len)
{
	return (1ULL << (2 * n)) | ((u64)rw << (16 + 4 * n)) | ((u64)len << (18 + 4 * n));
}

#define LEN1 0
#define LEN2 1
#define LEN8 2
#define LEN4 3

static void test_types(void)
{
	struct bp_regs r = { { 0x1000, 0x1000, 0x1000, 0x1000 }, 0, true };
	r.dr7 = bp(0, DR7_RW_WRITE, LEN4) | bp(1, DR7_RW_RW, LEN4) | bp(2, DR7_RW_IO, LEN4) |
		bp(3, DR7_RW_EXEC, LEN1);
	CHECK(bp_match(&r, BP_DATA_WRITE, 0x1000, 4) == 0x3, "a store: write and read/write");
	CHECK(bp_match(&r, BP_DATA_READ, 0x1000, 4) == 0x2, "a load: read/write only");
	CHECK(bp_match(&r, BP_IO, 0x1000, 1) == 0x4, "a port access: I/O only");
	r.cr4_de = false;
	CHECK(bp_match(&r, BP_IO, 0x1000, 1) == 0, "R/W 10 without CR4.DE: no I/O breakpoint");
	/* Execute breakpoints are the CPU's (instruction fetches), never ours. */
	r.dr7 = bp(3, DR7_RW_EXEC, LEN1);
	CHECK(bp_match(&r, BP_DATA_READ, 0x1000, 1) == 0, "execute breakpoint: no data match");
}

static void test_enables(void)
{
	struct bp_regs r = { { 0x2000, 0, 0, 0 }, 0, false };
	r.dr7 = bp(0, DR7_RW_RW, LEN1);
	CHECK(bp_match(&r, BP_DATA_READ, 0x2000, 1) == 1, "L0 enables");
	r.dr7 = (r.dr7 & ~1ULL) | 2; /* G0 instead */
	CHECK(bp_match(&r, BP_DATA_READ, 0x2000, 1) == 1, "G0 enables");
	r.dr7 &= ~3ULL;
	CHECK(bp_match(&r, BP_DATA_READ, 0x2000, 1) == 0, "neither: no match (B0 left clear)");
	/* GD, LE/GE and the fixed bit enable nothing by themselves. */
	r.dr7 = 0x400 | (1ULL << 13) | (3ULL << 8) | (3ULL << 16) | (3ULL << 18);
	CHECK(bp_match(&r, BP_DATA_READ, 0x2000, 1) == 0, "no L/G bit: nothing");
}

static void test_ranges(void)
{
	struct bp_regs r = { { 0x3002, 0x3005, 0x3009, 0x301F }, 0, true };
	/* A 4-byte breakpoint ignores DR0's low two bits: 0x3000-0x3003. */
	r.dr7 = bp(0, DR7_RW_RW, LEN4);
	CHECK(bp_match(&r, BP_DATA_READ, 0x3000, 1) == 1, "aligned down: first byte");
	CHECK(bp_match(&r, BP_DATA_READ, 0x3003, 1) == 1, "last byte");
	CHECK(bp_match(&r, BP_DATA_READ, 0x3004, 4) == 0, "the next dword");
	CHECK(bp_match(&r, BP_DATA_READ, 0x2FFC, 4) == 0, "the dword before");
	CHECK(bp_match(&r, BP_DATA_READ, 0x2FFD, 4) == 1, "an access straddling into it");
	/* 2 bytes at 0x3004 (DR1 0x3005 aligned down), 8 at 0x3008. */
	r.dr7 = bp(1, DR7_RW_RW, LEN2) | bp(2, DR7_RW_RW, LEN8);
	CHECK(bp_match(&r, BP_DATA_WRITE, 0x3004, 1) == 2, "2-byte breakpoint, low byte");
	CHECK(bp_match(&r, BP_DATA_WRITE, 0x3006, 2) == 0, "2-byte breakpoint ends at 0x3005");
	CHECK(bp_match(&r, BP_DATA_WRITE, 0x300F, 1) == 4, "8-byte breakpoint, last byte");
	CHECK(bp_match(&r, BP_DATA_WRITE, 0x3000, 8) == 2, "a qword store over the 2-byte one");
	CHECK(bp_match(&r, BP_DATA_WRITE, 0x3004, 8) == 6, "a qword over both");
	/* A 1-byte breakpoint inside a dword access (the LAPIC case). */
	r.dr7 = bp(3, DR7_RW_RW, LEN1);
	CHECK(bp_match(&r, BP_DATA_READ, 0x301C, 4) == 8, "1 byte inside a dword");
	CHECK(bp_match(&r, BP_DATA_READ, 0x3020, 4) == 0, "just past it");
	/* Ports: OUT to 0x3FF hits a 4-byte I/O breakpoint at 0x3FC. */
	struct bp_regs io = { { 0x3FC, 0, 0, 0 }, bp(0, DR7_RW_IO, LEN4), true };
	CHECK(bp_match(&io, BP_IO, 0x3FF, 1) == 1, "port in range");
	CHECK(bp_match(&io, BP_IO, 0x3F9, 1) == 0, "port below");
	CHECK(bp_match(&io, BP_IO, 0x3FA, 2) == 0, "word below");
	CHECK(bp_match(&io, BP_IO, 0x3FB, 2) == 1, "word straddling in");
	CHECK(bp_match(&io, BP_DATA_WRITE, 0x3FF, 1) == 0, "memory at the same number: no");
	/* Sizes out of range are clamped, never overrun. */
	CHECK(bp_match(&r, BP_DATA_READ, 0x301F, 0) == 8, "size 0 counts as 1");
	CHECK(bp_match(&r, BP_DATA_READ, 0x3018, 64) == 8, "size clamped to 8");
	CHECK(bp_match(&r, BP_DATA_READ, 0x3010, 64) == 0, "clamped: 0x3010-0x3017 only");
}

static void test_top_of_memory(void)
{
	struct bp_regs r = { { ~0ULL, 0, 0, 0 }, bp(0, DR7_RW_RW, LEN8), false };
	CHECK(bp_match(&r, BP_DATA_READ, ~0ULL - 7, 8) == 1, "last qword of the address space");
	CHECK(bp_match(&r, BP_DATA_READ, ~0ULL, 8) == 1, "an access wrapping at the top: clipped");
	CHECK(bp_match(&r, BP_DATA_READ, 0, 8) == 0, "no wrap to address 0");
}

/* The reference: byte by byte, straight from the SDM's words. */
static u32 reference(const struct bp_regs *r, enum bp_access acc, u64 addr, u32 size)
{
	static const u32 len_bytes[4] = { 1, 2, 8, 4 };
	u32 hits = 0;
	for (u32 n = 0; n < 4; n++) {
		if (!((r->dr7 >> (2 * n)) & 3))
			continue;
		u32 rw = (r->dr7 >> (16 + 4 * n)) & 3, len = len_bytes[(r->dr7 >> (18 + 4 * n)) & 3];
		bool type = acc == BP_IO ? rw == 2 && r->cr4_de
					 : rw == 3 || (acc == BP_DATA_WRITE && rw == 1);
		if (!type)
			continue;
		u64 base = r->dr[n] - r->dr[n] % len;
		for (u32 b = 0; b < size; b++)
			if (addr + b >= base && addr + b < base + len)
				hits |= 1U << n;
	}
	return hits;
}

static void test_random(void)
{
	for (u32 i = 0; i < 200000; i++) {
		struct bp_regs r;
		u64 near = 0x10000 + (check_rand() & 0xFFF0);
		for (u32 n = 0; n < 4; n++)
			r.dr[n] = near + (check_rand() & 0x1F);
		r.dr7 = check_rand() & 0xFFFF00FFULL;
		r.cr4_de = check_rand() & 1;
		enum bp_access acc = (enum bp_access)(check_rand() % 3);
		static const u32 sizes[] = { 1, 2, 4, 8 };
		u32 size = sizes[check_rand() & 3];
		u64 addr = near - 8 + (check_rand() & 0x3F);
		CHECK(bp_match(&r, acc, addr, size) == reference(&r, acc, addr, size),
		      "bp_match agrees with the byte-by-byte reference");
	}
}

static void test_pending(void)
{
	u64 tf = RFLAGS_TF | 2, no_tf = 2;
	/* A single step: BS. BTF limits TF to branches: none here. */
	CHECK(pending_dbg_single_step(tf, 0), "TF steps");
	CHECK(!pending_dbg_single_step(tf, DEBUGCTL_BTF), "TF with BTF: only branches");
	CHECK(!pending_dbg_single_step(no_tf, 0), "no TF, no step");
	CHECK(pending_dbg_after(0, 0, true) == PENDING_DBG_BS, "step: BS");
	/* Breakpoint hits: B<n> and "enabled breakpoint". */
	CHECK(pending_dbg_after(0, 0x5, false) == (0x5 | PENDING_DBG_ENABLED_BP), "hits");
	CHECK(pending_dbg_after(0, 0x30, false) == 0, "bits beyond B3 are not hits");
	/* What a MOV SS held back stays, and joins this instruction's. */
	u64 held = 0x1 | PENDING_DBG_ENABLED_BP | PENDING_DBG_BS;
	CHECK(pending_dbg_after(held, 0x2, true) == (held | 0x2), "held exceptions kept");
	CHECK(pending_dbg_after(held, 0, false) == held, "nothing new: unchanged");

	CHECK(!pending_dbg_valid(0), "empty: no #DB");
	CHECK(!pending_dbg_valid(0x3), "B bits without the enabled bit: no #DB (27.7.3)");
	CHECK(pending_dbg_valid(PENDING_DBG_BS), "BS: a #DB");
	CHECK(pending_dbg_valid(0x1 | PENDING_DBG_ENABLED_BP), "enabled breakpoint: a #DB");

	/* 27.3.1.5: with STI/MOV SS blocking (or HLT), BS == TF && !BTF. */
	CHECK(pending_dbg_consistent(0, tf, 0, 1, 0) == PENDING_DBG_BS, "STI shadow, TF: BS added");
	CHECK(pending_dbg_consistent(0x1, tf, 0, 2, 0) == (0x1 | PENDING_DBG_BS),
	      "MOV SS shadow, TF: BS added, B0 kept");
	CHECK(pending_dbg_consistent(PENDING_DBG_BS, no_tf, 0, 1, 0) == 0, "no TF: BS dropped");
	CHECK(pending_dbg_consistent(PENDING_DBG_BS, tf, DEBUGCTL_BTF, 2, 0) == 0, "BTF: BS dropped");
	CHECK(pending_dbg_consistent(0, tf, 0, 0, 1) == PENDING_DBG_BS, "HLT state, TF: BS");
	CHECK(pending_dbg_consistent(0, tf, 0, 0, 0) == 0, "no shadow, active: untouched");
	CHECK(pending_dbg_consistent(PENDING_DBG_BS, no_tf, 0, 8, 0) == PENDING_DBG_BS,
	      "NMI blocking alone: untouched");
}

int main(void)
{
	test_types();
	test_enables();
	test_ranges();
	test_top_of_memory();
	test_random();
	test_pending();
	return check_summary();
}
