/* IA32_MISC_ENABLE (MSR 0x1A0) of a vCPU: SDM Vol 4 table 2-2. The
 * architectural bits, and what a crossguard vCPU makes of each:
 *   0  fast-strings enable (R/W)       always 1: the guest runs on the
 *                                      host's setting, which the monitor
 *                                      does not change; writes ignored
 *   3  automatic thermal control (R/W) 0, writes ignored: no thermal
 *                                      monitor is offered (CPUID.1:EDX.TM)
 *   7  performance monitoring available (RO)  0: no PMU (CPUID leaf 0xA)
 *   11 BTS unavailable (RO)            1: no debug store (CPUID.1:EDX.DS)
 *   12 PEBS unavailable (RO)           1
 *   16 Enhanced SpeedStep enable (R/W) 0, writes ignored: CPUID.1:ECX.EST
 *                                      is 0
 *   18 ENABLE MONITOR FSM (R/W)        0, writes ignored: MONITOR/MWAIT
 *                                      are not offered (CPUID.1:ECX[3] 0,
 *                                      and both raise #UD)
 *   22 limit CPUID maxval (R/W)        emulated: while set, CPUID.0:EAX
 *                                      reads 2 (exit_cpuid.c)
 *   23 xTPR message disable (R/W)      0, writes ignored: CPUID.1:ECX.xTPR
 *                                      is 0
 *   34 XD bit disable (R/W)            0, writes ignored: NX stays on
 *                                      (a BIOS setting; the OS clears it)
 * Every other bit is reserved: a WRMSR that sets one raises #GP (SDM Vol
 * 2B WRMSR), and nothing changes. Read-only and ignored bits keep their
 * value whatever a write says. Pure: host-tested in test_misc_enable.c. */
#ifndef X86_VMX_MISC_ENABLE_H
#define X86_VMX_MISC_ENABLE_H

#include <cg/types.h>

#define MISC_ENABLE_FAST_STRINGS (1ULL << 0)
#define MISC_ENABLE_TCC (1ULL << 3)
#define MISC_ENABLE_PERF_MON (1ULL << 7)
#define MISC_ENABLE_BTS_UNAVAIL (1ULL << 11)
#define MISC_ENABLE_PEBS_UNAVAIL (1ULL << 12)
#define MISC_ENABLE_EIST (1ULL << 16)
#define MISC_ENABLE_MONITOR (1ULL << 18)
#define MISC_ENABLE_LIMIT_CPUID (1ULL << 22)
#define MISC_ENABLE_XTPR_DISABLE (1ULL << 23)
#define MISC_ENABLE_XD_DISABLE (1ULL << 34)

/* The bits a write may carry without #GP (the architectural ones) */
#define MISC_ENABLE_DEFINED                                                         \
	(MISC_ENABLE_FAST_STRINGS | MISC_ENABLE_TCC | MISC_ENABLE_PERF_MON |         \
	 MISC_ENABLE_BTS_UNAVAIL | MISC_ENABLE_PEBS_UNAVAIL | MISC_ENABLE_EIST |     \
	 MISC_ENABLE_MONITOR | MISC_ENABLE_LIMIT_CPUID | MISC_ENABLE_XTPR_DISABLE | \
	 MISC_ENABLE_XD_DISABLE)
/* Of those, the ones a write changes */
#define MISC_ENABLE_WRITABLE MISC_ENABLE_LIMIT_CPUID

/* misc_enable_power_on: a new vCPU's value. */
static inline u64 misc_enable_power_on(void)
{
	return MISC_ENABLE_FAST_STRINGS | MISC_ENABLE_BTS_UNAVAIL | MISC_ENABLE_PEBS_UNAVAIL;
}

/* misc_enable_write: a WRMSR of value over old. Returns false (#GP, *out
 * untouched) for a reserved bit set; else *out is the new value. */
static inline bool misc_enable_write(u64 old, u64 value, u64 *out)
{
	if (value & ~MISC_ENABLE_DEFINED)
		return false;
	*out = (old & ~MISC_ENABLE_WRITABLE) | (value & MISC_ENABLE_WRITABLE);
	return true;
}

#endif
