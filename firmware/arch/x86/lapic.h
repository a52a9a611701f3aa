/* The local APIC, in xAPIC (MMIO) or x2APIC (MSR) mode, whichever the
 * firmware left enabled (SDM Vol 3A 10.4, 10.12). */
#ifndef X86_LAPIC_H
#define X86_LAPIC_H

#include <cg/types.h>

/* ICR delivery modes and shorthands (SDM Vol 3A 10.6.1) */
#define ICR_DELIVERY_NMI   (4U << 8)
#define ICR_DELIVERY_INIT  (5U << 8)
#define ICR_DELIVERY_SIPI  (6U << 8)
#define ICR_LEVEL_ASSERT   (1U << 14)
#define ICR_ALL_BUT_SELF   (3U << 18)

/* lapic_init_cpu: software-enable this CPU's LAPIC (SVR), mode detected
 * from IA32_APIC_BASE. Returns 0 or -CG_ENOTSUP if the APIC is disabled. */
int lapic_init_cpu(void);

/* lapic_id: this CPU's APIC ID. */
u32 lapic_id(void);

/* lapic_send_ipi: write ICR for destination apic_id (ignored with a
 * shorthand) and wait for delivery. Returns 0, -CG_ETIMEDOUT, or -CG_ENOTSUP
 * before lapic_init_cpu succeeded (early boot). */
int lapic_send_ipi(u32 apic_id, u32 icr_low);

/* lapic_eoi: end of interrupt for the vector being serviced. */
void lapic_eoi(void);

/* lapic_timer_periodic: fire vector every ticks LAPIC timer ticks (divide
 * by 16); 0 stops it. */
void lapic_timer_periodic(u8 vector, u32 ticks);

/* lapic_timer_oneshot: fire vector once after ticks LAPIC timer ticks
 * (divide by 16; 0 counts as 1). */
void lapic_timer_oneshot(u8 vector, u32 ticks);

/* lapic_timer_calibrate: LAPIC timer ticks (divide by 16) per millisecond,
 * measured against the TSC. */
u32 lapic_timer_calibrate(void);

#endif
