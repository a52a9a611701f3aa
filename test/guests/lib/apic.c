/* xAPIC in MMIO mode (SDM Vol. 3A, chapter 10): register access, EOI and
 * the interrupt command register. */
#include "guest.h"
#include "smp.h"

#define SVR_ENABLE (1u << 8)
#define SPURIOUS_VECTOR 0xFF
#define ICR_BUSY (1u << 12)       /* delivery status: send pending */
#define ICR_ASSERT (1u << 14)     /* level: 1 for all but INIT de-assert */
#define ICR_FIXED (0u << 8)
#define ICR_INIT (5u << 8)
#define ICR_STARTUP (6u << 8)

u32 apic_read(u32 reg) { return mmio_read32(APIC_BASE + reg); }
void apic_write(u32 reg, u32 val) { mmio_write32(APIC_BASE + reg, val); }
u32 apic_id(void) { return apic_read(APIC_ID) >> 24; }
void apic_eoi(void) { apic_write(APIC_EOI, 0); }

void apic_enable(void)
{
	apic_write(APIC_SVR, SVR_ENABLE | SPURIOUS_VECTOR);
}

bool apic_icr_wait(void)
{
	for (u32 i = 0; i < SPIN_LIMIT; i++) {
		if (!(apic_read(APIC_ICR_LO) & ICR_BUSY))
			return true;
		relax();
	}
	return false;
}

/* ICR high first: the write to ICR low is what sends the IPI. */
static bool send(u32 dest, u32 low)
{
	apic_write(APIC_ICR_HI, dest << 24);
	apic_write(APIC_ICR_LO, low);
	return apic_icr_wait();
}

bool apic_send(u32 dest, u32 low)
{
	return send(dest, low);
}

bool apic_vector_set(u32 reg, u32 vector)
{
	return apic_read(reg + 0x10 * (vector / 32)) & (1u << (vector % 32));
}

bool apic_send_init(u32 dest)
{
	/* No INIT level de-assert afterwards: CPUs since the Pentium 4 ignore
	 * it (SDM 10.6.1), and an emulator might mistake it for a second INIT. */
	return send(dest, ICR_INIT | ICR_ASSERT);
}

bool apic_send_sipi(u32 dest, u32 page)
{
	return send(dest, ICR_STARTUP | ICR_ASSERT | (page & 0xFF));
}

bool apic_send_fixed(u32 dest, u32 vector)
{
	return send(dest, ICR_FIXED | ICR_ASSERT | (vector & 0xFF));
}

volatile u32 apic_ticks;
volatile u64 apic_tick_tsc;

void apic_tick_handler(u32 vector)
{
	(void)vector;
	apic_tick_tsc = rdtsc();
	__atomic_fetch_add(&apic_ticks, 1, __ATOMIC_SEQ_CST);
	apic_eoi();
}

bool apic_tick_wait(u32 n, u64 limit)
{
	while (apic_ticks < n && rdtsc() < limit)
		__asm__ volatile("sti; hlt; cli" ::: "memory");
	return apic_ticks >= n;
}
