/* Split virtqueue, device side (virtio 1.2 section 2.7), and virtio-blk
 * request parsing (5.2.6). Everything the driver wrote is untrusted: each
 * ring, table and buffer is mapped through virtq_mem before it is touched,
 * each descriptor is loaded once into a local and judged on that copy, and
 * every walk is bounded by the size of the table it walks, so a malicious
 * ring ends in an error, never in a loop or a stray access.
 *
 * Layout (2.7, with size = Queue Size):
 *   descriptor table  16 * size bytes, 16-aligned: {le64 addr, le32 len,
 *		       le16 flags, le16 next}
 *   available ring    2-aligned: le16 flags, le16 idx, le16 ring[size],
 *		       le16 used_event (EVENT_IDX only)
 *   used ring	       4-aligned: le16 flags, le16 idx, {le32 id, le32 len}
 *		       ring[size], le16 avail_event (EVENT_IDX only) */
#include <cg/errno.h>
#include <cg/string.h>
#include "devices/virtio/virtq.h"
#include <cg/unaligned.h>

#define DESC_BYTES 16u
#define RING_HDR 4u	/* flags and idx, in front of both rings */
#define USED_ELEM 8u

/* The mask of flags virtq_init accepts. */
#define VIRTQ_KNOWN_FLAGS (VIRTQ_EVENT_IDX | VIRTQ_INDIRECT | VIRTQ_ANY_ORDER)

/* Host pointer for guest [gpa, gpa+len), or NULL when it is not all guest
 * RAM, empty, or wraps the address space (the callback never sees those). */
static void *vmap(const struct virtq_mem *m, u64 gpa, u64 len)
{
	if (!len || len > UINT64_MAX - gpa)
		return NULL;
	return m->map(m->ctx, gpa, len);
}

int virtq_init(struct virtq *q, u32 size, u64 desc, u64 avail, u64 used, u32 flags)
{
	virtq_reset(q);
	if (!size || size > VIRTQ_MAX_SIZE || (size & (size - 1)))
		return -CG_EINVAL;
	if ((desc & 15) || (avail & 1) || (used & 3))
		return -CG_EINVAL;
	if (flags & ~(u32)VIRTQ_KNOWN_FLAGS)
		return -CG_EINVAL;
	q->desc = desc;
	q->avail = avail;
	q->used = used;
	q->flags = flags;
	q->size = (u16)size;
	return 0;
}

void virtq_reset(struct virtq *q)
{
	memset(q, 0, sizeof(*q));
}

/* One descriptor as loaded from guest memory. */
struct vdesc {
	u64 addr;
	u32 len;
	u16 flags;
	u16 next;
};

/* Load entry i of a descriptor table at host pointer t (8-byte aligned:
 * the queue's table is 16-aligned, indirect tables are checked for 8), one
 * volatile load per field so the checks that follow see a single value. */
static void vdesc_load(const u8 *t, u32 i, struct vdesc *d)
{
	const u8 *p = t + (u64)i * DESC_BYTES;

	d->addr = *(const volatile u64 *)p;
	d->len = *(const volatile u32 *)(p + 8);
	d->flags = *(const volatile u16 *)(p + 12);
	d->next = *(const volatile u16 *)(p + 14);
}

/* Walk state of one virtq_pop. */
struct vwalk {
	const struct virtq *q;
	const struct virtq_mem *m;
	struct virtq_chain *c;
	u64 total;	/* bytes in the chain so far, including empty segments */
	bool seen_write;
};

/* Append the buffer of data descriptor d to the chain. Returns 0,
 * -CG_EINVAL (order, length overflow, too many segments) or -CG_ERANGE. */
static int vwalk_add(struct vwalk *w, const struct vdesc *d)
{
	struct virtq_chain *c = w->c;
	bool write = d->flags & VIRTQ_DESC_F_WRITE;
	struct virtq_seg *s;

	/* 2.7.5.2: device-writable descriptors come after readable ones. */
	if (write)
		w->seen_write = true;
	else if (w->seen_write && !(w->q->flags & VIRTQ_ANY_ORDER))
		return -CG_EINVAL;
	/* 2.7.5.2: a chain holds at most 2^32 bytes; used.len is 32 bits, so
	 * a device can only account for 2^32 - 1. */
	w->total += d->len;
	if (w->total > UINT32_MAX)
		return -CG_EINVAL;
	if (!d->len)
		return 0;
	if (c->nsegs == VIRTQ_MAX_SEGS)
		return -CG_EINVAL;
	if (!vmap(w->m, d->addr, d->len))
		return -CG_ERANGE;
	s = &c->segs[c->nsegs++];
	s->gpa = d->addr;
	s->len = d->len;
	s->write = write;
	if (write)
		c->write_len += d->len;
	else
		c->read_len += d->len;
	return 0;
}

/* Follow the chain starting at descriptor head of the queue's table. A
 * table of n entries can be walked at most n steps without revisiting an
 * entry, so a longer walk is a loop (or a chain longer than the queue,
 * which 2.7.5.2 forbids as well). 2.7.5.3: the chain may end in one
 * descriptor with INDIRECT (whose WRITE flag the device ignores); its
 * table is walked the same way from entry 0, and may not nest. An
 * indirect table may hold more entries than the queue (that is what it
 * is for), but empty descriptors add no segment: without a cap on the
 * whole walk, one chain of 32768 empty entries would cost 32768 loads,
 * 256 such chains per notification. VIRTQ_WALK_MAX bounds it. */
static int vwalk_chain(struct vwalk *w, const u8 *table, u16 head)
{
	const struct virtq *q = w->q;
	u32 n = q->size, i = head, steps = 0, walked = 0;
	u32 walk_max = q->size > VIRTQ_MAX_SEGS ? q->size : VIRTQ_MAX_SEGS;
	bool indirect = false;
	struct vdesc d;
	int err;

	for (;;) {
		if (++steps > n || ++walked > walk_max)
			return -CG_EINVAL;
		vdesc_load(table, i, &d);
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			if (!(q->flags & VIRTQ_INDIRECT) || indirect ||
			    (d.flags & VIRTQ_DESC_F_NEXT))
				return -CG_EINVAL;
			if (!d.len || d.len % DESC_BYTES ||
			    d.len / DESC_BYTES > VIRTQ_MAX_SIZE || (d.addr & 7))
				return -CG_EINVAL;
			table = vmap(w->m, d.addr, d.len);
			if (!table)
				return -CG_ERANGE;
			n = d.len / DESC_BYTES;
			i = 0;
			steps = 0;
			indirect = true;
			continue;
		}
		err = vwalk_add(w, &d);
		if (err)
			return err;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		if (d.next >= n)
			return -CG_EINVAL;
		i = d.next;
	}
}

int virtq_pop(struct virtq *q, const struct virtq_mem *m, struct virtq_chain *chain)
{
	u32 size = q->size;
	const u8 *avail, *table;
	u16 idx, head;
	struct vwalk w;
	int err;

	if (!size)
		return 0;
	avail = vmap(m, q->avail, RING_HDR + 2ull * size);
	if (!avail)
		return -CG_ERANGE;
	/* Acquire: the ring entry and the descriptors it names were written
	 * before the driver published idx (2.7.13). */
	idx = __atomic_load_n((const u16 *)(avail + 2), __ATOMIC_ACQUIRE);
	if (idx == q->last_avail_idx)
		return 0;
	if ((u16)(idx - q->last_avail_idx) > size)
		return -CG_EINVAL;
	head = *(const volatile u16 *)(avail + RING_HDR + 2u * (q->last_avail_idx & (size - 1)));
	if (head >= size)
		return -CG_EINVAL;
	table = vmap(m, q->desc, (u64)DESC_BYTES * size);
	if (!table)
		return -CG_ERANGE;

	chain->mem = m;
	chain->head = head;
	chain->nsegs = 0;
	chain->read_len = 0;
	chain->write_len = 0;
	w.q = q;
	w.m = m;
	w.c = chain;
	w.total = 0;
	w.seen_write = false;
	err = vwalk_chain(&w, table, head);
	if (err)
		return err;
	q->last_avail_idx++;
	return 1;
}

bool virtq_avail_empty(const struct virtq *q, const struct virtq_mem *m)
{
	u32 size = q->size;
	const u8 *avail;

	if (!size)
		return true;
	avail = vmap(m, q->avail, RING_HDR);
	if (!avail)
		return false;
	return __atomic_load_n((const u16 *)(avail + 2), __ATOMIC_ACQUIRE) == q->last_avail_idx;
}

int virtq_push(struct virtq *q, const struct virtq_mem *m, u16 head, u32 written_len)
{
	u32 size = q->size;
	u8 *used, *elem;

	if (!size || head >= size)
		return -CG_EINVAL;
	used = vmap(m, q->used, RING_HDR + (u64)USED_ELEM * size);
	if (!used)
		return -CG_ERANGE;
	elem = used + RING_HDR + USED_ELEM * (q->used_idx & (size - 1));
	*(volatile u32 *)elem = head;
	*(volatile u32 *)(elem + 4) = written_len;
	/* Release: the element, and the buffer contents the device wrote
	 * before calling us, are visible before the new idx (2.7.14). */
	q->used_idx++;
	__atomic_store_n((u16 *)(used + 2), q->used_idx, __ATOMIC_RELEASE);
	return 0;
}

bool virtq_should_notify(const struct virtq *q, const struct virtq_mem *m, u16 old_used_idx)
{
	u32 size = q->size;
	u16 now = q->used_idx;
	const u8 *p;

	if (!size || now == old_used_idx)
		return false;
	/* The used->idx store must be globally visible before we read the
	 * driver's suppression field, or both sides can miss each other. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (q->flags & VIRTQ_EVENT_IDX) {
		u16 event;

		p = vmap(m, q->avail + RING_HDR + 2ull * size, 2);
		if (!p)
			return true;
		event = *(const volatile u16 *)p;
		/* 2.7.7.2: notify when the index crossed used_event, i.e.
		 * used_event is one of old .. now-1, modulo 2^16. */
		return (u16)(now - event - 1) < (u16)(now - old_used_idx);
	}
	p = vmap(m, q->avail, 2);
	if (!p)
		return true;
	return !(*(const volatile u16 *)p & VIRTQ_AVAIL_F_NO_INTERRUPT);
}

void virtq_set_avail_event_ahead(struct virtq *q, const struct virtq_mem *m, u16 ahead)
{
	u32 size = q->size;
	u8 *p;

	if (!size || !(q->flags & VIRTQ_EVENT_IDX))
		return;
	p = vmap(m, q->used + RING_HDR + (u64)USED_ELEM * size, 2);
	if (!p)
		return;
	*(volatile u16 *)p = (u16)(q->last_avail_idx + ahead);
	/* Order the store before the caller's next load of avail->idx. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

void virtq_set_avail_event(struct virtq *q, const struct virtq_mem *m)
{
	virtq_set_avail_event_ahead(q, m, 0);
}

/* Copy between buf and [off, off+n) of c's read stream (write false) or
 * write stream (write true); to_guest picks the direction. */
static int chain_copy(const struct virtq_chain *c, bool write, bool to_guest, u64 off,
		      u8 *buf, u64 n)
{
	u64 total = write ? c->write_len : c->read_len;
	u32 i;

	if (off > total || n > total - off)
		return -CG_EINVAL;
	for (i = 0; i < c->nsegs && n; i++) {
		const struct virtq_seg *s = &c->segs[i];
		u64 chunk;
		u8 *p;

		if (s->write != write)
			continue;
		if (off >= s->len) {
			off -= s->len;
			continue;
		}
		chunk = s->len - off;
		if (chunk > n)
			chunk = n;
		p = vmap(c->mem, s->gpa + off, chunk);
		if (!p)
			return -CG_ERANGE;
		if (to_guest)
			memcpy(p, buf, chunk);
		else
			memcpy(buf, p, chunk);
		buf += chunk;
		n -= chunk;
		off = 0;
	}
	return 0;
}

int virtq_chain_read(const struct virtq_chain *c, u64 off, void *dst, u64 n)
{
	return chain_copy(c, false, false, off, dst, n);
}

int virtq_chain_write(const struct virtq_chain *c, u64 off, const void *src, u64 n)
{
	/* chain_copy only reads buf when to_guest is set. */
	return chain_copy(c, true, true, off, (u8 *)src, n);
}

int virtio_blk_parse(const struct virtq_chain *c, struct blk_req *r)
{
	u8 hdr[VIRTIO_BLK_HDR_BYTES];
	int err;

	memset(r, 0, sizeof(*r));
	if (c->read_len < VIRTIO_BLK_HDR_BYTES || !c->write_len)
		return -CG_EINVAL;
	/* The status byte ends the write stream; it must also end the chain. */
	if (!c->nsegs || !c->segs[c->nsegs - 1].write)
		return -CG_EINVAL;
	err = virtq_chain_read(c, 0, hdr, sizeof(hdr));
	if (err)
		return err;
	r->type = le32_at(hdr);
	r->sector = le32_at(hdr + 8) | (u64)le32_at(hdr + 12) << 32;
	r->status_off = c->write_len - 1;

	switch (r->type) {
	case VIRTIO_BLK_T_IN:
		if (c->read_len != VIRTIO_BLK_HDR_BYTES)
			return -CG_EINVAL;
		r->data_off = 0;
		r->data_len = c->write_len - 1;
		break;
	case VIRTIO_BLK_T_OUT:
		if (c->write_len != 1)
			return -CG_EINVAL;
		r->data_off = VIRTIO_BLK_HDR_BYTES;
		r->data_len = c->read_len - VIRTIO_BLK_HDR_BYTES;
		break;
	case VIRTIO_BLK_T_FLUSH:
		if (c->read_len != VIRTIO_BLK_HDR_BYTES || c->write_len != 1)
			return -CG_EINVAL;
		return 0;
	case VIRTIO_BLK_T_GET_ID:
		if (c->read_len != VIRTIO_BLK_HDR_BYTES || c->write_len < 2)
			return -CG_EINVAL;
		r->data_len = c->write_len - 1;
		return 0;
	default:
		return -CG_ENOTSUP;
	}
	/* IN and OUT: whole sectors, and an end offset that fits in u64. */
	if (r->data_len % VIRTIO_BLK_SECTOR_SIZE)
		return -CG_EINVAL;
	if (r->sector > UINT64_MAX / VIRTIO_BLK_SECTOR_SIZE)
		return -CG_EINVAL;
	r->offset = r->sector * VIRTIO_BLK_SECTOR_SIZE;
	if (r->data_len > UINT64_MAX - r->offset)
		return -CG_EINVAL;
	return 0;
}
