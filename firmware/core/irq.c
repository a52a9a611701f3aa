/* Interrupt routing of a VM (irq.h): MSIs decoded here (SDM Vol 3A
 * 10.11: the address names the destination, the data the vector and
 * delivery mode), line interrupts and EOIs through the VM's IOAPIC
 * model, whose deliveries come back here to the vLAPICs. */
#include "core/irq.h"
#include "core/virt.h"
#include "core/vm.h"
#include <cg/errno.h>

#define MSI_ADDR_DEST(a) ((u32)(((a) >> 12) & 0xFF))
#define MSI_ADDR_LOGICAL (1ULL << 2)
#define MSI_DATA_VECTOR(d) ((u8)((d) & 0xFF))
#define MSI_DATA_MODE(d) (((d) >> 8) & 7)
#define MSI_DATA_LEVEL (1U << 15)
enum { MODE_FIXED = 0, MODE_LOWEST = 1 };

int irq_msi(struct vm *vm, u64 addr, u32 data)
{
	if ((addr & 0xFFF00000ULL) != IRQ_MSI_BASE || (addr >> 32))
		return -CG_EINVAL;
	u32 mode = MSI_DATA_MODE(data);
	if (mode != MODE_FIXED && mode != MODE_LOWEST)
		return -CG_EINVAL;
	/* Messages are edges: a level-triggered message has no EOI partner. */
	arch_irq_deliver(vm, MSI_ADDR_DEST(addr), addr & MSI_ADDR_LOGICAL, mode == MODE_LOWEST,
			   MSI_DATA_VECTOR(data), false);
	return 0;
}

/* The IOAPIC model's way out: the only place its deliveries reach a vLAPIC. */
static void ioapic_deliver(struct vm *vm, u32 dest, bool logical, bool lowest, u8 vector,
			   bool level)
{
	arch_irq_deliver(vm, dest, logical, lowest, vector, level);
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
