/* Host tests for the 8259A pair and ELCR model (firmware/devices/dev_pic.c):
 * the sequences guests run to initialise and probe it, and the priority,
 * poll and EOI logic behind the (unconnected in a VM) inputs. */
#include "check.h"
#include "devices/dev_pic.h"

#define M_CMD PIC_PORT_MASTER
#define M_DATA (PIC_PORT_MASTER + 1)
#define S_CMD PIC_PORT_SLAVE
#define S_DATA (PIC_PORT_SLAVE + 1)
#define ELCR1 PIC_PORT_ELCR
#define ELCR2 (PIC_PORT_ELCR + 1)

#define OCW3_READ_IRR 0x0A
#define OCW3_READ_ISR 0x0B
#define OCW3_POLL 0x0C
#define OCW3_SMM_SET 0x68
#define OCW3_SMM_RESET 0x48
#define OCW2(op, level) ((u8)(((op) << 5) | (level)))

/* The usual PC sequence with the given ICW4, IMR left 0 by ICW1. */
static void init_pair(struct pic *p, u8 icw4)
{
	pic_write(p, M_CMD, 0x11);
	pic_write(p, M_DATA, 0x20);
	pic_write(p, M_DATA, 0x04);
	pic_write(p, M_DATA, icw4);
	pic_write(p, S_CMD, 0x11);
	pic_write(p, S_DATA, 0x28);
	pic_write(p, S_DATA, 0x02);
	pic_write(p, S_DATA, icw4);
}

static u8 read_isr(struct pic *p, u16 cmd)
{
	pic_write(p, cmd, OCW3_READ_ISR);
	return pic_read(p, cmd);
}

static u8 read_irr(struct pic *p, u16 cmd)
{
	pic_write(p, cmd, OCW3_READ_IRR);
	return pic_read(p, cmd);
}

static u8 poll(struct pic *p, u16 cmd)
{
	pic_write(p, cmd, OCW3_POLL);
	return pic_read(p, cmd);
}

static void pulse(struct pic *p, u32 irq)
{
	pic_set_irq(p, irq, true);
	pic_set_irq(p, irq, false);
}

static void test_reset_state(void)
{
	struct pic p;
	pic_reset(&p);
	CHECK(pic_read(&p, M_DATA) == 0xFF && pic_read(&p, S_DATA) == 0xFF, "reset: every IRQ masked");
	CHECK(pic_read(&p, M_CMD) == 0 && pic_read(&p, S_CMD) == 0, "reset: IRR reads 0");
	CHECK(read_isr(&p, M_CMD) == 0 && read_isr(&p, S_CMD) == 0, "reset: ISR reads 0");
	CHECK(poll(&p, M_CMD) == 0 && poll(&p, S_CMD) == 0, "reset: poll says no interrupt");
	CHECK(pic_read(&p, ELCR1) == 0 && pic_read(&p, ELCR2) == 0, "reset: ELCR all edge");
	CHECK(p.chip[PIC_MASTER].icw2 == 0x08 && p.chip[PIC_SLAVE].icw2 == 0x70, "reset: BIOS vector bases");
	CHECK(p.chip[PIC_MASTER].init_next == 0 && p.chip[PIC_SLAVE].init_next == 0, "reset: initialised");
	CHECK(pic_read(&p, 0x22) == 0xFF && pic_read(&p, 0x4D2) == 0xFF, "neighbour ports read 0xFF");
}

/* ICW1-ICW4, then OCW1 lands in the IMR and reads back. */
static void test_init_sequence(void)
{
	struct pic p;
	pic_reset(&p);
	pic_write(&p, M_DATA, 0x5A);
	pic_write(&p, M_CMD, 0x11);
	CHECK(pic_read(&p, M_DATA) == 0, "ICW1 clears the IMR");
	pic_write(&p, M_DATA, 0x20);
	pic_write(&p, M_DATA, 0x04);
	pic_write(&p, M_DATA, 0x01);
	CHECK(pic_read(&p, M_DATA) == 0, "ICW2-4 do not reach the IMR");
	struct pic_chip *m = &p.chip[PIC_MASTER];
	CHECK(m->icw2 == 0x20 && m->icw3 == 0x04 && m->icw4 == 0x01 && m->init_next == 0, "ICWs kept in order");
	pic_write(&p, M_DATA, 0xA5);
	CHECK(pic_read(&p, M_DATA) == 0xA5, "OCW1 reads back");
	CHECK(pic_read(&p, S_DATA) == 0xFF, "the slave is untouched");

	/* single mode without ICW4: ICW2 only, then the IMR */
	pic_write(&p, S_CMD, PIC_ICW1 | PIC_ICW1_SNGL);
	pic_write(&p, S_DATA, 0x70);
	pic_write(&p, S_DATA, 0x3C);
	CHECK(pic_read(&p, S_DATA) == 0x3C && p.chip[PIC_SLAVE].icw2 == 0x70, "SNGL, no IC4: ICW2 then IMR");
	CHECK(p.chip[PIC_SLAVE].icw4 == 0, "no IC4: ICW4 functions zero");

	/* cascade without ICW4: ICW2, ICW3, then the IMR */
	pic_write(&p, S_CMD, PIC_ICW1);
	pic_write(&p, S_DATA, 0x70);
	pic_write(&p, S_DATA, 0x02);
	pic_write(&p, S_DATA, 0xC3);
	CHECK(pic_read(&p, S_DATA) == 0xC3 && p.chip[PIC_SLAVE].icw3 == 0x02, "cascade, no IC4: ICW2, ICW3, IMR");
}

/* Linux's probe_8259A: mask the slave, write a value to the master's
 * IMR, read it back; then 0xFF and other masks, exactly. */
static void test_linux_probe(void)
{
	struct pic p;
	pic_reset(&p);
	pic_write(&p, S_DATA, 0xFF);
	pic_write(&p, M_DATA, 0xFB);
	CHECK(pic_read(&p, M_DATA) == 0xFB, "probe value 0xFB reads back");
	pic_write(&p, M_DATA, 0xFF);
	CHECK(pic_read(&p, M_DATA) == 0xFF, "0xFF reads back");
	for (u32 v = 0; v < 256; v++) {
		pic_write(&p, M_DATA, (u8)v);
		pic_write(&p, S_DATA, (u8)~v);
		if (pic_read(&p, M_DATA) != v || pic_read(&p, S_DATA) != (u8)~v) {
			CHECK(false, "every mask reads back exactly");
			return;
		}
	}
	CHECK(true, "every mask reads back exactly");
}

/* Nothing connected: IRR, ISR and polls stay 0 whatever is programmed. */
static void test_unconnected_reads(void)
{
	struct pic p;
	pic_reset(&p);
	init_pair(&p, PIC_ICW4_UPM);
	CHECK(read_irr(&p, M_CMD) == 0 && read_irr(&p, S_CMD) == 0, "IRR 0 with all unmasked");
	CHECK(read_isr(&p, M_CMD) == 0 && read_isr(&p, S_CMD) == 0, "ISR 0");
	CHECK(pic_read(&p, M_CMD) == 0, "the ISR selection persists");
	CHECK(poll(&p, M_CMD) == 0x00 && poll(&p, S_CMD) == 0x00, "poll reads 0x00");
	pic_write(&p, M_CMD, OCW3_POLL);
	CHECK(pic_read(&p, M_DATA) == 0x00, "a poll is answered on the data port too");
	CHECK(pic_read(&p, M_DATA) == 0x00 && pic_read(&p, M_CMD) == 0, "the poll is consumed by one read");
	pic_write(&p, M_DATA, 0x77);
	pic_write(&p, M_CMD, OCW3_POLL);
	(void)pic_read(&p, M_CMD);
	CHECK(pic_read(&p, M_DATA) == 0x77, "after the poll the data port reads the IMR");
}

/* OCW3 selects IRR or ISR; a poll acknowledges; EOI clears ISR. */
static void test_irr_isr_poll(void)
{
	struct pic p;
	pic_reset(&p);
	init_pair(&p, PIC_ICW4_UPM);
	pic_set_irq(&p, 3, true);
	CHECK(read_irr(&p, M_CMD) == 0x08 && read_isr(&p, M_CMD) == 0, "IR3 requested, not in service");
	CHECK(poll(&p, M_CMD) == 0x83, "poll acknowledges IR3");
	CHECK(read_irr(&p, M_CMD) == 0 && read_isr(&p, M_CMD) == 0x08, "edge IRR cleared, ISR set");
	CHECK(poll(&p, M_CMD) == 0, "the held line does not request again");
	pic_write(&p, M_CMD, OCW2(PIC_OCW2_EOI, 0));
	CHECK(read_isr(&p, M_CMD) == 0, "non-specific EOI ends it");
	pic_set_irq(&p, 3, false);
	pic_set_irq(&p, 3, true);
	CHECK(read_irr(&p, M_CMD) == 0x08, "a new edge requests again");

	/* masked requests show in IRR but are not polled */
	pic_reset(&p);
	init_pair(&p, PIC_ICW4_UPM);
	pic_write(&p, M_DATA, 0x10);
	pulse(&p, 4);
	CHECK(read_irr(&p, M_CMD) == 0x10, "an edge pulse stays requested");
	CHECK(poll(&p, M_CMD) == 0, "masked: not polled");
	pic_write(&p, M_DATA, 0);
	CHECK(poll(&p, M_CMD) == 0x84, "unmasked: polled");
	pic_set_irq(&p, PIC_CASCADE_IR, true);
	pic_set_irq(&p, 99, true);
	CHECK(read_irr(&p, M_CMD) == 0, "IRQ 2 and out-of-range inputs ignored");
}

/* Fully nested priorities and every EOI form. */
static void test_eoi_forms(void)
{
	struct pic p;
	pic_reset(&p);
	init_pair(&p, PIC_ICW4_UPM);
	pulse(&p, 3);
	pulse(&p, 5);
	CHECK(poll(&p, M_CMD) == 0x83, "IR3 before IR5");
	CHECK(poll(&p, M_CMD) == 0, "IR5 waits while IR3 is in service");
	pulse(&p, 1);
	CHECK(poll(&p, M_CMD) == 0x81, "IR1 preempts IR3");
	CHECK(read_isr(&p, M_CMD) == 0x0A, "IR1 and IR3 in service");
	pic_write(&p, M_CMD, OCW2(PIC_OCW2_EOI, 0));
	CHECK(read_isr(&p, M_CMD) == 0x08, "non-specific EOI ends the highest (IR1)");
	pic_write(&p, M_CMD, OCW2(PIC_OCW2_SPECIFIC_EOI, 3));
	CHECK(read_isr(&p, M_CMD) == 0, "specific EOI 3 ends IR3");
	CHECK(poll(&p, M_CMD) == 0x85, "now IR5");
	pic_write(&p, M_CMD, OCW2(PIC_OCW2_SPECIFIC_EOI, 6));
	CHECK(read_isr(&p, M_CMD) == 0x20, "specific EOI of another level leaves IR5");
	pic_write(&p, M_CMD, OCW2(PIC_OCW2_NOP, 5));
	CHECK(read_isr(&p, M_CMD) == 0x20, "no-operation OCW2");
	pic_write(&p, M_CMD, OCW2(PIC_OCW2_ROTATE_SPECIFIC_EOI, 5));
	CHECK(read_isr(&p, M_CMD) == 0, "rotate on specific EOI ends IR5");
	/* IR5 is now lowest: IR6 has the highest priority */
	pulse(&p, 5);
	pulse(&p, 0);
	pulse(&p, 6);
	CHECK(poll(&p, M_CMD) == 0x86, "after rotation IR6 first");
	pic_write(&p, M_CMD, OCW2(PIC_OCW2_ROTATE_EOI, 0));
	CHECK(read_isr(&p, M_CMD) == 0, "rotate on non-specific EOI ends IR6");
	CHECK(poll(&p, M_CMD) == 0x80, "IR6 lowest: IR0 next");
	pic_write(&p, M_CMD, OCW2(PIC_OCW2_EOI, 0));
	CHECK(poll(&p, M_CMD) == 0x85, "then IR5");
	pic_write(&p, M_CMD, OCW2(PIC_OCW2_EOI, 0));
	pic_write(&p, M_CMD, OCW2(PIC_OCW2_EOI, 0));
	CHECK(read_isr(&p, M_CMD) == 0, "EOI with nothing in service is harmless");
	/* set priority: IR2 lowest, so IR3 beats IR1 */
	pic_write(&p, M_CMD, OCW2(PIC_OCW2_SET_PRIORITY, 2));
	pulse(&p, 1);
	pulse(&p, 3);
	CHECK(poll(&p, M_CMD) == 0x83, "set priority: IR3 above IR1");
	CHECK(poll(&p, M_CMD) == 0, "IR1 now ranks below IR3 in service");
	pic_write(&p, M_CMD, OCW2(PIC_OCW2_EOI, 0));
	CHECK(poll(&p, M_CMD) == 0x81, "after the EOI, IR1");
}

/* Automatic EOI, rotate in AEOI mode, special mask mode. */
static void test_modes(void)
{
	struct pic p;
	pic_reset(&p);
	init_pair(&p, PIC_ICW4_UPM | PIC_ICW4_AEOI);
	pulse(&p, 4);
	pulse(&p, 6);
	CHECK(poll(&p, M_CMD) == 0x84 && read_isr(&p, M_CMD) == 0, "AEOI: nothing stays in service");
	CHECK(poll(&p, M_CMD) == 0x86, "AEOI: the next request at once");
	pic_write(&p, M_CMD, OCW2(PIC_OCW2_ROTATE_AEOI_SET, 0));
	pulse(&p, 1);
	pulse(&p, 3);
	CHECK(poll(&p, M_CMD) == 0x81, "rotate in AEOI: IR1 first");
	pulse(&p, 1);
	CHECK(poll(&p, M_CMD) == 0x83, "IR1 rotated to lowest: IR3 before IR1");
	pic_write(&p, M_CMD, OCW2(PIC_OCW2_ROTATE_AEOI_CLEAR, 0));
	CHECK(poll(&p, M_CMD) == 0x81 && p.chip[PIC_MASTER].lowest == 3, "rotate in AEOI cleared");

	/* special mask mode: a masked in-service level stops blocking */
	pic_reset(&p);
	init_pair(&p, PIC_ICW4_UPM);
	pulse(&p, 3);
	CHECK(poll(&p, M_CMD) == 0x83, "IR3 in service");
	pulse(&p, 5);
	CHECK(poll(&p, M_CMD) == 0, "IR5 blocked by IR3");
	pic_write(&p, M_DATA, 0x08);
	pic_write(&p, M_CMD, OCW3_SMM_SET);
	CHECK(poll(&p, M_CMD) == 0x85, "special mask: IR5 passes masked IR3");
	pic_write(&p, M_CMD, OCW3_SMM_RESET);
	pic_write(&p, M_CMD, OCW2(PIC_OCW2_SPECIFIC_EOI, 5));
	pulse(&p, 5);
	CHECK(poll(&p, M_CMD) == 0, "special mask reset: IR3 blocks again");
	CHECK(!p.chip[PIC_MASTER].special_mask, "SMM flag cleared");
}

/* The slave's INT drives master IR2; SFNM lets the slave nest. */
static void test_cascade(void)
{
	struct pic p;
	pic_reset(&p);
	init_pair(&p, PIC_ICW4_UPM);
	pulse(&p, 12);
	CHECK(read_irr(&p, S_CMD) == 0x10, "IRQ 12 on slave IR4");
	CHECK(read_irr(&p, M_CMD) == 0x04, "slave INT on master IR2");
	CHECK(poll(&p, M_CMD) == 0x82, "master polls the cascade input");
	CHECK(poll(&p, S_CMD) == 0x84, "slave polls IR4");
	CHECK(read_isr(&p, M_CMD) == 0x04 && read_isr(&p, S_CMD) == 0x10, "both in service");
	pulse(&p, 9);
	CHECK(read_irr(&p, M_CMD) == 0x04, "slave IR1 preempts IR4: INT again");
	CHECK(poll(&p, M_CMD) == 0, "master: IR2 in service blocks it (no SFNM)");
	pic_write(&p, S_CMD, OCW2(PIC_OCW2_EOI, 0));
	pic_write(&p, M_CMD, OCW2(PIC_OCW2_EOI, 0));
	pic_write(&p, S_CMD, OCW2(PIC_OCW2_EOI, 0));
	CHECK(read_isr(&p, M_CMD) == 0 && read_isr(&p, S_CMD) == 0, "all ended");

	pic_reset(&p);
	init_pair(&p, PIC_ICW4_UPM | PIC_ICW4_SFNM);
	pulse(&p, 12);
	CHECK(poll(&p, M_CMD) == 0x82 && poll(&p, S_CMD) == 0x84, "SFNM: first slave request");
	pulse(&p, 9);
	CHECK(poll(&p, M_CMD) == 0x82, "SFNM: the slave's higher request passes IR2 in service");
	CHECK(poll(&p, S_CMD) == 0x81, "slave IR1");
	pic_write(&p, S_DATA, 0xFF);
	pulse(&p, 10);
	CHECK(read_irr(&p, M_CMD) == 0, "masked slave request: no INT");
}

/* A new ICW1 at any point restarts initialization and clears the mask. */
static void test_icw1_restart(void)
{
	struct pic p;
	pic_reset(&p);
	init_pair(&p, PIC_ICW4_UPM);
	pulse(&p, 3);
	CHECK(poll(&p, M_CMD) == 0x83, "IR3 in service");
	pic_write(&p, M_DATA, 0x5A);
	pulse(&p, 4);
	pic_write(&p, M_CMD, 0x11);
	CHECK(pic_read(&p, M_DATA) == 0, "ICW1 mid-operation clears the IMR");
	CHECK(read_isr(&p, M_CMD) == 0 && read_irr(&p, M_CMD) == 0, "ICW1 clears ISR and latched requests");
	pic_write(&p, M_DATA, 0x30);
	pic_write(&p, M_CMD, 0x11); /* restart after ICW2 */
	pic_write(&p, M_DATA, 0x40);
	pic_write(&p, M_DATA, 0x04);
	pic_write(&p, M_DATA, 0x01);
	pic_write(&p, M_DATA, 0x99);
	CHECK(p.chip[PIC_MASTER].icw2 == 0x40 && pic_read(&p, M_DATA) == 0x99, "restart takes a fresh ICW2");

	/* edge sense reset: a line high across ICW1 must go low first */
	pic_set_irq(&p, 5, true);
	pic_write(&p, M_CMD, 0x11);
	pic_write(&p, M_DATA, 0x20);
	pic_write(&p, M_DATA, 0x04);
	pic_write(&p, M_DATA, 0x01);
	CHECK(read_irr(&p, M_CMD) == 0, "held line: no request after ICW1");
	pic_set_irq(&p, 5, true);
	CHECK(read_irr(&p, M_CMD) == 0, "held line reasserted: still no edge");
	pic_set_irq(&p, 5, false);
	pic_set_irq(&p, 5, true);
	CHECK(read_irr(&p, M_CMD) == 0x20, "low then high: requested");
	/* ICW1.LTIM: level-triggered, IRR follows the line */
	pic_write(&p, M_CMD, 0x19);
	pic_write(&p, M_DATA, 0x20);
	pic_write(&p, M_DATA, 0x04);
	pic_write(&p, M_DATA, 0x01);
	CHECK(read_irr(&p, M_CMD) == 0x20, "LTIM: a high line is requested");
	CHECK(poll(&p, M_CMD) == 0x85 && read_irr(&p, M_CMD) == 0x20, "LTIM: IRR stays while high");
	pic_set_irq(&p, 5, false);
	CHECK(read_irr(&p, M_CMD) == 0, "LTIM: low line, no request");
}

static void test_elcr(void)
{
	struct pic p;
	pic_reset(&p);
	pic_write(&p, ELCR1, 0xFF);
	pic_write(&p, ELCR2, 0xFF);
	CHECK(pic_read(&p, ELCR1) == 0xF8, "ELCR1: IRQ 0-2 read 0");
	CHECK(pic_read(&p, ELCR2) == 0xDE, "ELCR2: IRQ 8 and 13 read 0");
	pic_write(&p, ELCR1, 0x07);
	pic_write(&p, ELCR2, 0x21);
	CHECK(pic_read(&p, ELCR1) == 0 && pic_read(&p, ELCR2) == 0, "writes to reserved bits ignored");
	pic_write(&p, ELCR1, 0xA8);
	pic_write(&p, ELCR2, 0x0E);
	CHECK(pic_read(&p, ELCR1) == 0xA8 && pic_read(&p, ELCR2) == 0x0E, "other bits read back");
	/* Linux's acpi_pic_sci_set_trigger: read both, set IRQ 9 level, write */
	u16 v = (u16)(pic_read(&p, ELCR1) | pic_read(&p, ELCR2) << 8);
	v |= 1u << 9;
	pic_write(&p, ELCR1, (u8)v);
	pic_write(&p, ELCR2, (u8)(v >> 8));
	CHECK(pic_read(&p, ELCR2) == 0x0E, "IRQ 9 was level already: unchanged");
	pic_write(&p, ELCR2, 0);
	CHECK(pic_read(&p, ELCR1) == 0xA8, "ELCR2 write leaves ELCR1");

	/* an ELCR level bit makes that input level-triggered */
	init_pair(&p, PIC_ICW4_UPM);
	pic_write(&p, ELCR1, 0x80);
	pulse(&p, 7);
	pulse(&p, 6);
	CHECK(read_irr(&p, M_CMD) == 0x40, "level IR7 pulse gone, edge IR6 latched");
	pic_set_irq(&p, 7, true);
	CHECK(read_irr(&p, M_CMD) == 0xC0, "level IR7 high: requested");
}

static void test_wide_access(void)
{
	struct pic p;
	u32 v;
	pic_reset(&p);
	v = 0xFFFF;
	pic_io(&p, ELCR1, false, 2, &v);
	CHECK(pic_read(&p, ELCR1) == 0xF8 && pic_read(&p, ELCR2) == 0xDE, "word OUT covers both ELCRs");
	pic_io(&p, ELCR1, true, 4, &v);
	CHECK(v == 0xFFFFDEF8u, "dword IN: both ELCRs then unknown ports");
	pic_io(&p, M_CMD, true, 2, &v);
	CHECK(v == 0xFF00u, "word IN at 0x20: IRR then IMR");
	pic_io(&p, S_DATA, true, 1, &v);
	CHECK(v == 0xFF, "byte IN at 0xA1");
	v = 0x12;
	pic_io(&p, S_DATA, false, 1, &v);
	CHECK(pic_read(&p, S_DATA) == 0x12, "byte OUT at 0xA1");
	v = 0;
	pic_io(&p, M_DATA, true, 3, &v);
	CHECK(v == 0xFFFFFFFFu, "size 3: all ones");
}

/* Bounded random programming: never crashes, and with no input driven
 * IRR, ISR and polls stay 0; afterwards the Linux probe still works. */
static void test_random(void)
{
	static const u16 ports[] = { M_CMD, M_DATA, S_CMD, S_DATA, ELCR1, ELCR2, 0x22, 0xA2 };
	struct pic p;
	u32 bad = 0, bad_state = 0;
	for (u32 run = 0; run < 200; run++) {
		bool drive = run & 1;
		pic_reset(&p);
		for (u32 step = 0; step < 400; step++) {
			u16 port = ports[check_rand_below(sizeof(ports) / sizeof(ports[0]))];
			u32 what = (u32)check_rand_below(8);
			u8 got = 0xFF;
			if (what < 4) {
				pic_write(&p, port, (u8)check_rand());
			} else if (what < 6) {
				got = pic_read(&p, port);
			} else if (drive) {
				pic_set_irq(&p, (u32)check_rand_below(20), check_rand() & 1);
			} else {
				u32 v = (u32)check_rand();
				pic_io(&p, port, check_rand() & 1, 1u << check_rand_below(3), &v);
			}
			if (!drive && (port == M_CMD || port == S_CMD) && what >= 4 && what < 6 && got != 0)
				bad++;
			for (u32 c = 0; c < 2; c++) {
				const struct pic_chip *ch = &p.chip[c];
				if (ch->lowest > 7 || (ch->init_next != 0 && (ch->init_next < 2 || ch->init_next > 4)))
					bad_state++;
				if (!drive && (ch->isr || ch->irr_edge || ch->level))
					bad_state++;
			}
			if ((pic_read(&p, ELCR1) & ~PIC_ELCR1_WRITABLE) || (pic_read(&p, ELCR2) & ~PIC_ELCR2_WRITABLE))
				bad_state++;
		}
		init_pair(&p, PIC_ICW4_UPM);
		pic_write(&p, M_DATA, 0xFB);
		if (pic_read(&p, M_DATA) != 0xFB)
			bad_state++;
	}
	CHECK(bad == 0, "undriven: command-port reads (IRR, ISR, poll) always 0");
	CHECK(bad_state == 0, "state stays in range; re-initialisation always works");
}

int main(void)
{
	test_reset_state();
	test_init_sequence();
	test_linux_probe();
	test_unconnected_reads();
	test_irr_isr_poll();
	test_eoi_forms();
	test_modes();
	test_cascade();
	test_icw1_restart();
	test_elcr();
	test_wide_access();
	test_random();
	return check_summary();
}
