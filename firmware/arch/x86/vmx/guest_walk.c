/* Guest page-table walker (SDM Vol 3A chapter 4). The tables are guest
 * memory and therefore untrusted: every entry is read through gm->map, and a
 * table address outside guest RAM is an error, never a host access.
 *
 * Accessed and dirty bits are not set. The walker serves instruction
 * emulation after an exit: the CPU has just fetched that instruction and
 * started its access through these same tables, setting the A bits on the
 * way (4.8), so the guest's view of "accessed" is already right. The
 * emulated access itself goes to an MMIO page, whose D bit no guest uses to
 * decide what to write back. Writing guest tables would also race with the
 * guest's own updates on other CPUs, which only locked RMWs could make safe.
 *
 * MAXPHYADDR is taken as 52 (the architectural maximum, 4.1.4) since the
 * guest's CPUID is not part of the input: reserved bits between the real
 * MAXPHYADDR and 51 are not reported as such, but an address using them
 * lies outside guest RAM, so gm->map still refuses it. The same EINVAL. */
#include <cg/errno.h>
#include <cg/string.h>
#include "arch/x86/vmx/guest_walk.h"

#define CR0_WP (1ull << 16)
#define CR0_PG (1ull << 31)
#define CR4_PSE (1ull << 4)
#define CR4_PAE (1ull << 5)
#define CR4_LA57 (1ull << 12)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_PS (1ull << 7)
#define PTE_XD (1ull << 63)

/* Bits 51:12: a 4 KiB-aligned physical address in a 64-bit entry. */
#define PTE_ADDR 0x000FFFFFFFFFF000ull

/* What the levels crossed so far allow (4.6.1): a write needs R/W at every
 * level, a fetch is refused if any level has XD. */
struct walk_rights {
	bool writable;
	bool xd;
};

/* Read one entry of entry_size (4 or 8) bytes at gpa. One volatile load:
 * the guest may rewrite its tables concurrently, and each entry must be
 * judged on a single value. Table addresses are aligned, so the load is
 * too. Returns 0 or -CG_EINVAL when gpa is not guest RAM. */
static int walk_entry(const struct guest_mem *gm, u64 gpa, unsigned entry_size, u64 *e)
{
	const void *p = gm->map(gm, gpa, entry_size);

	if (!p)
		return -CG_EINVAL;
	*e = entry_size == 8 ? *(const volatile u64 *)p : *(const volatile u32 *)p;
	return 0;
}

/* Access check on the combined rights (4.6): supervisor writes honour R/W
 * only with CR0.WP=1, XD only exists with EFER.NXE=1. */
static int walk_check(const struct guest_paging *p, const struct walk_rights *r,
		      enum walk_access acc)
{
	if (acc == WALK_WRITE && (p->cr0 & CR0_WP) && !r->writable)
		return -CG_ERANGE;
	if (acc == WALK_FETCH && (p->efer & EFER_NXE) && r->xd)
		return -CG_ERANGE;
	return 0;
}

static void walk_note(struct walk_rights *r, u64 e)
{
	if (!(e & PTE_RW))
		r->writable = false;
	if (e & PTE_XD)
		r->xd = true;
}

/* 32-bit paging (4.3): two levels of 4-byte entries, 4 MiB pages when
 * CR4.PSE=1 and PDE.PS=1, with PSE-36 address bits 39:32 in PDE bits 20:13
 * (Table 4-4); PDE bit 21 is then reserved. No reserved bits otherwise. */
static int walk_32(const struct guest_mem *gm, const struct guest_paging *p, u32 gla,
		   struct walk_rights *r, u64 *gpa)
{
	u64 pde, pte;
	int err;

	if ((err = walk_entry(gm, (p->cr3 & 0xFFFFF000u) + (gla >> 22) * 4, 4, &pde)))
		return err;
	if (!(pde & PTE_P))
		return -CG_ENOENT;
	walk_note(r, pde);
	if ((p->cr4 & CR4_PSE) && (pde & PTE_PS)) {
		if (pde & (1u << 21))
			return -CG_EINVAL;
		*gpa = (pde & 0xFFC00000u) | ((pde >> 13) & 0xFF) << 32 | (gla & 0x3FFFFFu);
		return 0;
	}
	if ((err = walk_entry(gm, (pde & 0xFFFFF000u) + ((gla >> 12) & 0x3FF) * 4, 4, &pte)))
		return err;
	if (!(pte & PTE_P))
		return -CG_ENOENT;
	walk_note(r, pte);
	*gpa = (pte & 0xFFFFF000u) | (gla & 0xFFFu);
	return 0;
}

/* The 8-byte-entry levels shared by PAE (levels 2..1) and 4-level paging
 * (levels 4..1): level n indexes gla bits 12+9n-1 : 12+9(n-1). rsvd holds
 * the bits reserved in every entry of the mode (XD without NXE; 62:52 in
 * PAE). A PS leaf at level 3 (1 GiB) or 2 (2 MiB) has bits shift-1:13
 * reserved, bit 12 being PAT; PS is reserved in a PML4E (Tables 4-15..4-20,
 * 4-9..4-11). */
static int walk_levels(const struct guest_mem *gm, u64 table, u64 gla, int level, u64 rsvd,
		       struct walk_rights *r, u64 *gpa)
{
	for (;; level--) {
		unsigned shift = 12 + 9 * (unsigned)(level - 1);
		u64 e, bad = rsvd;
		int err;

		if ((err = walk_entry(gm, table + ((gla >> shift) & 511) * 8, 8, &e)))
			return err;
		if (!(e & PTE_P))
			return -CG_ENOENT;
		bool leaf = level == 1 || ((level == 2 || level == 3) && (e & PTE_PS));
		u64 page_mask = (1ull << shift) - 1;
		if (level == 4)
			bad |= PTE_PS;
		else if (leaf && level > 1)
			bad |= page_mask & ~0x1FFFull;
		if (e & bad)
			return -CG_EINVAL;
		walk_note(r, e);
		if (leaf) {
			*gpa = (e & PTE_ADDR & ~page_mask) | (gla & page_mask);
			return 0;
		}
		table = e & PTE_ADDR;
	}
}

/* PAE paging (4.4): CR3 bits 31:5 locate four PDPTEs, which have no R/W or
 * XD bits and reserve bits 2:1, 8:5 and 63:M (4.4.1, Table 4-8). The CPU
 * uses PDPTE copies loaded at the last CR3 write (with EPT, the VMCS guest
 * PDPTE fields); reading memory instead is equivalent for any guest that
 * reloads CR3 after editing its PDPT, which 4.4.1 requires for the edit to
 * take effect at all. */
static int walk_pae(const struct guest_mem *gm, const struct guest_paging *p, u32 gla,
		    struct walk_rights *r, u64 *gpa)
{
	const u64 pae_rsvd = 0x7FF0000000000000ull | (p->efer & EFER_NXE ? 0 : PTE_XD);
	u64 pdpte;
	int err;

	if ((err = walk_entry(gm, (p->cr3 & 0xFFFFFFE0u) + (gla >> 30) * 8, 8, &pdpte)))
		return err;
	if (!(pdpte & PTE_P))
		return -CG_ENOENT;
	if (pdpte & 0xFFF00000000001E6ull)
		return -CG_EINVAL;
	return walk_levels(gm, pdpte & PTE_ADDR, gla, 2, pae_rsvd, r, gpa);
}

/* 4-level paging (4.5). A non-canonical address (bits 63:47 not all equal)
 * faults with #GP before any walk (3.3.7.1), reported as -CG_EINVAL. */
static int walk_4level(const struct guest_mem *gm, const struct guest_paging *p, u64 gla,
		       struct walk_rights *r, u64 *gpa)
{
	u64 top = (u64)((s64)gla >> 47);

	if (top != 0 && top != ~0ull)
		return -CG_EINVAL;
	return walk_levels(gm, p->cr3 & PTE_ADDR, gla, 4, p->efer & EFER_NXE ? 0 : PTE_XD, r,
			   gpa);
}

int guest_walk(const struct guest_mem *gm, const struct guest_paging *p, u64 gla,
	       enum walk_access acc, u64 *gpa)
{
	struct walk_rights r = { true, false };
	u64 out;
	int err;

	/* Mode selection follows 4.1.1, Table 4-1. */
	if (!(p->cr0 & CR0_PG)) {
		*gpa = (u32)gla;
		return 0;
	}
	if (p->efer & EFER_LMA) {
		/* IA-32e mode without PAE fails VM entry; refuse, don't guess. */
		if (!(p->cr4 & CR4_PAE))
			return -CG_EINVAL;
		if (p->cr4 & CR4_LA57)
			return -CG_ENOTSUP;
		err = walk_4level(gm, p, gla, &r, &out);
	} else if (p->cr4 & CR4_PAE) {
		err = walk_pae(gm, p, (u32)gla, &r, &out);
	} else {
		err = walk_32(gm, p, (u32)gla, &r, &out);
	}
	if (!err)
		err = walk_check(p, &r, acc);
	if (!err)
		*gpa = out;
	return err;
}

int guest_read(const struct guest_mem *gm, const struct guest_paging *p, u64 gla, void *dst,
	       size_t n)
{
	u8 *d = dst;

	while (n) {
		/* Every page size keeps the 4 KiB page offset, so a chunk that
		 * stays inside one 4 KiB linear page is contiguous in gpa. */
		size_t chunk = (size_t)(PAGE_SIZE - (gla & (PAGE_SIZE - 1)));
		const void *src;
		u64 gpa;
		int err;

		if (chunk > n)
			chunk = n;
		if ((err = guest_walk(gm, p, gla, WALK_READ, &gpa)))
			return err;
		if (!(src = gm->map(gm, gpa, chunk)))
			return -CG_EINVAL;
		memcpy(d, src, chunk);
		d += chunk;
		gla += chunk;
		n -= chunk;
	}
	return 0;
}
