/* virtio-blk device model: see virtio_blk.h. Everything runs with the
 * transport's lock held (guest accesses take it in virtio_pci.c, the
 * service call here): one device's lock, never one shared with other
 * disks or VMs. */
#include <cg/errno.h>
#include <cg/string.h>
#include "lib/fmt.h"
#include "devices/virtio/virtio_blk.h"
#include <cg/unaligned.h>

/* The first refusal by the overlay's quota is reported, once per disk:
 * the disk outlives VM resets, so a guest that keeps hitting its quota
 * cannot flood the operator line. */
static void blk_quota(struct virtio_blk *b)
{
	if (b->disk->quota_reported)
		return;
	b->disk->quota_reported = true;
	if (b->on_quota)
		b->on_quota(b->tp.vm, b->index);
}

/* IN and OUT: move the pending request's data between the chain and the
 * disk, bounce_size at a time, within *left bytes of budget. Returns
 * true when the request is finished (*status set; *written the bytes put
 * in the write stream), false when the budget ran out first (b->done
 * says how far it got; the next call goes on from there). */
static bool blk_rw(struct virtio_blk *b, u64 *left, u8 *status, u32 *written)
{
	const struct blk_req *r = &b->req;
	struct disk *d = b->disk;
	bool in = r->type == VIRTIO_BLK_T_IN;

	*status = VIRTIO_BLK_S_IOERR;
	if (!in && d->mode != DISK_RW)
		return true;
	if (r->sector > d->sectors || r->data_len / DISK_SECTOR > d->sectors - r->sector)
		return true;
	while (b->done < r->data_len) {
		u64 n = r->data_len - b->done, sector = r->sector + b->done / DISK_SECTOR;
		int rc;

		if (n > b->bounce_size)
			n = b->bounce_size;
		if (n > *left)
			n = *left / DISK_SECTOR * DISK_SECTOR;
		if (!n)
			return false;
		if (in) {
			rc = disk_read(d, sector, n / DISK_SECTOR, b->bounce);
			if (!rc)
				rc = virtq_chain_write(&b->chain, r->data_off + b->done, b->bounce, n);
		} else {
			rc = virtq_chain_read(&b->chain, r->data_off + b->done, b->bounce, n);
			if (!rc)
				rc = disk_write(d, sector, n / DISK_SECTOR, b->bounce);
			if (rc == -CG_EDQUOT)
				blk_quota(b);
		}
		if (rc) {
			*written = in ? (u32)b->done : 0;
			return true;
		}
		b->done += n;
		*left -= n;
		if (in)
			d->st.read_bytes += n;
		else
			d->st.write_bytes += n;
	}
	*written = in ? (u32)b->done : 0;
	*status = VIRTIO_BLK_S_OK;
	return true;
}

/* Work on the pending request within *left bytes: true when it is
 * finished (*status, *written set), false when the budget ran out. */
static bool blk_step(struct virtio_blk *b, u64 *left, u8 *status, u32 *written)
{
	const struct blk_req *r = &b->req;

	*written = 0;
	if (b->early != BLK_NO_EARLY) {
		*status = b->early;
		return true;
	}
	switch (r->type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		return blk_rw(b, left, status, written);
	case VIRTIO_BLK_T_GET_ID: {
		u32 n = r->data_len < VIRTIO_BLK_ID_BYTES ? r->data_len : VIRTIO_BLK_ID_BYTES;

		*status = virtq_chain_write(&b->chain, 0, b->id, n) ? VIRTIO_BLK_S_IOERR
								    : VIRTIO_BLK_S_OK;
		*written = *status == VIRTIO_BLK_S_OK ? n : 0;
		return true;
	}
	default: /* FLUSH: the overlay lives in memory, nothing to write back */
		*status = VIRTIO_BLK_S_OK;
		return true;
	}
}

/* Hand the finished request back: status byte, used ring. Returns false
 * when the device failed (the used ring is unreachable). */
static bool blk_complete(struct virtio_blk *b, u8 status, u32 written)
{
	/* The status byte is the last byte of the write stream (parse
	 * checked it exists); used.len counts it and the data before it. */
	if (virtq_chain_write(&b->chain, b->req.status_off, &status, 1) ||
	    virtq_push(&b->q, &b->mem, b->chain.head, written + 1)) {
		virtio_pci_fail(&b->tp, "the used ring or a status byte lies outside guest RAM");
		return false;
	}
	b->disk->st.requests++;
	if (status == VIRTIO_BLK_S_IOERR)
		b->disk->st.errors++;
	return true;
}

static u64 blk_cost(const struct virtio_blk *b)
{
	if (b->early != BLK_NO_EARLY)
		return 0;
	return b->req.type == VIRTIO_BLK_T_IN || b->req.type == VIRTIO_BLK_T_OUT ? b->req.data_len : 0;
}

/* 5.2.6.1: whether an IN or OUT request keeps to what the device offered
 * (5.2.3: no data segment over size_max, at most seg_max of them). The
 * data's segments are the ones overlapping [data_off, data_off +
 * data_len) of its stream, however the driver split or aliased them. */
static bool blk_within_limits(const struct virtio_blk *b)
{
	const struct blk_req *r = &b->req;
	const struct virtq_chain *c = &b->chain;
	bool write = r->type == VIRTIO_BLK_T_IN;
	u64 off = 0, lo = r->data_off, hi = (u64)r->data_off + r->data_len;
	u32 segs = 0;

	for (u32 i = 0; i < c->nsegs; i++) {
		const struct virtq_seg *s = &c->segs[i];
		u64 a, e;

		if (s->write != write)
			continue;
		a = off > lo ? off : lo;
		e = off + s->len < hi ? off + s->len : hi;
		off += s->len;
		if (a >= e)
			continue;
		if (e - a > VIRTIO_BLK_SIZE_MAX || ++segs > VIRTIO_BLK_SEG_MAX)
			return false;
	}
	return true;
}

/* Pop and parse the next chain into req. Returns 1 when one is pending,
 * 0 when the ring is empty, -1 when the device failed. */
static int blk_take(struct virtio_blk *b)
{
	int rc = virtq_pop(&b->q, &b->mem, &b->chain);

	if (rc == 0) {
		/* Ask for a notification at the next chain, then look once
		 * more: the driver may have added one before seeing it. */
		virtq_set_avail_event(&b->q, &b->mem);
		rc = virtq_pop(&b->q, &b->mem, &b->chain);
		if (rc == 0)
			return 0;
	}
	if (rc < 0) {
		virtio_pci_fail(&b->tp, rc == -CG_ERANGE
				? "a ring, descriptor table or buffer lies outside guest RAM"
				: "malformed descriptor chain (loop, index out of range, too long, or bad order)");
		return -1;
	}
	rc = virtio_blk_parse(&b->chain, &b->req);
	if (rc && rc != -CG_ENOTSUP) {
		virtio_pci_fail(&b->tp, "malformed request (header, data or status misplaced, or not whole sectors)");
		return -1;
	}
	b->early = BLK_NO_EARLY;
	if (rc == -CG_ENOTSUP)
		b->early = VIRTIO_BLK_S_UNSUPP;
	else if ((b->req.type == VIRTIO_BLK_T_IN || b->req.type == VIRTIO_BLK_T_OUT) &&
		 !blk_within_limits(b))
		b->early = VIRTIO_BLK_S_IOERR;
	b->pending = true;
	b->admitted = false;
	b->counted = false;
	b->done = 0;
	return 1;
}

/* A budget ran out with work left: the next poll (or exit) goes on. */
static void blk_defer(struct virtio_blk *b, u64 now)
{
	b->backlog = true;
	b->ready_at = now;
	b->deferrals++;
}

/* Work through the queue at now within budget bytes: the pending request
 * first, then available chains, stopping at one the buckets refuse or
 * when the budget is spent; then interrupt the driver if it asked for it.
 * A call also takes at most one queue's worth of new chains, so a driver
 * refilling from another vCPU cannot keep one exit going. Returns the
 * budget spent. */
static u64 blk_drain(struct virtio_blk *b, u64 now, u64 budget)
{
	u16 old = b->q.used_idx;
	u32 chains = b->q.size;
	u64 left = budget;
	u32 written;
	u8 status;

	b->backlog = false;
	if (!virtio_pci_live(&b->tp)) {
		/* Failed or not started: nothing waits for the buckets. */
		b->pending = false;
		return 0;
	}
	while (b->q.size) {
		if (!b->pending) {
			if (!chains || left < VIRTIO_BLK_REQ_COST) {
				blk_defer(b, now);
				break;
			}
			chains--;
			if (blk_take(b) <= 0)
				break;
			b->taken_at = now;
			left -= VIRTIO_BLK_REQ_COST;
		}
		if (!b->admitted) {
			u64 at, cost = blk_cost(b);

			if (!disk_admit(b->disk, cost, now, &at)) {
				if (!b->counted) {
					b->counted = true;
					b->disk->st.throttled_requests++;
					b->disk->st.throttled_bytes += cost;
				}
				b->ready_at = at;
				break;
			}
			b->admitted = true;
		}
		if (!blk_step(b, &left, &status, &written)) {
			blk_defer(b, now);
			break;
		}
		b->pending = false;
		if (!blk_complete(b, status, written))
			break;
		b->latency_ns += b->now() - b->taken_at;
		if (!virtio_pci_live(&b->tp))
			break;
	}
	if (b->q.used_idx != old && virtq_should_notify(&b->q, &b->mem, old)) {
		b->interrupts++;
		if (!pci_msix_enabled(&b->tp.msix))
			b->interrupts_intx++;
		virtio_pci_queue_interrupt(&b->tp, 0);
	}
	b->work_bytes += budget - left;
	return budget - left;
}

static int blk_queue_enable(void *ctx, u32 q, u32 size, u64 desc, u64 driver, u64 device,
			    u64 features)
{
	struct virtio_blk *b = ctx;
	u32 flags = 0;

	if (q)
		return -CG_EINVAL;
	if (features & VIRTIO_BIT(VIRTIO_F_EVENT_IDX))
		flags |= VIRTQ_EVENT_IDX;
	if (features & VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC))
		flags |= VIRTQ_INDIRECT;
	return virtq_init(&b->q, size, desc, driver, device, flags);
}

static void blk_queue_notify(void *ctx, u32 q)
{
	struct virtio_blk *b = ctx;

	(void)q;
	b->notifies++;
	blk_drain(b, b->now(), b->exit_budget);
}

static void blk_reset(void *ctx)
{
	struct virtio_blk *b = ctx;

	/* A pending chain is simply forgotten: the driver reset, so it
	 * owns all its buffers again (2.4). */
	virtq_reset(&b->q);
	b->pending = false;
	b->admitted = false;
	b->backlog = false;
	b->ready_at = 0;
	b->done = 0;
}

/* A driver that polls (reads its status, renotifies) finishes a deferred
 * request as soon as it is due, even without the caller's timer. */
static void blk_access(void *ctx)
{
	struct virtio_blk *b = ctx;

	if (b->pending || b->backlog) {
		u64 now = b->now();

		if (now >= b->ready_at)
			blk_drain(b, now, b->exit_budget);
	}
}

static const struct virtio_pci_ops blk_ops = {
	.queue_enable = blk_queue_enable,
	.queue_notify = blk_queue_notify,
	.reset = blk_reset,
	.access = blk_access,
};

/* The serial number GET_ID returns: "<image>-<index>", NUL padded. */
static void blk_make_id(struct virtio_blk *b, u32 index)
{
	const char *name = b->disk->image->name;
	u32 n = 0;

	memset(b->id, 0, sizeof(b->id));
	for (; name[n] && n < VIRTIO_BLK_ID_BYTES - 4; n++)
		b->id[n] = name[n];
	fmt_snprintf(b->id + n, VIRTIO_BLK_ID_BYTES - n, "-%u", index % 100);
}

int virtio_blk_init(struct virtio_blk *b, struct vm *vm, const struct virtio_pci_env *env,
		    const char *vm_name, u32 index,
		    struct disk *disk, const struct virtq_mem *mem, u64 (*now)(void),
		    u8 *bounce, u32 bounce_size, void (*on_quota)(struct vm *vm, u32 index))
{
	u8 cfg[VIRTIO_BLK_CFG_LEN];
	u64 features = VIRTIO_BIT(VIRTIO_BLK_F_SIZE_MAX) | VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) |
		       VIRTIO_BIT(VIRTIO_BLK_F_BLK_SIZE) | VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) |
		       VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) | VIRTIO_BIT(VIRTIO_F_EVENT_IDX);

	memset(b, 0, sizeof(*b));
	if (!disk->image || !bounce_size || bounce_size % DISK_SECTOR)
		return -CG_EINVAL;
	if (disk->mode == DISK_RO)
		features |= VIRTIO_BIT(VIRTIO_BLK_F_RO);
	b->disk = disk;
	b->mem = *mem;
	b->now = now;
	b->bounce = bounce;
	b->bounce_size = bounce_size;
	b->on_quota = on_quota;
	b->index = index;
	b->early = BLK_NO_EARLY;
	b->exit_budget = VIRTIO_BLK_EXIT_BUDGET;
	fmt_snprintf(b->label, sizeof(b->label), "vm %s: virtio-blk disk %u (image %s)", vm_name,
		     index, disk->image->name);
	blk_make_id(b, index);

	memset(cfg, 0, sizeof(cfg));
	le64_put(cfg + 0, disk->sectors);		/* capacity, 512-byte sectors */
	le32_put(cfg + 8, VIRTIO_BLK_SIZE_MAX);	/* size_max */
	le32_put(cfg + 12, VIRTIO_BLK_SEG_MAX);	/* seg_max */
	le32_put(cfg + 20, DISK_SECTOR);		/* blk_size */
	return virtio_pci_init(&b->tp, vm, env, b->label, VIRTIO_ID_BLOCK, VIRTIO_BLK_CLASS, features, 1,
			       VIRTIO_BLK_QUEUE_SIZE, cfg, sizeof(cfg), &blk_ops, b);
}

u64 virtio_blk_ready_at(const struct virtio_blk *b)
{
	return b->pending || b->backlog ? (b->ready_at ? b->ready_at : 1) : 0;
}

u64 virtio_blk_service(struct virtio_blk *b, u64 now, u64 *budget)
{
	u64 next;

	virtio_pci_lock(&b->tp);
	if ((b->pending || b->backlog) && now >= b->ready_at && *budget)
		*budget -= blk_drain(b, now, *budget);
	next = virtio_blk_ready_at(b);
	virtio_pci_unlock(&b->tp);
	return next;
}
