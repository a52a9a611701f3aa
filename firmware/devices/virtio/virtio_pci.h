/* The virtio 1.x PCI transport ("modern" only, virtio-v1.1 section 4.1):
 * vendor 0x1AF4, device 0x1040 + virtio device id, revision 1. One 32-bit
 * memory BAR holds the four structures the vendor capabilities point at,
 * a page each:
 *
 *   BAR 0 + 0x0000  common configuration (4.1.4.3)
 *   BAR 0 + 0x1000  ISR status (4.1.4.5), read to clear
 *   BAR 0 + 0x2000  device-specific configuration (4.1.4.6)
 *   BAR 0 + 0x3000  notifications (4.1.4.4): queue q at 4 * q
 *   BAR 1 + 0x000   MSI-X table (PCI 3.0 6.8.2), one vector per queue + 1
 *   BAR 1 + 0x800   MSI-X pending bits
 *
 * plus the PCI configuration access capability (4.1.4.7). Interrupts go
 * through MSI-X when the driver enabled it, else through the ISR and INTA
 * (level, GSI PCI_INTX_GSI(slot)). A device that finds the driver broke
 * the rules calls virtio_pci_fail: DEVICE_NEEDS_RESET (2.1.2), a
 * configuration-change interrupt, and nothing more until the driver
 * resets it by writing 0 to device_status, which drops all queue state.
 *
 * The transport knows no device: a model (virtio_blk.c) gives it its
 * feature bits, its configuration bytes and three callbacks, which run
 * with the transport's lock held. */
#ifndef CG_VIRTIO_PCI_H
#define CG_VIRTIO_PCI_H

#include <cg/types.h>
#include "devices/virtio/dev_pci.h"
#include "devices/virtio/pci_msix.h"

struct vm;

#define VIRTIO_PCI_VENDOR 0x1AF4
#define VIRTIO_PCI_DEVICE_BASE 0x1040	/* + device id (4.1.2) */
#define VIRTIO_PCI_REVISION 1
#define VIRTIO_PCI_QUEUES_MAX 2	/* virtio-blk's one, virtio-net's receive and transmit */
#define VIRTIO_PCI_CONFIG_MAX 64	/* device configuration bytes kept */
#define VIRTIO_NO_VECTOR 0xFFFF

/* BAR layout (above). */
#define VIRTIO_PCI_BAR 0
#define VIRTIO_PCI_BAR_SIZE 0x4000
#define VIRTIO_PCI_COMMON 0x0000
#define VIRTIO_PCI_ISR 0x1000
#define VIRTIO_PCI_DEVICE 0x2000
#define VIRTIO_PCI_NOTIFY 0x3000
#define VIRTIO_PCI_REGION 0x1000
#define VIRTIO_PCI_NOTIFY_MULT 4
#define VIRTIO_PCI_MSIX_BAR 1
#define VIRTIO_PCI_MSIX_BAR_SIZE 0x1000
#define VIRTIO_PCI_MSIX_PBA 0x800

/* virtio_pci_cap.cfg_type (4.1.4). */
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG 3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4
#define VIRTIO_PCI_CAP_PCI_CFG 5

/* Common configuration offsets (4.1.4.3). */
#define VIRTIO_PCI_DFSELECT 0x00
#define VIRTIO_PCI_DF 0x04
#define VIRTIO_PCI_GFSELECT 0x08
#define VIRTIO_PCI_GF 0x0C
#define VIRTIO_PCI_MSIX_CONFIG 0x10
#define VIRTIO_PCI_NUM_QUEUES 0x12
#define VIRTIO_PCI_STATUS 0x14
#define VIRTIO_PCI_CFG_GENERATION 0x15
#define VIRTIO_PCI_Q_SELECT 0x16
#define VIRTIO_PCI_Q_SIZE 0x18
#define VIRTIO_PCI_Q_MSIX 0x1A
#define VIRTIO_PCI_Q_ENABLE 0x1C
#define VIRTIO_PCI_Q_NOFF 0x1E
#define VIRTIO_PCI_Q_DESC 0x20
#define VIRTIO_PCI_Q_DRIVER 0x28
#define VIRTIO_PCI_Q_DEVICE 0x30
#define VIRTIO_PCI_COMMON_LEN 0x38

/* device_status bits (2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE 0x01
#define VIRTIO_STATUS_DRIVER 0x02
#define VIRTIO_STATUS_DRIVER_OK 0x04
#define VIRTIO_STATUS_FEATURES_OK 0x08
#define VIRTIO_STATUS_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED 0x80

/* ISR bits (4.1.4.5). */
#define VIRTIO_ISR_QUEUE 0x1
#define VIRTIO_ISR_CONFIG 0x2

/* Reserved feature bits (6). */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32

#define VIRTIO_BIT(n) (1ull << (n))

struct virtio_pci_ops {
	/* The driver enabled queue q with these parameters (size a power of
	 * two no larger than the maximum; features as negotiated). Returns
	 * 0, or an error: the transport then fails the device. */
	int (*queue_enable)(void *ctx, u32 q, u32 size, u64 desc, u64 driver, u64 device,
			    u64 features);
	/* The driver notified queue q (only while DRIVER_OK and not
	 * NEEDS_RESET, and q is enabled). */
	void (*queue_notify)(void *ctx, u32 q);
	/* Device reset: forget every queue and request in flight. */
	void (*reset)(void *ctx);
	/* Optional: the guest touched a BAR (before the access is done), a
	 * chance to finish deferred work for drivers that poll. */
	void (*access)(void *ctx);
	/* Optional: the same access is done and the lock released; a chance
	 * for work another CPU left for this device while it held the lock
	 * (a frame a switch queued for a NIC that was busy). */
	void (*unlocked)(void *ctx);
};

/* How the transport reaches the rest of the monitor: irq_msi, irq_line
 * and kprintf there (the only interrupt paths a device may use), fakes in
 * host tests. */
struct virtio_pci_env {
	int (*msi)(struct vm *vm, u64 addr, u32 data);
	void (*line)(struct vm *vm, u32 gsi, bool level);
	void (*log)(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
};

struct virtio_pci_queue {
	u16 size_max;
	u16 size;
	u16 vector;
	bool enabled;
	u64 desc, driver, device;
};

struct virtio_pci {
	struct pci_dev pci;
	u32 lock;
	struct vm *vm;			/* for env->msi / env->line */
	const struct virtio_pci_env *env;
	const char *label;		/* "<vm> <device>" for messages */
	u64 device_features;
	u64 driver_features;
	u32 dfselect, gfselect;
	u8 status;
	u8 isr;
	bool intx_level;
	u16 msix_config;
	u16 queue_select;
	u16 num_queues;
	u8 cfg_cap;			/* PCI cfg access capability offset */
	struct virtio_pci_queue q[VIRTIO_PCI_QUEUES_MAX];
	struct pci_msix msix;		/* one vector per queue + config */
	u8 config[VIRTIO_PCI_CONFIG_MAX];
	u32 config_len;
	const char *fail_reason;	/* why NEEDS_RESET was set, or NULL */
	u64 fails;
	const struct virtio_pci_ops *ops;
	void *ctx;
};

/* virtio_pci_init: a transport for virtio device id with class code
 * class_code, offering features (VIRTIO_F_VERSION_1 is added), num_queues
 * queues of at most queue_max entries each (power of two), and config_len
 * bytes of device configuration taken from config. Interrupts and
 * messages go through env; messages name it by label. Returns 0 or -CG_EINVAL for out-of-range sizes. Add t->pci to
 * the VM's bus afterwards, then call virtio_pci_attached. */
int virtio_pci_init(struct virtio_pci *t, struct vm *vm, const struct virtio_pci_env *env,
		    const char *label, u16 device_id,
		    u32 class_code, u64 features, u32 num_queues, u32 queue_max,
		    const void *config, u32 config_len, const struct virtio_pci_ops *ops, void *ctx);

/* virtio_pci_attached: t->pci has its slot now (INTx routing). */
void virtio_pci_attached(struct virtio_pci *t);

/* virtio_pci_lock / virtio_pci_unlock: for device work outside a guest
 * access (a timer completing deferred requests). */
void virtio_pci_lock(struct virtio_pci *t);
void virtio_pci_unlock(struct virtio_pci *t);

/* virtio_pci_live: DRIVER_OK and not NEEDS_RESET: the device may use its
 * queues (2.1). Lock held. */
bool virtio_pci_live(const struct virtio_pci *t);

/* virtio_pci_queue_interrupt: tell the driver queue q has used buffers
 * (MSI-X vector of q, or ISR bit 0 and INTA). Lock held. */
void virtio_pci_queue_interrupt(struct virtio_pci *t, u32 q);

/* virtio_pci_fail: the driver broke the device's rules (why says how):
 * set DEVICE_NEEDS_RESET, report it once on the operator line, and send a
 * configuration-change interrupt if the driver was running. Lock held. */
void virtio_pci_fail(struct virtio_pci *t, const char *why);

/* virtio_pci_bar_access: a BAR access as the guest would make it (the
 * pci_dev_ops.bar_rw of the transport; takes the lock). */
enum dev_result virtio_pci_bar_access(struct pci_dev *d, u32 bar, u64 off, bool write, u32 size,
				      u64 *val);

#endif
