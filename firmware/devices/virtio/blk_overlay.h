/* A sparse copy-on-write overlay over a read-only base disk image, one per
 * VM, so several VMs can boot the same image: reads come from the overlay
 * where the VM wrote a 4 KiB block, else from the base; the base is never
 * written. Blocks are found through a two-level table: a directory (sized
 * for the disk at init) of index pages, each a page of 512 pointers to
 * overlay blocks, so a 64 GiB disk costs a 256 KiB directory and 4 KiB of
 * index per 2 MiB of disk written to. All memory comes from the caller's
 * allocator (the monitor's page allocator, or malloc in host tests).
 *
 * A quota caps what one overlay may hold (data blocks and index pages;
 * the directory is paid at init): by default exactly what rewriting the
 * whole disk costs, so the monitor's memory a VM can take through its
 * disks is known in advance. A write that would pass it changes nothing
 * and fails with -CG_EDQUOT.
 *
 * Not locked: the one device model that owns the overlay serialises calls. */
#ifndef CG_BLK_OVERLAY_H
#define CG_BLK_OVERLAY_H

#include <cg/types.h>

#define BLK_OVERLAY_SECTOR 512u
#define BLK_OVERLAY_BLOCK 4096u	/* grain of copy-on-write */
#define BLK_OVERLAY_PER_INDEX (BLK_OVERLAY_BLOCK / sizeof(void *)) /* 512 */

/* Page allocator for the overlay's memory. */
struct blk_overlay_alloc {
	/* npages contiguous 4 KiB pages, at least 8-byte aligned, contents
	 * undefined; NULL when exhausted. npages > 1 only for the directory
	 * of a disk larger than 1 GiB, once, at init. */
	void *(*alloc)(void *ctx, u64 npages);
	/* Give back what one alloc call returned. */
	void (*free)(void *ctx, void *p, u64 npages);
	void *ctx;
};

struct blk_overlay_stats {
	u64 data_blocks;	/* 4 KiB blocks holding data the VM wrote */
	u64 index_pages;
	u64 dir_pages;
	u64 bytes;		/* memory held: all of the above, in bytes */
	u64 quota_pages;	/* most data blocks + index pages it may hold */
};

struct blk_overlay {
	const u8 *base;		/* read-only base image */
	u64 size;		/* disk size in bytes (that of the base) */
	u64 nblocks;		/* 4 KiB blocks; the last one may be partial */
	u64 dir_entries;
	u64 dir_pages;
	u8 ***dir;		/* dir[i][j]: overlay block of disk block
				   i * 512 + j, or NULL (then from base) */
	struct blk_overlay_alloc alloc;
	u64 data_blocks;
	u64 index_pages;
	u64 quota_pages;	/* data_blocks + index_pages never pass it */
};

/* blk_overlay_init: an empty overlay over the size-byte image at base (a
 * nonzero multiple of 512 bytes). Allocates the directory. Returns 0,
 * -CG_EINVAL for a NULL base or a bad size, or -CG_ENOMEM (o then holds
 * nothing and needs no destroy). */
int blk_overlay_init(struct blk_overlay *o, const void *base, u64 size,
		     const struct blk_overlay_alloc *a);

/* blk_overlay_full_pages: data blocks and index pages an overlay over
 * a size-byte disk holds once every block was written: the default
 * quota, and the most any quota is worth. */
u64 blk_overlay_full_pages(u64 size);

/* blk_overlay_set_quota: let o hold at most pages data blocks and index
 * pages (0 or more than blk_overlay_full_pages: that, the default set by
 * init). Lowering it below what o holds keeps the data; only new blocks
 * are refused. */
void blk_overlay_set_quota(struct blk_overlay *o, u64 pages);

/* blk_overlay_destroy: free everything, directory included. */
void blk_overlay_destroy(struct blk_overlay *o);

/* blk_overlay_reset: throw every written block away (VM reset): the disk
 * reads as the base image again. Keeps the directory. */
void blk_overlay_reset(struct blk_overlay *o);

/* blk_overlay_sectors: disk capacity in 512-byte sectors. */
u64 blk_overlay_sectors(const struct blk_overlay *o);

/* blk_overlay_read: copy count sectors starting at sector to dst, each
 * from the overlay where written, else from the base. Returns 0 or
 * -CG_ERANGE when the range passes the end of the disk (dst untouched). */
int blk_overlay_read(const struct blk_overlay *o, u64 sector, u64 count, void *dst);

/* blk_overlay_write: store count sectors from src at sector. Blocks the
 * range touches for the first time get overlay blocks, filled from the
 * base first when the write covers them only in part. Every page the write
 * needs is allocated before anything changes, so on error the overlay is
 * exactly as before. Returns 0, -CG_ERANGE when the range passes the end
 * of the disk, -CG_EDQUOT when the pages it lacks would take the overlay
 * past its quota (checked before any allocation), or -CG_ENOMEM when the
 * allocator runs out. */
int blk_overlay_write(struct blk_overlay *o, u64 sector, u64 count, const void *src);

/* blk_overlay_get_stats: what the overlay holds now. */
void blk_overlay_get_stats(const struct blk_overlay *o, struct blk_overlay_stats *s);

#endif
