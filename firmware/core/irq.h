/* Interrupts from a VM's devices to its vCPUs: core's routing. Devices
 * never touch a vLAPIC: line interrupts (ISA IRQs, GSIs) go through the
 * VM's IOAPIC model (its redirection table decides vector and
 * destination), message interrupts (PCI MSI/MSI-X) carry vector and
 * destination themselves (SDM Vol 3A 10.11, Intel format). This file
 * hands the IOAPIC model its way out (struct ioapic_env). */
#ifndef CG_IRQ_H
#define CG_IRQ_H

#include <cg/types.h>

struct vm;

#define IRQ_MSI_BASE 0xFEE00000ULL /* SDM 10.11.1: address bits 31:20 = 0xFEE */

/* irq_msi: deliver a message-signalled interrupt of vm: addr/data as the
 * guest programmed them into the device. Fixed and lowest-priority
 * deliveries to a physical or logical destination are delivered; returns
 * 0, or -CG_EINVAL for an address outside 0xFEExxxxx or a delivery mode
 * that is not emulated (the message is dropped, the VM goes on). */
int irq_msi(struct vm *vm, u64 addr, u32 data);

/* irq_line: the level of input pin gsi of vm's IOAPIC (ioapic_line).
 * Pins >= IOAPIC_PINS are ignored. Safe from any CPU. */
void irq_line(struct vm *vm, u32 gsi, bool level);

/* irq_pulse: an edge on pin gsi (raise then lower). */
void irq_pulse(struct vm *vm, u32 gsi);

/* irq_eoi: a vLAPIC of vm ended a level-triggered interrupt with this
 * vector; the IOAPIC re-delivers pins still asserted (ioapic_eoi). */
void irq_eoi(struct vm *vm, u8 vector);

/* irq_ioapic_mmio: a guest access at offset off of vm's IOAPIC page
 * (ioapic_mmio): 0, or -CG_EINVAL for a malformed access. */
int irq_ioapic_mmio(struct vm *vm, u64 off, bool write, u32 size, u64 *val);

#endif
