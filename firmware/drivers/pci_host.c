/* Host PCI enumeration and the MCFG table: see pci_host.h. Everything read
 * from config space or the table is bounded before use: bridge bus numbers
 * index a visited bitmap, capability pointers are followed at most 48
 * times, table lengths are checked against the table's own header. */
#include <cg/errno.h>
#include <cg/string.h>
#include <cg/unaligned.h>
#include "drivers/pci_host.h"
#include "lib/acpi.h"

#define ACPI_HDR_LEN 36u
#define MCFG_ENTRIES 44u	/* header, then 8 reserved bytes */
#define MCFG_ENTRY_LEN 16u	/* base (8), segment (2), start bus, end bus, reserved (4) */

int pci_mcfg_find(const struct phys_access *pa, u64 rsdp, u64 *base, u8 *bus_start, u8 *bus_end)
{
	const u8 *t;
	u64 addr;
	u32 len;
	int rc = acpi_find_table(pa, rsdp, "MCFG", &addr);

	if (rc)
		return rc;
	t = phys_map(pa, addr, ACPI_HDR_LEN);
	if (!t)
		return -CG_EINVAL;
	len = le32_at(t + 4);
	if (len < MCFG_ENTRIES || (len - MCFG_ENTRIES) % MCFG_ENTRY_LEN)
		return -CG_EINVAL;
	t = phys_map(pa, addr, len);
	if (!t)
		return -CG_EINVAL;
	for (u32 off = MCFG_ENTRIES; off < len; off += MCFG_ENTRY_LEN) {
		const u8 *e = t + off;
		u64 b = le64_at(e);

		if (le16_at(e + 8))
			continue;	/* another segment: the monitor scans segment 0 */
		if (e[11] < e[10] || (b & 0xFFFFF))
			return -CG_EINVAL;
		/* The table's base is that of bus 0 (PCI FW 3.2 table 4-3);
		 * the window starts at bus start. */
		*base = b + ((u64)e[10] << 20);
		*bus_start = e[10];
		*bus_end = e[11];
		return 0;
	}
	return -CG_ENOENT;
}

static u16 mk_bdf(u32 bus, u32 dev, u32 fn)
{
	return (u16)(bus << 8 | dev << 3 | fn);
}

/* A looping or wild capability list ends after 48 entries (at most 48
 * fit in the 192 bytes after the header). */
u16 pci_host_cap_find(const struct pci_cfg *cfg, u16 bdf, u8 id)
{
	u32 ptr;

	if (!(cfg->read32(cfg->ctx, bdf, PCI_HOST_COMMAND) & PCI_HOST_STATUS_CAP_LIST))
		return 0;
	ptr = cfg->read32(cfg->ctx, bdf, PCI_HOST_CAP_PTR) & 0xFC;
	for (u32 n = 0; n < 48 && ptr >= 0x40; n++) {
		u32 w = cfg->read32(cfg->ctx, bdf, (u16)ptr);

		if ((w & 0xFF) == id)
			return (u16)ptr;
		ptr = (w >> 8) & 0xFC;
	}
	return 0;
}

int pci_host_msi_enable(const struct pci_cfg *cfg, u16 bdf, u32 apic_id, u8 vector)
{
	u16 msi = pci_host_cap_find(cfg, bdf, PCI_HOST_CAP_ID_MSI);
	u16 msix = pci_host_cap_find(cfg, bdf, PCI_HOST_CAP_ID_MSIX);
	u32 ctl, cmd, data_off, mask_off;

	if (!msi)
		return -CG_ENOENT;
	if (apic_id > 255 || vector < 32)
		return -CG_EINVAL;
	if (msix) {
		u32 x = cfg->read32(cfg->ctx, bdf, msix);

		if (x & PCI_HOST_MSIX_ENABLE)
			cfg->write32(cfg->ctx, bdf, msix, x & ~PCI_HOST_MSIX_ENABLE);
	}
	/* Off while the message is written: no half-written message is sent. */
	ctl = cfg->read32(cfg->ctx, bdf, msi) & ~(PCI_HOST_MSI_ENABLE | PCI_HOST_MSI_MME_MASK);
	cfg->write32(cfg->ctx, bdf, msi, ctl);
	cfg->write32(cfg->ctx, bdf, (u16)(msi + 4), PCI_HOST_MSI_ADDR_BASE | apic_id << 12);
	if (ctl & PCI_HOST_MSI_64BIT) {
		cfg->write32(cfg->ctx, bdf, (u16)(msi + 8), 0);
		data_off = 12;
		mask_off = 16;
	} else {
		data_off = 8;
		mask_off = 12;
	}
	cfg->write32(cfg->ctx, bdf, (u16)(msi + data_off), vector);
	if (ctl & PCI_HOST_MSI_PVM)
		cfg->write32(cfg->ctx, bdf, (u16)(msi + mask_off), 0);
	cmd = cfg->read32(cfg->ctx, bdf, PCI_HOST_COMMAND) & 0xFFFF;
	cfg->write32(cfg->ctx, bdf, PCI_HOST_COMMAND, cmd | PCI_HOST_COMMAND_INTX_DISABLE);
	cfg->write32(cfg->ctx, bdf, msi, ctl | PCI_HOST_MSI_ENABLE);
	return 0;
}

void pci_host_msi_disable(const struct pci_cfg *cfg, u16 bdf)
{
	u16 msi = pci_host_cap_find(cfg, bdf, PCI_HOST_CAP_ID_MSI);

	if (msi)
		cfg->write32(cfg->ctx, bdf, msi, cfg->read32(cfg->ctx, bdf, msi) & ~PCI_HOST_MSI_ENABLE);
}

/* The MSI and MSI-X capabilities a function lists. */
static void caps(const struct pci_cfg *cfg, struct pci_host_dev *d)
{
	d->msi = pci_host_cap_find(cfg, d->bdf, PCI_HOST_CAP_ID_MSI) != 0;
	d->msix = pci_host_cap_find(cfg, d->bdf, PCI_HOST_CAP_ID_MSIX) != 0;
}

struct scan {
	const struct pci_cfg *cfg;
	struct pci_host_dev *out;
	u32 max, found;
	u8 visited[32];		/* one bit per bus */
	u8 todo[256];		/* buses still to walk */
	u32 ntodo;
};

static void want_bus(struct scan *s, u32 bus)
{
	if (bus > 255 || (s->visited[bus / 8] & (1u << (bus % 8))))
		return;
	s->visited[bus / 8] |= (u8)(1u << (bus % 8));
	s->todo[s->ntodo++] = (u8)bus;	/* each bus once: at most 256 */
}

static void function(struct scan *s, u16 bdf, u32 id)
{
	const struct pci_cfg *cfg = s->cfg;
	u32 hdr = (cfg->read32(cfg->ctx, bdf, PCI_HOST_HEADER_TYPE) >> 16) & 0xFF;
	struct pci_host_dev d;

	memset(&d, 0, sizeof(d));
	d.bdf = bdf;
	d.vendor = (u16)id;
	d.device = (u16)(id >> 16);
	d.class_rev = cfg->read32(cfg->ctx, bdf, PCI_HOST_CLASS_REV);
	d.header_type = (u8)hdr;
	if ((hdr & 0x7F) == 0) {
		u32 irq = cfg->read32(cfg->ctx, bdf, PCI_HOST_INTERRUPT);

		d.irq_line = (u8)irq;
		d.irq_pin = (u8)(irq >> 8);
	}
	caps(cfg, &d);
	if ((hdr & 0x7F) == 1)	/* a PCI-to-PCI bridge: walk its secondary bus */
		want_bus(s, (cfg->read32(cfg->ctx, bdf, PCI_HOST_BRIDGE_BUSES) >> 8) & 0xFF);
	if (s->found < s->max)
		s->out[s->found] = d;
	s->found++;
}

u32 pci_host_scan(const struct pci_cfg *cfg, struct pci_host_dev *out, u32 max)
{
	static struct scan s;	/* 300 bytes; boot CPU only, before the others scan nothing */

	memset(&s, 0, sizeof(s));
	s.cfg = cfg;
	s.out = out;
	s.max = max;
	want_bus(&s, 0);
	for (u32 i = 0; i < s.ntodo; i++) {
		u32 bus = s.todo[i];

		for (u32 dev = 0; dev < 32; dev++) {
			for (u32 fn = 0; fn < 8; fn++) {
				u16 bdf = mk_bdf(bus, dev, fn);
				u32 id = cfg->read32(cfg->ctx, bdf, PCI_HOST_VENDOR_ID);

				if ((id & 0xFFFF) == 0xFFFF || (id & 0xFFFF) == 0) {
					if (fn == 0)
						break;	/* no device here */
					continue;
				}
				function(&s, bdf, id);
				/* Only a multi-function device has functions 1-7. */
				if (fn == 0 && !((cfg->read32(cfg->ctx, bdf, PCI_HOST_HEADER_TYPE) >> 16) & 0x80))
					break;
			}
		}
	}
	return s.found;
}

int pci_host_bar(const struct pci_cfg *cfg, u16 bdf, u32 i, u64 *addr, u64 *size)
{
	u16 off = (u16)(PCI_HOST_BAR0 + 4 * i);
	u32 lo, lo_mask, hi = 0, hi_mask = 0;
	bool is64;
	u64 mask;

	if (i > 5)
		return -CG_EINVAL;
	lo = cfg->read32(cfg->ctx, bdf, off);
	if (lo & 1)
		return -CG_ENOENT;	/* an I/O BAR */
	is64 = ((lo >> 1) & 3) == 2;
	if (is64 && i == 5)
		return -CG_EINVAL;
	cfg->write32(cfg->ctx, bdf, off, 0xFFFFFFFF);
	lo_mask = cfg->read32(cfg->ctx, bdf, off);
	cfg->write32(cfg->ctx, bdf, off, lo);
	if (is64) {
		hi = cfg->read32(cfg->ctx, bdf, (u16)(off + 4));
		cfg->write32(cfg->ctx, bdf, (u16)(off + 4), 0xFFFFFFFF);
		hi_mask = cfg->read32(cfg->ctx, bdf, (u16)(off + 4));
		cfg->write32(cfg->ctx, bdf, (u16)(off + 4), hi);
	} else {
		hi_mask = 0xFFFFFFFF;	/* a 32-bit BAR decodes nothing above */
	}
	mask = ((u64)hi_mask << 32) | (lo_mask & ~0xFu);
	if (!(lo_mask & ~0xFu))
		return -CG_ENOENT;	/* not implemented */
	*addr = ((u64)hi << 32) | (lo & ~0xFu);
	*size = ~mask + 1;
	return 0;
}
