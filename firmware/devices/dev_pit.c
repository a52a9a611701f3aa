/* 8254 PIT and port 0x61 model (dev_pit.h). Intel 8254 datasheet terms:
 * CE (counting element), OL (output latch), null count, read-back. */
#include "devices/dev_pit.h"

#define NS_PER_S 1000000000u

#define PIT_ACCESS_LATCH 0
#define PIT_ACCESS_LO 1
#define PIT_ACCESS_HI 2
#define PIT_ACCESS_LOHI 3

#define PIT_READBACK_NO_COUNT 0x20
#define PIT_READBACK_NO_STATUS 0x10
#define PIT_STATUS_OUT 0x80
#define PIT_STATUS_NULL_COUNT 0x40

u64 pit_ns_to_ticks(u64 ns)
{
	/* Seconds and remainder: the remainder product stays below 2^51. */
	return ns / NS_PER_S * PIT_HZ + ns % NS_PER_S * PIT_HZ / NS_PER_S;
}

u64 pit_ticks_to_ns(u64 t)
{
	u64 q = t / PIT_HZ, r = t % PIT_HZ;
	if (q > (PIT_NEVER - NS_PER_S) / NS_PER_S)
		return PIT_NEVER;
	return q * NS_PER_S + (r * NS_PER_S + PIT_HZ - 1) / PIT_HZ;
}

/* ch_elapsed: clocks counted since the count was loaded (or reloaded). */
static u64 ch_elapsed(const struct pit_channel *c, u64 now)
{
	u64 e = c->base_ticks;
	if (c->running && now > c->origin_ns)
		e += pit_ns_to_ticks(now - c->origin_ns);
	return e;
}

/* ch_period: the period of modes 2 and 3 (a count of 1 acts as 2). */
static u64 ch_period(const struct pit_channel *c)
{
	return c->reload < 2 ? 2 : c->reload;
}

static bool ch_periodic(const struct pit_channel *c)
{
	return c->mode == 2 || c->mode == 3;
}

static bool ch_out(const struct pit_channel *c, u64 now)
{
	if (!c->armed)
		return c->mode != 0 && c->mode != 1;
	if (ch_periodic(c) && !c->gate)
		return true;
	u64 e = ch_elapsed(c, now), n = c->reload, per = ch_period(c);
	switch (c->mode) {
	case 0:
	case 1:
		return e >= n;
	case 4:
	case 5:
		return e != n;
	case 2:
		return e % per != per - 1;
	default: /* 3 */
		return e % per < (per + 1) / 2;
	}
}

/* ch_count: the CE as a read would see it. */
static u16 ch_count(const struct pit_channel *c, u64 now)
{
	if (!c->armed)
		return (u16)c->reload;
	u64 e = ch_elapsed(c, now), n = c->reload, per = ch_period(c), k, h;
	switch (c->mode) {
	case 2:
		return (u16)(per - e % per);
	case 3:
		k = e % per;
		h = (per + 1) / 2;
		if (k < h)
			return (u16)(per - 2 * k);
		return (u16)((per & ~(u64)1) - 2 * (k - h));
	default: /* 0, 1, 4, 5: the CE wraps past zero and keeps going */
		return (u16)(n - e);
	}
}

static u8 ch_status(const struct pit_channel *c, u64 now)
{
	u8 s = c->ctrl & 0x3F;
	if (ch_out(c, now))
		s |= PIT_STATUS_OUT;
	if (!c->armed)
		s |= PIT_STATUS_NULL_COUNT;
	return s;
}

/* ch_load: a complete count was written; counting starts now (if the gate
 * lets it: modes 1 and 5 start regardless, see dev_pit.h). */
static void ch_load(struct pit_channel *c, u32 count, u64 now)
{
	c->reload = count ? count : 65536;
	c->armed = true;
	c->base_ticks = 0;
	c->origin_ns = now;
	c->running = c->gate || c->mode == 1 || c->mode == 5;
}

/* ch_set_gate: the GATE input changes level at now. */
static void ch_set_gate(struct pit_channel *c, bool gate, u64 now)
{
	if (gate == c->gate)
		return;
	c->gate = gate;
	if (!c->armed)
		return;
	bool retrigger = c->mode == 1 || c->mode == 5;
	if (!gate) {
		if (retrigger)
			return; /* level does not matter, only rising edges */
		c->base_ticks = ch_elapsed(c, now);
		c->running = false;
		return;
	}
	if (ch_periodic(c) || retrigger)
		c->base_ticks = 0; /* rising edge reloads the count */
	c->origin_ns = now;
	c->running = true;
}

static void ch_latch_count(struct pit_channel *c, u64 now)
{
	if (c->latched)
		return; /* later latches are ignored until the OL is read */
	c->latch = ch_count(c, now);
	c->latched = true;
}

static void ch_latch_status(struct pit_channel *c, u64 now)
{
	if (c->status_latched)
		return;
	c->status = ch_status(c, now);
	c->status_latched = true;
}

static void pit_control(struct pit *p, u8 v, u64 now)
{
	u8 sc = v >> 6, access = (v >> 4) & 3, mode = (v >> 1) & 7;
	if (sc == 3) { /* read-back */
		for (u32 i = 0; i < 3; i++) {
			if (!(v & (2u << i)))
				continue;
			if (!(v & PIT_READBACK_NO_COUNT))
				ch_latch_count(&p->ch[i], now);
			if (!(v & PIT_READBACK_NO_STATUS))
				ch_latch_status(&p->ch[i], now);
		}
		return;
	}
	struct pit_channel *c = &p->ch[sc];
	if (access == PIT_ACCESS_LATCH) {
		ch_latch_count(c, now);
		return;
	}
	c->ctrl = v & 0x3F;
	c->access = access;
	c->mode = mode > 5 ? mode - 4 : mode;
	c->write_hi = false;
	c->read_hi = false;
	c->latched = false;
	c->status_latched = false;
	c->armed = false;
	c->running = false;
	c->base_ticks = 0;
}

static void pit_write_count(struct pit_channel *c, u8 v, u64 now)
{
	switch (c->access) {
	case PIT_ACCESS_LO:
		ch_load(c, v, now);
		break;
	case PIT_ACCESS_HI:
		ch_load(c, (u32)v << 8, now);
		break;
	default:
		if (!c->write_hi) {
			c->write_lsb = v;
			c->write_hi = true;
		} else {
			c->write_hi = false;
			ch_load(c, c->write_lsb | (u32)v << 8, now);
		}
		break;
	}
}

static u8 pit_read_count(struct pit_channel *c, u64 now)
{
	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	u16 val = c->latched ? c->latch : ch_count(c, now);
	bool last = true;
	u8 b;
	switch (c->access) {
	case PIT_ACCESS_LO:
		b = (u8)val;
		break;
	case PIT_ACCESS_HI:
		b = (u8)(val >> 8);
		break;
	default:
		b = c->read_hi ? (u8)(val >> 8) : (u8)val;
		last = c->read_hi;
		c->read_hi = !c->read_hi;
		break;
	}
	if (last)
		c->latched = false;
	return b;
}

void pit_reset(struct pit *p, u64 now_ns)
{
	for (u32 i = 0; i < 3; i++) {
		struct pit_channel *c = &p->ch[i];
		*c = (struct pit_channel){ 0 };
		c->reload = 65536;
		c->access = PIT_ACCESS_LOHI;
		c->ctrl = PIT_ACCESS_LOHI << 4;
		c->gate = i != 2; /* channels 0 and 1 have GATE tied high */
		c->origin_ns = now_ns;
	}
	p->sys = 0;
	p->refresh = false;
}

u8 pit_read(struct pit *p, u16 port, u64 now_ns)
{
	switch (port) {
	case PIT_PORT_CH0:
	case PIT_PORT_CH1:
	case PIT_PORT_CH2:
		return pit_read_count(&p->ch[port - PIT_PORT_CH0], now_ns);
	case PIT_PORT_SYS: {
		p->refresh = !p->refresh;
		u8 v = p->sys & 0x0F;
		if (p->refresh)
			v |= PIT_SYS_REFRESH;
		if (ch_out(&p->ch[2], now_ns))
			v |= PIT_SYS_OUT2;
		return v;
	}
	default: /* the control word register cannot be read */
		return 0xFF;
	}
}

void pit_write(struct pit *p, u16 port, u8 value, u64 now_ns)
{
	switch (port) {
	case PIT_PORT_CH0:
	case PIT_PORT_CH1:
	case PIT_PORT_CH2:
		pit_write_count(&p->ch[port - PIT_PORT_CH0], value, now_ns);
		break;
	case PIT_PORT_CTRL:
		pit_control(p, value, now_ns);
		break;
	case PIT_PORT_SYS:
		p->sys = value & 0x0F;
		ch_set_gate(&p->ch[2], value & PIT_SYS_GATE2, now_ns);
		break;
	default:
		break;
	}
}

u64 pit_ch0_next_irq(const struct pit *p, u64 now_ns)
{
	const struct pit_channel *c = &p->ch[0];
	if (!c->armed || !c->running)
		return PIT_NEVER;
	u64 e = ch_elapsed(c, now_ns), target, per = ch_period(c);
	switch (c->mode) {
	case 0:
	case 1:
		target = c->reload;
		break;
	case 4:
	case 5:
		target = (u64)c->reload + 1; /* back high after the low clock */
		break;
	default: /* 2, 3: rises at every multiple of the period */
		target = (e / per + 1) * per;
		break;
	}
	if (e >= target)
		return PIT_NEVER;
	u64 d = pit_ticks_to_ns(target - c->base_ticks);
	if (d == PIT_NEVER || c->origin_ns > PIT_NEVER - 1 - d)
		return PIT_NEVER;
	return c->origin_ns + d;
}
