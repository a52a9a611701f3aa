/* The TSC's frequency, for guests that turn RDTSC deltas into time. */
#ifndef GUEST_TSC_H
#define GUEST_TSC_H

#include "types.h"

enum tsc_source {
	TSC_FROM_CPUID15, /* CPUID leaf 0x15: crystal clock x TSC/crystal ratio */
	TSC_FROM_PIT,	  /* timed against the 8254's channel 2 */
	TSC_UNKNOWN,	  /* neither worked: the PIT never counted down */
};

/* TSC ticks per second: from CPUID leaf 0x15 when it gives both the ratio
 * and the crystal frequency, else measured against the 8254 PIT (channel
 * 2, gated through port 0x61, 50 ms). The first call measures; later ones
 * return the same value. 0 with *src = TSC_UNKNOWN when neither works.
 * src may be NULL. */
u64 tsc_hz(enum tsc_source *src);

/* Name of a source, for output lines ("cpuid15", "pit", "unknown"). */
const char *tsc_source_name(enum tsc_source s);

#endif
