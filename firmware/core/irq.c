/* Message-signalled interrupts (SDM Vol 3A 10.11): the address names the
 * destination, the data the vector and delivery mode. */
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
