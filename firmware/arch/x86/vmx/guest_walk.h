/* Guest-linear to guest-physical translation through the guest's own page
 * tables (SDM Vol 3A chapter 4), for the monitor's instruction emulation:
 * fetching the bytes of an instruction that exited and reading operands. */
#ifndef CG_GUEST_WALK_H
#define CG_GUEST_WALK_H

#include <cg/types.h>

/* Access to guest RAM by guest-physical address. */
struct guest_mem {
	/* Host pointer for [gpa, gpa+len), or NULL if any byte is not guest
	 * RAM (MMIO, holes, past the end). */
	const void *(*map)(const struct guest_mem *gm, u64 gpa, u64 len);
	void *ctx;
};

/* The guest control registers that select and root the paging mode, as
 * read from the VMCS guest-state area. efer must carry LMA. */
struct guest_paging {
	u64 cr0, cr3, cr4, efer;
};

/* The access the translation is for. The monitor emulates supervisor
 * accesses only, so U/S (and with it SMEP/SMAP) is not checked. */
enum walk_access { WALK_READ = 0, WALK_WRITE = 1, WALK_FETCH = 2 };

/* guest_walk: translate gla for acc under the paging mode p selects: none
 * (CR0.PG=0: identity), 32-bit (4.3, 4 MiB pages with CR4.PSE), PAE (4.4)
 * or 4-level (4.5). Outside IA-32e mode bits 63:32 of gla are ignored.
 * Accessed/dirty bits are never set (see guest_walk.c).
 * Returns 0 with *gpa set; -CG_ENOENT for a not-present entry (inject #PF);
 * -CG_ERANGE for a write to a read-only page with CR0.WP=1 or a fetch from
 * an XD page with EFER.NXE=1; -CG_EINVAL for reserved bits set in an
 * entry, a table outside guest RAM, or a non-canonical gla in 4-level
 * paging; -CG_ENOTSUP for 5-level paging (CR4.LA57). */
int guest_walk(const struct guest_mem *gm, const struct guest_paging *p, u64 gla,
	       enum walk_access acc, u64 *gpa);

/* guest_read: copy n bytes of guest-linear memory at gla to dst, walking
 * (as a read) once per guest page touched, so a range may cross pages that
 * map to unrelated guest-physical frames. Returns 0, the first guest_walk
 * error, or -CG_EINVAL when a page maps outside guest RAM. dst holds the
 * bytes of the pages before the failing one. */
int guest_read(const struct guest_mem *gm, const struct guest_paging *p, u64 gla, void *dst,
	       size_t n);

#endif
