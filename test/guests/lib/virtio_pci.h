/* The modern virtio PCI transport (virtio 1.1, 4.1) as the test guests'
 * drivers see it: where the capabilities put the common, notify, ISR and
 * device structures, and plain MOVs of each field's width to reach them
 * (4.1.3.1). Shared by virtio_blk.c and virtio_net.c. */
#ifndef GUEST_VIRTIO_PCI_H
#define GUEST_VIRTIO_PCI_H

#include "types.h"
#include "pci.h"

#define VIRTIO_PCI_VENDOR 0x1AF4

/* struct virtio_pci_common_cfg (4.1.4.3). */
#define CC_DEVICE_FEATURE_SELECT 0x00
#define CC_DEVICE_FEATURE 0x04
#define CC_DRIVER_FEATURE_SELECT 0x08
#define CC_DRIVER_FEATURE 0x0C
#define CC_NUM_QUEUES 0x12
#define CC_DEVICE_STATUS 0x14
#define CC_CONFIG_GENERATION 0x15
#define CC_QUEUE_SELECT 0x16
#define CC_QUEUE_SIZE 0x18
#define CC_QUEUE_ENABLE 0x1C
#define CC_QUEUE_NOTIFY_OFF 0x1E
#define CC_QUEUE_DESC 0x20
#define CC_QUEUE_DRIVER 0x28
#define CC_QUEUE_DEVICE 0x30

/* device_status bits (2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED 0x80

/* Feature bits (6). */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_VERSION_1 32

/* Descriptor flags (2.6.5), avail->flags (2.6.7). */
#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

struct virtq_desc {
	u64 addr;
	u32 len;
	u16 flags;
	u16 next;
};

struct virtq_used_elem {
	u32 id;
	u32 len;
};

/* MMIO addresses of a device's structures (4.1.4). */
struct virtio_regs {
	u32 common;
	u32 notify_base;
	u32 notify_mult;
	u32 isr;
	u32 devcfg;
};

static inline u8 vio_rd8(u32 a)
{
	u8 v;
	__asm__ volatile("movb (%1), %0" : "=q"(v) : "r"(a) : "memory");
	return v;
}

static inline u16 vio_rd16(u32 a)
{
	u16 v;
	__asm__ volatile("movw (%1), %0" : "=r"(v) : "r"(a) : "memory");
	return v;
}

static inline u32 vio_rd32(u32 a)
{
	u32 v;
	__asm__ volatile("movl (%1), %0" : "=r"(v) : "r"(a) : "memory");
	return v;
}

static inline void vio_wr8(u32 a, u8 v) { __asm__ volatile("movb %0, (%1)" : : "q"(v), "r"(a) : "memory"); }
static inline void vio_wr16(u32 a, u16 v) { __asm__ volatile("movw %0, (%1)" : : "r"(v), "r"(a) : "memory"); }
static inline void vio_wr32(u32 a, u32 v) { __asm__ volatile("movl %0, (%1)" : : "r"(v), "r"(a) : "memory"); }
/* 64-bit fields as two 32-bit halves, low first (4.1.3.1 allows it). */
static inline void vio_wr64(u32 a, u64 v)
{
	vio_wr32(a, (u32)v);
	vio_wr32(a + 4, (u32)(v >> 32));
}

static inline void vio_barrier(void) { __asm__ volatile("" : : : "memory"); }

/* Fills r from the first virtio capability of each type of bdf. Returns
 * 0, -1 when a capability's BAR is I/O, unassigned or above 4 GiB, -2
 * when the common, notify or device structure is missing. */
int virtio_find_regs(pci_bdf bdf, struct virtio_regs *r);

/* Sets bits in device_status (read, or, write). */
void virtio_set_status(const struct virtio_regs *r, u8 bits);

/* Writes 0 to device_status and waits (bounded) until it reads 0.
 * Returns whether it did. */
bool virtio_reset(const struct virtio_regs *r);

/* The device's 64 feature bits. */
u64 virtio_device_features(const struct virtio_regs *r);

/* Writes the driver's features and sets FEATURES_OK; returns whether the
 * device kept it (3.1.1 step 6). */
bool virtio_set_features(const struct virtio_regs *r, u64 want);

/* Sets queue q up over desc/avail/used with size entries (at most what
 * the device offers: *size is cut to that), enables it and returns its
 * notification address, or 0 when the queue does not exist. */
u32 virtio_queue_setup(const struct virtio_regs *r, u16 q, u16 *size, const void *desc,
		       const void *avail, const void *used);

#endif
