#include "arch/x86/lapic.h"
#include "arch/x86/cpu_ops.h"
#include "arch/x86/msr.h"
#include "arch/x86/tsc.h"
#include <cg/errno.h>

#define APIC_BASE_X2APIC (1ULL << 10)
#define LAPIC_REG_ID 0x20
#define LAPIC_REG_SVR 0xF0
#define LAPIC_REG_ICR_LOW 0x300
#define LAPIC_REG_ICR_HIGH 0x310
#define LAPIC_REG_EOI 0xB0
#define LAPIC_REG_LVT_TIMER 0x320
#define LAPIC_REG_TIMER_INITIAL 0x380
#define LAPIC_REG_TIMER_CURRENT 0x390
#define LAPIC_REG_TIMER_DIVIDE 0x3E0
#define LVT_TIMER_PERIODIC (1U << 17)
#define LVT_MASKED (1U << 16)
#define TIMER_DIVIDE_16 0x3
#define SVR_ENABLE (1U << 8)
#define SPURIOUS_VECTOR 0xFF
#define ICR_PENDING (1U << 12)
#define X2APIC_MSR_BASE 0x800
#define ICR_SPINS 1000000

static u64 lapic_mmio;
static bool lapic_x2;
static bool lapic_ready;

static u32 lapic_read(u32 reg)
{
	if (lapic_x2)
		return (u32)rdmsr(X2APIC_MSR_BASE + (reg >> 4));
	return mmio_read32(lapic_mmio + reg);
}

static void lapic_write(u32 reg, u32 v)
{
	if (lapic_x2)
		wrmsr(X2APIC_MSR_BASE + (reg >> 4), v);
	else
		mmio_write32(lapic_mmio + reg, v);
}

int lapic_init_cpu(void)
{
	u64 base = rdmsr(MSR_IA32_APIC_BASE);
	if (!(base & APIC_BASE_ENABLE))
		return -CG_ENOTSUP;
	lapic_x2 = base & APIC_BASE_X2APIC;
	lapic_mmio = base & APIC_BASE_ADDR_MASK;
	lapic_write(LAPIC_REG_SVR, SVR_ENABLE | SPURIOUS_VECTOR);
	lapic_ready = true;
	return 0;
}

u32 lapic_id(void)
{
	u32 id = lapic_read(LAPIC_REG_ID);
	return lapic_x2 ? id : id >> 24;
}

int lapic_send_ipi(u32 apic_id, u32 icr_low)
{
	if (!lapic_ready)
		return -CG_ENOTSUP;
	if (lapic_x2) {
		/* x2APIC ICR is one 64-bit MSR; no delivery-status bit to poll */
		wrmsr(X2APIC_MSR_BASE + (LAPIC_REG_ICR_LOW >> 4), ((u64)apic_id << 32) | icr_low);
		return 0;
	}
	lapic_write(LAPIC_REG_ICR_HIGH, apic_id << 24);
	lapic_write(LAPIC_REG_ICR_LOW, icr_low);
	for (u32 i = 0; i < ICR_SPINS; i++) {
		if (!(lapic_read(LAPIC_REG_ICR_LOW) & ICR_PENDING))
			return 0;
		cpu_pause();
	}
	return -CG_ETIMEDOUT;
}

void lapic_eoi(void)
{
	lapic_write(LAPIC_REG_EOI, 0);
}

void lapic_timer_periodic(u8 vector, u32 ticks)
{
	lapic_write(LAPIC_REG_TIMER_DIVIDE, TIMER_DIVIDE_16);
	lapic_write(LAPIC_REG_LVT_TIMER, ticks ? (LVT_TIMER_PERIODIC | vector) : LVT_MASKED);
	lapic_write(LAPIC_REG_TIMER_INITIAL, ticks);
}

void lapic_timer_oneshot(u8 vector, u32 ticks)
{
	lapic_write(LAPIC_REG_TIMER_DIVIDE, TIMER_DIVIDE_16);
	lapic_write(LAPIC_REG_LVT_TIMER, vector);
	lapic_write(LAPIC_REG_TIMER_INITIAL, ticks ? ticks : 1);
}

u32 lapic_timer_calibrate(void)
{
	lapic_write(LAPIC_REG_TIMER_DIVIDE, TIMER_DIVIDE_16);
	lapic_write(LAPIC_REG_LVT_TIMER, LVT_MASKED);
	lapic_write(LAPIC_REG_TIMER_INITIAL, 0xFFFFFFFFu);
	tsc_delay_us(1000);
	u32 elapsed = 0xFFFFFFFFu - lapic_read(LAPIC_REG_TIMER_CURRENT);
	lapic_write(LAPIC_REG_TIMER_INITIAL, 0);
	return elapsed ? elapsed : 1;
}
