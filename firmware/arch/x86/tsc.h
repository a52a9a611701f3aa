#ifndef X86_TSC_H
#define X86_TSC_H

#include <cg/types.h>

/* tsc_calibrate: measure TSC ticks per second over 10 ms of PIT channel 2
 * and remember it. Returns the rate (a conservative guess if no PIT). */
u64 tsc_calibrate(void);

/* tsc_delay_us: busy-wait at least us microseconds. */
void tsc_delay_us(u64 us);

#endif
