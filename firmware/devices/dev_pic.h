/* The PC's two cascaded 8259A programmable interrupt controllers (master
 * at 0x20-0x21, slave at 0xA0-0xA1, the slave's INT wired to master IR2)
 * and the PIIX/ICH edge/level control registers ELCR1/ELCR2 at 0x4D0-0x4D1.
 *
 * Probe-correct, and not an interrupt path: the master's INT output is
 * connected to nothing. A VM's interrupts go through its I/O APIC and MSI
 * (dev_ioapic.h, irq.h); the monitor drives no IR input, so in a VM the
 * IRR and ISR read 0 and a poll reads 0x00 ("no interrupt"). The inputs
 * (pic_set_irq) exist so the priority, acknowledge and EOI logic is whole
 * and host-tested, not for delivery.
 *
 * A pure model. Intel 8259A datasheet terms:
 *   ICW1 (command port, bit 4 set): starts initialization: IMR, ISR and
 *   latched requests cleared, edge sense reset (a high input must go low
 *   and high again), IR7 lowest priority, special mask mode off, reads
 *   select IRR, ICW4 functions zero; then ICW2 (vector base, T7-T3), ICW3
 *   when SNGL = 0 (master: slave mask; slave: ID), ICW4 when IC4 = 1 (uPM,
 *   AEOI, BUF and M/S, SFNM) arrive on the data port. A new ICW1 restarts
 *   the sequence at any point.
 *   OCW1 (data port, operational): the IMR, read back as written.
 *   OCW2 (command port, bits 4-3 = 00): non-specific EOI, specific EOI,
 *   rotate on non-specific or specific EOI, set priority, rotate in AEOI
 *   mode set and clear, no operation.
 *   OCW3 (command port, bits 4-3 = 01): read register (IRR or ISR on the
 *   next command-port reads), poll (the next read of either port is an
 *   interrupt acknowledge returning 0x80 | level, or 0x00), special mask
 *   mode set and reset.
 * A request is recognised when it is unmasked and of higher priority than
 * every in-service level (in special mask mode masked in-service levels do
 * not count; with SFNM the master's slave inputs do not block themselves).
 * Edge-triggered inputs latch IRR on a rising edge and a pulse stays
 * requested until acknowledged; level-triggered inputs (ICW1.LTIM, or the
 * ELCR bit) show their level in IRR. ELCR: one bit per IRQ, 1 = level;
 * IRQ 0, 1, 2, 8 and 13 are always edge (their bits read 0, writes to them
 * are ignored). Multi-byte accesses cover consecutive ports, as 8-bit
 * devices on the ISA bus see them.
 * Not modelled: the INTA vector cycle (nothing acknowledges but a poll),
 * 8080/8085 mode call addresses, buffered-mode pins; ICW2-ICW4 are kept
 * as written. After pic_reset both chips are initialized as a PC BIOS
 * leaves them (cascade on IR2, vectors 0x08 and 0x70, 8086 mode), every
 * IRQ masked, the ELCR all edge.
 *
 * Not locked: the caller serialises access to one struct pic. */
#ifndef CG_DEV_PIC_H
#define CG_DEV_PIC_H

#include <cg/types.h>

#define PIC_PORT_MASTER 0x20	/* command; data (IMR) at +1 */
#define PIC_PORT_SLAVE 0xA0
#define PIC_PORT_ELCR 0x4D0	/* ELCR1 (IRQ 0-7); ELCR2 (IRQ 8-15) at +1 */

#define PIC_MASTER 0
#define PIC_SLAVE 1
#define PIC_CASCADE_IR 2	/* master input the slave's INT drives */
#define PIC_IRQS 16

#define PIC_ELCR1_WRITABLE 0xF8	/* IRQ 0, 1, 2 always edge */
#define PIC_ELCR2_WRITABLE 0xDE	/* IRQ 8, 13 always edge */

#define PIC_ICW1_IC4 0x01
#define PIC_ICW1_SNGL 0x02
#define PIC_ICW1_LTIM 0x08
#define PIC_ICW1 0x10		/* command-port write with bit 4: ICW1 */
#define PIC_ICW4_UPM 0x01
#define PIC_ICW4_AEOI 0x02
#define PIC_ICW4_SFNM 0x10
#define PIC_OCW3 0x08		/* bits 4-3 = 01 */
#define PIC_OCW3_RIS 0x01
#define PIC_OCW3_RR 0x02
#define PIC_OCW3_P 0x04
#define PIC_OCW3_SMM 0x20
#define PIC_OCW3_ESMM 0x40
#define PIC_POLL_INT 0x80	/* poll word: a request was acknowledged */

/* OCW2 bits 7-5 (R, SL, EOI) */
#define PIC_OCW2_ROTATE_AEOI_CLEAR 0
#define PIC_OCW2_EOI 1
#define PIC_OCW2_NOP 2
#define PIC_OCW2_SPECIFIC_EOI 3
#define PIC_OCW2_ROTATE_AEOI_SET 4
#define PIC_OCW2_ROTATE_EOI 5
#define PIC_OCW2_SET_PRIORITY 6
#define PIC_OCW2_ROTATE_SPECIFIC_EOI 7

struct pic_chip {
	u8 imr;
	u8 isr;
	u8 irr_edge;		/* edge requests latched, not yet acknowledged */
	u8 level;		/* IR input levels */
	u8 armed;		/* inputs seen low since their last edge (edge sense) */
	u8 elcr;		/* ELCR1 or ELCR2, reserved bits 0 */
	u8 icw1, icw2, icw3, icw4;
	u8 init_next;		/* ICW expected on the data port (2-4), 0: none */
	u8 lowest;		/* lowest-priority level (rotation) */
	bool read_isr;		/* OCW3: command-port reads return ISR, else IRR */
	bool poll;		/* OCW3: the next read is a poll */
	bool special_mask;
	bool rotate_aeoi;
};

struct pic {
	struct pic_chip chip[2];	/* PIC_MASTER, PIC_SLAVE */
};

/* pic_reset: both chips as a PC BIOS leaves them, every IRQ masked, no
 * input high, the ELCR all edge. */
void pic_reset(struct pic *p);

/* pic_read: a 1-byte IN from 0x20, 0x21, 0xA0, 0xA1, 0x4D0 or 0x4D1; other
 * ports read 0xFF. Reading can change state (a pending poll is consumed). */
u8 pic_read(struct pic *p, u16 port);

/* pic_write: a 1-byte OUT to one of the ports pic_read takes; other ports
 * are ignored. */
void pic_write(struct pic *p, u16 port, u8 value);

/* pic_io: an IN or OUT of size 1, 2 or 4 at port: byte i goes to port + i
 * (bytes on ports that are not the PIC's read 0xFF). For IN, *val receives
 * the bytes; for OUT, *val holds them. Any other size reads all ones and
 * writes nothing. */
void pic_io(struct pic *p, u16 port, bool in, u32 size, u32 *val);

/* pic_set_irq: drive ISA IRQ irq's input (0-7 master, 8-15 slave) to
 * level. IRQ 2 is the cascade input, driven by the slave only: requests
 * for it and for irq >= PIC_IRQS are ignored. */
void pic_set_irq(struct pic *p, u32 irq, bool level);

#endif
