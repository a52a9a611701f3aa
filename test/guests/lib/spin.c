/* CPU-bound work and its calibration: see spin.h. */
#include "spin.h"
#include "cpu.h"

static volatile u32 sink;

u32 spin(u32 n)
{
	for (u32 i = 0; i < n; i++)
		sink = sink + i;
	return n;
}

u64 spin_burst_ticks(void)
{
	u64 best = ~0ull;

	for (int k = 0; k < 8; k++) {
		u64 t0 = rdtsc();
		spin(SPIN_BURST_ITERS);
		u64 d = rdtsc() - t0;
		if (d < best)
			best = d;
	}
	return best;
}
