/* Interrupt routing of a VM (irq.h): MSIs decoded here (SDM Vol 3A
 * 10.11: the address names the destination, the data the vector and
 * delivery mode), line interrupts and EOIs through the VM's IOAPIC
 * model, whose deliveries come back here to the vLAPICs, and the
 * operator's NMI button on the vCPUs' LINT1 pins. */
#include "core/irq.h"
#include "core/virt.h"
#include "core/vm.h"
#include "devices/dev_ioapic.h"
#include <cg/errno.h>
#include <cg/spinlock.h>

#define MSI_ADDR_DEST(a) ((u32)(((a) >> 12) & 0xFF))
#define MSI_ADDR_LOGICAL (1ULL << 2)
#define MSI_DATA_VECTOR(d) ((u8)((d) & 0xFF))
#define MSI_DATA_MODE(d) (((d) >> 8) & 7)
#define MSI_DATA_LEVEL (1U << 15)

static const char *const irq_stat_names[IRQ_STATS] = {
	"lint1-nmi", "lint1-fixed", "lint1-masked", "lint1-dropped", "msg-nmi", "msg-dropped",
};

const char *irq_stat_name(u32 i)
{
	return i < IRQ_STATS ? irq_stat_names[i] : NULL;
}

static void irq_count(struct vm *vm, enum irq_stat s)
{
	__atomic_fetch_add(&vm->irq_stats[s], 1, __ATOMIC_RELAXED);
}

/* One message (an IOAPIC entry's or an MSI's, same delivery-mode
 * encoding): fixed, lowest priority and NMI reach the vLAPICs; SMI, INIT
 * and ExtINT are counted and dropped (no SMM, INIT comes by IPI only, no
 * 8259 to supply an ExtINT vector). Returns 0 or -CG_ENOTSUP (dropped). */
static int irq_message(struct vm *vm, u32 dest, bool logical, u32 mode, u8 vector, bool level)
{
	switch (mode) {
	case IOAPIC_MODE_FIXED:
	case IOAPIC_MODE_LOWEST:
		arch_irq_deliver(vm, dest, logical,
				 mode == IOAPIC_MODE_LOWEST ? VIRT_IRQ_LOWEST : VIRT_IRQ_FIXED, vector,
				 level);
		return 0;
	case IOAPIC_MODE_NMI:
		/* The vector is ignored and NMIs are edges (10.11.2) */
		arch_irq_deliver(vm, dest, logical, VIRT_IRQ_NMI, 0, false);
		irq_count(vm, IRQ_STAT_MSG_NMI);
		return 0;
	default:
		irq_count(vm, IRQ_STAT_MSG_DROPPED);
		return -CG_ENOTSUP;
	}
}

int irq_msi(struct vm *vm, u64 addr, u32 data)
{
	if ((addr & 0xFFF00000ULL) != IRQ_MSI_BASE || (addr >> 32))
		return -CG_EINVAL;
	/* Messages are edges: a level-triggered message has no EOI partner. */
	return irq_message(vm, MSI_ADDR_DEST(addr), addr & MSI_ADDR_LOGICAL, MSI_DATA_MODE(data),
			   MSI_DATA_VECTOR(data), false);
}

/* The IOAPIC model's way out: the only place its deliveries reach a vLAPIC. */
static void ioapic_deliver(struct vm *vm, u32 dest, bool logical, u32 mode, u8 vector, bool level)
{
	irq_message(vm, dest, logical, mode, vector, level);
}

static struct ioapic_env ioapic_env_of(struct vm *vm)
{
	return (struct ioapic_env){ .deliver = ioapic_deliver, .vm = vm };
}

void irq_line(struct vm *vm, u32 gsi, bool level)
{
	struct ioapic_env env = ioapic_env_of(vm);
	ioapic_line(&vm->dev.ioapic, &env, gsi, level);
}

void irq_pulse(struct vm *vm, u32 gsi)
{
	irq_line(vm, gsi, true);
	irq_line(vm, gsi, false);
}

void irq_eoi(struct vm *vm, u8 vector)
{
	struct ioapic_env env = ioapic_env_of(vm);
	ioapic_eoi(&vm->dev.ioapic, &env, vector);
}

int irq_ioapic_mmio(struct vm *vm, u64 off, bool write, u32 size, u64 *val)
{
	struct ioapic_env env = ioapic_env_of(vm);
	return ioapic_mmio(&vm->dev.ioapic, &env, off, write, size, val);
}

int irq_nmi_button(struct vm *vm, struct irq_nmi_result *r)
{
	/* vLAPIC outcome -> stats slot (enum virt_lint_result's order) */
	static const enum irq_stat slot[] = {
		[VIRT_LINT_NMI] = IRQ_STAT_LINT1_NMI,
		[VIRT_LINT_FIXED] = IRQ_STAT_LINT1_FIXED,
		[VIRT_LINT_MASKED] = IRQ_STAT_LINT1_MASKED,
		[VIRT_LINT_DROPPED] = IRQ_STAT_LINT1_DROPPED,
	};
	*r = (struct irq_nmi_result){ 0 };
	/* Under the VM's lock a running VM cannot end (vm_end waits for it),
	 * so its vLAPIC pages stay while the pins are raised (as for the
	 * UART's tick, vm_io.c). */
	spin_lock(&vm->lock);
	if (vm->state != VM_RUNNING) {
		spin_unlock(&vm->lock);
		return -CG_ENOENT;
	}
	for (u32 i = 0; i < vm->vcpu_count; i++) {
		struct vcpu *v = vm->vcpus[i];
		if (!v)
			continue;
		enum virt_lint_result what = arch_vcpu_lint(v, 1);
		irq_count(vm, slot[what]);
		r->n[slot[what]]++;
	}
	spin_unlock(&vm->lock);
	return 0;
}
