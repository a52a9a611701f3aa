/* Exit round-trip costs, measured from inside a guest: a loop of N exits
 * of one kind, timed with RDTSC. Under Bochs with `clock: sync=none` the
 * TSC advances with executed instructions, so the figure is the number of
 * instructions per round trip (guest loop + exit + monitor + entry), exact
 * and repeatable. Prints "bench <name> <value>" lines for make bench. */
#include "guest.h"

#define ROUNDS_SHIFT 10
#define ROUNDS (1u << ROUNDS_SHIFT)
#define PORT_POST 0x80

static u32 per_round(u64 t0, u64 t1)
{
	return (u32)((t1 - t0) >> ROUNDS_SHIFT);
}

static u32 bench_cpuid(void)
{
	u64 t0 = rdtsc();
	for (u32 i = 0; i < ROUNDS; i++) {
		u32 a = 0, b, c = 0, d;
		__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	}
	return per_round(t0, rdtsc());
}

static u32 bench_vmcall(void)
{
	u64 t0 = rdtsc();
	for (u32 i = 0; i < ROUNDS; i++) {
		u32 a = 0; /* hypercall 0: version */
		__asm__ volatile("vmcall" : "+a"(a) : : "memory");
	}
	return per_round(t0, rdtsc());
}

static u32 bench_pio(void)
{
	u64 t0 = rdtsc();
	for (u32 i = 0; i < ROUNDS; i++)
		outb(PORT_POST, (u8)i);
	return per_round(t0, rdtsc());
}

int main(void)
{
	if (!on_crossguard()) {
		report_skip("exit benchmarks measure crossguard's exit path");
		return report_summary();
	}
	/* Warm up once so the first measured round finds everything set up. */
	bench_cpuid();
	printf("bench cpuid_exit_instructions %u\n", bench_cpuid());
	printf("bench vmcall_exit_instructions %u\n", bench_vmcall());
	printf("bench pio_exit_instructions %u\n", bench_pio());
	return report_summary();
}
