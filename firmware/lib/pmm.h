/* The physical page allocator: one bit per 4 KiB frame, fed by the
 * normalised memory map. The bitmap itself lives in the first usable range
 * large enough for it and is carved out of the map. */
#ifndef CG_PMM_H
#define CG_PMM_H

#include <cg/types.h>
#include "lib/memmap.h"

struct pmm {
	u64 *bitmap;   /* bit set = frame in use or not RAM; an equal-sized
			  "owned" bitmap follows it (see pmm.c) */
	u64 base;      /* physical address of frame 0 of the bitmap */
	u64 frames;    /* frames the bitmap covers */
	u64 free_frames;
	u64 total_frames; /* usable frames at init */
	u64 hint;      /* next frame index to look at */
	u32 lock;
};

/* pmm_init: place the bitmap (host pointer obtained from map_rw for its
 * physical location), mark every USABLE page of m free except the bitmap's
 * own pages, which are recorded in m as MEMMAP_MONITOR. Frames below
 * low_limit (e.g. 1 MiB: real-mode area, AP trampoline) are never handed
 * out. Returns 0, -CG_ENOMEM when no usable range can hold the bitmap, or
 * -CG_ENOENT when the map has no usable page. */
int pmm_init(struct pmm *p, struct memmap *m, u64 low_limit,
	     void *(*map_rw)(u64 phys, u64 len, void *ctx), void *ctx);

/* pmm_alloc: one free frame's physical address, or 0 when none is left. */
u64 pmm_alloc(struct pmm *p);

/* pmm_alloc_contig: n contiguous frames aligned to align bytes (a power of
 * two, at least PAGE_SIZE); physical address of the first, or 0. */
u64 pmm_alloc_contig(struct pmm *p, u64 n, u64 align);

/* pmm_free: return n frames starting at phys. Returns 0, -CG_EINVAL for an
 * unaligned address, -CG_ERANGE for a frame the allocator does not own, or
 * -CG_EBUSY for a frame already free (double free); nothing changes on error. */
int pmm_free(struct pmm *p, u64 phys, u64 n);

#endif
