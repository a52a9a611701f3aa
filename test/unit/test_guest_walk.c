/* guest_walk: page tables built by hand in a fake guest RAM for each paging
 * mode (32-bit with 4K/4M pages, PAE with 4K/2M, 4-level with 4K/2M/1G),
 * then translations, not-present, reserved bits, WP, NX, tables outside
 * RAM, and guest_read across pages. RAM is one heap buffer, so a walker
 * that strays outside it trips AddressSanitizer. */
#include <stdlib.h>
#include <string.h>
#include <cg/errno.h>
#include "check.h"
#include "arch/x86/vmx/guest_walk.h"

#define RAM_SIZE (16 * MIB)

#define P (1ull << 0)
#define RW (1ull << 1)
#define PS (1ull << 7)
#define XD (1ull << 63)

#define CR0_PG (1ull << 31)
#define CR0_WP (1ull << 16)
#define CR4_PSE (1ull << 4)
#define CR4_PAE (1ull << 5)
#define CR4_LA57 (1ull << 12)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

static u8 *ram;

static const void *ram_map(const struct guest_mem *gm, u64 gpa, u64 len)
{
	u8 *base = gm->ctx;

	if (gpa > RAM_SIZE || len > RAM_SIZE - gpa)
		return NULL;
	return base + gpa;
}

static struct guest_mem gm = { ram_map, NULL };

static void put32(u64 gpa, u32 v)
{
	memcpy(ram + gpa, &v, 4);
}

static void put64(u64 gpa, u64 v)
{
	memcpy(ram + gpa, &v, 8);
}

/* Translation result, with ~0 when the walk failed. */
static int walk(const struct guest_paging *p, u64 gla, enum walk_access acc, u64 *gpa)
{
	*gpa = ~0ull;
	return guest_walk(&gm, p, gla, acc, gpa);
}

static bool maps_to(const struct guest_paging *p, u64 gla, enum walk_access acc, u64 want)
{
	u64 gpa;

	return walk(p, gla, acc, &gpa) == 0 && gpa == want;
}

static int walk_rc(const struct guest_paging *p, u64 gla, enum walk_access acc)
{
	u64 gpa;
	int rc = walk(p, gla, acc, &gpa);

	/* A failed walk must leave *gpa alone. */
	return rc && gpa != ~0ull ? 99 : rc;
}

static void test_nopaging(void)
{
	struct guest_paging p = { .cr0 = 0, .cr3 = 0x1234000 };

	CHECK(maps_to(&p, 0xFEE00020, WALK_WRITE, 0xFEE00020), "paging off: identity");
	CHECK(maps_to(&p, 0x1FEE00020ull, WALK_READ, 0xFEE00020), "paging off: 32-bit linear");
}

static void test_32bit(void)
{
	struct guest_paging p = { .cr0 = CR0_PG | CR0_WP, .cr3 = 0x1000, .cr4 = CR4_PSE };

	memset(ram, 0, RAM_SIZE);
	put32(0x1000 + 0 * 4, 0x2000 | P | RW);
	put32(0x2000 + 5 * 4, 0x345000 | P | RW);
	put32(0x2000 + 6 * 4, 0x346000 | P);
	put32(0x1000 + 1 * 4, 0xC00000 | PS | P | RW);
	put32(0x1000 + 2 * 4, 0x800000 | (3u << 13) | PS | P | RW);
	put32(0x1000 + 3 * 4, 0xC00000 | (1u << 21) | PS | P | RW);
	put32(0x1000 + 4 * 4, 0x7FFFF000 | P | RW);
	put32(0x1000 + 5 * 4, 0x400000 | PS | P);

	CHECK(maps_to(&p, 0x5123, WALK_READ, 0x345123), "32-bit: 4K page");
	CHECK(maps_to(&p, 0x100005123ull, WALK_READ, 0x345123), "32-bit: gla bits 63:32 ignored");
	CHECK(maps_to(&p, 0x6FFF, WALK_READ, 0x346FFF), "32-bit: read-only page readable");
	CHECK(walk_rc(&p, 0x6000, WALK_WRITE) == -CG_ERANGE, "32-bit: WP write to read-only");
	CHECK(maps_to(&p, 0x6000, WALK_FETCH, 0x346000), "32-bit: no XD, fetch allowed");
	CHECK(walk_rc(&p, 0x7000, WALK_READ) == -CG_ENOENT, "32-bit: PTE not present");
	CHECK(walk_rc(&p, 0x3FF000, WALK_READ) == -CG_ENOENT, "32-bit: last PTE not present");
	CHECK(walk_rc(&p, 0xFFC00000, WALK_READ) == -CG_ENOENT, "32-bit: PDE not present");
	CHECK(maps_to(&p, 0x401234, WALK_WRITE, 0xC01234), "32-bit: 4M page");
	CHECK(maps_to(&p, 0x800010, WALK_READ, 0x300800010ull), "32-bit: PSE-36 high bits");
	CHECK(walk_rc(&p, 0xC00000, WALK_READ) == -CG_EINVAL, "32-bit: 4M PDE bit 21 reserved");
	CHECK(walk_rc(&p, 0x1000000, WALK_READ) == -CG_EINVAL, "32-bit: page table outside RAM");
	CHECK(walk_rc(&p, 0x1400000, WALK_WRITE) == -CG_ERANGE, "32-bit: WP on read-only 4M");
	p.cr0 &= ~CR0_WP;
	CHECK(maps_to(&p, 0x6010, WALK_WRITE, 0x346010), "32-bit: WP=0 write allowed");
	CHECK(maps_to(&p, 0x1400010, WALK_WRITE, 0x400010), "32-bit: WP=0 write to 4M");
	/* Without CR4.PSE, PS is ignored: the PDE names a page table, here
	 * zeroed RAM at 0xC00000, so the walk finds a not-present PTE. */
	p.cr4 = 0;
	CHECK(walk_rc(&p, 0x401234, WALK_READ) == -CG_ENOENT, "32-bit: PSE off ignores PS");
}

static void test_pae(void)
{
	struct guest_paging p = { .cr0 = CR0_PG | CR0_WP, .cr3 = 0x3020, .cr4 = CR4_PAE,
				  .efer = EFER_NXE };

	memset(ram, 0, RAM_SIZE);
	/* PDPT at 0x3020 (32-byte aligned, CR3 bits 31:5). */
	put64(0x3020 + 0 * 8, 0x4000 | P);
	put64(0x3020 + 2 * 8, 0x4000 | P | RW); /* bit 1 is reserved in a PDPTE */
	put64(0x3020 + 3 * 8, 0x6000 | P);
	put64(0x4000 + 0 * 8, 0x5000 | P | RW);
	put64(0x5000 + 1 * 8, 0x678000 | P | RW | XD);
	put64(0x5000 + 2 * 8, 0x679000 | P | RW);
	put64(0x4000 + 1 * 8, 0xA00000 | PS | P | RW);
	put64(0x4000 + 2 * 8, 0xA00000 | 0x1000 | PS | P);
	put64(0x4000 + 3 * 8, 0xA00000 | 0x2000 | PS | P);
	put64(0x4000 + 4 * 8, 0xA00000 | (1ull << 52) | PS | P);
	put64(0x4000 + 5 * 8, 0x100000000ull | PS | P);
	put64(0x6000 + 0 * 8, 0x7000 | P);
	put64(0x7000 + 0 * 8, 0x123000 | P | RW);

	CHECK(maps_to(&p, 0x2ABC, WALK_WRITE, 0x679ABC), "PAE: 4K page");
	CHECK(maps_to(&p, 0x1ABC, WALK_READ, 0x678ABC), "PAE: XD page readable");
	CHECK(walk_rc(&p, 0x1ABC, WALK_FETCH) == -CG_ERANGE, "PAE: fetch from XD page");
	CHECK(maps_to(&p, 0x2ABC, WALK_FETCH, 0x679ABC), "PAE: fetch from executable page");
	CHECK(walk_rc(&p, 0x3000, WALK_READ) == -CG_ENOENT, "PAE: PTE not present");
	CHECK(maps_to(&p, 0x212345, WALK_WRITE, 0xA12345), "PAE: 2M page");
	CHECK(maps_to(&p, 0x400005, WALK_READ, 0xA00005), "PAE: 2M page, bit 12 is PAT");
	CHECK(walk_rc(&p, 0x600000, WALK_READ) == -CG_EINVAL, "PAE: 2M bit 13 reserved");
	CHECK(walk_rc(&p, 0x800000, WALK_READ) == -CG_EINVAL, "PAE: bit 52 reserved");
	CHECK(maps_to(&p, 0xA00000, WALK_READ, 0x100000000ull), "PAE: 2M page above 4G");
	CHECK(walk_rc(&p, 0xC00000, WALK_READ) == -CG_ENOENT, "PAE: PDE not present");
	CHECK(walk_rc(&p, 0x40000000, WALK_READ) == -CG_ENOENT, "PAE: PDPTE not present");
	CHECK(walk_rc(&p, 0x80000000, WALK_READ) == -CG_EINVAL, "PAE: PDPTE bit 1 reserved");
	CHECK(maps_to(&p, 0xC0000010, WALK_READ, 0x123010), "PAE: PDPTE 3");
	CHECK(walk_rc(&p, 0xC0000010, WALK_WRITE) == -CG_ERANGE, "PAE: read-only PDE, WP");
	p.cr0 &= ~CR0_WP;
	CHECK(maps_to(&p, 0xC0000010, WALK_WRITE, 0x123010), "PAE: WP=0");
	/* Without NXE bit 63 is reserved, not XD. */
	p.efer = 0;
	CHECK(walk_rc(&p, 0x1ABC, WALK_READ) == -CG_EINVAL, "PAE: XD without NXE reserved");
	CHECK(maps_to(&p, 0x2ABC, WALK_FETCH, 0x679ABC), "PAE: fetch without NXE");
	/* A PDPT outside RAM. */
	p.cr3 = 0xFFFFF000;
	CHECK(walk_rc(&p, 0, WALK_READ) == -CG_EINVAL, "PAE: PDPT outside RAM");
}

/* 4-level tables shared by the 4-level tests and guest_read. */
static void build_4level(void)
{
	memset(ram, 0, RAM_SIZE);
	put64(0x10000 + 0 * 8, 0x11000 | P | RW);
	put64(0x10000 + 1 * 8, 0x11000 | PS | P | RW);   /* PS reserved in PML4E */
	put64(0x10000 + 2 * 8, 0x15000 | P | RW | XD);
	put64(0x10000 + 3 * 8, 0x800000000ull | P | RW); /* PDPT outside RAM */
	put64(0x10000 + 511 * 8, 0x14000 | P | RW);
	put64(0x11000 + 0 * 8, 0x12000 | P | RW);
	put64(0x11000 + 1 * 8, 0x140000000ull | PS | P | RW);
	put64(0x11000 + 2 * 8, 0x140000000ull | 0x2000 | PS | P | RW);
	put64(0x12000 + 0 * 8, 0x13000 | P | RW);
	put64(0x12000 + 1 * 8, 0x600000 | PS | P);
	put64(0x13000 + 0 * 8, 0x200000 | P | RW);
	put64(0x13000 + 1 * 8, 0x300000 | P | RW);
	put64(0x13000 + 2 * 8, 0x301000 | P | RW);
	put64(0x13000 + 4 * 8, 0xFEE00000 | P | RW);     /* MMIO: not RAM */
	put64(0x14000 + 511 * 8, 0 | PS | P | RW);
	put64(0x15000 + 0 * 8, 0x80000000ull | PS | P | RW);
}

static void test_4level(void)
{
	struct guest_paging p = { .cr0 = CR0_PG | CR0_WP, .cr3 = 0x10000, .cr4 = CR4_PAE,
				  .efer = EFER_LMA | EFER_NXE };
	u64 gpa;

	build_4level();
	CHECK(maps_to(&p, 0x10, WALK_WRITE, 0x200010), "4-level: 4K page");
	CHECK(maps_to(&p, 0x4FEE, WALK_READ, 0xFEE00FEE), "4-level: MMIO page translates");
	CHECK(walk_rc(&p, 0x3000, WALK_READ) == -CG_ENOENT, "4-level: PTE not present");
	CHECK(maps_to(&p, 0x200042, WALK_READ, 0x600042), "4-level: 2M page");
	CHECK(walk_rc(&p, 0x200042, WALK_WRITE) == -CG_ERANGE, "4-level: 2M read-only, WP");
	CHECK(maps_to(&p, 0x41234567, WALK_WRITE, 0x141234567ull), "4-level: 1G page");
	CHECK(walk_rc(&p, 0x80000000, WALK_READ) == -CG_EINVAL, "4-level: 1G bit 13 reserved");
	CHECK(walk_rc(&p, 0xC0000000, WALK_READ) == -CG_ENOENT, "4-level: PDPTE not present");
	CHECK(maps_to(&p, 0xFFFFFFFFC0001000ull, WALK_FETCH, 0x1000), "4-level: top of space");
	CHECK(walk_rc(&p, 0x0000800000000000ull, WALK_READ) == -CG_EINVAL, "4-level: non-canonical");
	CHECK(walk_rc(&p, 0xFFFF7FFFFFFFFFFFull, WALK_READ) == -CG_EINVAL, "4-level: non-canonical high");
	CHECK(walk_rc(&p, 0xFFFF800000000000ull, WALK_READ) == -CG_ENOENT, "4-level: canonical high");
	CHECK(walk_rc(&p, 1ull << 39, WALK_READ) == -CG_EINVAL, "4-level: PML4E PS reserved");
	CHECK(maps_to(&p, 2ull << 39, WALK_READ, 0x80000000ull), "4-level: XD at PML4, read");
	CHECK(walk_rc(&p, 2ull << 39, WALK_FETCH) == -CG_ERANGE, "4-level: XD at PML4, fetch");
	CHECK(walk_rc(&p, 3ull << 39, WALK_READ) == -CG_EINVAL, "4-level: PDPT outside RAM");
	CHECK(walk_rc(&p, 4ull << 39, WALK_READ) == -CG_ENOENT, "4-level: PML4E not present");
	/* CR3 low bits (PCID, PWT/PCD) are not part of the address. */
	p.cr3 = 0x10000 | 0x18 | 0x5;
	CHECK(maps_to(&p, 0x10, WALK_READ, 0x200010), "4-level: CR3 flag bits ignored");
	p.efer = EFER_LMA;
	CHECK(walk_rc(&p, 2ull << 39, WALK_READ) == -CG_EINVAL, "4-level: XD without NXE");
	CHECK(maps_to(&p, 0x10, WALK_FETCH, 0x200010), "4-level: fetch without NXE");
	p.cr0 &= ~CR0_WP;
	CHECK(maps_to(&p, 0x200042, WALK_WRITE, 0x600042), "4-level: WP=0");
	p.cr4 |= CR4_LA57;
	CHECK(walk_rc(&p, 0x10, WALK_READ) == -CG_ENOTSUP, "5-level paging refused");
	p.cr4 = 0;
	CHECK(walk_rc(&p, 0x10, WALK_READ) == -CG_EINVAL, "LMA without PAE refused");
	p.cr4 = CR4_PAE;
	p.cr3 = RAM_SIZE;
	CHECK(walk(&p, 0x10, WALK_READ, &gpa) == -CG_EINVAL, "4-level: PML4 outside RAM");
}

static void test_read(void)
{
	struct guest_paging p = { .cr0 = CR0_PG | CR0_WP, .cr3 = 0x10000, .cr4 = CR4_PAE,
				  .efer = EFER_LMA | EFER_NXE };
	u8 out[0x2010], want[0x2010];

	build_4level();
	/* Linear pages 0, 1, 2 map to frames 0x200000, 0x300000, 0x301000. */
	for (u32 i = 0; i < 0x1000; i++) {
		ram[0x200000 + i] = (u8)(i * 7 + 1);
		ram[0x300000 + i] = (u8)(i * 13 + 5);
		ram[0x301000 + i] = (u8)(i * 3 + 9);
	}
	memcpy(want, ram + 0x200FF8, 8);
	memcpy(want + 8, ram + 0x300000, 8);
	memset(out, 0, sizeof(out));
	CHECK(guest_read(&gm, &p, 0xFF8, out, 16) == 0 && !memcmp(out, want, 16),
	      "read across a page boundary");

	memcpy(want, ram + 0x200FF0, 0x10);
	memcpy(want + 0x10, ram + 0x300000, 0x1000);
	memcpy(want + 0x1010, ram + 0x301000, 0x1000);
	CHECK(guest_read(&gm, &p, 0xFF0, out, 0x2010) == 0 && !memcmp(out, want, 0x2010),
	      "read across three pages");
	CHECK(guest_read(&gm, &p, 0x1000, out, 0x1000) == 0 && !memcmp(out, ram + 0x300000, 0x1000),
	      "read one whole page");
	CHECK(guest_read(&gm, &p, 0x2FFF, out, 2) == -CG_ENOENT, "read into a not-present page");
	CHECK(guest_read(&gm, &p, 0x4000, out, 4) == -CG_EINVAL, "read from MMIO (not RAM)");
	CHECK(guest_read(&gm, &p, 0x3000, out, 0) == 0, "empty read touches nothing");
	/* 32-bit paging wraps at 4 GiB like the CPU does. */
	struct guest_paging q = { .cr0 = CR0_PG, .cr3 = 0x1000 };
	memset(ram, 0, 0x3000);
	put32(0x1000, 0x2000 | P);
	put32(0x1000 + 1023 * 4, 0x2000 | P);
	put32(0x2000, 0x5000 | P);
	put32(0x2000 + 1023 * 4, 0x6000 | P);
	ram[0x6FFF] = 0xAA;
	ram[0x5000] = 0xBB;
	CHECK(guest_read(&gm, &q, 0xFFFFFFFF, out, 2) == 0 && out[0] == 0xAA && out[1] == 0xBB,
	      "32-bit read wraps at 4 GiB");
}

int main(void)
{
	ram = calloc(1, RAM_SIZE);
	if (!ram)
		abort();
	gm.ctx = ram;
	test_nopaging();
	test_32bit();
	test_pae();
	test_4level();
	test_read();
	free(ram);
	return check_summary();
}
