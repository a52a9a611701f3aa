/* 8259A pair and ELCR model (dev_pic.h). Intel 8259A datasheet terms: IRR
 * (interrupt request), ISR (in service), IMR (mask), priority resolver,
 * edge sense latch; ELCR as in the PIIX/ICH datasheets. */
#include "devices/dev_pic.h"

#define PIC_BIOS_ICW1 (PIC_ICW1 | PIC_ICW1_IC4)	/* edge, cascade, ICW4 */
#define PIC_BIOS_MASTER_BASE 0x08
#define PIC_BIOS_SLAVE_BASE 0x70
#define PIC_BIOS_SLAVE_ID PIC_CASCADE_IR

static u8 bit(u32 ir)
{
	return (u8)(1u << (ir & 7));
}

/* chip_level_mask: inputs whose IRR shows the level, not a latched edge. */
static u8 chip_level_mask(const struct pic_chip *c)
{
	return (c->icw1 & PIC_ICW1_LTIM) ? 0xFF : c->elcr;
}

static u8 chip_irr(const struct pic_chip *c)
{
	u8 lvl = chip_level_mask(c);
	return (u8)((c->irr_edge & ~lvl) | (c->level & lvl));
}

/* Priority 0 is the highest; after ICW1 IR0 has 0 and IR7 has 7. */
static u32 chip_priority(const struct pic_chip *c, u32 ir)
{
	return (ir - c->lowest - 1) & 7;
}

/* chip_highest: the highest-priority level set in mask, or -1. */
static int chip_highest(const struct pic_chip *c, u8 mask)
{
	for (u32 i = 1; i <= 8; i++) {
		u32 ir = (c->lowest + i) & 7;
		if (mask & bit(ir))
			return (int)ir;
	}
	return -1;
}

/* chip_pending: the level the priority resolver would raise INT for, or
 * -1 when none beats what is in service. */
static int chip_pending(const struct pic_chip *c, bool master)
{
	int ir = chip_highest(c, chip_irr(c) & ~c->imr);
	if (ir < 0)
		return -1;
	u8 blocking = c->isr;
	if (c->special_mask)
		blocking &= ~c->imr;
	/* SFNM: a slave's higher request passes its own in-service input. */
	if (master && (c->icw4 & PIC_ICW4_SFNM) && !(c->icw1 & PIC_ICW1_SNGL))
		blocking &= ~c->icw3;
	int cur = chip_highest(c, blocking);
	if (cur >= 0 && chip_priority(c, (u32)cur) <= chip_priority(c, (u32)ir))
		return -1;
	return ir;
}

static void chip_input(struct pic_chip *c, u32 ir, bool level)
{
	u8 b = bit(ir);
	if (level) {
		if ((c->armed & b) && !(chip_level_mask(c) & b))
			c->irr_edge |= b;
		c->armed &= ~b;
		c->level |= b;
	} else {
		c->armed |= b;
		c->level &= ~b;
	}
}

/* The slave's INT output is the master's cascade input. */
static void pic_cascade(struct pic *p)
{
	chip_input(&p->chip[PIC_MASTER], PIC_CASCADE_IR, chip_pending(&p->chip[PIC_SLAVE], false) >= 0);
}

/* chip_ack: the acknowledge of a poll: ISR set (or AEOI), edge latch cleared. */
static void chip_ack(struct pic_chip *c, u32 ir)
{
	c->irr_edge &= ~bit(ir);
	if (!(c->icw4 & PIC_ICW4_AEOI))
		c->isr |= bit(ir);
	else if (c->rotate_aeoi)
		c->lowest = (u8)ir;
}

static u8 chip_poll(struct pic_chip *c, bool master)
{
	int ir = chip_pending(c, master);
	if (ir < 0)
		return 0;
	chip_ack(c, (u32)ir);
	return (u8)(PIC_POLL_INT | ir);
}

static void chip_icw1(struct pic_chip *c, u8 v)
{
	c->icw1 = v;
	c->icw4 = 0; /* ICW4 functions are zero unless IC4 brings a new ICW4 */
	c->imr = 0;
	c->isr = 0;
	c->irr_edge = 0;
	c->armed = (u8)~c->level; /* a high input must go low first */
	c->lowest = 7;
	c->read_isr = false;
	c->poll = false;
	c->special_mask = false;
	c->rotate_aeoi = false;
	c->init_next = 2;
}

static void chip_ocw2(struct pic_chip *c, u8 v)
{
	u32 level = v & 7;
	int ir;

	switch (v >> 5) {
	case PIC_OCW2_EOI:
	case PIC_OCW2_ROTATE_EOI:
		ir = chip_highest(c, c->isr);
		if (ir < 0)
			break; /* nothing in service: nothing to end or rotate */
		c->isr &= ~bit((u32)ir);
		if (v >> 5 == PIC_OCW2_ROTATE_EOI)
			c->lowest = (u8)ir;
		break;
	case PIC_OCW2_SPECIFIC_EOI:
		c->isr &= ~bit(level);
		break;
	case PIC_OCW2_ROTATE_SPECIFIC_EOI:
		c->isr &= ~bit(level);
		c->lowest = (u8)level;
		break;
	case PIC_OCW2_SET_PRIORITY:
		c->lowest = (u8)level;
		break;
	case PIC_OCW2_ROTATE_AEOI_SET:
		c->rotate_aeoi = true;
		break;
	case PIC_OCW2_ROTATE_AEOI_CLEAR:
		c->rotate_aeoi = false;
		break;
	default: /* PIC_OCW2_NOP */
		break;
	}
}

static void chip_ocw3(struct pic_chip *c, u8 v)
{
	if (v & PIC_OCW3_P)
		c->poll = true;
	if (v & PIC_OCW3_RR)
		c->read_isr = v & PIC_OCW3_RIS;
	if (v & PIC_OCW3_ESMM)
		c->special_mask = v & PIC_OCW3_SMM;
}

static void chip_write(struct pic_chip *c, bool data, u8 v)
{
	if (!data) {
		if (v & PIC_ICW1)
			chip_icw1(c, v);
		else if (v & PIC_OCW3)
			chip_ocw3(c, v);
		else
			chip_ocw2(c, v);
		return;
	}
	bool icw4 = c->icw1 & PIC_ICW1_IC4;
	switch (c->init_next) {
	case 2:
		c->icw2 = v;
		c->init_next = !(c->icw1 & PIC_ICW1_SNGL) ? 3 : icw4 ? 4 : 0;
		break;
	case 3:
		c->icw3 = v;
		c->init_next = icw4 ? 4 : 0;
		break;
	case 4:
		c->icw4 = v;
		c->init_next = 0;
		break;
	default:
		c->imr = v; /* OCW1 */
		break;
	}
}

static u8 chip_read(struct pic_chip *c, bool master, bool data)
{
	if (c->poll) {
		c->poll = false;
		return chip_poll(c, master);
	}
	if (data)
		return c->imr;
	return c->read_isr ? c->isr : chip_irr(c);
}

/* pic_chip_at: the chip whose command or data port is port, or NULL. */
static struct pic_chip *pic_chip_at(struct pic *p, u16 port)
{
	if ((port & ~1) == PIC_PORT_MASTER)
		return &p->chip[PIC_MASTER];
	if ((port & ~1) == PIC_PORT_SLAVE)
		return &p->chip[PIC_SLAVE];
	return NULL;
}

u8 pic_read(struct pic *p, u16 port)
{
	struct pic_chip *c = pic_chip_at(p, port);
	if (c) {
		u8 v = chip_read(c, c == &p->chip[PIC_MASTER], port & 1);
		pic_cascade(p);
		return v;
	}
	if (port == PIC_PORT_ELCR || port == PIC_PORT_ELCR + 1)
		return p->chip[port - PIC_PORT_ELCR].elcr;
	return 0xFF;
}

void pic_write(struct pic *p, u16 port, u8 value)
{
	struct pic_chip *c = pic_chip_at(p, port);
	if (c)
		chip_write(c, port & 1, value);
	else if (port == PIC_PORT_ELCR)
		p->chip[PIC_MASTER].elcr = value & PIC_ELCR1_WRITABLE;
	else if (port == PIC_PORT_ELCR + 1)
		p->chip[PIC_SLAVE].elcr = value & PIC_ELCR2_WRITABLE;
	else
		return;
	pic_cascade(p);
}

void pic_io(struct pic *p, u16 port, bool in, u32 size, u32 *val)
{
	if (size != 1 && size != 2 && size != 4) {
		if (in)
			*val = 0xFFFFFFFFu;
		return;
	}
	u32 got = 0;
	for (u32 i = 0; i < size; i++) {
		u16 at = (u16)(port + i);
		if (in)
			got |= (u32)pic_read(p, at) << (8 * i);
		else
			pic_write(p, at, (u8)(*val >> (8 * i)));
	}
	if (in)
		*val = got;
}

void pic_set_irq(struct pic *p, u32 irq, bool level)
{
	if (irq >= PIC_IRQS || irq == PIC_CASCADE_IR)
		return;
	chip_input(&p->chip[irq / 8], irq % 8, level);
	pic_cascade(p);
}

void pic_reset(struct pic *p)
{
	*p = (struct pic){ 0 };
	/* The BIOS's sequence, then every IRQ masked: nothing is connected. */
	pic_write(p, PIC_PORT_MASTER, PIC_BIOS_ICW1);
	pic_write(p, PIC_PORT_MASTER + 1, PIC_BIOS_MASTER_BASE);
	pic_write(p, PIC_PORT_MASTER + 1, bit(PIC_CASCADE_IR));
	pic_write(p, PIC_PORT_MASTER + 1, PIC_ICW4_UPM);
	pic_write(p, PIC_PORT_SLAVE, PIC_BIOS_ICW1);
	pic_write(p, PIC_PORT_SLAVE + 1, PIC_BIOS_SLAVE_BASE);
	pic_write(p, PIC_PORT_SLAVE + 1, PIC_BIOS_SLAVE_ID);
	pic_write(p, PIC_PORT_SLAVE + 1, PIC_ICW4_UPM);
	pic_write(p, PIC_PORT_MASTER + 1, 0xFF);
	pic_write(p, PIC_PORT_SLAVE + 1, 0xFF);
}
