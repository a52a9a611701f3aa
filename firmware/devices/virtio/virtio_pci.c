/* virtio 1.x PCI transport: see virtio_pci.h. Every register the driver
 * writes is range-checked here; a write that makes no sense is ignored
 * (as real devices do) unless it leaves the device unable to go on, which
 * fails the device (NEEDS_RESET), never the VM or the monitor. */
#include <cg/errno.h>
#include <cg/spinlock.h>
#include <cg/string.h>
#include <cg/unaligned.h>
#include "devices/virtio/virtio_pci.h"

/* struct virtio_pci_cap: vndr, next, len, cfg_type, bar, id, pad[2],
 * le32 offset, le32 length; notify adds le32 notify_off_multiplier, the
 * PCI configuration access capability u8 pci_cfg_data[4]. */
#define VCAP_LEN 16
#define VCAP_BAR 4
#define VCAP_OFFSET 8
#define VCAP_LENGTH 12
#define VCAP_EXTRA 16

static u32 add_vcap(struct pci_dev *d, u8 type, u32 len, u8 bar, u32 off, u32 length)
{
	u32 c = pci_dev_add_cap(d, PCI_CAP_ID_VNDR, len);

	if (!c)
		return 0;
	d->cfg[c + 2] = (u8)len;
	d->cfg[c + 3] = type;
	d->cfg[c + VCAP_BAR] = bar;
	le32_put(d->cfg + c + VCAP_OFFSET, off);
	le32_put(d->cfg + c + VCAP_LENGTH, length);
	return c;
}

/* Interrupt Status in the PCI status register mirrors the ISR; INTA is
 * asserted while it is set, unless INTx is disabled or MSI-X is on. */
static void intx_update(struct virtio_pci *t)
{
	u16 cmd = le16_at(t->pci.cfg + PCI_COMMAND);
	bool level = t->isr && !(cmd & PCI_COMMAND_INTX_DISABLE) && !pci_msix_enabled(&t->msix);

	if (t->isr)
		t->pci.cfg[PCI_STATUS] |= PCI_STATUS_INTX;
	else
		t->pci.cfg[PCI_STATUS] &= (u8)~PCI_STATUS_INTX;
	if (level == t->intx_level || !t->pci.slot)
		return;
	t->intx_level = level;
	t->env->line(t->vm, PCI_INTX_GSI(t->pci.slot), level);
}

/* VIRTIO_NO_VECTOR lies past the table: pci_msix_signal ignores it. */
static void config_interrupt(struct virtio_pci *t)
{
	if (pci_msix_enabled(&t->msix)) {
		pci_msix_signal(&t->msix, t->msix_config);
	} else {
		t->isr |= VIRTIO_ISR_CONFIG;
		intx_update(t);
	}
}

void virtio_pci_queue_interrupt(struct virtio_pci *t, u32 q)
{
	if (q >= t->num_queues)
		return;
	if (pci_msix_enabled(&t->msix)) {
		pci_msix_signal(&t->msix, t->q[q].vector);
	} else {
		t->isr |= VIRTIO_ISR_QUEUE;
		intx_update(t);
	}
}

void virtio_pci_fail(struct virtio_pci *t, const char *why)
{
	t->fails++;
	if (t->status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	t->fail_reason = why;
	t->env->log("%s: %s; device needs reset (the guest's driver must reset it)\n", t->label, why);
	t->status |= VIRTIO_STATUS_NEEDS_RESET;
	/* 4.1.4.3.1 / 2.1.2: a running driver learns it by a config change. */
	if (t->status & VIRTIO_STATUS_DRIVER_OK)
		config_interrupt(t);
}

bool virtio_pci_live(const struct virtio_pci *t)
{
	return (t->status & (VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_NEEDS_RESET)) ==
	       VIRTIO_STATUS_DRIVER_OK;
}

void virtio_pci_lock(struct virtio_pci *t)
{
	spin_lock(&t->lock);
}

void virtio_pci_unlock(struct virtio_pci *t)
{
	spin_unlock(&t->lock);
}

/* Status 0 (4.1.4.3.2): back to the state after power-on, except the
 * PCI-level state (BARs, MSI-X table) which belongs to PCI, not virtio. */
static void device_reset(struct virtio_pci *t)
{
	t->ops->reset(t->ctx);
	t->status = 0;
	t->driver_features = 0;
	t->dfselect = t->gfselect = 0;
	t->queue_select = 0;
	t->msix_config = VIRTIO_NO_VECTOR;
	for (u32 i = 0; i < t->num_queues; i++) {
		struct virtio_pci_queue *q = &t->q[i];

		q->size = q->size_max;
		q->vector = VIRTIO_NO_VECTOR;
		q->enabled = false;
		q->desc = q->driver = q->device = 0;
	}
	pci_msix_clear_pending(&t->msix);
	t->isr = 0;
	t->fail_reason = NULL;
	intx_update(t);
}

static void status_write(struct virtio_pci *t, u8 v)
{
	u8 old = t->status;

	if (!v) {
		device_reset(t);
		return;
	}
	/* The driver cannot set NEEDS_RESET nor clear it but by a reset. */
	v = (u8)((v & ~VIRTIO_STATUS_NEEDS_RESET) | (old & VIRTIO_STATUS_NEEDS_RESET));
	/* 3.1.1 step 5: FEATURES_OK sticks only for a subset of what we
	 * offer that includes VERSION_1 (no legacy interface here). */
	if ((v & VIRTIO_STATUS_FEATURES_OK) && !(old & VIRTIO_STATUS_FEATURES_OK) &&
	    ((t->driver_features & ~t->device_features) ||
	     !(t->driver_features & VIRTIO_BIT(VIRTIO_F_VERSION_1))))
		v &= (u8)~VIRTIO_STATUS_FEATURES_OK;
	t->status = v;
	/* Buffers added before DRIVER_OK were not looked at: look now. */
	if (!(old & VIRTIO_STATUS_DRIVER_OK) && virtio_pci_live(t))
		for (u32 i = 0; i < t->num_queues; i++)
			if (t->q[i].enabled)
				t->ops->queue_notify(t->ctx, i);
}

static void queue_enable(struct virtio_pci *t, struct virtio_pci_queue *q, u32 qi)
{
	if (!q->size || q->size > q->size_max || (q->size & (q->size - 1))) {
		virtio_pci_fail(t, "queue_size is not a power of two up to the maximum");
		return;
	}
	if (t->ops->queue_enable(t->ctx, qi, q->size, q->desc, q->driver, q->device,
				 t->driver_features)) {
		virtio_pci_fail(t, "queue enabled with misaligned ring addresses");
		return;
	}
	q->enabled = true;
}

static void common_read(struct virtio_pci *t, u32 off, u32 size, u64 *val)
{
	u8 r[VIRTIO_PCI_COMMON_LEN + 8];
	const struct virtio_pci_queue *q =
		t->queue_select < t->num_queues ? &t->q[t->queue_select] : NULL;
	u64 v = 0;

	memset(r, 0, sizeof(r));
	le32_put(r + VIRTIO_PCI_DFSELECT, t->dfselect);
	le32_put(r + VIRTIO_PCI_DF, t->dfselect < 2 ? (u32)(t->device_features >> (32 * t->dfselect)) : 0);
	le32_put(r + VIRTIO_PCI_GFSELECT, t->gfselect);
	le32_put(r + VIRTIO_PCI_GF, t->gfselect < 2 ? (u32)(t->driver_features >> (32 * t->gfselect)) : 0);
	le16_put(r + VIRTIO_PCI_MSIX_CONFIG, t->msix_config);
	le16_put(r + VIRTIO_PCI_NUM_QUEUES, t->num_queues);
	r[VIRTIO_PCI_STATUS] = t->status;
	r[VIRTIO_PCI_CFG_GENERATION] = 0; /* the device configuration never changes */
	le16_put(r + VIRTIO_PCI_Q_SELECT, t->queue_select);
	if (q) {
		le16_put(r + VIRTIO_PCI_Q_SIZE, q->size);
		le16_put(r + VIRTIO_PCI_Q_MSIX, q->vector);
		le16_put(r + VIRTIO_PCI_Q_ENABLE, q->enabled);
		le16_put(r + VIRTIO_PCI_Q_NOFF, t->queue_select);
		le64_put(r + VIRTIO_PCI_Q_DESC, q->desc);
		le64_put(r + VIRTIO_PCI_Q_DRIVER, q->driver);
		le64_put(r + VIRTIO_PCI_Q_DEVICE, q->device);
	}
	if (off < VIRTIO_PCI_COMMON_LEN)
		for (u32 i = 0; i < size && off + i < sizeof(r); i++)
			v |= (u64)r[off + i] << (8 * i);
	*val = v;
}

/* Half or all of a 64-bit queue address. */
static void set_addr(u64 *a, u32 off, u32 size, u64 v)
{
	if (size == 8)
		*a = v;
	else if (off & 4)
		*a = (*a & 0xFFFFFFFFull) | v << 32;
	else
		*a = (*a & ~0xFFFFFFFFull) | (v & 0xFFFFFFFFull);
}

/* 4.1.3.1: fields are written at their natural width (64-bit ones also
 * as two 32-bit halves); other widths and read-only fields are ignored. */
static void common_write(struct virtio_pci *t, u32 off, u32 size, u64 v)
{
	struct virtio_pci_queue *q =
		t->queue_select < t->num_queues ? &t->q[t->queue_select] : NULL;
	bool q_open = q && !q->enabled;

	switch (off) {
	case VIRTIO_PCI_DFSELECT:
		if (size == 4)
			t->dfselect = (u32)v;
		return;
	case VIRTIO_PCI_GFSELECT:
		if (size == 4)
			t->gfselect = (u32)v;
		return;
	case VIRTIO_PCI_GF:
		if (size == 4 && t->gfselect < 2 && !(t->status & VIRTIO_STATUS_FEATURES_OK)) {
			u32 sh = 32 * t->gfselect;

			t->driver_features = (t->driver_features & ~(0xFFFFFFFFull << sh)) | (v & 0xFFFFFFFFull) << sh;
		}
		return;
	case VIRTIO_PCI_MSIX_CONFIG:
		/* 4.1.5.1.2: a vector the device cannot map reads back as
		 * NO_VECTOR. */
		if (size == 2)
			t->msix_config = v < t->msix.vectors ? (u16)v : VIRTIO_NO_VECTOR;
		return;
	case VIRTIO_PCI_STATUS:
		if (size == 1)
			status_write(t, (u8)v);
		return;
	case VIRTIO_PCI_Q_SELECT:
		if (size == 2)
			t->queue_select = (u16)v;
		return;
	case VIRTIO_PCI_Q_SIZE:
		if (size == 2 && q_open)
			q->size = (u16)v;
		return;
	case VIRTIO_PCI_Q_MSIX:
		if (size == 2 && q)
			q->vector = v < t->msix.vectors ? (u16)v : VIRTIO_NO_VECTOR;
		return;
	case VIRTIO_PCI_Q_ENABLE:
		/* 4.1.4.3.2: the driver never writes 0 here. */
		if (size == 2 && q_open && (v & 0xFFFF) == 1)
			queue_enable(t, q, t->queue_select);
		return;
	}
	if (!q_open || off < VIRTIO_PCI_Q_DESC || off >= VIRTIO_PCI_COMMON_LEN)
		return;
	if (!(size == 4 || (size == 8 && !(off & 7))))
		return;
	if (off < VIRTIO_PCI_Q_DRIVER)
		set_addr(&q->desc, off, size, v);
	else if (off < VIRTIO_PCI_Q_DEVICE)
		set_addr(&q->driver, off, size, v);
	else
		set_addr(&q->device, off, size, v);
}

/* The BAR access itself, lock held. */
static enum dev_result bar_access_locked(struct virtio_pci *t, u32 bar, u64 off, bool write,
					 u32 size, u64 *val)
{
	if (bar == VIRTIO_PCI_MSIX_BAR) {
		pci_msix_bar_access(&t->msix, off, write, size, val);
		return DEV_OK;
	}
	if (bar != VIRTIO_PCI_BAR) {
		if (!write)
			*val = 0;
		return DEV_OK;
	}
	u32 region = (u32)(off / VIRTIO_PCI_REGION) * VIRTIO_PCI_REGION;
	u32 ro = (u32)(off % VIRTIO_PCI_REGION);

	if (!write)
		*val = 0;
	switch (region) {
	case VIRTIO_PCI_COMMON:
		if (write)
			common_write(t, ro, size, *val);
		else
			common_read(t, ro, size, val);
		break;
	case VIRTIO_PCI_ISR:
		/* 4.1.4.5: reading clears it and deasserts INTA. */
		if (!write && ro == 0) {
			*val = t->isr;
			t->isr = 0;
			intx_update(t);
		}
		break;
	case VIRTIO_PCI_DEVICE:
		/* Read-only here: the models offer no writable fields. */
		if (!write)
			for (u32 i = 0; i < size && ro + i < t->config_len; i++)
				*val |= (u64)t->config[ro + i] << (8 * i);
		break;
	case VIRTIO_PCI_NOTIFY:
		if (write && !(ro % VIRTIO_PCI_NOTIFY_MULT) && ro / VIRTIO_PCI_NOTIFY_MULT < t->num_queues) {
			u32 qi = ro / VIRTIO_PCI_NOTIFY_MULT;

			if (virtio_pci_live(t) && t->q[qi].enabled)
				t->ops->queue_notify(t->ctx, qi);
		}
		break;
	}
	return DEV_OK;
}

enum dev_result virtio_pci_bar_access(struct pci_dev *d, u32 bar, u64 off, bool write, u32 size,
				      u64 *val)
{
	struct virtio_pci *t = d->ctx;
	enum dev_result r;

	spin_lock(&t->lock);
	if (t->ops->access)
		t->ops->access(t->ctx);
	r = bar_access_locked(t, bar, off, write, size, val);
	spin_unlock(&t->lock);
	if (t->ops->unlocked)
		t->ops->unlocked(t->ctx);
	return r;
}

/* 4.1.4.7: the PCI configuration access capability, a window onto the
 * BARs through configuration space: cap.bar, cap.offset and cap.length
 * (1, 2 or 4, offset aligned to it) say where; pci_cfg_data is the data. */
static bool cfg_window(struct virtio_pci *t, u32 *bar, u32 *off, u32 *len)
{
	const u8 *c = t->pci.cfg + t->cfg_cap;

	*bar = c[VCAP_BAR];
	*off = le32_at(c + VCAP_OFFSET);
	*len = le32_at(c + VCAP_LENGTH);
	if (*bar >= PCI_BARS || !t->pci.bar_size[*bar])
		return false;
	if ((*len != 1 && *len != 2 && *len != 4) || (*off & (*len - 1)))
		return false;
	return *off <= t->pci.bar_size[*bar] - *len;
}

static bool touches(u32 off, u32 size, u32 start, u32 len)
{
	return off < start + len && start < off + size;
}

static void cfg_reading(struct pci_dev *d, u32 off, u32 size)
{
	struct virtio_pci *t = d->ctx;
	u32 data = t->cfg_cap + VCAP_EXTRA, bar, boff, len;
	u64 v = 0;

	if (!touches(off, size, data, 4) || !cfg_window(t, &bar, &boff, &len))
		return;
	spin_lock(&t->lock);
	bar_access_locked(t, bar, boff, false, len, &v);
	spin_unlock(&t->lock);
	le32_put(d->cfg + data, (u32)v);
}

static void cfg_written(struct pci_dev *d, u32 off, u32 size)
{
	struct virtio_pci *t = d->ctx;
	u32 data = t->cfg_cap + VCAP_EXTRA, bar, boff, len;

	spin_lock(&t->lock);
	if (touches(off, size, t->msix.cap + 2, 2)) {
		/* Enable or mask-all changed: INTA goes or comes back, and
		 * what was pending may go out now. */
		intx_update(t);
		pci_msix_flush(&t->msix);
	}
	if (touches(off, size, data, 4) && cfg_window(t, &bar, &boff, &len)) {
		u64 v = le32_at(d->cfg + data) & (len == 4 ? 0xFFFFFFFFull : (1ull << (8 * len)) - 1);

		bar_access_locked(t, bar, boff, true, len, &v);
	}
	spin_unlock(&t->lock);
}

static void command_written(struct pci_dev *d)
{
	struct virtio_pci *t = d->ctx;

	spin_lock(&t->lock);
	intx_update(t);
	spin_unlock(&t->lock);
}

static const struct pci_dev_ops virtio_pci_dev_ops = {
	.bar_rw = virtio_pci_bar_access,
	.cfg_written = cfg_written,
	.cfg_reading = cfg_reading,
	.command_written = command_written,
};

int virtio_pci_init(struct virtio_pci *t, struct vm *vm, const struct virtio_pci_env *env,
		    const char *label, u16 device_id,
		    u32 class_code, u64 features, u32 num_queues, u32 queue_max,
		    const void *config, u32 config_len, const struct virtio_pci_ops *ops, void *ctx)
{
	struct pci_dev *d = &t->pci;
	u32 c;

	memset(t, 0, sizeof(*t));
	if (!num_queues || num_queues > VIRTIO_PCI_QUEUES_MAX || config_len > VIRTIO_PCI_CONFIG_MAX ||
	    !queue_max || queue_max > 32768 || (queue_max & (queue_max - 1)))
		return -CG_EINVAL;
	t->vm = vm;
	t->env = env;
	t->label = label;
	t->device_features = features | VIRTIO_BIT(VIRTIO_F_VERSION_1);
	t->num_queues = (u16)num_queues;
	t->ops = ops;
	t->ctx = ctx;
	memcpy(t->config, config, config_len);
	t->config_len = config_len;
	for (u32 i = 0; i < num_queues; i++)
		t->q[i].size_max = (u16)queue_max;

	pci_dev_init(d, VIRTIO_PCI_VENDOR, (u16)(VIRTIO_PCI_DEVICE_BASE + device_id),
		     VIRTIO_PCI_REVISION, class_code, VIRTIO_PCI_VENDOR,
		     (u16)(VIRTIO_PCI_DEVICE_BASE + device_id), &virtio_pci_dev_ops, t);
	if (pci_dev_add_bar(d, VIRTIO_PCI_BAR, VIRTIO_PCI_BAR_SIZE) ||
	    pci_dev_add_bar(d, VIRTIO_PCI_MSIX_BAR, VIRTIO_PCI_MSIX_BAR_SIZE))
		return -CG_EINVAL;

	if (pci_msix_init(&t->msix, d, num_queues + 1, VIRTIO_PCI_MSIX_BAR, VIRTIO_PCI_MSIX_PBA,
			  env->msi, vm))
		return -CG_EINVAL;

	add_vcap(d, VIRTIO_PCI_CAP_COMMON_CFG, VCAP_LEN, VIRTIO_PCI_BAR, VIRTIO_PCI_COMMON, VIRTIO_PCI_REGION);
	c = add_vcap(d, VIRTIO_PCI_CAP_NOTIFY_CFG, VCAP_LEN + 4, VIRTIO_PCI_BAR, VIRTIO_PCI_NOTIFY,
		     VIRTIO_PCI_REGION);
	le32_put(d->cfg + c + VCAP_EXTRA, VIRTIO_PCI_NOTIFY_MULT);
	add_vcap(d, VIRTIO_PCI_CAP_ISR_CFG, VCAP_LEN, VIRTIO_PCI_BAR, VIRTIO_PCI_ISR, VIRTIO_PCI_REGION);
	add_vcap(d, VIRTIO_PCI_CAP_DEVICE_CFG, VCAP_LEN, VIRTIO_PCI_BAR, VIRTIO_PCI_DEVICE, VIRTIO_PCI_REGION);
	c = add_vcap(d, VIRTIO_PCI_CAP_PCI_CFG, VCAP_LEN + 4, 0, 0, 0);
	if (!c)
		return -CG_EINVAL;
	t->cfg_cap = (u8)c;
	/* bar, offset, length and the data are the driver's to write. */
	d->wmask[c + VCAP_BAR] = 0xFF;
	memset(d->wmask + c + VCAP_OFFSET, 0xFF, 12);

	t->msix_config = VIRTIO_NO_VECTOR;
	for (u32 i = 0; i < num_queues; i++) {
		t->q[i].size = (u16)queue_max;
		t->q[i].vector = VIRTIO_NO_VECTOR;
	}
	return 0;
}

void virtio_pci_attached(struct virtio_pci *t)
{
	pci_dev_use_intx(&t->pci);
}
