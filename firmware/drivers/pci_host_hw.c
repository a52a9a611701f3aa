/* The monitor's two ways into host config space (pci_host_open): ECAM
 * loads and stores, or mechanism #1's address port 0xCF8 and data port
 * 0xCFC. The ports are one shared pair: a lock keeps an address and its
 * data access together (only the boot CPU scans today; the lock is for
 * when a driver reads config space later from any CPU). */
#include <cg/spinlock.h>
#include <cg/errno.h>
#include <cg/hw_io.h>
#include "drivers/pci_host.h"
#include "lib/log.h"

#define PCI_CF8 0xCF8
#define PCI_CFC 0xCFC

struct ecam {
	u64 base;
	u8 bus_start, bus_end;
};

static struct ecam ecam;
static u32 cf8_lock;

static u32 ecam_read(void *ctx, u16 bdf, u16 off)
{
	const struct ecam *e = ctx;
	u32 bus = bdf >> 8;

	if (bus < e->bus_start || bus > e->bus_end)
		return 0xFFFFFFFF;	/* outside the window: as an absent device */
	return mmio_read32(e->base + ((u64)(bdf - (e->bus_start << 8)) << 12) + (off & 0xFFC));
}

static void ecam_write(void *ctx, u16 bdf, u16 off, u32 v)
{
	const struct ecam *e = ctx;
	u32 bus = bdf >> 8;

	if (bus < e->bus_start || bus > e->bus_end)
		return;
	mmio_write32(e->base + ((u64)(bdf - (e->bus_start << 8)) << 12) + (off & 0xFFC), v);
}

/* Mechanism #1 reaches the first 256 bytes only. */
static u32 port_read(void *ctx, u16 bdf, u16 off)
{
	u32 v;

	(void)ctx;
	if (off >= 256)
		return 0xFFFFFFFF;
	spin_lock(&cf8_lock);
	outl(PCI_CF8, 0x80000000u | (u32)bdf << 8 | (off & 0xFC));
	v = inl(PCI_CFC);
	spin_unlock(&cf8_lock);
	return v;
}

static void port_write(void *ctx, u16 bdf, u16 off, u32 v)
{
	(void)ctx;
	if (off >= 256)
		return;
	spin_lock(&cf8_lock);
	outl(PCI_CF8, 0x80000000u | (u32)bdf << 8 | (off & 0xFC));
	outl(PCI_CFC, v);
	spin_unlock(&cf8_lock);
}

void pci_host_open(struct pci_cfg *cfg, const struct phys_access *pa, u64 rsdp, u64 mapped_top)
{
	u64 base = 0;
	u8 start = 0, end = 0;
	int rc = rsdp ? pci_mcfg_find(pa, rsdp, &base, &start, &end) : -CG_ENOENT;

	if (!rc && base + ((u64)(end - start + 1) << 20) <= mapped_top) {
		ecam.base = base;
		ecam.bus_start = start;
		ecam.bus_end = end;
		*cfg = (struct pci_cfg){ ecam_read, ecam_write, &ecam, "ecam" };
		kprintf("pci: ECAM at 0x%lx, buses %u-%u (ACPI MCFG)\n", base, start, end);
		return;
	}
	if (!rc)
		kprintf("pci: MCFG window at 0x%lx is not mapped; using ports 0xCF8/0xCFC\n", base);
	else if (rc != -CG_ENOENT)
		kprintf("pci: MCFG table unusable (%s); using ports 0xCF8/0xCFC\n", cg_strerror(rc));
	*cfg = (struct pci_cfg){ port_read, port_write, NULL, "ports" };
}
