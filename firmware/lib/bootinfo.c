/* Multiboot 1 (spec 0.6.96, section 3.3) and Multiboot 2 (spec 2.0,
 * section 3.6) boot information, read into struct boot_info. Every byte is
 * fetched through phys_map, and every length is checked against its
 * enclosing structure before the bytes it covers are touched. */
#include <cg/errno.h>
#include <cg/string.h>
#include "lib/bootinfo.h"

/* Multiboot 1 info structure: flag bits and field offsets (spec 3.3). */
#define MB1_INFO_LEN 116
#define MB1_FLAG_MEM (1u << 0)
#define MB1_FLAG_CMDLINE (1u << 2)
#define MB1_FLAG_MODS (1u << 3)
#define MB1_FLAG_MMAP (1u << 6)
#define MB1_FLAG_LOADER (1u << 9)
#define MB1_OFF_FLAGS 0
#define MB1_OFF_MEM_LOWER 4
#define MB1_OFF_MEM_UPPER 8
#define MB1_OFF_CMDLINE 16
#define MB1_OFF_MODS_COUNT 20
#define MB1_OFF_MODS_ADDR 24
#define MB1_OFF_MMAP_LEN 44
#define MB1_OFF_MMAP_ADDR 48
#define MB1_OFF_LOADER 64
#define MB1_MOD_LEN 16
#define MB1_MMAP_ENTRY_MIN 20 /* base_addr, length, type after the size word */

/* Multiboot 2 tag types (spec 3.6). */
#define MB2_TAG_END 0
#define MB2_TAG_CMDLINE 1
#define MB2_TAG_LOADER 2
#define MB2_TAG_MODULE 3
#define MB2_TAG_MEMINFO 4
#define MB2_TAG_MMAP 6
#define MB2_TAG_EFI32 11
#define MB2_TAG_EFI64 12
#define MB2_TAG_ACPI_OLD 14
#define MB2_TAG_ACPI_NEW 15
#define MB2_HDR_LEN 8
#define MB2_TAG_HDR_LEN 8
#define MB2_MMAP_ENTRY_MIN 24
#define ACPI_RSDP_V1_LEN 20
#define ACPI_RSDP_V2_LEN 36

/* Byte-wise little-endian loads: loader structures need not be aligned. */
static u32 bootinfo_le32(const u8 *p)
{
	return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

static u64 bootinfo_le64(const u8 *p)
{
	return (u64)bootinfo_le32(p) | (u64)bootinfo_le32(p + 4) << 32;
}

/* Copy a NUL-terminated string at physical addr into dst (truncating to
 * size). The string's length is unknown, so each byte is mapped on its own:
 * a string running off the window is -CG_ERANGE, not an overread. */
static int bootinfo_copy_phys_str(const struct phys_access *pa, u64 addr,
				  char *dst, size_t size)
{
	size_t i;

	for (i = 0; i + 1 < size; i++) {
		const char *c = phys_map(pa, addr + i, 1);

		if (!c)
			return -CG_ERANGE;
		if (!*c)
			break;
		dst[i] = *c;
	}
	dst[i] = 0;
	return 0;
}

/* A map may legitimately list more raw ranges than the table holds while
 * normalising to far fewer, so a full table is squeezed before giving up. */
static int bootinfo_add_range(struct boot_info *bi, u64 base, u64 len, u32 type)
{
	int err = memmap_add(&bi->mem, base, len, type);

	if (err == -CG_ENOMEM) {
		err = memmap_normalize(&bi->mem);
		if (!err)
			err = memmap_add(&bi->mem, base, len, type);
	}
	return err;
}

/* The BIOS-style pair when no full map is given: conventional memory from
 * 0 and extended memory from 1 MiB, both in KiB. */
static int bootinfo_synth_map(struct boot_info *bi, u32 lower_kib, u32 upper_kib)
{
	int err = bootinfo_add_range(bi, 0, (u64)lower_kib * 1024, MEMMAP_USABLE);

	if (!err)
		err = bootinfo_add_range(bi, MIB, (u64)upper_kib * 1024, MEMMAP_USABLE);
	return err;
}

static int bootinfo_add_module(struct boot_info *bi, const struct phys_access *pa,
			       u64 start, u64 end, u64 str_addr, const char *str,
			       size_t str_max)
{
	struct boot_module *mod;

	if (end < start)
		return -CG_EINVAL;
	if (bi->module_count >= BOOTINFO_MODULES_MAX)
		return -CG_ENOMEM;
	mod = &bi->modules[bi->module_count];
	mod->start = start;
	mod->end = end;
	if (str)
		cg_strlcpy(mod->cmdline, str, str_max, sizeof(mod->cmdline));
	else if (str_addr) {
		int err = bootinfo_copy_phys_str(pa, str_addr, mod->cmdline,
						 sizeof(mod->cmdline));
		if (err)
			return err;
	}
	bi->module_count++;
	return 0;
}

static int bootinfo_mb1_mmap(struct boot_info *bi, const struct phys_access *pa,
			     u64 addr, u32 len)
{
	const u8 *map;
	u64 off = 0;

	/* An empty map needs no readable address; the caller falls back. */
	if (!len)
		return 0;
	map = phys_map(pa, addr, len);
	if (!map)
		return -CG_ERANGE;
	while (off < len) {
		u32 size;
		int err;

		if (len - off < 4)
			return -CG_EINVAL;
		size = bootinfo_le32(map + off);
		/* size excludes the size word itself (spec 3.3, mmap_*). */
		if (size < MB1_MMAP_ENTRY_MIN || size > len - off - 4)
			return -CG_EINVAL;
		err = bootinfo_add_range(bi, bootinfo_le64(map + off + 4),
					 bootinfo_le64(map + off + 12),
					 bootinfo_le32(map + off + 20));
		if (err)
			return err;
		off += 4 + (u64)size;
	}
	return 0;
}

static int bootinfo_mb1_mods(struct boot_info *bi, const struct phys_access *pa,
			     u64 addr, u32 count)
{
	const u8 *mods;
	u32 i;

	if (!count)
		return 0;
	if (count > BOOTINFO_MODULES_MAX)
		return -CG_ENOMEM;
	mods = phys_map(pa, addr, (u64)count * MB1_MOD_LEN);
	if (!mods)
		return -CG_ERANGE;
	for (i = 0; i < count; i++) {
		const u8 *e = mods + (u64)i * MB1_MOD_LEN;
		int err = bootinfo_add_module(bi, pa, bootinfo_le32(e),
					      bootinfo_le32(e + 4),
					      bootinfo_le32(e + 8), NULL, 0);
		if (err)
			return err;
	}
	return 0;
}

static int bootinfo_parse_mb1(struct boot_info *bi, u64 info_addr,
			      const struct phys_access *pa)
{
	const u8 *info = phys_map(pa, info_addr, MB1_INFO_LEN);
	u32 flags;
	int err;

	if (!info)
		return -CG_ERANGE;
	bi->protocol = BOOT_MB1;
	bi->info_addr = info_addr;
	bi->info_len = MB1_INFO_LEN;
	flags = bootinfo_le32(info + MB1_OFF_FLAGS);

	if (flags & MB1_FLAG_CMDLINE) {
		err = bootinfo_copy_phys_str(pa, bootinfo_le32(info + MB1_OFF_CMDLINE),
					     bi->cmdline, sizeof(bi->cmdline));
		if (err)
			return err;
	}
	if (flags & MB1_FLAG_LOADER) {
		err = bootinfo_copy_phys_str(pa, bootinfo_le32(info + MB1_OFF_LOADER),
					     bi->loader_name, sizeof(bi->loader_name));
		if (err)
			return err;
	}
	if (flags & MB1_FLAG_MODS) {
		err = bootinfo_mb1_mods(bi, pa, bootinfo_le32(info + MB1_OFF_MODS_ADDR),
					bootinfo_le32(info + MB1_OFF_MODS_COUNT));
		if (err)
			return err;
	}
	if (flags & MB1_FLAG_MMAP) {
		err = bootinfo_mb1_mmap(bi, pa, bootinfo_le32(info + MB1_OFF_MMAP_ADDR),
					bootinfo_le32(info + MB1_OFF_MMAP_LEN));
		if (err)
			return err;
	}
	if (!bi->mem.count && (flags & MB1_FLAG_MEM)) {
		err = bootinfo_synth_map(bi, bootinfo_le32(info + MB1_OFF_MEM_LOWER),
					 bootinfo_le32(info + MB1_OFF_MEM_UPPER));
		if (err)
			return err;
	}
	return 0;
}

static int bootinfo_mb2_mmap(struct boot_info *bi, const u8 *tag, u32 size)
{
	u32 entry_size, body, off;

	if (size < 16)
		return -CG_EINVAL;
	entry_size = bootinfo_le32(tag + 8);
	if (entry_size < MB2_MMAP_ENTRY_MIN || entry_size % 8)
		return -CG_EINVAL;
	body = size - 16;
	if (body % entry_size)
		return -CG_EINVAL;
	for (off = 16; off < size; off += entry_size) {
		int err = bootinfo_add_range(bi, bootinfo_le64(tag + off),
					     bootinfo_le64(tag + off + 8),
					     bootinfo_le32(tag + off + 16));
		if (err)
			return err;
	}
	return 0;
}

/* State gathered across tags whose meaning depends on what else is present. */
struct bootinfo_mb2_seen {
	bool mmap;
	bool meminfo;
	bool acpi_new;
	u32 mem_lower;
	u32 mem_upper;
};

static int bootinfo_mb2_tag(struct boot_info *bi, struct bootinfo_mb2_seen *seen,
			    u64 tag_addr, const u8 *tag, u32 type, u32 size)
{
	switch (type) {
	case MB2_TAG_CMDLINE:
		cg_strlcpy(bi->cmdline, (const char *)tag + 8, size - 8, sizeof(bi->cmdline));
		return 0;
	case MB2_TAG_LOADER:
		cg_strlcpy(bi->loader_name, (const char *)tag + 8, size - 8,
			   sizeof(bi->loader_name));
		return 0;
	case MB2_TAG_MODULE:
		if (size < 16)
			return -CG_EINVAL;
		return bootinfo_add_module(bi, NULL, bootinfo_le32(tag + 8),
					   bootinfo_le32(tag + 12), 0,
					   (const char *)tag + 16, size - 16);
	case MB2_TAG_MEMINFO:
		if (size < 16)
			return -CG_EINVAL;
		seen->meminfo = true;
		seen->mem_lower = bootinfo_le32(tag + 8);
		seen->mem_upper = bootinfo_le32(tag + 12);
		return 0;
	case MB2_TAG_MMAP:
		seen->mmap = true;
		return bootinfo_mb2_mmap(bi, tag, size);
	case MB2_TAG_EFI32:
	case MB2_TAG_EFI64:
		bi->efi = true;
		return 0;
	case MB2_TAG_ACPI_OLD:
		if (size < MB2_TAG_HDR_LEN + ACPI_RSDP_V1_LEN)
			return -CG_EINVAL;
		/* The tag holds a copy of the RSDP; the v2 copy, if any, wins. */
		if (!seen->acpi_new)
			bi->rsdp_addr = tag_addr + MB2_TAG_HDR_LEN;
		return 0;
	case MB2_TAG_ACPI_NEW:
		if (size < MB2_TAG_HDR_LEN + ACPI_RSDP_V2_LEN)
			return -CG_EINVAL;
		seen->acpi_new = true;
		bi->rsdp_addr = tag_addr + MB2_TAG_HDR_LEN;
		return 0;
	default:
		return 0;
	}
}

static int bootinfo_parse_mb2(struct boot_info *bi, u64 info_addr,
			      const struct phys_access *pa)
{
	struct bootinfo_mb2_seen seen = { 0 };
	const u8 *info = phys_map(pa, info_addr, MB2_HDR_LEN);
	u32 total;
	u64 off = MB2_HDR_LEN;
	int err;

	if (!info)
		return -CG_ERANGE;
	total = bootinfo_le32(info);
	if (total < MB2_HDR_LEN + MB2_TAG_HDR_LEN)
		return -CG_EINVAL;
	info = phys_map(pa, info_addr, total);
	if (!info)
		return -CG_ERANGE;
	bi->protocol = BOOT_MB2;
	bi->info_addr = info_addr;
	bi->info_len = total;

	for (;;) {
		u32 type, size;

		if (total - off < MB2_TAG_HDR_LEN)
			return -CG_EINVAL; /* no end tag before total_size */
		type = bootinfo_le32(info + off);
		size = bootinfo_le32(info + off + 4);
		if (size < MB2_TAG_HDR_LEN || size > total - off)
			return -CG_EINVAL;
		if (type == MB2_TAG_END)
			break;
		err = bootinfo_mb2_tag(bi, &seen, info_addr + off, info + off, type, size);
		if (err)
			return err;
		/* Tags start 8-byte aligned; total - off >= size keeps this in range. */
		off = ALIGN_UP(off + size, 8);
		if (off > total)
			return -CG_EINVAL;
	}

	if (!seen.mmap && seen.meminfo) {
		err = bootinfo_synth_map(bi, seen.mem_lower, seen.mem_upper);
		if (err)
			return err;
	}
	return 0;
}

/* bootinfo_parse: see bootinfo.h. Errors as documented there (a map range
 * wrapping past 2^64 counts as inconsistent: -CG_EINVAL); bi is cleared
 * first, so its contents after an error are partial but bounded. */
int bootinfo_parse(struct boot_info *bi, u32 magic, u64 info_addr,
		   const struct phys_access *pa)
{
	int err;

	memset(bi, 0, sizeof(*bi));
	memmap_init(&bi->mem);
	if (magic == MB1_BOOTLOADER_MAGIC)
		err = bootinfo_parse_mb1(bi, info_addr, pa);
	else if (magic == MB2_BOOTLOADER_MAGIC)
		err = bootinfo_parse_mb2(bi, info_addr, pa);
	else
		return -CG_EINVAL;
	if (err)
		return err;
	if (!bi->mem.count)
		return -CG_ENOENT;
	return memmap_normalize(&bi->mem);
}
