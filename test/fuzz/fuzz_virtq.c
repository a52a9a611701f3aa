/* Fuzz target: the split-virtqueue walker and virtio-blk request parsing
 * (devices/virtio/virtq.c), over rings a guest writes.
 * Input: queue size (1 byte: 2^(b % 9)), flags (1: enum virtq_flags),
 * desc, avail and used offsets into RAM (2 each, aligned down as 2.7
 * requires), the starting ring index (2); the rest is the start of a 64 KiB
 * guest RAM at RAM_BASE (zero past the input; an exactly-sized heap block).
 * Each popped chain is read at an offset the input picks, parsed as a
 * virtio-blk request and pushed back, until the ring is empty, fails, or
 * size + 1 chains went by.
 * Invariants beyond "no crash":
 *  - pop returns 1, 0 or a documented error, and an error leaves the
 *    queue where it was;
 *  - a chain's head is below the queue size, it has at most VIRTQ_MAX_SEGS
 *    non-empty segments, all inside guest RAM, whose lengths add up to
 *    read_len and write_len, readable before writable unless ANY_ORDER;
 *  - virtq_chain_read returns what the segments hold, and refuses exactly
 *    the ranges past read_len;
 *  - a parsed request's data and status lie inside the right stream;
 *  - push writes the used element and index the driver will read. */
#include <cg/errno.h>
#include "fuzz.h"
#include "devices/virtio/virtq.h"

#define RAM_BASE 0x100000ull
#define RAM_SIZE 0x10000ull

static u8 *ram;

static void *gmap(void *ctx, u64 gpa, u64 len)
{
	(void)ctx;
	if (gpa < RAM_BASE || gpa - RAM_BASE > RAM_SIZE || len > RAM_SIZE - (gpa - RAM_BASE))
		return NULL;
	return ram + (gpa - RAM_BASE);
}

static const struct virtq_mem mem = { gmap, NULL };

static void check_chain(const struct virtq *q, const struct virtq_chain *c)
{
	u64 rd = 0, wr = 0;
	bool seen_write = false;

	FUZZ_CHECK(c->mem == &mem, "chain lost its memory");
	FUZZ_CHECK(c->head < q->size, "head outside the queue");
	FUZZ_CHECK(c->nsegs <= VIRTQ_MAX_SEGS, "too many segments");
	for (u32 i = 0; i < c->nsegs; i++) {
		const struct virtq_seg *s = &c->segs[i];

		FUZZ_CHECK(s->len > 0, "empty segment kept");
		FUZZ_CHECK(gmap(NULL, s->gpa, s->len) != NULL, "segment outside guest RAM");
		if (s->write) {
			wr += s->len;
			seen_write = true;
		} else {
			rd += s->len;
			FUZZ_CHECK(!seen_write || (q->flags & VIRTQ_ANY_ORDER), "readable after writable");
		}
	}
	FUZZ_CHECK(rd == c->read_len && wr == c->write_len, "stream lengths do not add up");
}

/* Byte k of c's read stream, from the segments themselves. */
static u8 stream_byte(const struct virtq_chain *c, u64 k)
{
	for (u32 i = 0; i < c->nsegs; i++) {
		const struct virtq_seg *s = &c->segs[i];

		if (s->write)
			continue;
		if (k < s->len)
			return *(const u8 *)gmap(NULL, s->gpa + k, 1);
		k -= s->len;
	}
	FUZZ_CHECK(0, "stream byte past read_len");
	return 0;
}

static void check_read(const struct virtq_chain *c, u64 off, u64 n)
{
	u8 buf[256];
	int rc = virtq_chain_read(c, off, buf, n);

	if (off > c->read_len || n > c->read_len - off) {
		FUZZ_CHECK(rc == -CG_EINVAL, "read past the stream not refused");
		return;
	}
	FUZZ_CHECK(rc == 0, "read inside the stream failed");
	for (u64 k = 0; k < n; k++)
		FUZZ_CHECK(buf[k] == stream_byte(c, off + k), "read returned other bytes");
}

static void check_blk(const struct virtq_chain *c)
{
	struct blk_req r;
	int rc = virtio_blk_parse(c, &r);

	FUZZ_CHECK(rc == 0 || rc == -CG_ENOTSUP || rc == -CG_EINVAL || rc == -CG_ERANGE,
		   "undocumented parse result");
	if (rc == -CG_ENOTSUP)
		FUZZ_CHECK(c->write_len >= 1 && r.status_off == c->write_len - 1, "status of unknown type");
	if (rc)
		return;
	FUZZ_CHECK(c->read_len >= VIRTIO_BLK_HDR_BYTES && c->write_len >= 1, "no room for header and status");
	FUZZ_CHECK(r.status_off == c->write_len - 1, "status not last");
	switch (r.type) {
	case VIRTIO_BLK_T_IN:
		FUZZ_CHECK(r.data_off + (u64)r.data_len <= r.status_off, "IN data overlaps the status");
		break;
	case VIRTIO_BLK_T_OUT:
		FUZZ_CHECK(r.data_off >= VIRTIO_BLK_HDR_BYTES && r.data_off + (u64)r.data_len <= c->read_len,
			   "OUT data outside the read stream");
		break;
	case VIRTIO_BLK_T_GET_ID:
		FUZZ_CHECK(r.data_len >= 1 && r.data_len <= r.status_off, "GET_ID room");
		return;
	case VIRTIO_BLK_T_FLUSH:
		return;
	default:
		FUZZ_CHECK(0, "unknown type accepted");
	}
	FUZZ_CHECK(r.data_len % VIRTIO_BLK_SECTOR_SIZE == 0, "partial sector");
	FUZZ_CHECK(r.offset == r.sector * VIRTIO_BLK_SECTOR_SIZE && r.offset / VIRTIO_BLK_SECTOR_SIZE == r.sector &&
			   r.offset + r.data_len >= r.offset, "offset overflows");
}

static void check_push(struct virtq *q, u16 head, u32 written)
{
	u16 slot = q->used_idx & (q->size - 1);
	u8 *elem, *idx;
	u32 id, len;
	u16 pub;

	if (virtq_push(q, &mem, head, written))
		return;
	elem = gmap(NULL, q->used + 4 + 8ull * slot, 8);
	idx = gmap(NULL, q->used + 2, 2);
	FUZZ_CHECK(elem && idx, "push succeeded outside guest RAM");
	memcpy(&id, elem, 4);
	memcpy(&len, elem + 4, 4);
	memcpy(&pub, idx, 2);
	FUZZ_CHECK(pub == q->used_idx, "used->idx not published");
	FUZZ_CHECK(id == head && len == written, "used element not written");
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_in in = { data, size };
	u32 qsize = 1u << (fuzz_u8(&in) % 9);
	u32 flags = fuzz_u8(&in) & 7;
	u64 desc = RAM_BASE + (fuzz_u16(&in) & ~15u);
	u64 avail = RAM_BASE + (fuzz_u16(&in) & ~1u);
	u64 used = RAM_BASE + (fuzz_u16(&in) & ~3u);
	u16 start = fuzz_u16(&in);
	static struct virtq_chain chain;
	struct virtq q;
	size_t got;
	u8 *init = fuzz_bytes(&in, RAM_SIZE, &got);

	ram = calloc(1, RAM_SIZE);
	if (!ram)
		abort();
	memcpy(ram, init, got);
	free(init);
	FUZZ_CHECK(virtq_init(&q, qsize, desc, avail, used, flags) == 0, "valid queue refused");
	q.last_avail_idx = q.used_idx = start;

	for (u32 round = 0; round <= qsize; round++) {
		u16 before = q.last_avail_idx;
		int rc = virtq_pop(&q, &mem, &chain);

		FUZZ_CHECK(rc == 1 || rc == 0 || rc == -CG_EINVAL || rc == -CG_ERANGE, "undocumented pop result");
		if (rc != 1) {
			FUZZ_CHECK(q.last_avail_idx == before, "failed pop moved the queue");
			break;
		}
		FUZZ_CHECK(q.last_avail_idx == (u16)(before + 1), "pop did not advance by one");
		check_chain(&q, &chain);
		check_read(&chain, (u64)(round * 37u) % (chain.read_len + 2u), round % 3 ? 16 : 200);
		check_read(&chain, 0, chain.read_len < 256 ? chain.read_len : 256);
		check_blk(&chain);
		check_push(&q, chain.head, chain.write_len);
	}
	(void)virtq_should_notify(&q, &mem, start);
	virtq_set_avail_event(&q, &mem);
	free(ram);
	return 0;
}
