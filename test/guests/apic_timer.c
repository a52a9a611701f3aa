/* apic_timer: the local APIC timer in its three modes, with interrupts
 * taken through HLT, as a guest OS uses it: one-shot, periodic and
 * TSC-deadline (CPUID.1:ECX[24], IA32_TSC_DEADLINE), plus the masked LVT.
 * Each wait is checked for "not early" (the TSC must have passed the
 * programmed time) and "not lost" (it comes within a generous bound);
 * nothing here measures performance. */
#include "guest.h"
#include "cpu.h"
#include "smp.h"
#include "tsc.h"
#include "div64.h"

#define TIMER_VECTOR 0xE0
#define LVT_MASKED (1U << 16)
#define LVT_TSC_DEADLINE (2U << 17)
#define DIVIDE_BY_1 0xB
#define MSR_TSC_DEADLINE 0x6E0

static u64 us_ticks = 1; /* TSC ticks per microsecond */

static u32 div(u64 n, u64 d)
{
	return (u32)udiv64(n, d, NULL);
}

static u32 us(u64 ticks)
{
	return div(ticks, us_ticks);
}
/* Spins with interrupts on until the TSC passes until. */
static void idle_until(u64 until)
{
	sti();
	while (rdtsc() < until)
		relax();
	cli();
}

int main(void)
{
	struct cpuid_regs r1 = cpuid(1, 0);
	report(r1.ecx & (1U << 24), "CPUID.1:ECX.TSC-deadline is offered");
	enum tsc_source src;
	u64 hz = tsc_hz(&src);
	report(hz != 0, "TSC frequency known (%u kHz, from %s)", div(hz, 1000), tsc_source_name(src));
	if (!hz)
		return report_summary();
	struct cpuid_regs r15 = cpuid(0x15, 0);
	u64 crystal = r15.ecx ? r15.ecx : hz;
	report_info("APIC timer clock %u kHz", div(crystal, 1000));
	u64 ms = div(hz, 1000), bound = hz; /* nothing may take a whole second */
	u32 c_2ms = div(crystal, 500), c_1ms = div(crystal, 1000);
	if (ms >= 1000)
		us_ticks = div(ms, 1000);

	irq_register(TIMER_VECTOR, apic_tick_handler);
	apic_enable();
	cli();

	/* one-shot, 2 ms */
	apic_write(APIC_TIMER_DIVIDE, DIVIDE_BY_1);
	apic_write(APIC_LVT_TIMER, TIMER_VECTOR);
	u64 t0 = rdtsc();
	apic_write(APIC_TIMER_INITIAL, c_2ms);
	u32 cur1 = apic_read(APIC_TIMER_CURRENT);
	bool ok = apic_tick_wait(1, t0 + bound);
	report(ok, "one-shot interrupt arrived");
	report(ok && apic_tick_tsc - t0 >= 2 * ms, "not before 2 ms (%u us)", us(apic_tick_tsc - t0));
	report(cur1 > 0 && cur1 <= c_2ms, "current count counts down (%u)", cur1);
	report(apic_read(APIC_TIMER_CURRENT) == 0, "current count 0 after expiry");
	idle_until(rdtsc() + 4 * ms);
	report(apic_ticks == 1, "one-shot fires once (%u)", apic_ticks);

	/* periodic, 1 ms: five interrupts take at least 5 ms */
	apic_ticks = 0;
	apic_write(APIC_LVT_TIMER, LVT_PERIODIC | TIMER_VECTOR);
	t0 = rdtsc();
	apic_write(APIC_TIMER_INITIAL, c_1ms);
	ok = apic_tick_wait(5, t0 + bound);
	u64 took = apic_tick_tsc - t0;
	apic_write(APIC_TIMER_INITIAL, 0);
	report(ok, "periodic: five interrupts");
	report(ok && took >= 5 * ms - div(ms, 10), "periodic: not early (%u us for five)", us(took));
	u32 after_stop = apic_ticks;
	idle_until(rdtsc() + 3 * ms);
	report(apic_ticks == after_stop, "initial count 0 stops the periodic timer");

	/* TSC-deadline, 3 ms ahead */
	apic_ticks = 0;
	apic_write(APIC_LVT_TIMER, LVT_TSC_DEADLINE | TIMER_VECTOR);
	t0 = rdtsc();
	u64 deadline = t0 + 3 * ms;
	report(wrmsr_safe(MSR_TSC_DEADLINE, deadline) == NO_EXCEPTION, "IA32_TSC_DEADLINE writable");
	u64 back = 0;
	rdmsr_safe(MSR_TSC_DEADLINE, &back);
	report(back == deadline, "IA32_TSC_DEADLINE reads back");
	ok = apic_tick_wait(1, t0 + bound);
	report(ok, "TSC-deadline interrupt arrived");
	report(ok && apic_tick_tsc >= deadline, "not before the deadline");
	rdmsr_safe(MSR_TSC_DEADLINE, &back);
	report(back == 0, "IA32_TSC_DEADLINE reads 0 after it fired");
	/* Arm 20 ms ahead and disarm at once, then idle past the deadline:
	 * no interrupt may come. A neighbour VM's time slice can fall between
	 * the two writes (arming goes back to the scheduler); when the guest
	 * TSC after the disarm is already past the deadline the timer fired
	 * rightly, so that round proves nothing and is tried again. */
	u32 tries = 0, before = apic_ticks;
	bool decided = false;
	while (!decided && tries++ < 8) {
		before = apic_ticks;
		u64 armed = rdtsc() + 20 * ms;
		wrmsr_safe(MSR_TSC_DEADLINE, armed);
		wrmsr_safe(MSR_TSC_DEADLINE, 0);
		decided = rdtsc() < armed;
		idle_until(armed + 5 * ms);
	}
	report(decided && apic_ticks == before, "writing 0 disarms (%u more, %u tries)", apic_ticks - before, tries);

	/* masked one-shot: it expires, nothing is delivered */
	apic_ticks = 0;
	apic_write(APIC_LVT_TIMER, LVT_MASKED | TIMER_VECTOR);
	apic_write(APIC_TIMER_INITIAL, c_1ms);
	idle_until(rdtsc() + 3 * ms);
	report(apic_ticks == 0 && apic_read(APIC_TIMER_CURRENT) == 0, "masked timer expires silently");
	return report_summary();
}
