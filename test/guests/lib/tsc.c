/* TSC frequency for the test guests (see tsc.h). */
#include "tsc.h"
#include "cpu.h"
#include "div64.h"

/* 8254 PIT (Intel 82C54 data sheet): input clock 1.193182 MHz; channel 2's
 * gate is port 0x61 bit 0 and its OUT reads back in port 0x61 bit 5. */
#define PIT_HZ 1193182u
#define PIT_CH2 0x42
#define PIT_MODE 0x43
#define PORT_61 0x61
#define PORT_61_GATE2 0x01
#define PORT_61_SPEAKER 0x02
#define PORT_61_OUT2 0x20
/* Control word: channel 2, low then high byte, mode 0 (interrupt on
 * terminal count: OUT goes high when the count reaches 0), binary. */
#define PIT_CH2_MODE0 0xB0
#define CAL_COUNT 59659u /* 50 ms of PIT input clock */
#define CAL_SPIN_LIMIT (1u << 26)

static u64 cpuid15_hz(void)
{
	if (cpuid(0, 0).eax < 0x15)
		return 0;
	struct cpuid_regs r = cpuid(0x15, 0);
	/* EAX denominator, EBX numerator of TSC/crystal; ECX crystal Hz (0: not given). */
	if (r.eax == 0 || r.ebx == 0 || r.ecx == 0)
		return 0;
	return udiv64((u64)r.ecx * r.ebx, r.eax, NULL);
}

static u64 pit_hz(void)
{
	u8 p = inb(PORT_61);
	outb(PORT_61, (u8)((p & ~PORT_61_SPEAKER) | PORT_61_GATE2));
	outb(PIT_MODE, PIT_CH2_MODE0);
	outb(PIT_CH2, CAL_COUNT & 0xFF);
	outb(PIT_CH2, CAL_COUNT >> 8);
	u64 t0 = rdtsc();
	u32 spins = 0;
	/* Mode 0 drives OUT low when the count is written, high at terminal count. */
	while (!(inb(PORT_61) & PORT_61_OUT2) && ++spins < CAL_SPIN_LIMIT)
		pause();
	u64 t1 = rdtsc();
	outb(PORT_61, p);
	if (spins >= CAL_SPIN_LIMIT || t1 <= t0)
		return 0;
	return udiv64((t1 - t0) * PIT_HZ, CAL_COUNT, NULL);
}

u64 tsc_hz(enum tsc_source *src)
{
	static u64 hz;
	static enum tsc_source from = TSC_UNKNOWN;

	if (!hz) {
		if ((hz = cpuid15_hz()))
			from = TSC_FROM_CPUID15;
		else if ((hz = pit_hz()))
			from = TSC_FROM_PIT;
	}
	if (src)
		*src = from;
	return hz;
}

const char *tsc_source_name(enum tsc_source s)
{
	return s == TSC_FROM_CPUID15 ? "cpuid15" : s == TSC_FROM_PIT ? "pit" : "unknown";
}
