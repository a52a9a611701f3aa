/* The interrupt-storm bound: see irq_storm.h. */
#include <cg/string.h>
#include "lib/irq_storm.h"

void irq_storm_init(struct irq_storm *s)
{
	memset(s, 0, sizeof(*s));
}

bool irq_storm_hit(struct irq_storm *s, u64 now)
{
	u64 oldest;

	if (s->masked)
		return false;
	if (s->seen < IRQ_STORM_BURST) {
		s->at[s->next] = now;
		s->next = (s->next + 1) % IRQ_STORM_BURST;
		s->seen++;
		return false;
	}
	/* BURST interrupts are kept; this one makes BURST + 1. A storm when
	 * the oldest of the kept ones is still inside the window ending now
	 * (a clock that went back counts as inside: never a wrap to huge). */
	oldest = s->at[s->next];
	if (now < oldest || now - oldest < IRQ_STORM_WINDOW_NS) {
		s->masked = true;
		s->unmask_at = now + IRQ_STORM_HOLD_NS;
		s->storms++;
		return true;
	}
	s->at[s->next] = now;
	s->next = (s->next + 1) % IRQ_STORM_BURST;
	return false;
}

bool irq_storm_unmask_due(struct irq_storm *s, u64 now)
{
	if (!s->masked || now < s->unmask_at)
		return false;
	s->masked = false;
	s->seen = 0;
	s->next = 0;
	return true;
}
