/* Timestamp-counter rate, measured against PIT channel 2 (a fixed
 * 1.193182 MHz) at boot, and the delays that AP start-up needs. */
#include <cg/arch_base.h>
#include "arch/x86/tsc.h"
#include "arch/x86/cpu_ops.h"

#define PIT_HZ 1193182
#define PIT_CH2_DATA 0x42
#define PIT_CMD 0x43
#define PIT_GATE_PORT 0x61
#define PIT_GATE_CH2 0x01
#define PIT_SPEAKER 0x02
#define PIT_OUT_CH2 0x20
#define CALIBRATE_MS 10
/* Used when no PIT answers: a guess that keeps delays at least as long as
 * asked on any CPU slower than 4 GHz. */
#define TSC_FALLBACK_HZ 4000000000ULL

static u64 tsc_hz = TSC_FALLBACK_HZ;

u64 tsc_calibrate(void)
{
	u16 count = PIT_HZ / (1000 / CALIBRATE_MS);
	u8 gate = inb(PIT_GATE_PORT);
	outb(PIT_GATE_PORT, (gate & ~PIT_SPEAKER) & ~PIT_GATE_CH2);
	outb(PIT_CMD, 0xB0); /* channel 2, lobyte/hibyte, mode 0, binary */
	outb(PIT_CH2_DATA, count & 0xFF);
	outb(PIT_CH2_DATA, count >> 8);
	outb(PIT_GATE_PORT, (gate & ~PIT_SPEAKER) | PIT_GATE_CH2);
	u64 t0 = rdtsc();
	u64 spins = 0;
	while (!(inb(PIT_GATE_PORT) & PIT_OUT_CH2)) {
		if (++spins > 100000000ULL) {
			outb(PIT_GATE_PORT, gate);
			return tsc_hz;
		}
	}
	u64 t1 = rdtsc();
	outb(PIT_GATE_PORT, gate);
	if (t1 > t0)
		tsc_hz = (t1 - t0) * (1000 / CALIBRATE_MS);
	return tsc_hz;
}

void tsc_delay_us(u64 us)
{
	u64 end = rdtsc() + tsc_hz / 1000000 * us;
	while (rdtsc() < end)
		cpu_pause();
}

u64 arch_timestamp(void)
{
	return rdtsc();
}

u64 arch_timestamp_hz(void)
{
	return tsc_hz;
}
