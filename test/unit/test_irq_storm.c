/* The interrupt-storm bound (firmware/lib/irq_storm.c) on a fake clock:
 * 16 in a millisecond pass, the 17th masks; spread-out interrupts never
 * mask however many; the hold, the unmask and a fresh count after it; an
 * interrupt in flight while masked; a clock that steps back. */
#include "check.h"
#include "lib/irq_storm.h"

#define US 1000ull
#define MS 1000000ull

static void test_burst(void)
{
	struct irq_storm s;
	u64 t = 5 * MS;
	u32 i;

	irq_storm_init(&s);
	for (i = 0; i < IRQ_STORM_BURST; i++)
		CHECK(!irq_storm_hit(&s, t + i * 10 * US), "16 within 1 ms pass");
	CHECK(irq_storm_hit(&s, t + 999 * US), "the 17th within the same ms masks");
	CHECK(s.masked && s.storms == 1, "masked, one storm counted");
	CHECK(s.unmask_at == t + 999 * US + IRQ_STORM_HOLD_NS, "held for IRQ_STORM_HOLD_NS");
	CHECK(!irq_storm_hit(&s, t + 1000 * US), "one in flight while masked is no new storm");
	CHECK(s.storms == 1, "still one storm");
	CHECK(!irq_storm_unmask_due(&s, s.unmask_at - 1), "not before the hold ends");
	CHECK(irq_storm_unmask_due(&s, s.unmask_at), "at the hold's end");
	CHECK(!s.masked, "unmasked");
	CHECK(!irq_storm_unmask_due(&s, s.unmask_at + MS), "unmask only once");
	/* A fresh count after the hold: 16 more pass at once. */
	t = s.unmask_at + MS;
	for (i = 0; i < IRQ_STORM_BURST; i++)
		CHECK(!irq_storm_hit(&s, t), "history cleared by the unmask");
	CHECK(irq_storm_hit(&s, t), "and the 17th masks again");
	CHECK(s.storms == 2, "two storms");
}

static void test_spread(void)
{
	struct irq_storm s;
	u64 t = 0;
	bool any = false;

	irq_storm_init(&s);
	/* 16 per ms exactly, for a second: 16 000 interrupts, never a storm. */
	for (u32 i = 0; i < 16000; i++) {
		any |= irq_storm_hit(&s, t);
		t += IRQ_STORM_WINDOW_NS / IRQ_STORM_BURST;
	}
	CHECK(!any && !s.masked, "16 per ms, evenly, is no storm");
	/* The window is exact, not bucketed: 8 at the end of one ms and 9 at
	 * the start of the next are 17 within 1 ms. */
	irq_storm_init(&s);
	t = 100 * MS;
	for (u32 i = 0; i < 8; i++)
		CHECK(!irq_storm_hit(&s, t - 100 * US + i), "8 late in a millisecond");
	for (u32 i = 0; i < 8; i++)
		CHECK(!irq_storm_hit(&s, t + i), "8 early in the next");
	CHECK(irq_storm_hit(&s, t + 100 * US), "the 17th across the boundary masks");
	/* Exactly one window apart is outside it. */
	irq_storm_init(&s);
	for (u32 i = 0; i < IRQ_STORM_BURST; i++)
		CHECK(!irq_storm_hit(&s, 7 * MS), "16 at one instant");
	CHECK(!irq_storm_hit(&s, 7 * MS + IRQ_STORM_WINDOW_NS), "the next a full window later passes");
}

static void test_clock_back(void)
{
	struct irq_storm s;

	irq_storm_init(&s);
	for (u32 i = 0; i < IRQ_STORM_BURST; i++)
		irq_storm_hit(&s, 50 * MS);
	CHECK(irq_storm_hit(&s, 10 * MS), "a clock that stepped back counts as inside the window");
}

int main(void)
{
	test_burst();
	test_spread();
	test_clock_back();
	return check_summary();
}
