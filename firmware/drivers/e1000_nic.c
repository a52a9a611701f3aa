/* The 8254x and the 82574 as host NICs (nic.h ops, drivers "e1000" and
 * "e1000e"): finds the register BAR, turns on memory decoding and bus
 * mastering, gives e1000.c its MMIO environment, DMA block and register
 * dialect, and answers the interface's calls.
 *
 * Interrupts: INTx stays disabled in the command register. A function
 * that lists MSI gets its message set up by host_nics.c (pci_host_msi_enable)
 * and its causes unmasked by the uplink that takes it (irq_enable); one
 * without MSI (the 82540EM of Bochs and QEMU lists none) keeps every cause
 * masked and is polled. The uplink code in core decides which
 * (docs/networking.md). */
#include <cg/errno.h>
#include <cg/hw_io.h>
#include <cg/string.h>
#include "drivers/e1000.h"
#include "drivers/nic.h"
#include "lib/mem.h"

/* The boot identity map covers 0-4 GiB (boot/entry.asm): registers must
 * sit there, as firmware puts 32-bit BARs. */
#define E1000_MMIO_LIMIT (4ull << 30)
#define E1000_DMA_PAGES ((E1000_DMA_BYTES + PAGE_SIZE - 1) / PAGE_SIZE)

struct e1000_nic {
	struct e1000 dev;
	u64 regs;
};

static u32 mmio_rd(void *ctx, u32 reg)
{
	const struct e1000_nic *n = ctx;

	return mmio_read32(n->regs + reg);
}

static void mmio_wr(void *ctx, u32 reg, u32 v)
{
	const struct e1000_nic *n = ctx;

	mmio_write32(n->regs + reg, v);
}

/* 8254x device IDs of Intel (vendor 0x8086) with the 82540's register
 * layout and EERD: 82540EM/EP, 82545EM/GM, 82546EB/GB. 0x100E, the
 * 82540EM of Bochs and QEMU, is the one the tests drive. */
static const u16 e1000_ids[] = {
	0x100E, 0x1015, 0x1016, 0x1017, 0x101E,		/* 82540EM/EP */
	0x100F, 0x1011, 0x1026, 0x1027, 0x1028,		/* 82545EM/GM */
	0x1010, 0x1012, 0x101D, 0x1079, 0x107A, 0x107B, /* 82546EB/GB */
};

/* 82574L and 82574LA (8086:10D3, 8086:10F6); QEMU's e1000e is an 82574L. */
static const u16 e1000e_ids[] = { 0x10D3, 0x10F6 };

static bool id_in(const u16 *ids, u32 n, u16 vendor, u16 device)
{
	if (vendor != 0x8086)
		return false;
	for (u32 i = 0; i < n; i++)
		if (ids[i] == device)
			return true;
	return false;
}

static bool e1000_match(u16 vendor, u16 device)
{
	return id_in(e1000_ids, sizeof(e1000_ids) / sizeof(e1000_ids[0]), vendor, device);
}

static bool e1000e_match(u16 vendor, u16 device)
{
	return id_in(e1000e_ids, sizeof(e1000e_ids) / sizeof(e1000e_ids[0]), vendor, device);
}

static int e1000_probe(struct host_nic *nic, const struct pci_cfg *cfg, const struct pci_host_dev *d)
{
	u32 cmd = cfg->read32(cfg->ctx, d->bdf, PCI_HOST_COMMAND) & 0xFFFF;
	u64 regs = 0, size = 0, dma, np;
	struct e1000_nic *n;
	struct e1000_env env = { mmio_rd, mmio_wr, NULL };
	int rc;

	/* Size BAR 0 with decoding off, so the all-ones probe decodes nothing. */
	cfg->write32(cfg->ctx, d->bdf, PCI_HOST_COMMAND, cmd & ~PCI_HOST_COMMAND_MEMORY);
	rc = pci_host_bar(cfg, d->bdf, 0, &regs, &size);
	if (rc || !regs || size < 0x20000 || regs + size > E1000_MMIO_LIMIT) {
		cfg->write32(cfg->ctx, d->bdf, PCI_HOST_COMMAND, cmd);
		nic->why = rc ? "BAR 0 is not a memory BAR" : !regs ? "BAR 0 is not assigned"
				  : size < 0x20000 ? "BAR 0 is smaller than the 128 KiB of registers"
						   : "BAR 0 is above 4 GiB (not mapped)";
		return -CG_EINVAL;
	}
	np = mem_alloc_pages((sizeof(*n) + PAGE_SIZE - 1) / PAGE_SIZE);
	dma = np ? mem_alloc_pages(E1000_DMA_PAGES) : 0;
	if (!dma) {
		if (np)
			pmm_free(&mem_pmm, np, (sizeof(*n) + PAGE_SIZE - 1) / PAGE_SIZE);
		cfg->write32(cfg->ctx, d->bdf, PCI_HOST_COMMAND, cmd);
		nic->why = "no memory for its rings";
		return -CG_ENOMEM;
	}
	cfg->write32(cfg->ctx, d->bdf, PCI_HOST_COMMAND,
		     cmd | PCI_HOST_COMMAND_MEMORY | PCI_HOST_COMMAND_MASTER | PCI_HOST_COMMAND_INTX_DISABLE);
	n = mem_ptr(np);
	n->regs = regs;
	env.ctx = n;
	/* Identity map: the monitor's address of the block is its bus address. */
	rc = e1000_init(&n->dev, nic->ops == &e1000e_nic_ops ? E1000_MODEL_82574 : E1000_MODEL_8254X, &env,
			mem_ptr(dma), dma, nic->mac, &nic->st);
	if (rc) {
		cfg->write32(cfg->ctx, d->bdf, PCI_HOST_COMMAND, cmd);
		pmm_free(&mem_pmm, dma, E1000_DMA_PAGES);
		pmm_free(&mem_pmm, np, (sizeof(*n) + PAGE_SIZE - 1) / PAGE_SIZE);
		nic->why = "the device did not come out of reset";
		return rc;
	}
	nic->priv = n;
	return 0;
}

static int e1000_nic_tx(struct host_nic *nic, const u8 *frame, u32 len)
{
	return e1000_tx(&((struct e1000_nic *)nic->priv)->dev, frame, len);
}

static u32 e1000_nic_rx(struct host_nic *nic, host_nic_rx_fn fn, void *ctx, u32 budget)
{
	return e1000_rx_poll(&((struct e1000_nic *)nic->priv)->dev, fn, ctx, budget);
}

static bool e1000_nic_link(struct host_nic *nic)
{
	return e1000_link(&((struct e1000_nic *)nic->priv)->dev);
}

static u32 e1000_nic_ack(struct host_nic *nic)
{
	return e1000_irq_ack(&((struct e1000_nic *)nic->priv)->dev);
}

static void e1000_nic_irq(struct host_nic *nic, bool on)
{
	e1000_irq_enable(&((struct e1000_nic *)nic->priv)->dev, on);
}

const struct host_nic_ops e1000_nic_ops = {
	"e1000", e1000_match, e1000_probe, e1000_nic_tx, e1000_nic_rx, e1000_nic_link, e1000_nic_ack,
	e1000_nic_irq,
};

const struct host_nic_ops e1000e_nic_ops = {
	"e1000e", e1000e_match, e1000_probe, e1000_nic_tx, e1000_nic_rx, e1000_nic_link, e1000_nic_ack,
	e1000_nic_irq,
};
