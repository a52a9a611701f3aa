/* Host PCI enumeration and the MCFG table (firmware/drivers/pci_host.c)
 * against a fake configuration space: functions with 256 bytes each,
 * BARs that answer sizing like hardware, bridges (one looping back to bus
 * 0), a capability list that loops. */
#include <stdlib.h>
#include <string.h>
#include <cg/errno.h>
#include "check.h"
#include "phys_window.h"
#include "acpi_build.h"
#include "drivers/pci_host.h"

#define FNS_MAX 16

struct fn {
	u16 bdf;
	u8 cfg[256];
	u64 bar_size[6];	/* 0: not implemented */
	bool bar_probe[6];	/* all-ones written: reads give the size mask */
};

static struct fn fns[FNS_MAX];
static u32 nfns;
static u32 reads;

static struct fn *find(u16 bdf)
{
	for (u32 i = 0; i < nfns; i++)
		if (fns[i].bdf == bdf)
			return &fns[i];
	return NULL;
}

static u32 rd(void *ctx, u16 bdf, u16 off)
{
	struct fn *f = find(bdf);
	u32 bar = (off - 0x10) / 4;

	(void)ctx;
	reads++;
	if (!f)
		return 0xFFFFFFFF;
	if (off >= 0x10 && off < 0x28 && f->bar_probe[bar]) {
		/* The size mask: low bits as the BAR's type bits, high half
		 * of a 64-bit BAR from the size's upper bits. */
		u32 type = f->cfg[off] & 0xF;
		bool upper = bar > 0 && (f->cfg[off - 4] & 0x7) == 0x4;
		u64 mask = ~(f->bar_size[upper ? bar - 1 : bar] - 1);

		return upper ? (u32)(mask >> 32) : ((u32)mask & ~0xFu) | type;
	}
	return (u32)f->cfg[off] | (u32)f->cfg[off + 1] << 8 | (u32)f->cfg[off + 2] << 16 | (u32)f->cfg[off + 3] << 24;
}

static void wr(void *ctx, u16 bdf, u16 off, u32 v)
{
	struct fn *f = find(bdf);

	(void)ctx;
	if (!f)
		return;
	if (off >= 0x10 && off < 0x28) {
		f->bar_probe[(off - 0x10) / 4] = v == 0xFFFFFFFF;
		if (v == 0xFFFFFFFF)
			return;
	}
	if (off == 4)	/* the status half is read-only (or write-1-to-clear) */
		v = (v & 0xFFFF) | (u32)f->cfg[6] << 16 | (u32)f->cfg[7] << 24;
	memcpy(&f->cfg[off], &v, 4);
}

static struct fn *add(u32 bus, u32 dev, u32 func, u16 vendor, u16 device, u8 hdr)
{
	struct fn *f = &fns[nfns++];

	memset(f, 0, sizeof(*f));
	f->bdf = (u16)(bus << 8 | dev << 3 | func);
	f->cfg[0] = (u8)vendor;
	f->cfg[1] = (u8)(vendor >> 8);
	f->cfg[2] = (u8)device;
	f->cfg[3] = (u8)(device >> 8);
	f->cfg[0x0E] = hdr;
	f->cfg[0x3D] = 1;	/* INTA */
	f->cfg[0x3C] = 11;
	return f;
}

static void cap(struct fn *f, u8 at, u8 id, u8 next)
{
	f->cfg[6] |= 0x10;	/* status: capabilities list */
	if (!f->cfg[0x34])
		f->cfg[0x34] = at;
	f->cfg[at] = id;
	f->cfg[at + 1] = next;
}

static const struct pci_cfg cfg = { rd, wr, NULL, "fake" };

static void test_scan(void)
{
	struct pci_host_dev d[PCI_HOST_MAX_DEVS];
	struct fn *f;
	u32 n;

	nfns = 0;
	add(0, 0, 0, 0x8086, 0x1237, 0);			/* host bridge */
	f = add(0, 3, 0, 0x8086, 0x100E, 0);			/* e1000: MSI, then MSI-X */
	cap(f, 0x50, PCI_HOST_CAP_ID_MSI, 0x60);
	cap(f, 0x60, PCI_HOST_CAP_ID_MSIX, 0);
	add(0, 5, 0, 0x1af4, 0x1000, 0x80);			/* multi-function: 0 and 2 */
	add(0, 5, 2, 0x1af4, 0x1001, 0);
	add(0, 6, 0, 0x1234, 0x1111, 0);			/* single function ... */
	add(0, 6, 1, 0x1234, 0x2222, 0);			/* ... whose fn 1 is never looked at */
	f = add(0, 7, 0, 0x1234, 0x3333, 0);			/* a capability list that loops */
	cap(f, 0x40, 0x09, 0x40);
	f = add(0, 30, 0, 0x8086, 0x244E, 1);			/* bridge to bus 2 */
	f->cfg[0x19] = 2;
	add(2, 0, 0, 0x8086, 0x10D3, 0);
	f = add(2, 1, 0, 0x8086, 0x244E, 1);			/* bridge back to bus 0: walked once */
	f->cfg[0x19] = 0;
	reads = 0;
	n = pci_host_scan(&cfg, d, PCI_HOST_MAX_DEVS);
	CHECK(n == 9, "every function once, fn 1 of a single-function device left out");
	CHECK(d[1].bdf == 0x18 && d[1].vendor == 0x8086 && d[1].device == 0x100E && d[1].msi && d[1].msix,
	      "e1000 at 00:03.0 with its MSI and MSI-X capabilities");
	CHECK(d[1].irq_pin == 1 && d[1].irq_line == 11, "its interrupt pin and line");
	CHECK(d[2].bdf == 0x28 && d[3].bdf == 0x2A, "functions 0 and 2 of a multi-function device");
	CHECK(!d[5].msi && !d[5].msix, "a looping capability list ends");
	CHECK(d[7].bdf == 0x200 && d[7].device == 0x10D3, "the device behind the bridge, on bus 2");
	CHECK(reads < 2 * 32 * 8 * 3 + 200, "two buses walked, not 256");
	CHECK(pci_host_scan(&cfg, d, 4) == 9 && d[3].bdf == 0x2A, "more than max: counted, the first max kept");
}

static void test_bar(void)
{
	struct fn *f;
	u64 addr, size;

	nfns = 0;
	f = add(0, 3, 0, 0x8086, 0x100E, 0);
	put_le32(&f->cfg[0x10], 0xFEBC0000);			/* 32-bit memory, 128 KiB */
	f->bar_size[0] = 0x20000;
	put_le32(&f->cfg[0x14], 0xC001);				/* I/O */
	f->bar_size[1] = 0x40;
	put_le32(&f->cfg[0x18], 0x0000000C);			/* 64-bit prefetchable, 16 KiB */
	put_le32(&f->cfg[0x1C], 0x00000001);			/* at 0x1_0000_0000 */
	f->bar_size[2] = 0x4000;
	put_le32(&f->cfg[0x24], 0x4);				/* 64-bit in slot 5 */
	CHECK(pci_host_bar(&cfg, f->bdf, 0, &addr, &size) == 0 && addr == 0xFEBC0000 && size == 0x20000, "32-bit BAR");
	CHECK(rd(NULL, f->bdf, 0x10) == 0xFEBC0000, "restored after sizing");
	CHECK(pci_host_bar(&cfg, f->bdf, 1, &addr, &size) == -CG_ENOENT, "an I/O BAR is not a memory BAR");
	CHECK(pci_host_bar(&cfg, f->bdf, 2, &addr, &size) == 0 && addr == 0x10000000CULL - 0xC && size == 0x4000,
	      "64-bit BAR");
	CHECK(rd(NULL, f->bdf, 0x1C) == 1, "its upper half restored");
	CHECK(pci_host_bar(&cfg, f->bdf, 4, &addr, &size) == -CG_ENOENT, "an unimplemented BAR");
	CHECK(pci_host_bar(&cfg, f->bdf, 5, &addr, &size) == -CG_EINVAL, "a 64-bit BAR with no upper half");
	CHECK(pci_host_bar(&cfg, f->bdf, 6, &addr, &size) == -CG_EINVAL, "no BAR 6");
}

#define RSDP_AT 0xE0000ULL
#define RSDT_AT 0x100000ULL
#define MCFG_AT 0x101000ULL

/* An MCFG with the given entries (base, segment, start, end). */
static void put_mcfg(const u64 (*e)[4], u32 n, u32 len_fudge)
{
	u8 body[8 + 16 * 4];
	u32 rsdt[1] = { (u32)MCFG_AT };

	memset(body, 0, sizeof(body));
	for (u32 i = 0; i < n; i++) {
		u8 *p = body + 8 + 16 * i;

		put_le64(p, e[i][0]);
		p[8] = (u8)e[i][1];
		p[9] = (u8)(e[i][1] >> 8);
		p[10] = (u8)e[i][2];
		p[11] = (u8)e[i][3];
	}
	put_rsdp(RSDP_AT, 0, (u32)RSDT_AT, 0);
	put_rsdt(RSDT_AT, rsdt, 1);
	put_sdt(MCFG_AT, "MCFG", body, 8 + 16 * n + len_fudge);
}

static void test_mcfg(void)
{
	static const u64 q35[1][4] = { { 0xB0000000, 0, 0, 255 } };
	static const u64 two[2][4] = { { 0xC0000000, 1, 0, 7 }, { 0xE0000000, 0, 4, 9 } };
	static const u64 unaligned[1][4] = { { 0xB0001000, 0, 0, 255 } };
	static const u64 backwards[1][4] = { { 0xB0000000, 0, 9, 4 } };
	static const u64 other[1][4] = { { 0xB0000000, 2, 0, 255 } };
	u64 base;
	u8 s, e;

	phys_window_open(&w, 0, 2 * MIB);
	put_rsdp(RSDP_AT, 0, (u32)RSDT_AT, 0);
	put_rsdt(RSDT_AT, NULL, 0);
	CHECK(pci_mcfg_find(&w.pa, RSDP_AT, &base, &s, &e) == -CG_ENOENT, "no MCFG: the ports, then");
	put_mcfg(q35, 1, 0);
	CHECK(pci_mcfg_find(&w.pa, RSDP_AT, &base, &s, &e) == 0 && base == 0xB0000000 && s == 0 && e == 255, "QEMU q35's window");
	put_mcfg(two, 2, 0);
	CHECK(pci_mcfg_find(&w.pa, RSDP_AT, &base, &s, &e) == 0 && base == 0xE0400000 && s == 4 && e == 9,
	      "segment 0's entry, its window from its start bus");
	put_mcfg(other, 1, 0);
	CHECK(pci_mcfg_find(&w.pa, RSDP_AT, &base, &s, &e) == -CG_ENOENT, "only another segment");
	put_mcfg(unaligned, 1, 0);
	CHECK(pci_mcfg_find(&w.pa, RSDP_AT, &base, &s, &e) == -CG_EINVAL, "a base not 1 MiB aligned");
	put_mcfg(backwards, 1, 0);
	CHECK(pci_mcfg_find(&w.pa, RSDP_AT, &base, &s, &e) == -CG_EINVAL, "end bus below start");
	put_mcfg(q35, 1, 5);
	CHECK(pci_mcfg_find(&w.pa, RSDP_AT, &base, &s, &e) == -CG_EINVAL, "a length that is no whole number of entries");
	phys_window_close(&w);
}

static u32 dw(const struct fn *f, u32 off)
{
	u32 v;

	memcpy(&v, &f->cfg[off], 4);
	return v;
}

/* MSI set-up: the message written where the capability's layout puts it
 * (64-bit with per-vector masking; 32-bit without), MSI-X turned off,
 * INTx disabled, enable last; refusals write nothing. */
static void test_msi(void)
{
	struct fn *f, *g, *h;
	u8 before[256];

	nfns = 0;
	f = add(0, 2, 0, 0x8086, 0x10D3, 0);
	f->cfg[4] = 0x06;			/* memory, bus master */
	cap(f, 0x40, 0x01, 0x50);		/* power management */
	cap(f, 0x50, PCI_HOST_CAP_ID_MSI, 0x70);
	f->cfg[0x52] = 0x80 | 0x20 | 0x06;	/* 64-bit, MME 2, MMC 3 */
	f->cfg[0x53] = 0x01;			/* per-vector masking */
	f->cfg[0x60] = 0x01;			/* the message masked */
	cap(f, 0x70, PCI_HOST_CAP_ID_MSIX, 0);
	f->cfg[0x73] = 0x80;			/* MSI-X enabled by someone */
	CHECK(pci_host_cap_find(&cfg, f->bdf, PCI_HOST_CAP_ID_MSI) == 0x50, "MSI found behind PM");
	CHECK(pci_host_cap_find(&cfg, f->bdf, 0x10) == 0, "no PCIe capability listed");
	CHECK(pci_host_msi_enable(&cfg, f->bdf, 3, 0xE1) == 0, "enabled");
	CHECK(dw(f, 0x54) == 0xFEE03000, "address: APIC 3, physical");
	CHECK(dw(f, 0x58) == 0, "upper address 0");
	CHECK(dw(f, 0x5C) == 0xE1, "data: the vector, fixed, edge");
	CHECK(dw(f, 0x60) == 0, "the message unmasked");
	CHECK((dw(f, 0x50) & 0xFFFF) == 0x7005, "ID and next pointer untouched");
	CHECK((dw(f, 0x50) >> 16 & 0x71) == 0x01, "MSI on, one message (MME 0)");
	CHECK((dw(f, 0x50) >> 16 & 0x0E) == 0x06, "MMC (read-only) kept");
	CHECK(!(dw(f, 0x70) & PCI_HOST_MSIX_ENABLE), "MSI-X off");
	CHECK(dw(f, 4) == (0x06 | PCI_HOST_COMMAND_INTX_DISABLE | 0x100000), "INTx disabled, the rest kept");
	pci_host_msi_disable(&cfg, f->bdf);
	CHECK(!(dw(f, 0x50) & PCI_HOST_MSI_ENABLE) && dw(f, 0x5C) == 0xE1, "disabled; the message stays");

	g = add(0, 3, 0, 0x8086, 0x10D3, 0);
	cap(g, 0xD0, PCI_HOST_CAP_ID_MSI, 0);	/* 32-bit, no masking */
	g->cfg[0xE0] = 0xAA;			/* past the capability */
	CHECK(pci_host_msi_enable(&cfg, g->bdf, 0, 0xE0) == 0, "32-bit layout enabled");
	CHECK(dw(g, 0xD4) == 0xFEE00000 && dw(g, 0xD8) == 0xE0, "data right after the address");
	CHECK(dw(g, 0xDC) == 0 && g->cfg[0xE0] == 0xAA, "nothing written past it");
	memcpy(before, g->cfg, sizeof(before));
	CHECK(pci_host_msi_enable(&cfg, g->bdf, 256, 0xE0) == -CG_EINVAL, "APIC ID above 255");
	CHECK(pci_host_msi_enable(&cfg, g->bdf, 0, 14) == -CG_EINVAL, "an exception vector");
	CHECK(!memcmp(before, g->cfg, sizeof(before)), "refusals write nothing");

	h = add(0, 4, 0, 0x8086, 0x100E, 0);	/* the 82540EM: no capabilities */
	memcpy(before, h->cfg, sizeof(before));
	CHECK(pci_host_msi_enable(&cfg, h->bdf, 0, 0xE0) == -CG_ENOENT, "no MSI capability");
	pci_host_msi_disable(&cfg, h->bdf);
	CHECK(!memcmp(before, h->cfg, sizeof(before)), "nothing written to it");
	cap(h, 0x40, 0x01, 0x40);		/* a list that loops */
	CHECK(pci_host_cap_find(&cfg, h->bdf, PCI_HOST_CAP_ID_MSI) == 0, "a looping list ends");
}

int main(void)
{
	test_scan();
	test_bar();
	test_msi();
	test_mcfg();
	return check_summary();
}
