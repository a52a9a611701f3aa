/* Debug-register breakpoints against the monitor's emulated accesses
 * (bp_match.h). */
#include "arch/x86/vmx/bp_match.h"

/* LEN<n> to bytes (SDM Vol 3A 17.2.5): 10 is 8 bytes on processors with
 * Intel 64, in every mode. */
static const u8 bp_len_bytes[4] = { 1, 2, 8, 4 };

static bool bp_type_covers(u32 rw, enum bp_access acc, bool cr4_de)
{
	switch (acc) {
	case BP_DATA_WRITE:
		return rw == DR7_RW_WRITE || rw == DR7_RW_RW;
	case BP_DATA_READ:
		return rw == DR7_RW_RW;
	case BP_IO:
		return rw == DR7_RW_IO && cr4_de;
	}
	return false;
}

u32 bp_match(const struct bp_regs *r, enum bp_access acc, u64 addr, u32 size)
{
	if (!(r->dr7 & DR7_ENABLE_MASK))
		return 0;
	if (size == 0)
		size = 1;
	if (size > 8)
		size = 8;
	/* Last byte accessed; an access cannot wrap past the top of the
	 * address space (it would not be canonical). */
	u64 last = addr + (size - 1);
	if (last < addr)
		last = ~0ULL;
	u32 hits = 0;
	for (u32 n = 0; n < 4; n++) {
		if (!((r->dr7 >> (2 * n)) & 3))
			continue;
		if (!bp_type_covers((u32)DR7_RW(r->dr7, n), acc, r->cr4_de))
			continue;
		u64 len = bp_len_bytes[DR7_LEN(r->dr7, n)];
		u64 base = r->dr[n] & ~(len - 1);
		if (addr <= base + (len - 1) && base <= last)
			hits |= 1U << n;
	}
	return hits;
}
