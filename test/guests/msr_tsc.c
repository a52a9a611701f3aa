/* msr_tsc: writing the time-stamp counter (SDM Vol 3B 18.17): WRMSR of
 * IA32_TIME_STAMP_COUNTER moves RDTSC, RDTSCP and RDMSR of the TSC, and
 * IA32_TSC_ADJUST (18.17.3) by the same amount; a write of TSC_ADJUST
 * moves the TSC by its change. Under crossguard the TSC is one per VM:
 * what one vCPU writes, the other reads at once after it (the AP here),
 * and the TSC-deadline timer (IA32_TSC_DEADLINE is in TSC units) fires
 * when the written TSC reaches the deadline: not earlier, not later, also
 * when the TSC jumps while the timer is armed. Needs 2 vCPUs. */
#include "guest.h"
#include "smp.h"
#include "tsc.h"
#include "div64.h"

#define MSR_TSC 0x10
#define MSR_TSC_ADJUST 0x3B
#define MSR_TSC_DEADLINE 0x6E0
#define CPUID7_EBX_TSC_ADJUST (1u << 1)
#define CPUID1_ECX_TSC_DEADLINE (1u << 24)
#define CPUIDX1_EDX_RDTSCP (1u << 27)
#define TIMER_VECTOR 0xE1
#define LVT_TSC_DEADLINE (2u << 17)
#define FAR (1ull << 40) /* far ahead of any TSC a boot has reached */

/* RDTSC after every earlier load (SDM Vol 2B RDTSC: LFENCE before it). */
static inline u64 rdtsc_ordered(void)
{
	u32 lo, hi;
	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
	return ((u64)hi << 32) | lo;
}

static inline u64 rdtscp(void)
{
	u32 lo, hi, aux;
	__asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux));
	(void)aux;
	return ((u64)hi << 32) | lo;
}

/* BSP -> AP commands, one at a time (ap_cmd), answered in ap_done. */
enum { CMD_NONE, CMD_READ, CMD_WATCH, CMD_ADJUST };
static volatile u32 ap_cmd, ap_done, ap_ready;
static bool adjust; /* CPUID says IA32_TSC_ADJUST exists */
static volatile u32 ap_written; /* CMD_WATCH: the BSP's WRMSR is done */
static volatile u64 ap_tsc, ap_adjust, ap_arg;

static void ap_loop(u32 id)
{
	(void)id;
	__atomic_store_n(&ap_ready, 1, __ATOMIC_SEQ_CST);
	for (u32 done = 0;;) {
		u32 cmd;
		while ((cmd = __atomic_load_n(&ap_cmd, __ATOMIC_SEQ_CST)) == CMD_NONE)
			pause();
		if (cmd == CMD_READ) {
			ap_tsc = rdtsc_ordered();
			if (adjust)
				ap_adjust = rdmsr(MSR_TSC_ADJUST);
		} else if (cmd == CMD_WATCH) {
			/* Read the TSC until the BSP says it wrote it, then once
			 * more: that read must see the write. */
			while (__atomic_load_n(&ap_written, __ATOMIC_SEQ_CST) == 0)
				ap_tsc = rdtsc_ordered();
			ap_tsc = rdtsc_ordered();
		} else if (cmd == CMD_ADJUST) {
			u64 adj = rdmsr(MSR_TSC_ADJUST);
			ap_adjust = adj + ap_arg;
			wrmsr(MSR_TSC_ADJUST, adj + ap_arg);
		}
		__atomic_store_n(&ap_cmd, CMD_NONE, __ATOMIC_SEQ_CST);
		__atomic_store_n(&ap_done, ++done, __ATOMIC_SEQ_CST);
	}
}

static bool ap_run(u32 cmd)
{
	u32 want = ap_done + 1;
	__atomic_store_n(&ap_cmd, cmd, __ATOMIC_SEQ_CST);
	for (u32 i = 0; i < SPIN_LIMIT; i++) {
		if (__atomic_load_n(&ap_done, __ATOMIC_SEQ_CST) >= want)
			return true;
		relax();
	}
	return false;
}

static u64 hz, ms;

/* The TSC-deadline timer fires at deadline `ahead` ticks from now. */
static void deadline_case(const char *what, u64 ahead)
{
	apic_ticks = 0;
	u64 t0 = rdtsc();
	u64 deadline = t0 + ahead;
	wrmsr(MSR_TSC_DEADLINE, deadline);
	bool ok = apic_tick_wait(1, deadline + hz / 2);
	report(ok && apic_tick_tsc >= deadline, "%s: the deadline timer fires, not early (%u ms after it)", what,
	       ok && apic_tick_tsc >= deadline ? (u32)udiv64(apic_tick_tsc - deadline, ms, NULL) : 0);
	report(ok && apic_tick_tsc - deadline < hz / 4, "%s: and in time", what);
}

int main(void)
{
	adjust = cpuid(0, 0).eax >= 7 && (cpuid(7, 0).ebx & CPUID7_EBX_TSC_ADJUST);
	bool deadline = cpuid(1, 0).ecx & CPUID1_ECX_TSC_DEADLINE;
	bool has_rdtscp = cpuid(0x80000000u, 0).eax >= 0x80000001u &&
			  (cpuid(0x80000001u, 0).edx & CPUIDX1_EDX_RDTSCP);
	hz = tsc_hz(NULL);
	ms = udiv64(hz, 1000, NULL) ? udiv64(hz, 1000, NULL) : 1;
	report(hz != 0, "TSC rate known (%u kHz)", (u32)ms);
	if (on_crossguard())
		report(adjust, "CPUID.(7,0):EBX.TSC_ADJUST offered");
	if (!hz)
		return report_summary();

	/* 1. A write forward, on the BSP */
	u64 adj0 = 0;
	if (adjust)
		adj0 = rdmsr(MSR_TSC_ADJUST);
	u64 t0 = rdtsc();
	u64 target = t0 + FAR;
	int v = wrmsr_safe(MSR_TSC, target);
	u64 t1 = rdtsc();
	report(v == NO_EXCEPTION, "WRMSR IA32_TIME_STAMP_COUNTER accepted (vector %d)", v);
	report(t1 >= target && t1 - target < hz, "RDTSC continues from the value written");
	u64 m = 0;
	rdmsr_safe(MSR_TSC, &m);
	report(m >= target && m - target < hz, "RDMSR of the TSC too");
	if (has_rdtscp) {
		u64 p = rdtscp();
		report(p >= target && p - target < hz, "RDTSCP too");
	}
	u64 adj1 = 0;
	if (adjust) {
		adj1 = rdmsr(MSR_TSC_ADJUST);
		u64 d = adj1 - adj0;
		report(d <= FAR && FAR - d < hz, "IA32_TSC_ADJUST moved by what the TSC jumped (%s)",
		       d == 0 ? "unchanged" : "moved");
	}

	/* 2. The AP's TSC is the same */
	apic_enable();
	if (!smp_start_ap(apic_id() == 0 ? 1 : 0, ap_loop)) {
		report(false, "AP started (needs 2 vCPUs)");
		return report_summary();
	}
	for (u32 i = 0; i < SPIN_LIMIT && !ap_ready; i++)
		relax();
	u64 before = rdtsc_ordered();
	bool ran = ap_run(CMD_READ);
	u64 after = rdtsc_ordered();
	report(ran && ap_tsc >= before && ap_tsc <= after, "the AP reads the written TSC too");
	if (adjust)
		report(ran && ap_adjust == adj1, "and the same IA32_TSC_ADJUST");

	/* A write backwards while the AP reads the TSC in a loop: once the
	 * BSP's WRMSR is done, no read on the AP may be from before it. */
	ap_written = 0;
	__atomic_store_n(&ap_cmd, CMD_WATCH, __ATOMIC_SEQ_CST);
	delay(20000);
	u64 b0 = rdtsc_ordered();
	u64 back = b0 / 4;
	wrmsr(MSR_TSC, back);
	u32 want = ap_done + 1;
	__atomic_store_n(&ap_written, 1, __ATOMIC_SEQ_CST);
	for (u32 i = 0; i < SPIN_LIMIT && ap_done < want; i++)
		relax();
	u64 b1 = rdtsc_ordered();
	report(ap_done >= want && ap_tsc >= back && ap_tsc <= b1,
	       "a write backwards: the AP's next RDTSC after it sees it");

	/* TSC_ADJUST written on the AP moves the BSP's TSC */
	if (adjust) {
		u64 e = 1ull << 36;
		u64 s0 = rdtsc_ordered();
		ap_arg = e;
		ran = ap_run(CMD_ADJUST);
		u64 s1 = rdtsc_ordered();
		report(ran && s1 - s0 >= e && s1 - s0 - e < hz, "TSC_ADJUST written on the AP moves the BSP's TSC");
		report(rdmsr(MSR_TSC_ADJUST) == ap_adjust, "and reads the same on the BSP");
	}

	/* 3. The TSC-deadline timer in the written TSC's units */
	if (!deadline) {
		report_skip("TSC-deadline timer (not offered)");
		return report_summary();
	}
	irq_register(TIMER_VECTOR, apic_tick_handler);
	apic_write(APIC_LVT_TIMER, LVT_TSC_DEADLINE | TIMER_VECTOR);
	cli();
	wrmsr(MSR_TSC, rdtsc() + FAR);
	deadline_case("TSC far ahead of the host's", 3 * ms);
	wrmsr(MSR_TSC, rdtsc() / 8);
	deadline_case("TSC behind the host's", 3 * ms);

	/* Armed, then the TSC jumps past the deadline: due at once. */
	apic_ticks = 0;
	wrmsr(MSR_TSC_DEADLINE, rdtsc() + 10 * hz);
	u64 jump = rdtsc() + 20 * hz;
	wrmsr(MSR_TSC, jump);
	bool ok = apic_tick_wait(1, jump + hz / 4);
	report(ok, "armed, then the TSC jumps past the deadline: it fires at once");

	/* Armed, then the TSC jumps back a second: the deadline is a second
	 * further away, and the timer waits for the TSC to get there. (100 ms
	 * ahead: a WRMSR exit under an emulator takes a while.) */
	apic_ticks = 0;
	u64 dl = rdtsc() + 100 * ms;
	wrmsr(MSR_TSC_DEADLINE, dl);
	u64 jumped = rdtsc() - hz;
	wrmsr(MSR_TSC, jumped);
	ok = apic_tick_wait(1, dl + hz / 4);
	report(ok && apic_tick_tsc >= dl, "armed, then the TSC jumps back: it fires when the TSC reaches the deadline, not before");
	report(ok && apic_tick_tsc - jumped >= hz, "a second after the jump (%u ms)",
	       ok && apic_tick_tsc > jumped ? (u32)udiv64(apic_tick_tsc - jumped, ms, NULL) : 0);
	return report_summary();
}
