/* Shared images and per-VM disks: see disk.h. */
#include <cg/errno.h>
#include <cg/string.h>
#include "devices/virtio/disk.h"
#include "lib/fmt.h"

int disk_image_get(struct disk_images *t, const char *name, const char *module,
		   const u8 *data, u64 size, struct disk_image **out, char *err, size_t n)
{
	struct disk_image *img;

	for (u32 i = 0; i < t->count; i++) {
		img = &t->e[i];
		if (strcmp(img->name, name))
			continue;
		if (strcmp(img->module, module)) {
			fmt_snprintf(err, n, "image '%s' is module '%s' here but '%s' elsewhere; one name, one module",
				     name, img->module, module);
			return -CG_EINVAL;
		}
		*out = img;
		return 0;
	}
	if (!size || size % DISK_SECTOR) {
		fmt_snprintf(err, n, "image '%s' (module '%s') is %lu bytes, not a whole number of 512-byte sectors; pad it",
			     name, module, size);
		return -CG_EINVAL;
	}
	if (t->count >= DISK_IMAGES_MAX) {
		fmt_snprintf(err, n, "more than %u disk images; share images between VMs", DISK_IMAGES_MAX);
		return -CG_ENOMEM;
	}
	img = &t->e[t->count++];
	memset(img, 0, sizeof(*img));
	cg_strlcpy(img->name, name, DISK_NAME_SIZE, DISK_NAME_SIZE);
	cg_strlcpy(img->module, module, DISK_MODULE_SIZE, DISK_MODULE_SIZE);
	img->data = data;
	img->size = size;
	*out = img;
	return 0;
}

int disk_attach(struct disk *d, struct disk_image *img, enum disk_mode mode,
		enum disk_reset on_reset, u64 iops, u64 bytes_per_s, u64 overlay_max_mib,
		const struct blk_overlay_alloc *a, u64 now)
{
	memset(d, 0, sizeof(*d));
	if (mode == DISK_RW) {
		if (blk_overlay_init(&d->overlay, img->data, img->size, a))
			return -CG_ENOMEM;
		/* 1 MiB = 256 pages; a quota past the full cost is the full cost. */
		if (overlay_max_mib && overlay_max_mib < blk_overlay_full_pages(img->size))
			blk_overlay_set_quota(&d->overlay, overlay_max_mib * (MIB / BLK_OVERLAY_BLOCK));
	}
	d->image = img;
	d->mode = mode;
	d->on_reset = mode == DISK_RO ? DISK_KEEP : on_reset;
	d->sectors = img->size / DISK_SECTOR;
	d->iops_limit = iops;
	d->bps_limit = bytes_per_s;
	token_bucket_init(&d->iops, iops, DISK_BURST_NS, now);
	token_bucket_init(&d->bps, bytes_per_s, DISK_BURST_NS, now);
	img->users++;
	return 0;
}

void disk_detach(struct disk *d)
{
	if (!d->image)
		return;
	if (d->mode == DISK_RW)
		blk_overlay_destroy(&d->overlay);
	d->image->users--;
	d->image = NULL;
}

void disk_vm_reset(struct disk *d)
{
	if (d->image && d->mode == DISK_RW && d->on_reset == DISK_DISCARD)
		blk_overlay_reset(&d->overlay);
}

int disk_read(struct disk *d, u64 sector, u64 count, void *dst)
{
	if (sector > d->sectors || count > d->sectors - sector)
		return -CG_ERANGE;
	if (d->mode == DISK_RW)
		return blk_overlay_read(&d->overlay, sector, count, dst);
	memcpy(dst, d->image->data + sector * DISK_SECTOR, count * DISK_SECTOR);
	return 0;
}

int disk_write(struct disk *d, u64 sector, u64 count, const void *src)
{
	int rc;

	if (d->mode != DISK_RW)
		return -CG_ENOTSUP;
	rc = blk_overlay_write(&d->overlay, sector, count, src);
	if (rc == -CG_EDQUOT)
		d->st.quota_errors++;
	return rc;
}

bool disk_admit(struct disk *d, u64 bytes, u64 now, u64 *ready_at)
{
	u64 a = token_bucket_ready_at(&d->iops), b = token_bucket_ready_at(&d->bps);

	if (now < a || now < b) {
		*ready_at = a > b ? a : b;
		return false;
	}
	token_bucket_charge(&d->iops, 1, now);
	token_bucket_charge(&d->bps, bytes, now);
	return true;
}

void disk_overlay_stats(const struct disk *d, struct blk_overlay_stats *s)
{
	if (d->image && d->mode == DISK_RW)
		blk_overlay_get_stats(&d->overlay, s);
	else
		memset(s, 0, sizeof(*s));
}
