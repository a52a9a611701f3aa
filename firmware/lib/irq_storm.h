/* An interrupt-storm bound for a host device the monitor takes interrupts
 * from (the uplink NICs, core/vm_uplink.c): more than IRQ_STORM_BURST
 * interrupts inside any IRQ_STORM_WINDOW_NS is a storm; the owner then
 * masks the device's interrupt and polls it instead for IRQ_STORM_HOLD_NS,
 * after which it unmasks and counts afresh. A device that floods the
 * boot CPU (a broken NIC, a wire full of broadcasts) thus costs at most
 * IRQ_STORM_BURST interrupts per window before the monitor falls back to
 * the polling it would have done without interrupts.
 *
 * Pure: time comes from the caller (nanoseconds, monotonic). The window is
 * exact, not bucketed: the last IRQ_STORM_BURST arrival times are kept, so
 * the (BURST + 1)-th interrupt within one window is always caught. */
#ifndef CG_IRQ_STORM_H
#define CG_IRQ_STORM_H

#include <cg/types.h>

#define IRQ_STORM_BURST 16u			/* interrupts a window may hold */
#define IRQ_STORM_WINDOW_NS 1000000ull		/* 1 ms */
#define IRQ_STORM_HOLD_NS 50000000ull		/* masked and polled for 50 ms */

struct irq_storm {
	u64 at[IRQ_STORM_BURST];	/* arrival times, a ring; at[next] is the oldest */
	u32 next, seen;			/* ring position; arrivals kept (at most BURST) */
	bool masked;			/* in a storm: the owner masked the device */
	u64 unmask_at;			/* when masked: the time it may unmask */
	u64 storms;			/* storms seen, for the console */
};

/* irq_storm_init: no history, not masked. */
void irq_storm_init(struct irq_storm *s);

/* irq_storm_hit: one interrupt at now. Returns true when it is the one too
 * many (more than IRQ_STORM_BURST within IRQ_STORM_WINDOW_NS): the owner
 * masks the device's interrupt now and polls it; s is then masked until
 * now + IRQ_STORM_HOLD_NS. An interrupt that still arrives while masked
 * (one in flight) returns false and changes nothing. */
bool irq_storm_hit(struct irq_storm *s, u64 now);

/* irq_storm_unmask_due: whether a masked s may unmask at now (the hold is
 * over); if so s is no longer masked and its history is cleared, and the
 * owner unmasks the device. False when not masked. */
bool irq_storm_unmask_due(struct irq_storm *s, u64 now);

#endif
