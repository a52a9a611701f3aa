/* PCI configuration mechanism #1 for the test guests (see pci.h). */
#include "pci.h"
#include "cpu.h"

/* Bit 31 enables the access; bits 23:16 bus, 15:11 device, 10:8 function,
 * 7:2 the dword (PCI 3.0, 3.2.2.3.2). */
static u32 cfg_addr(pci_bdf bdf, u8 reg)
{
	return 0x80000000u | ((u32)bdf << 8) | (reg & 0xFCu);
}

u32 pci_read32(pci_bdf bdf, u8 reg)
{
	outl(PCI_CFG_ADDR, cfg_addr(bdf, reg));
	return inl(PCI_CFG_DATA);
}

void pci_write32(pci_bdf bdf, u8 reg, u32 v)
{
	outl(PCI_CFG_ADDR, cfg_addr(bdf, reg));
	outl(PCI_CFG_DATA, v);
}

u8 pci_read8(pci_bdf bdf, u8 reg)
{
	return (u8)(pci_read32(bdf, reg) >> ((reg & 3) * 8));
}

u16 pci_read16(pci_bdf bdf, u8 reg)
{
	return (u16)(pci_read32(bdf, reg) >> ((reg & 2) * 8));
}

bool pci_find(u16 vendor, u16 device, u32 index, pci_bdf *out)
{
	for (u32 dev = 0; dev < 32; dev++) {
		u32 nfn = 1;
		for (u32 fn = 0; fn < nfn; fn++) {
			pci_bdf b = PCI_BDF(0, dev, fn);
			u32 id = pci_read32(b, PCI_VENDOR_ID);
			if ((id & 0xFFFF) == 0xFFFF)
				continue;
			if (fn == 0 && (pci_read8(b, PCI_HEADER_TYPE) & 0x80))
				nfn = 8;
			if ((id & 0xFFFF) == vendor && (id >> 16) == device && index-- == 0) {
				*out = b;
				return true;
			}
		}
	}
	return false;
}

u32 pci_bar_mem(pci_bdf bdf, u32 n, bool *above4g)
{
	*above4g = false;
	if (n > 5)
		return 0;
	u32 lo = pci_read32(bdf, (u8)(PCI_BAR0 + 4 * n));
	if (lo & 1)
		return 0; /* I/O space */
	if (((lo >> 1) & 3) == 2) { /* 64-bit: the next BAR holds bits 63:32 */
		if (n == 5)
			return 0;
		*above4g = pci_read32(bdf, (u8)(PCI_BAR0 + 4 * (n + 1))) != 0;
	}
	return lo & ~0xFu;
}

void pci_enable_mem_master(pci_bdf bdf)
{
	/* The status half of the dword is write-1-to-clear: write it as 0. */
	u32 cmd = pci_read32(bdf, PCI_COMMAND) & 0xFFFF;
	pci_write32(bdf, PCI_COMMAND, cmd | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
}

u8 pci_find_cap(pci_bdf bdf, u8 id, u8 from)
{
	if (!(pci_read16(bdf, PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return 0;
	u8 at = from ? pci_read8(bdf, (u8)(from + 1)) : pci_read8(bdf, PCI_CAP_PTR);
	for (int n = 0; n < 48 && at >= 0x40; n++) {
		at &= 0xFC;
		if (pci_read8(bdf, at) == id)
			return at;
		at = pci_read8(bdf, (u8)(at + 1));
	}
	return 0;
}
