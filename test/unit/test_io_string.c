/* io_string_run (arch/x86/vmx/io_string.c): REP INS/OUTS against 32-bit
 * page tables in a fake guest RAM that change while the loop works, the
 * way a second vCPU of the VM may rewrite a PTE during the port access.
 * Every byte must go through the translation made before that access;
 * a PTE that now points outside RAM or at nothing must end the loop
 * cleanly (a stop or a #PF), never a write through NULL or to the new
 * target. RAM is one heap buffer: a stray access trips AddressSanitizer. */
#include <stdlib.h>
#include <string.h>
#include <cg/errno.h>
#include "check.h"
#include "arch/x86/vmx/io_string.h"

#define RAM_SIZE (4 * MIB)
#define P (1u << 0)
#define RW (1u << 1)
#define CR0_PG (1ull << 31)
#define CR0_WP (1ull << 16)

#define PD 0x1000u
#define PT 0x2000u
#define PAGE_A 0x100000u
#define PAGE_B 0x200000u
#define PAGE_C 0x300000u
#define OUTSIDE 0xF0000000u /* no RAM there */
#define GLA 0x10000u        /* PTE 0x10 */
#define PTE(gla) (PT + (((gla) >> 12) & 0x3FF) * 4)

static u8 *ram;

static const void *ram_map(const struct guest_mem *gm, u64 gpa, u64 len)
{
	(void)gm;
	if (gpa > RAM_SIZE || len > RAM_SIZE - gpa)
		return NULL;
	return ram + gpa;
}

static const struct guest_mem gm = { ram_map, NULL };
static const struct guest_paging pg = { .cr0 = CR0_PG | CR0_WP, .cr3 = PD };

static void set_pte(u32 gla, u32 value)
{
	memcpy(ram + PTE(gla), &value, 4);
}

static void reset_ram(void)
{
	memset(ram, 0, RAM_SIZE);
	u32 pde = PT | P | RW;
	memcpy(ram + PD, &pde, 4);
	set_pte(GLA, PAGE_A | P | RW);
	set_pte(GLA + 0x1000, PAGE_C | P | RW);
}

/* The "other vCPU": what the PTE of GLA becomes during each port access,
 * cycling through targets[]. */
static const u32 *targets;
static u32 ntargets, port_calls;
static u32 out_vals[16];

static enum io_string_port_result port_retarget(void *ctx, bool in, u32 size, u32 *val)
{
	(void)ctx;
	(void)size;
	if (in)
		*val = 0x40 + port_calls;
	else if (port_calls < 16)
		out_vals[port_calls] = *val;
	if (ntargets)
		set_pte(GLA, targets[port_calls % ntargets]);
	port_calls++;
	return IO_STRING_PORT_OK;
}

static struct io_string_result run(u32 gla, s64 step, u64 count, u32 size, bool in,
				   const u32 *t, u32 nt)
{
	struct io_string s = { gla, step, count, size, in, NULL };
	targets = t;
	ntargets = nt;
	port_calls = 0;
	return io_string_run(&s, &gm, &pg, port_retarget, NULL);
}

static void test_retarget_to_ram(void)
{
	/* Each element must land where the PTE pointed when it was walked,
	 * though the PTE flips between A and B during every port access. */
	reset_ram();
	u32 t[] = { PAGE_B | P | RW, PAGE_A | P | RW };
	struct io_string_result r = run(GLA + 0x10, 1, 6, 1, true, t, 2);
	CHECK(r.end == IO_STRING_DONE && r.done == 6, "six elements");
	for (u32 k = 0; k < 6; k++) {
		u32 home = (k % 2 == 0) ? PAGE_A : PAGE_B, other = home ^ PAGE_A ^ PAGE_B;
		CHECK(ram[home + 0x10 + k] == 0x40 + k, "element written through its own walk");
		CHECK(ram[other + 0x10 + k] == 0, "nothing written to the new target");
	}
}

static void test_retarget_outside_ram(void)
{
	/* The PTE points outside RAM once the first IN has happened: the
	 * first byte lands in A, the second element stops the VM cleanly. */
	reset_ram();
	u32 t[] = { OUTSIDE | P | RW };
	struct io_string_result r = run(GLA + 0x20, 1, 4, 1, true, t, 1);
	CHECK(r.end == IO_STRING_BAD_MEMORY && r.done == 1, "stop at the element outside RAM");
	CHECK(ram[PAGE_A + 0x20] == 0x40, "the first element went to A");
	CHECK(port_calls == 1, "no port access for an element that cannot land");
}

static void test_retarget_not_present(void)
{
	/* Not present after the first IN: a #PF for a write at the second
	 * element's address; the first element stays done. */
	reset_ram();
	u32 t[] = { PAGE_A };
	struct io_string_result r = run(GLA + 0x30, 1, 4, 1, true, t, 1);
	CHECK(r.end == IO_STRING_FAULT && r.done == 1, "#PF at the second element");
	CHECK(r.fault_gla == GLA + 0x31 && r.fault_error == PF_ERR_WRITE, "#PF address and code");
	CHECK(ram[PAGE_A + 0x30] == 0x40, "the first element went to A");
}

static void test_read_only(void)
{
	/* INS into a read-only page with CR0.WP: #PF, present and write. */
	reset_ram();
	set_pte(GLA, PAGE_A | P);
	struct io_string_result r = run(GLA, 1, 2, 1, true, NULL, 0);
	CHECK(r.end == IO_STRING_FAULT && r.done == 0 && r.fault_error == (PF_ERR_PRESENT | PF_ERR_WRITE),
	      "#PF on a read-only page");
	CHECK(port_calls == 0, "the port is not read for an element that cannot land");
}

static void test_outs_straddle(void)
{
	/* OUTSW of an element straddling A's last byte and C's first: each
	 * half from its own page; then DF=1 going down within A. */
	reset_ram();
	ram[PAGE_A + 0xFFF] = 0x34;
	ram[PAGE_C + 0x000] = 0x12;
	ram[PAGE_A + 0xFFD] = 0x78;
	ram[PAGE_A + 0xFFE] = 0x56;
	struct io_string_result r = run(GLA + 0xFFF, -2, 2, 2, false, NULL, 0);
	CHECK(r.end == IO_STRING_DONE && r.done == 2, "two words out");
	CHECK(out_vals[0] == 0x1234 && out_vals[1] == 0x5678, "straddling word, then backwards");
}

static void test_limits(void)
{
	reset_ram();
	CHECK(run(GLA, 1, 0, 1, true, NULL, 0).done == 0 && port_calls == 0, "count 0: nothing");
	CHECK(run(GLA, 1, 1, 3, true, NULL, 0).end == IO_STRING_DONE, "3 bytes is a size the loop takes");
	CHECK(run(GLA, 1, 1, 0, true, NULL, 0).end == IO_STRING_BAD_MEMORY && port_calls == 0, "size 0 refused");
	CHECK(run(GLA, 1, 1, 8, true, NULL, 0).end == IO_STRING_BAD_MEMORY && port_calls == 0, "size 8 refused");
	/* Walking off the mapped pages: a #PF at the first unmapped byte. */
	struct io_string_result r = run(GLA + 0x1FFE, 1, 4096, 1, true, NULL, 0);
	CHECK(r.end == IO_STRING_FAULT && r.done == 2 && r.fault_gla == GLA + 0x2000, "#PF past the mapping");
	/* Tables outside RAM: a stop, not a fault. */
	struct guest_paging bad = { .cr0 = CR0_PG, .cr3 = 0x7FFFF000 };
	struct io_string s = { GLA, 1, 1, 1, true, NULL };
	CHECK(io_string_run(&s, &gm, &bad, port_retarget, NULL).end == IO_STRING_BAD_MEMORY,
	      "page directory outside RAM");
}

/* DR7 for breakpoint n: L<n>, R/W<n>, LEN<n> (bp_match.h) */
static u64 dr7_bp(u32 n, u32 rw, u32 len)
{
	return (1ULL << (2 * n)) | ((u64)rw << (16 + 4 * n)) | ((u64)len << (18 + 4 * n));
}

static struct io_string_result run_watched(u32 gla, s64 step, u64 count, u32 size, bool in,
					   const struct bp_regs *bp)
{
	struct io_string s = { gla, step, count, size, in, bp };
	targets = NULL;
	ntargets = 0;
	port_calls = 0;
	return io_string_run(&s, &gm, &pg, port_retarget, NULL);
}

static void test_watched(void)
{
	/* REP INSB of 4 with a 1-byte write breakpoint on the 3rd byte: the
	 * loop ends after that element, as the CPU traps after the iteration
	 * (SDM Vol 3A 17.3.1.2); the registers advance by 3. */
	reset_ram();
	struct bp_regs bp = { { GLA + 2, 0, 0, 0 }, dr7_bp(0, DR7_RW_WRITE, 0), false };
	struct io_string_result r = run_watched(GLA, 1, 4, 1, true, &bp);
	CHECK(r.end == IO_STRING_WATCHED && r.done == 3 && r.bp_hits == 1, "stop after the hit");
	CHECK(port_calls == 3 && ram[PAGE_A + 2] == 0x42 && ram[PAGE_A + 3] == 0,
	      "the hit element moved, the next one not");
	/* OUTS reads memory: a write-only breakpoint does not see it, a
	 * read/write one does (element 1 of words at GLA: bytes 2-3). */
	reset_ram();
	bp.dr[1] = GLA + 3;
	bp.dr7 = dr7_bp(0, DR7_RW_WRITE, 0) | dr7_bp(1, DR7_RW_RW, 0);
	r = run_watched(GLA, 2, 4, 2, false, &bp);
	CHECK(r.end == IO_STRING_WATCHED && r.done == 2 && r.bp_hits == 2,
	      "OUTSW: read/write breakpoint on the 2nd word's high byte");
	/* Going down (DF = 1): words at +6, +4, +2, +0; DR1 (+3) is in the
	 * third. */
	reset_ram();
	bp.dr7 = dr7_bp(1, DR7_RW_RW, 0);
	r = run_watched(GLA + 6, -2, 4, 2, true, &bp);
	CHECK(r.end == IO_STRING_WATCHED && r.done == 3 && r.bp_hits == 2, "DF = 1: the third word");
	/* A breakpoint outside the elements, or none enabled: all done. */
	reset_ram();
	bp.dr[1] = GLA + 0x100;
	r = run_watched(GLA, 1, 4, 1, true, &bp);
	CHECK(r.end == IO_STRING_DONE && r.done == 4 && r.bp_hits == 0, "no hit: all four");
	bp.dr7 = 0x400;
	bp.dr[1] = GLA;
	r = run_watched(GLA, 1, 4, 1, true, &bp);
	CHECK(r.end == IO_STRING_DONE && r.done == 4, "nothing enabled: all four");
}

int main(void)
{
	ram = malloc(RAM_SIZE);
	if (!ram)
		return 2;
	test_retarget_to_ram();
	test_retarget_outside_ram();
	test_retarget_not_present();
	test_read_only();
	test_outs_straddle();
	test_limits();
	test_watched();
	free(ram);
	return check_summary();
}
