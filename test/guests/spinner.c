/* A CPU-bound load for the scheduler tests. It spins for a window of TSC
 * ticks (cmdline window=<millions of ticks>, default 200) and reports how
 * much work it got done, plus a calibration of how many ticks one
 * iteration costs when it has the CPU to itself. Under Bochs with one CPU
 * and `clock: sync=none` the TSC counts instructions of the whole machine,
 * so iterations x ticks-per-iteration / window is this vCPU's share of
 * the CPU over the window. The test computes that; the guest only prints
 *   spin iterations=N burst_iters=K burst_ticks=B window=W
 * (no 64-bit division here: there is no libgcc). */
#include "guest.h"

#define BURST_ITERS 4096u
#define CHECK_EVERY 1024u

static volatile u32 sink;

static u32 spin(u32 n)
{
	for (u32 i = 0; i < n; i++)
		sink = sink + i;
	return n;
}

int main(void)
{
	u64 window = (u64)cmdline_uint("window", 200) * 1000000ull;
	/* The cheapest of a few bursts: one that no other vCPU interrupted. */
	u64 best = ~0ull;
	for (int k = 0; k < 8; k++) {
		u64 t0 = rdtsc();
		spin(BURST_ITERS);
		u64 d = rdtsc() - t0;
		if (d < best)
			best = d;
	}
	u64 start = rdtsc();
	u32 iterations = 0;
	while (rdtsc() - start < window)
		iterations += spin(CHECK_EVERY);
	printf("spin iterations=%u burst_iters=%u burst_ticks=%u window=%u\n", iterations, BURST_ITERS,
	       (u32)best, (u32)(window / 1000000u));
	return 0;
}
