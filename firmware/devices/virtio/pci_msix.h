/* The MSI-X capability of an emulated PCI function (PCI Local Bus 3.0
 * section 6.8.2): the capability in configuration space (message control
 * with its enable and function-mask bits), the vector table and the
 * pending-bit array in a memory BAR. A vector signalled while masked sets
 * its pending bit and is sent when unmasked; every entry starts masked.
 * Messages leave through a callback (irq_msi in the monitor). Not locked:
 * the owning device serialises. */
#ifndef CG_PCI_MSIX_H
#define CG_PCI_MSIX_H

#include <cg/types.h>
#include "devices/virtio/dev_pci.h"

struct vm;

#define PCI_MSIX_VECTORS_MAX 32
#define PCI_MSIX_CAP_LEN 12
#define PCI_MSIX_ENTRY_SIZE 16

struct pci_msix_entry {
	u32 addr_lo, addr_hi, data, ctrl; /* ctrl bit 0: masked */
};

struct pci_msix {
	struct pci_dev *pci;
	u8 cap;			/* capability offset in configuration space */
	u16 vectors;
	u32 pba_off;		/* inside the BAR; the table is at 0 */
	u32 pba;		/* pending bits */
	int (*send)(struct vm *vm, u64 addr, u32 data);
	struct vm *vm;
	struct pci_msix_entry e[PCI_MSIX_VECTORS_MAX];
};

/* pci_msix_init: add the capability to d for vectors vectors (1..32) with
 * the table at offset 0 and the pending bits at pba_off of BAR bar,
 * messages sent by send(vm, addr, data). Returns 0, or -CG_EINVAL (bad
 * count, or no room in configuration space). */
int pci_msix_init(struct pci_msix *m, struct pci_dev *d, u32 vectors, u32 bar, u32 pba_off,
		  int (*send)(struct vm *vm, u64 addr, u32 data), struct vm *vm);

/* pci_msix_enabled: the driver set MSI-X Enable. */
bool pci_msix_enabled(const struct pci_msix *m);

/* pci_msix_signal: raise vector vec: sent now, or left pending while the
 * vector or the function is masked. Vectors past the table (such as
 * virtio's NO_VECTOR) are ignored. */
void pci_msix_signal(struct pci_msix *m, u32 vec);

/* pci_msix_flush: send what is pending and no longer masked (after the
 * driver wrote message control). */
void pci_msix_flush(struct pci_msix *m);

/* pci_msix_clear_pending: forget every pending vector (device reset). */
void pci_msix_clear_pending(struct pci_msix *m);

/* pci_msix_bar_access: a guest access of size bytes at off in the BAR:
 * aligned dwords or qwords in the table (an unmask sends a pending
 * vector) and the pending bits (read-only); anything else reads zero and
 * is ignored. */
void pci_msix_bar_access(struct pci_msix *m, u64 off, bool write, u32 size, u64 *val);

#endif
