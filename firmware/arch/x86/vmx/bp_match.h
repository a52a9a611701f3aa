/* Debug-register breakpoints against the accesses the monitor performs
 * for a guest: an MMIO load or store it emulates, a port access, the
 * memory side of INS/OUTS. The CPU never sees those accesses (they end
 * in a VM exit before they happen), so the monitor matches them against
 * the guest's DR0-DR3/DR7 itself, as the CPU would have (SDM Vol 3A
 * 17.2.4 DR7, 17.2.5 breakpoint fields, 17.3.1.2 data and I/O
 * breakpoints). A pure function of its arguments: the host tests
 * (test/unit/test_debug.c) run it as the monitor does. */
#ifndef X86_BP_MATCH_H
#define X86_BP_MATCH_H

#include <cg/types.h>

/* DR7 (SDM Vol 3A 17.2.4): L<n> and G<n> in bits 2n and 2n+1, R/W<n> in
 * bits 16+4n..17+4n, LEN<n> in bits 18+4n..19+4n. */
#define DR7_ENABLE_MASK 0xFFULL
#define DR7_RW(dr7, n) (((dr7) >> (16 + 4 * (n))) & 3)
#define DR7_LEN(dr7, n) (((dr7) >> (18 + 4 * (n))) & 3)
/* R/W<n> encodings */
#define DR7_RW_EXEC 0  /* instruction fetch */
#define DR7_RW_WRITE 1 /* data writes */
#define DR7_RW_IO 2    /* I/O reads and writes, with CR4.DE = 1 (else undefined) */
#define DR7_RW_RW 3    /* data reads and writes, not fetches */

/* What the monitor did for the guest. */
enum bp_access {
	BP_DATA_READ,  /* a load from a linear address */
	BP_DATA_WRITE, /* a store to a linear address */
	BP_IO,         /* IN or OUT (one INS/OUTS element) at a port */
};

/* The guest's breakpoint registers, as they are when the access happens. */
struct bp_regs {
	u64 dr[4];   /* DR0-DR3: linear addresses, or ports for I/O breakpoints */
	u64 dr7;
	bool cr4_de; /* CR4.DE: R/W = 10 means I/O (SDM Vol 3A 2.5, 17.2.4) */
};

/* bp_match: DR6's B0-B3 for an access of `size` bytes (1..8; 0 counts as
 * 1) at addr (a linear address, or a port for BP_IO): bit n set when
 * breakpoint n is enabled (L<n> or G<n>), its R/W type covers the access
 * (writes: 01 or 11; reads: 11; ports: 10 with CR4.DE) and its range
 * overlaps the accessed bytes. The range is LEN<n> bytes (00: 1, 01: 2,
 * 11: 4, 10: 8) at DR<n> with its low bits ignored, as the CPU aligns it
 * (17.2.5). Breakpoints that are not enabled never match (their B bits
 * "may or may not" be set, 17.2.3: the monitor leaves them clear). Never
 * fails; bounded (four comparisons). */
u32 bp_match(const struct bp_regs *r, enum bp_access acc, u64 addr, u32 size);

#endif
