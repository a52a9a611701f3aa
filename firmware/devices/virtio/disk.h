/* Shared disk images and the per-VM disks attached to them.
 *
 * An image is a boot module used in place: its memory is the disk's
 * contents, read-only, one copy however many VMs attach it. A disk is one
 * VM's view of an image: read-only (reads come straight from the image),
 * or read-write over a copy-on-write overlay of its own (blk_overlay.c)
 * that is kept or thrown away when the VM resets. Every disk has two token
 * buckets (requests per second, bytes per second); a request they refuse
 * waits (the device model keeps it pending), it never fails.
 *
 * Pure logic: memory for overlays comes from the caller's allocator, time
 * from the caller. Not locked: one device model owns each disk; the
 * image table is changed only under the caller's lock. */
#ifndef CG_DISK_H
#define CG_DISK_H

#include <cg/types.h>
#include "devices/virtio/blk_overlay.h"
#include "devices/virtio/token_bucket.h"

#define DISK_IMAGES_MAX 8
#define DISK_NAME_SIZE 32	/* image names: [a-z][a-z0-9_-]{0,30} */
#define DISK_MODULE_SIZE 49	/* module names: [A-Za-z0-9._-]{1,48} */
#define DISK_SECTOR 512u
/* How long a bucket may run ahead: at most 100 ms worth of requests or
 * bytes pass at once after an idle spell. */
#define DISK_BURST_NS 100000000ull

struct disk_image {
	char name[DISK_NAME_SIZE];
	char module[DISK_MODULE_SIZE];
	const u8 *data;		/* the module's memory; never written */
	u64 size;		/* bytes, a nonzero multiple of 512 */
	u32 users;		/* disks attached now */
};

struct disk_images {
	u32 count;
	struct disk_image e[DISK_IMAGES_MAX];
};

enum disk_mode { DISK_RO, DISK_RW };
enum disk_reset { DISK_KEEP, DISK_DISCARD }; /* a rw overlay at VM reset */

struct disk_stats {
	u64 requests;		/* completed, any type */
	u64 read_bytes;
	u64 write_bytes;
	u64 errors;		/* completed with IOERR */
	u64 throttled_requests;	/* had to wait for a bucket */
	u64 throttled_bytes;	/* data bytes of those */
	u64 quota_errors;	/* writes refused: the overlay's quota was reached */
};

struct disk {
	struct disk_image *image; /* NULL: not attached */
	enum disk_mode mode;
	enum disk_reset on_reset;
	u64 sectors;
	struct blk_overlay overlay; /* rw only */
	u64 iops_limit, bps_limit;  /* 0: unlimited */
	struct token_bucket iops, bps;
	struct disk_stats st;
	bool quota_reported;	/* the disk-quota marker was printed */
};

/* disk_image_get: the image called name, registered on first use with
 * the module's data and size. Returns 0 with *out set; -CG_EINVAL when
 * the size is not a nonzero multiple of 512 or the name is already
 * registered for another module; -CG_ENOMEM when the table is full. err
 * then says what is wrong and the fix. */
int disk_image_get(struct disk_images *t, const char *name, const char *module,
		   const u8 *data, u64 size, struct disk_image **out, char *err, size_t err_size);

/* disk_attach: attach d to img (d is fully overwritten) as mode, with the
 * given reset policy (forced to keep for ro) and limits (0 = unlimited),
 * buckets full as of now. A rw disk gets an empty overlay from a, holding
 * at most overlay_max_mib MiB of data blocks and index pages (0: what
 * rewriting the whole image costs, see blk_overlay_full_pages).
 * Returns 0 or -CG_ENOMEM (d then unattached). */
int disk_attach(struct disk *d, struct disk_image *img, enum disk_mode mode,
		enum disk_reset on_reset, u64 iops, u64 bytes_per_s, u64 overlay_max_mib,
		const struct blk_overlay_alloc *a, u64 now);

/* disk_detach: free the overlay and let go of the image. Idempotent. */
void disk_detach(struct disk *d);

/* disk_vm_reset: the VM resets: a discard overlay is emptied, a keep
 * overlay stays. Counters and buckets stay (a reset must not refill a
 * bucket). */
void disk_vm_reset(struct disk *d);

/* disk_read: count sectors from sector into dst. Returns 0 or -CG_ERANGE
 * past the end of the disk. */
int disk_read(struct disk *d, u64 sector, u64 count, void *dst);

/* disk_write: count sectors from src at sector. Returns 0, -CG_ENOTSUP
 * for a ro disk, -CG_ERANGE past the end, -CG_EDQUOT when the overlay
 * would pass its quota, -CG_ENOMEM when the overlay cannot grow (nothing
 * written in either case). */
int disk_write(struct disk *d, u64 sector, u64 count, const void *src);

/* disk_admit: whether a request of bytes data bytes may go at now; if so
 * both buckets are charged. If not, *ready_at is when it can. */
bool disk_admit(struct disk *d, u64 bytes, u64 now, u64 *ready_at);

/* disk_overlay_stats: what d's overlay holds (all zero for ro). */
void disk_overlay_stats(const struct disk *d, struct blk_overlay_stats *s);

#endif
