/* A CPU-bound load for the scheduler tests. It spins for a window of TSC
 * ticks (cmdline window=<millions of ticks>, default 200) and reports how
 * much work it got done, plus a calibration of how many ticks one
 * iteration costs when it has the CPU to itself. Under Bochs with one CPU
 * and `clock: sync=none` the TSC counts instructions of the whole machine,
 * so iterations x ticks-per-iteration / window is this vCPU's share of
 * the CPU over the window. The test computes that; the guest only prints
 *   spin iterations=N burst_iters=K burst_ticks=B window=W
 * (no 64-bit division here: there is no libgcc).
 *
 * tail=<millions of ticks> (default 0) keeps it spinning that long after
 * the report, uncounted. The VMs of one run start their windows at
 * different times (a light vCPU takes longer to calibrate), so without a
 * tail the last window ends after its neighbours have exited, and its
 * share is inflated by CPU time it did not have to contend for. A tail
 * longer than that stagger keeps every window fully contended. */
#include "guest.h"
#include "spin.h"

#define CHECK_EVERY 1024u

int main(void)
{
	u64 window = (u64)cmdline_uint("window", 200) * 1000000ull;
	/* The cheapest of a few bursts: one that no other vCPU interrupted. */
	u64 best = spin_burst_ticks();
	u64 start = rdtsc();
	u32 iterations = 0;
	while (rdtsc() - start < window)
		iterations += spin(CHECK_EVERY);
	printf("spin iterations=%u burst_iters=%u burst_ticks=%u window=%u\n", iterations, SPIN_BURST_ITERS,
	       (u32)best, (u32)(window / 1000000u));
	u64 tail = (u64)cmdline_uint("tail", 0) * 1000000ull;
	start = rdtsc();
	while (rdtsc() - start < tail)
		spin(CHECK_EVERY);
	return 0;
}
