/* A CPU-bound work unit for the share-measuring guests (spinner.c,
 * disk_flood.c): the work itself and what one burst of it costs when the
 * vCPU has the CPU to itself. */
#ifndef GUEST_SPIN_H
#define GUEST_SPIN_H

#include "types.h"

/* Iterations per calibration burst. */
#define SPIN_BURST_ITERS 4096u

/* spin: n iterations of the work unit; returns n. */
u32 spin(u32 n);

/* spin_burst_ticks: TSC ticks of the cheapest of a few bursts of
 * SPIN_BURST_ITERS iterations: one that no other vCPU interrupted. */
u64 spin_burst_ticks(void);

#endif
