/* PCI bus 0 of a VM: configuration mechanism #1, the host bridge, BAR
 * sizing and MMIO routing. See dev_pci.h. */
#include <cg/errno.h>
#include <cg/spinlock.h>
#include <cg/string.h>
#include <cg/unaligned.h>
#include "devices/virtio/dev_pci.h"

/* The host bridge: Red Hat's "QEMU PCIe host bridge" ID, which no OS
 * applies chipset quirks to; class 06/00/00 (host bridge). */
#define PCI_BRIDGE_VENDOR 0x1B36
#define PCI_BRIDGE_DEVICE 0x0008
#define PCI_CLASS_HOST_BRIDGE 0x060000

#define CFG_ADDR_ENABLE (1u << 31)
/* Bits of CONFIG_ADDRESS that hold state: enable, bus, device, function,
 * dword register (bits 30:24 and 1:0 are reserved and read as zero). */
#define CFG_ADDR_MASK 0x80FFFFFCu

static u32 ones(u32 size)
{
	return size >= 4 ? 0xFFFFFFFFu : (1u << (size * 8)) - 1;
}

void pci_dev_init(struct pci_dev *d, u16 vendor, u16 device, u8 revision, u32 class_code,
		  u16 subsys_vendor, u16 subsys_id, const struct pci_dev_ops *ops, void *ctx)
{
	memset(d, 0, sizeof(*d));
	le16_put(d->cfg + PCI_VENDOR_ID, vendor);
	le16_put(d->cfg + PCI_DEVICE_ID, device);
	d->cfg[PCI_REVISION] = revision;
	d->cfg[PCI_CLASS_PROG] = (u8)class_code;
	d->cfg[PCI_CLASS_PROG + 1] = (u8)(class_code >> 8);
	d->cfg[PCI_CLASS_PROG + 2] = (u8)(class_code >> 16);
	le16_put(d->cfg + PCI_SUBSYS_VENDOR, subsys_vendor);
	le16_put(d->cfg + PCI_SUBSYS_ID, subsys_id);
	/* Command: memory space, bus master, INTx disable; no I/O BARs, so
	 * I/O space stays hardwired off. */
	le16_put(d->wmask + PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE);
	d->wmask[PCI_CACHE_LINE] = 0xFF;
	d->wmask[PCI_LATENCY] = 0xFF;
	d->wmask[PCI_INT_LINE] = 0xFF;
	d->cap_end = PCI_CAP_START;
	d->ops = ops;
	d->ctx = ctx;
}

int pci_dev_add_bar(struct pci_dev *d, u32 i, u32 size)
{
	if (i >= PCI_BARS || size < 16 || size > 512 * 1024 || (size & (size - 1)))
		return -CG_EINVAL;
	d->bar_size[i] = size;
	/* Bits below the size read as zero (type: 32-bit memory, not
	 * prefetchable): writing all ones reads back the size mask. */
	le32_put(d->wmask + PCI_BAR0 + 4 * i, ~(size - 1));
	return 0;
}

u32 pci_dev_add_cap(struct pci_dev *d, u8 id, u32 len)
{
	u32 off = d->cap_end;

	if (len < 2 || off + len > PCI_CFG_SIZE)
		return 0;
	d->cfg[off] = id;
	d->cfg[off + 1] = 0;
	if (d->cap_last)
		d->cfg[d->cap_last + 1] = (u8)off;
	else
		d->cfg[PCI_CAP_PTR] = (u8)off;
	d->cfg[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	d->cap_last = (u8)off;
	d->cap_end = (u16)ALIGN_UP(off + len, 4u); /* capabilities are dword aligned */
	return off;
}

void pci_dev_use_intx(struct pci_dev *d)
{
	d->cfg[PCI_INT_PIN] = 1; /* INTA# */
	d->cfg[PCI_INT_LINE] = (u8)PCI_INTX_GSI(d->slot);
}

void pci_bus_init(struct pci_bus *b)
{
	memset(b, 0, sizeof(*b));
	pci_dev_init(&b->bridge, PCI_BRIDGE_VENDOR, PCI_BRIDGE_DEVICE, 0, PCI_CLASS_HOST_BRIDGE,
		     0, 0, NULL, NULL);
	memset(b->bridge.wmask, 0, sizeof(b->bridge.wmask));
	le16_put(b->bridge.cfg + PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_IO);
	b->devs[0] = &b->bridge;
}

int pci_bus_add(struct pci_bus *b, struct pci_dev *d)
{
	u64 base, cursor = 0;
	u32 s, i;
	bool any = false;

	for (s = 1; s < PCI_SLOTS && b->devs[s]; s++)
		;
	if (s == PCI_SLOTS)
		return -CG_ENOMEM;
	base = PCI_MMIO_BASE + s * PCI_SLOT_MMIO;
	for (i = 0; i < PCI_BARS; i++) {
		if (!d->bar_size[i])
			continue;
		cursor = ALIGN_UP(cursor, (u64)d->bar_size[i]);
		if (cursor + d->bar_size[i] > PCI_SLOT_MMIO)
			return -CG_EINVAL;
		le32_put(d->cfg + PCI_BAR0 + 4 * i, (u32)(base + cursor));
		cursor += d->bar_size[i];
		any = true;
	}
	if (any)
		d->cfg[PCI_COMMAND] |= PCI_COMMAND_MEMORY;
	d->slot = (u8)s;
	__atomic_store_n(&b->devs[s], d, __ATOMIC_RELEASE);
	return (int)s;
}

void pci_bus_remove(struct pci_bus *b, struct pci_dev *d)
{
	if (d->slot && d->slot < PCI_SLOTS && b->devs[d->slot] == d)
		__atomic_store_n(&b->devs[d->slot], NULL, __ATOMIC_RELEASE);
}

u32 pci_cfg_read(struct pci_bus *b, u32 slot, u32 off, u32 size)
{
	struct pci_dev *d = slot < PCI_SLOTS ? b->devs[slot] : NULL;
	u32 v = 0;

	if (!d || off >= PCI_CFG_SIZE || size > PCI_CFG_SIZE - off)
		return ones(size);
	if (off + size > PCI_CAP_START && d->ops && d->ops->cfg_reading)
		d->ops->cfg_reading(d, off, size);
	for (u32 i = 0; i < size; i++)
		v |= (u32)d->cfg[off + i] << (8 * i);
	return v;
}

void pci_cfg_write(struct pci_bus *b, u32 slot, u32 off, u32 size, u32 val)
{
	struct pci_dev *d = slot < PCI_SLOTS ? b->devs[slot] : NULL;

	if (!d || off >= PCI_CFG_SIZE || size > PCI_CFG_SIZE - off)
		return;
	for (u32 i = 0; i < size; i++) {
		u8 m = d->wmask[off + i], x = (u8)(val >> (8 * i));

		d->cfg[off + i] = (u8)((d->cfg[off + i] & ~m) | (x & m));
	}
	if (!d->ops)
		return;
	if (off <= PCI_COMMAND + 1 && off + size > PCI_COMMAND && d->ops->command_written)
		d->ops->command_written(d);
	if (off + size > PCI_CAP_START && d->ops->cfg_written) {
		u32 start = off < PCI_CAP_START ? PCI_CAP_START : off;
		d->ops->cfg_written(d, start, off + size - start);
	}
}

enum dev_result pci_config_io(struct pci_bus *b, u16 port, bool in, u32 size, u32 *val)
{
	u32 addr, k, slot, off;

	if (size != 1 && size != 2 && size != 4) {
		if (in)
			*val = 0xFFFFFFFFu;
		return DEV_OK;
	}
	spin_lock(&b->lock);
	addr = b->address;
	if (port >= PCI_CONFIG_ADDRESS && port < PCI_CONFIG_DATA) {
		k = port - PCI_CONFIG_ADDRESS;
		if (port == PCI_CONFIG_ADDRESS && size == 4) {
			if (in)
				*val = addr;
			else
				b->address = *val & CFG_ADDR_MASK;
		} else if (in) {
			/* Bytes past 0xCFB are not this register. */
			u64 v = (u64)addr >> (8 * k);
			if (k + size > 4)
				v |= ~0ull << (8 * (4 - k));
			*val = (u32)v & ones(size);
		}
		spin_unlock(&b->lock);
		return DEV_OK;
	}
	k = port - PCI_CONFIG_DATA;
	slot = (addr >> 11) & 0x1F;
	off = (addr & 0xFC) + k;
	/* Enabled, bus 0, function 0, and the access inside the dword. */
	if (!(addr & CFG_ADDR_ENABLE) || (addr & 0x00FF0700u) || k >= 4 || k + size > 4) {
		if (in)
			*val = ones(size);
	} else if (in) {
		*val = pci_cfg_read(b, slot, off, size);
	} else {
		pci_cfg_write(b, slot, off, size, *val);
	}
	spin_unlock(&b->lock);
	return DEV_OK;
}

u64 pci_bar_base(const struct pci_dev *d, u32 i)
{
	u64 base, size = i < PCI_BARS ? d->bar_size[i] : 0;

	if (!size || !(le16_at(d->cfg + PCI_COMMAND) & PCI_COMMAND_MEMORY))
		return 0;
	base = le32_at(d->cfg + PCI_BAR0 + 4 * i) & ~0xFu;
	if (base < PCI_MMIO_BASE || base + size > PCI_MMIO_END)
		return 0;
	return base;
}

struct pci_dev *pci_dev_at(struct pci_bus *b, u64 gpa, u32 *bar)
{
	if (gpa < PCI_MMIO_BASE || gpa >= PCI_MMIO_END)
		return NULL;
	for (u32 s = 1; s < PCI_SLOTS; s++) {
		struct pci_dev *d = __atomic_load_n(&b->devs[s], __ATOMIC_ACQUIRE);

		for (u32 i = 0; d && i < PCI_BARS; i++) {
			u64 base = pci_bar_base(d, i);

			if (!base || gpa < base || gpa - base >= d->bar_size[i])
				continue;
			*bar = i;
			return d;
		}
	}
	return NULL;
}

enum dev_result pci_mmio(struct pci_bus *b, u64 gpa, bool write, u32 size, u64 *val)
{
	struct pci_dev *d;
	u32 i;
	u64 base;

	if (gpa < PCI_MMIO_BASE || gpa >= PCI_MMIO_END)
		return DEV_UNHANDLED;
	d = pci_dev_at(b, gpa, &i);
	if (!size)
		return DEV_OK;
	if (d) {
		base = pci_bar_base(d, i);
		if (gpa - base + size <= d->bar_size[i] && d->ops && d->ops->bar_rw)
			return d->ops->bar_rw(d, i, gpa - base, write, size, val);
	}
	if (!write)
		*val = size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
	return DEV_OK;
}
