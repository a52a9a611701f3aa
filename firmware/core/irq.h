/* Interrupts from a VM's devices to its vCPUs: core's routing. Devices
 * never touch a vLAPIC: line interrupts (ISA IRQs, GSIs) go through the
 * VM's IOAPIC model (its redirection table decides vector and
 * destination), message interrupts (PCI MSI/MSI-X) carry vector and
 * destination themselves (SDM Vol 3A 10.11, Intel format). This file
 * hands the IOAPIC model its way out (struct ioapic_env), and raises the
 * vCPUs' LINT1 pins for the operator's NMI button. */
#ifndef CG_IRQ_H
#define CG_IRQ_H

#include <cg/types.h>

struct vm;

#define IRQ_MSI_BASE 0xFEE00000ULL /* SDM 10.11.1: address bits 31:20 = 0xFEE */

/* Per-VM interrupt counters (struct vm's irq_stats; `stats` shows them
 * under the names irq_stat_name gives). */
enum irq_stat {
	IRQ_STAT_LINT1_NMI,     /* NMI button: an NMI on a vCPU */
	IRQ_STAT_LINT1_FIXED,   /* NMI button: LINT1's fixed vector requested */
	IRQ_STAT_LINT1_MASKED,  /* NMI button: LINT1 masked, nothing delivered */
	IRQ_STAT_LINT1_DROPPED, /* NMI button: a LINT1 mode with nothing behind it */
	IRQ_STAT_MSG_NMI,       /* IOAPIC or MSI messages with delivery mode NMI */
	IRQ_STAT_MSG_DROPPED,   /* ... with SMI, INIT or ExtINT: dropped */
	IRQ_STATS
};

/* irq_stat_name: "lint1-nmi", ... for stats; NULL past the end. */
const char *irq_stat_name(u32 i);

/* irq_msi: deliver a message-signalled interrupt of vm: addr/data as the
 * guest programmed them into the device. Fixed and lowest-priority
 * deliveries to a physical or logical destination request their vector,
 * NMI deliveries an NMI (vector ignored); returns 0, or -CG_EINVAL for
 * an address outside 0xFEExxxxx, -CG_ENOTSUP for SMI, INIT or ExtINT
 * (the message is dropped and counted, the VM goes on). */
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

/* What one press of the NMI button did: vCPUs by outcome (the
 * IRQ_STAT_LINT1_* slots; the others stay 0). */
struct irq_nmi_result {
	u32 n[IRQ_STATS];
};

/* irq_nmi_button: the operator's NMI button: an edge on LINT1 of every
 * vCPU of vm, as a PC wires its NMI line to each CPU's LINT1 (and as
 * QEMU's `nmi` does); each vCPU's LVT LINT1 decides what it becomes
 * (arch_vcpu_lint), counted in vm's irq_stats and in *r. Returns 0, or
 * -CG_ENOENT when vm is no longer running (nothing pressed). Any CPU. */
int irq_nmi_button(struct vm *vm, struct irq_nmi_result *r);

#endif
