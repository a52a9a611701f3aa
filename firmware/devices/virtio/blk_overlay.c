/* Sparse copy-on-write disk overlay: see blk_overlay.h. Disk block b lives
 * at dir[b / 512][b % 512] once written. A write first counts the index
 * pages and blocks it lacks, allocates them all into a reserve (a list
 * threaded through the free pages themselves), and only then touches the
 * table, so running out of memory changes nothing. */
#include <cg/errno.h>
#include <cg/string.h>
#include "devices/virtio/blk_overlay.h"

#define PER_INDEX ((u64)BLK_OVERLAY_PER_INDEX)

int blk_overlay_init(struct blk_overlay *o, const void *base, u64 size,
		     const struct blk_overlay_alloc *a)
{
	u64 dir_bytes;

	memset(o, 0, sizeof(*o));
	if (!base || !size || size % BLK_OVERLAY_SECTOR)
		return -CG_EINVAL;
	o->nblocks = size / BLK_OVERLAY_BLOCK + (size % BLK_OVERLAY_BLOCK != 0);
	o->dir_entries = (o->nblocks + PER_INDEX - 1) / PER_INDEX;
	dir_bytes = o->dir_entries * sizeof(u8 **);
	o->dir_pages = (dir_bytes + BLK_OVERLAY_BLOCK - 1) / BLK_OVERLAY_BLOCK;
	o->dir = a->alloc(a->ctx, o->dir_pages);
	if (!o->dir) {
		memset(o, 0, sizeof(*o));
		return -CG_ENOMEM;
	}
	memset(o->dir, 0, o->dir_pages * BLK_OVERLAY_BLOCK);
	o->base = base;
	o->size = size;
	o->alloc = *a;
	o->quota_pages = o->nblocks + o->dir_entries;
	return 0;
}

u64 blk_overlay_full_pages(u64 size)
{
	u64 blocks = size / BLK_OVERLAY_BLOCK + (size % BLK_OVERLAY_BLOCK != 0);

	return blocks + (blocks + PER_INDEX - 1) / PER_INDEX;
}

void blk_overlay_set_quota(struct blk_overlay *o, u64 pages)
{
	u64 full = o->nblocks + o->dir_entries;

	o->quota_pages = !pages || pages > full ? full : pages;
}

void blk_overlay_reset(struct blk_overlay *o)
{
	u64 i, j;

	for (i = 0; i < o->dir_entries; i++) {
		u8 **ip = o->dir[i];

		if (!ip)
			continue;
		for (j = 0; j < PER_INDEX; j++)
			if (ip[j])
				o->alloc.free(o->alloc.ctx, ip[j], 1);
		o->alloc.free(o->alloc.ctx, ip, 1);
		o->dir[i] = NULL;
	}
	o->data_blocks = 0;
	o->index_pages = 0;
}

void blk_overlay_destroy(struct blk_overlay *o)
{
	if (o->dir) {
		blk_overlay_reset(o);
		o->alloc.free(o->alloc.ctx, o->dir, o->dir_pages);
	}
	memset(o, 0, sizeof(*o));
}

u64 blk_overlay_sectors(const struct blk_overlay *o)
{
	return o->size / BLK_OVERLAY_SECTOR;
}

/* Byte range of count sectors at sector, if it lies on the disk. */
static int ov_range(const struct blk_overlay *o, u64 sector, u64 count, u64 *off, u64 *len)
{
	u64 sectors = blk_overlay_sectors(o);

	if (sector > sectors || count > sectors - sector)
		return -CG_ERANGE;
	*off = sector * BLK_OVERLAY_SECTOR;
	*len = count * BLK_OVERLAY_SECTOR;
	return 0;
}

/* Overlay block for disk block b, or NULL when unwritten. */
static u8 *ov_block(const struct blk_overlay *o, u64 b)
{
	u8 **ip = o->dir[b / PER_INDEX];

	return ip ? ip[b % PER_INDEX] : NULL;
}

/* Bytes of disk block b that exist (the last block may be short). */
static u64 ov_block_bytes(const struct blk_overlay *o, u64 b)
{
	u64 start = b * BLK_OVERLAY_BLOCK;

	return o->size - start < BLK_OVERLAY_BLOCK ? o->size - start : BLK_OVERLAY_BLOCK;
}

int blk_overlay_read(const struct blk_overlay *o, u64 sector, u64 count, void *dst)
{
	u8 *out = dst;
	u64 off, len;
	int err;

	err = ov_range(o, sector, count, &off, &len);
	if (err)
		return err;
	while (len) {
		u64 b = off / BLK_OVERLAY_BLOCK, boff = off % BLK_OVERLAY_BLOCK;
		u64 chunk = BLK_OVERLAY_BLOCK - boff;
		const u8 *blk = ov_block(o, b);

		if (chunk > len)
			chunk = len;
		memcpy(out, blk ? blk + boff : o->base + off, chunk);
		out += chunk;
		off += chunk;
		len -= chunk;
	}
	return 0;
}

/* The reserve: pages allocated for one write, linked through their first
 * word. */
static void reserve_free(struct blk_overlay *o, void *list)
{
	while (list) {
		void *next = *(void **)list;

		o->alloc.free(o->alloc.ctx, list, 1);
		list = next;
	}
}

static void *reserve_take(void **list)
{
	void *p = *list;

	/* blk_overlay_write reserved exactly what it takes. */
	*list = *(void **)p;
	return p;
}

/* Pages a write of disk blocks [first, last] lacks: index pages not yet
 * present, plus every block not yet present. */
static u64 ov_missing(const struct blk_overlay *o, u64 first, u64 last)
{
	u64 b = first, need = 0;

	while (b <= last) {
		u64 i = b / PER_INDEX;
		u64 end = (i + 1) * PER_INDEX - 1;
		u8 **ip = o->dir[i];

		if (end > last)
			end = last;
		if (!ip) {
			need += 1 + (end - b + 1);
		} else {
			for (u64 k = b; k <= end; k++)
				need += !ip[k % PER_INDEX];
		}
		b = end + 1;
	}
	return need;
}

int blk_overlay_write(struct blk_overlay *o, u64 sector, u64 count, const void *src)
{
	const u8 *in = src;
	void *reserve = NULL;
	u64 off, len, need, n;
	int err;

	err = ov_range(o, sector, count, &off, &len);
	if (err)
		return err;
	if (!len)
		return 0;

	need = ov_missing(o, off / BLK_OVERLAY_BLOCK, (off + len - 1) / BLK_OVERLAY_BLOCK);
	/* held <= quota always, so the subtraction cannot wrap. */
	if (need > o->quota_pages - (o->data_blocks + o->index_pages))
		return -CG_EDQUOT;
	for (n = 0; n < need; n++) {
		void *p = o->alloc.alloc(o->alloc.ctx, 1);

		if (!p) {
			reserve_free(o, reserve);
			return -CG_ENOMEM;
		}
		*(void **)p = reserve;
		reserve = p;
	}

	while (len) {
		u64 b = off / BLK_OVERLAY_BLOCK, boff = off % BLK_OVERLAY_BLOCK;
		u64 chunk = BLK_OVERLAY_BLOCK - boff;
		u8 ***slot = &o->dir[b / PER_INDEX];
		u8 **ip = *slot;
		u8 *blk;

		if (chunk > len)
			chunk = len;
		if (!ip) {
			ip = reserve_take(&reserve);
			memset(ip, 0, BLK_OVERLAY_BLOCK);
			*slot = ip;
			o->index_pages++;
		}
		blk = ip[b % PER_INDEX];
		if (!blk) {
			u64 have = ov_block_bytes(o, b);

			blk = reserve_take(&reserve);
			/* Copy the base unless this write covers the block. */
			if (boff || chunk < have)
				memcpy(blk, o->base + b * BLK_OVERLAY_BLOCK, have);
			if (have < BLK_OVERLAY_BLOCK)
				memset(blk + have, 0, BLK_OVERLAY_BLOCK - have);
			ip[b % PER_INDEX] = blk;
			o->data_blocks++;
		}
		memcpy(blk + boff, in, chunk);
		in += chunk;
		off += chunk;
		len -= chunk;
	}
	return 0;
}

void blk_overlay_get_stats(const struct blk_overlay *o, struct blk_overlay_stats *s)
{
	s->data_blocks = o->data_blocks;
	s->index_pages = o->index_pages;
	s->dir_pages = o->dir_pages;
	s->bytes = (o->data_blocks + o->index_pages + o->dir_pages) * BLK_OVERLAY_BLOCK;
	s->quota_pages = o->quota_pages;
}
