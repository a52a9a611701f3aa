/* The modern virtio PCI transport, driver side (see virtio_pci.h).
 * Section numbers are virtio 1.1's. */
#include "virtio_pci.h"
#include "guest.h"

/* Vendor-specific PCI capability carrying a virtio structure (4.1.4):
 * cap_vndr 0x09, cap_next, cap_len, cfg_type, bar, id, padding[2],
 * offset (le32), length (le32); the notify capability adds
 * notify_off_multiplier (le32) after it. */
#define PCI_CAP_ID_VNDR 0x09
#define VIRTIO_CAP_CFG_TYPE 3
#define VIRTIO_CAP_BAR 4
#define VIRTIO_CAP_OFFSET 8
#define VIRTIO_CAP_NOTIFY_MULT 16
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG 3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4

#define RESET_SPINS (1u << 20)

/* The MMIO address of the structure a virtio capability at `cap` points at. */
static int cap_addr(pci_bdf bdf, u8 cap, u32 *out)
{
	u8 bar = pci_read8(bdf, (u8)(cap + VIRTIO_CAP_BAR));
	bool high;
	u32 base = pci_bar_mem(bdf, bar, &high);
	if (!base || high)
		return -1;
	*out = base + pci_read32(bdf, (u8)(cap + VIRTIO_CAP_OFFSET));
	return 0;
}

int virtio_find_regs(pci_bdf bdf, struct virtio_regs *r)
{
	bool seen[5] = { false };
	for (u8 cap = pci_find_cap(bdf, PCI_CAP_ID_VNDR, 0); cap; cap = pci_find_cap(bdf, PCI_CAP_ID_VNDR, cap)) {
		u8 type = pci_read8(bdf, (u8)(cap + VIRTIO_CAP_CFG_TYPE));
		if (type < 1 || type > 4 || seen[type])
			continue;
		u32 at;
		if (cap_addr(bdf, cap, &at))
			return -1;
		seen[type] = true;
		if (type == VIRTIO_PCI_CAP_COMMON_CFG)
			r->common = at;
		else if (type == VIRTIO_PCI_CAP_NOTIFY_CFG) {
			r->notify_base = at;
			r->notify_mult = pci_read32(bdf, (u8)(cap + VIRTIO_CAP_NOTIFY_MULT));
		} else if (type == VIRTIO_PCI_CAP_ISR_CFG)
			r->isr = at;
		else
			r->devcfg = at;
	}
	return seen[1] && seen[2] && seen[4] ? 0 : -2;
}

void virtio_set_status(const struct virtio_regs *r, u8 bits)
{
	vio_wr8(r->common + CC_DEVICE_STATUS, (u8)(vio_rd8(r->common + CC_DEVICE_STATUS) | bits));
}

bool virtio_reset(const struct virtio_regs *r)
{
	vio_wr8(r->common + CC_DEVICE_STATUS, 0);
	for (u32 spins = 0; spins < RESET_SPINS; spins++) {
		if (vio_rd8(r->common + CC_DEVICE_STATUS) == 0)
			return true;
		relax();
	}
	return false;
}

u64 virtio_device_features(const struct virtio_regs *r)
{
	vio_wr32(r->common + CC_DEVICE_FEATURE_SELECT, 0);
	u32 lo = vio_rd32(r->common + CC_DEVICE_FEATURE);
	vio_wr32(r->common + CC_DEVICE_FEATURE_SELECT, 1);
	u32 hi = vio_rd32(r->common + CC_DEVICE_FEATURE);
	return ((u64)hi << 32) | lo;
}

bool virtio_set_features(const struct virtio_regs *r, u64 want)
{
	vio_wr32(r->common + CC_DRIVER_FEATURE_SELECT, 0);
	vio_wr32(r->common + CC_DRIVER_FEATURE, (u32)want);
	vio_wr32(r->common + CC_DRIVER_FEATURE_SELECT, 1);
	vio_wr32(r->common + CC_DRIVER_FEATURE, (u32)(want >> 32));
	virtio_set_status(r, VIRTIO_STATUS_FEATURES_OK);
	return vio_rd8(r->common + CC_DEVICE_STATUS) & VIRTIO_STATUS_FEATURES_OK;
}

u32 virtio_queue_setup(const struct virtio_regs *r, u16 q, u16 *size, const void *desc,
		       const void *avail, const void *used)
{
	u32 cc = r->common;
	if (q >= vio_rd16(cc + CC_NUM_QUEUES))
		return 0;
	vio_wr16(cc + CC_QUEUE_SELECT, q);
	u16 max = vio_rd16(cc + CC_QUEUE_SIZE);
	if (!max)
		return 0;
	if (*size > max)
		*size = max;
	vio_wr16(cc + CC_QUEUE_SIZE, *size);
	vio_wr64(cc + CC_QUEUE_DESC, (u32)desc);
	vio_wr64(cc + CC_QUEUE_DRIVER, (u32)avail);
	vio_wr64(cc + CC_QUEUE_DEVICE, (u32)used);
	u32 notify = r->notify_base + vio_rd16(cc + CC_QUEUE_NOTIFY_OFF) * r->notify_mult;
	vio_wr16(cc + CC_QUEUE_ENABLE, 1);
	return notify;
}
