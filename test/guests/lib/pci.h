/* PCI configuration space through configuration mechanism #1 (I/O ports
 * 0xCF8 address, 0xCFC data; PCI Local Bus Specification 3.0, 3.2.2.3.2),
 * for test guests that drive a PCI device themselves. Dword accesses
 * only: that is all mechanism #1 has to support. One CPU at a time. */
#ifndef GUEST_PCI_H
#define GUEST_PCI_H

#include "types.h"

#define PCI_CFG_ADDR 0xCF8
#define PCI_CFG_DATA 0xCFC

/* Type 0 header offsets (PCI 3.0, 6.1). */
#define PCI_VENDOR_ID 0x00	/* u16; 0xFFFF: no function here */
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_HEADER_TYPE 0x0E	/* bit 7: multi-function device */
#define PCI_BAR0 0x10
#define PCI_CAP_PTR 0x34

#define PCI_COMMAND_MEMORY (1u << 1)
#define PCI_COMMAND_MASTER (1u << 2)
#define PCI_STATUS_CAP_LIST (1u << 4)

/* Bus/device/function packed as mechanism #1 wants them (bus << 8 | dev << 3 | fn). */
typedef u16 pci_bdf;
#define PCI_BDF(bus, dev, fn) ((pci_bdf)(((bus) << 8) | ((dev) << 3) | (fn)))
#define PCI_BUS(b) ((b) >> 8)
#define PCI_DEV(b) (((b) >> 3) & 31)
#define PCI_FN(b) ((b) & 7)

/* The dword at reg & ~3 of function bdf. */
u32 pci_read32(pci_bdf bdf, u8 reg);
void pci_write32(pci_bdf bdf, u8 reg, u32 v);
/* The byte or word at reg, cut out of its dword. */
u8 pci_read8(pci_bdf bdf, u8 reg);
u16 pci_read16(pci_bdf bdf, u8 reg);

/* Scans bus 0 (every device, every function of multi-function ones) for
 * the index'th function with this vendor and device ID, in bus order.
 * Returns true and sets *out when found. */
bool pci_find(u16 vendor, u16 device, u32 index, pci_bdf *out);

/* Guest-physical address of memory BAR n (0-5), 64-bit BARs included.
 * Returns 0 when the BAR is an I/O BAR, unassigned (0), or n is out of
 * range; *above4g is set when a 64-bit BAR lies above 4 GiB (the address
 * is then truncated and useless to a 32-bit guest without paging). */
u32 pci_bar_mem(pci_bdf bdf, u32 n, bool *above4g);

/* Sets the memory-space and bus-master enables in the command register. */
void pci_enable_mem_master(pci_bdf bdf);

/* Walks the capability list from 0x34 (at most 48 entries, so a looping
 * list ends) and returns the offset of the first capability with this ID
 * after `from` (0 = from the start), or 0 when there is none. */
u8 pci_find_cap(pci_bdf bdf, u8 id, u8 from);

#endif
