/* A VM's I/O APIC (82093AA-style, version 0x11: no EOI register; EOIs
 * arrive from the local APICs): 24 input pins, each with a redirection
 * entry that names vector, delivery mode, destination and trigger mode. */
#ifndef CG_DEV_IOAPIC_H
#define CG_DEV_IOAPIC_H

#include <cg/types.h>
#include "core/irq.h"

struct vm;

struct ioapic {
	u32 id;
	u32 sel;                      /* IOREGSEL */
	u64 redir[IRQ_IOAPIC_PINS];
	u32 pin_level;                /* input levels, bit per pin */
	u32 lock;
	u64 delivered;                /* interrupts sent to a vLAPIC */
};

/* ioapic_reset: power-on state: every pin masked, edge, vector 0. */
void ioapic_reset(struct ioapic *io, u32 id);

/* ioapic_mmio: a guest access at offset off of the IOAPIC page (IOREGSEL
 * at 0x00, IOWIN at 0x10, 32-bit). Returns 0, or -CG_EINVAL for an
 * access that is not an aligned 32-bit one (the caller stops the VM). */
int ioapic_mmio(struct vm *vm, u64 off, bool write, u32 size, u64 *val);

/* ioapic_eoi: a vLAPIC of vm ended a level-triggered interrupt with this
 * vector: clear Remote IRR of the pins that sent it and deliver again the
 * ones still asserted. */
void ioapic_eoi(struct vm *vm, u8 vector);

#endif
