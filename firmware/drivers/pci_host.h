/* The host's PCI configuration space, as the monitor itself reads it:
 * through ECAM (PCI Express memory-mapped configuration, its base from the
 * ACPI MCFG table, PCI Firmware spec 3.2 section 4.1.2) when the firmware
 * gives one, else through the legacy mechanism #1 ports 0xCF8/0xCFC (PCI
 * Local Bus spec 3.0 section 3.2.2.3.2). Enumeration walks bus 0 and the
 * buses behind PCI-to-PCI bridges, each bus at most once, so work is
 * bounded by 256 x 32 x 8 functions whatever the bridges claim.
 *
 * The scan and the MCFG parser are pure (config access and physical
 * memory come from the caller: struct pci_cfg, struct phys_access), so
 * host tests run them against fake buses. */
#ifndef CG_PCI_HOST_H
#define CG_PCI_HOST_H

#include <cg/types.h>
#include "lib/phys.h"

/* Config space registers (PCI 3.0 section 6.1). */
#define PCI_HOST_VENDOR_ID 0x00
#define PCI_HOST_COMMAND 0x04
#define PCI_HOST_COMMAND_MEMORY (1u << 1)
#define PCI_HOST_COMMAND_MASTER (1u << 2)
#define PCI_HOST_COMMAND_INTX_DISABLE (1u << 10)
#define PCI_HOST_STATUS_CAP_LIST (1u << 20)	/* in the dword at 0x04 */
#define PCI_HOST_CLASS_REV 0x08
#define PCI_HOST_HEADER_TYPE 0x0C		/* byte 2 of this dword */
#define PCI_HOST_BAR0 0x10
#define PCI_HOST_BRIDGE_BUSES 0x18		/* type 1: primary, secondary, subordinate */
#define PCI_HOST_CAP_PTR 0x34
#define PCI_HOST_INTERRUPT 0x3C		/* line (byte 0), pin (byte 1) */
#define PCI_HOST_CAP_ID_MSI 0x05
#define PCI_HOST_CAP_ID_MSIX 0x11

/* MSI capability (PCI 3.0 section 6.8.1): message control is the upper
 * half of the capability's first dword; address, (upper address,) data
 * and (mask) follow. */
#define PCI_HOST_MSI_ENABLE (1u << 16)		/* in the first dword */
#define PCI_HOST_MSI_MME_MASK (7u << 20)	/* Multiple Message Enable */
#define PCI_HOST_MSI_64BIT (1u << 23)
#define PCI_HOST_MSI_PVM (1u << 24)		/* per-vector masking */
#define PCI_HOST_MSIX_ENABLE (1u << 31)		/* MSI-X (6.8.2): control bit 15 */
/* The message an x86 local APIC takes (SDM Vol 3A 10.11.1, 10.11.2):
 * address 0xFEE00000 with the destination APIC ID in bits 19:12
 * (physical mode, no redirection hint); data: the vector, fixed delivery,
 * edge-triggered. */
#define PCI_HOST_MSI_ADDR_BASE 0xFEE00000u

#define PCI_HOST_MAX_DEVS 64u		/* functions the scan keeps */

/* bdf: bus << 8 | device << 3 | function. */
struct pci_cfg {
	u32 (*read32)(void *ctx, u16 bdf, u16 off);	/* off dword aligned */
	void (*write32)(void *ctx, u16 bdf, u16 off, u32 v);
	void *ctx;
	const char *how;	/* "ecam" or "ports", for the log */
};

struct pci_host_dev {
	u16 bdf;
	u16 vendor, device;
	u32 class_rev;		/* class << 8 | revision */
	u8 header_type;
	u8 irq_pin, irq_line;
	bool msi, msix;		/* capabilities it lists */
};

/* pci_mcfg_find: the ECAM window of PCI segment 0 from the MCFG table
 * reachable from rsdp: *base (the address of bus start_bus's space),
 * *bus_start, *bus_end. Returns 0, -CG_ENOENT when there is no MCFG or
 * no segment-0 entry, -CG_EINVAL for a malformed table (length not a
 * whole number of entries, end bus below start, base not 1 MiB aligned). */
int pci_mcfg_find(const struct phys_access *pa, u64 rsdp, u64 *base, u8 *bus_start, u8 *bus_end);

/* pci_host_scan: every function on bus 0 and behind bridges (each bus
 * visited once), up to max into out. Returns how many were found (more
 * than max: the rest are counted, not kept). */
u32 pci_host_scan(const struct pci_cfg *cfg, struct pci_host_dev *out, u32 max);

/* pci_host_bar: memory BAR i (0-5) of bdf: *addr and *size. Returns 0,
 * -CG_ENOENT for an I/O or empty BAR, -CG_EINVAL for a 64-bit BAR in slot
 * 5 (no upper half). Sizing writes all-ones and restores the BAR; the
 * caller keeps memory decoding off meanwhile. */
int pci_host_bar(const struct pci_cfg *cfg, u16 bdf, u32 i, u64 *addr, u64 *size);

/* pci_host_cap_find: config offset of bdf's first capability with ID id
 * (walked as the scan does, at most 48 entries), 0 when it lists none. */
u16 pci_host_cap_find(const struct pci_cfg *cfg, u16 bdf, u8 id);

/* pci_host_msi_enable: have bdf signal by MSI: one message (Multiple
 * Message Enable 0) to the local APIC apic_id carrying vector, the
 * message's mask bit (if it has one) clear, MSI-X turned off (both on is
 * undefined), INTx disabled in the command register. Returns 0, -CG_ENOENT
 * when bdf lists no MSI capability, -CG_EINVAL for an APIC ID above 255
 * or a vector below 32 (the exceptions'). */
int pci_host_msi_enable(const struct pci_cfg *cfg, u16 bdf, u32 apic_id, u8 vector);

/* pci_host_msi_disable: MSI off again (the function signals nothing;
 * INTx stays disabled). Nothing for a function without MSI. */
void pci_host_msi_disable(const struct pci_cfg *cfg, u16 bdf);

/* pci_host_open: the machine's config access: ECAM when the MCFG gives a
 * segment-0 window inside [0, mapped_top), else the 0xCF8/0xCFC ports.
 * Only in the monitor (hardware access). */
void pci_host_open(struct pci_cfg *cfg, const struct phys_access *pa, u64 rsdp, u64 mapped_top);

#endif
