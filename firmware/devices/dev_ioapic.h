/* A VM's I/O APIC (82093AA-style, version 0x11: no EOI register; EOIs
 * arrive from the local APICs): 24 input pins, each with a redirection
 * entry that names vector, delivery mode, destination and trigger mode.
 * The model knows no local APIC: interrupts leave through env->deliver. */
#ifndef CG_DEV_IOAPIC_H
#define CG_DEV_IOAPIC_H

#include <cg/types.h>

struct vm;

#define IOAPIC_BASE 0xFEC00000ULL /* the guest-physical page (MADT, DSDT) */
#define IOAPIC_SIZE 0x1000ULL
#define IOAPIC_PINS 24

/* Delivery modes of a redirection entry (82093AA datasheet 3.2.4; the
 * same encoding as an MSI's data, SDM Vol 3A 10.11.2) */
enum ioapic_mode {
	IOAPIC_MODE_FIXED = 0,
	IOAPIC_MODE_LOWEST = 1,
	IOAPIC_MODE_SMI = 2,
	IOAPIC_MODE_NMI = 4,
	IOAPIC_MODE_INIT = 5,
	IOAPIC_MODE_EXTINT = 7,
};

/* How the IOAPIC reaches the local APICs (fakes in host tests). */
struct ioapic_env {
	/* Deliver a message to the local APICs of vm that dest names
	 * (physical APIC ID, 0xFF = all; or a logical flat-model mask): mode
	 * is the entry's delivery mode (IOAPIC_MODE_*, bits 10:8), vector
	 * its vector; level: level-triggered (fixed and lowest priority
	 * only), so the vector's EOI must come back through ioapic_eoi.
	 * What the other modes become is the caller's choice. Called
	 * without the IOAPIC's lock: delivery may wake a vCPU. */
	void (*deliver)(struct vm *vm, u32 dest, bool logical, u32 mode, u8 vector, bool level);
	struct vm *vm;
};

struct ioapic {
	u32 id;
	u32 sel;                      /* IOREGSEL */
	u64 redir[IOAPIC_PINS];
	u32 pin_level;                /* input levels, bit per pin */
	u32 lock;
	u64 delivered;                /* interrupts sent through env->deliver */
};

/* ioapic_reset: power-on state: every pin masked, edge, vector 0. */
void ioapic_reset(struct ioapic *io, u32 id);

/* ioapic_line: the level of input pin of io. Edge-triggered pins
 * interrupt on a rising level; level-triggered pins while high and
 * unmasked (re-raised after the guest's EOI). Pins >= IOAPIC_PINS are
 * ignored. Safe from any CPU. */
void ioapic_line(struct ioapic *io, const struct ioapic_env *env, u32 pin, bool level);

/* ioapic_mmio: a guest access at offset off of the IOAPIC page (IOREGSEL
 * at 0x00, IOWIN at 0x10, 32-bit). Returns 0, or -CG_EINVAL for an
 * access that is not an aligned 32-bit one (the caller stops the VM). */
int ioapic_mmio(struct ioapic *io, const struct ioapic_env *env, u64 off, bool write, u32 size,
		u64 *val);

/* ioapic_eoi: a local APIC ended a level-triggered interrupt with this
 * vector: clear Remote IRR of the pins that sent it and deliver again the
 * ones still asserted. */
void ioapic_eoi(struct ioapic *io, const struct ioapic_env *env, u8 vector);

#endif
