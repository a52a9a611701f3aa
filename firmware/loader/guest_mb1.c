#include "loader/guest_mb1.h"
#include "lib/fmt.h"
#include <cg/errno.h>
#include <cg/unaligned.h>
#include <stdarg.h>
#include <cg/string.h>

#define MB1_MAGIC 0x1BADB002u
#define MB1_SEARCH 8192
#define MB1_AOUT_KLUDGE (1U << 16)
#define MB1_INFO_MEMORY (1U << 0)
#define MB1_INFO_CMDLINE (1U << 2)
#define MB1_INFO_MODS (1U << 3)
#define MB1_INFO_MMAP (1U << 6)
#define MB1_INFO_LOADER_NAME (1U << 9)
#define EBDA_START UINT64_C(0x9FC00)
#define HIGH_MEM UINT64_C(0x100000)
/* Where the info block, strings, module list and map go: low memory a
 * kernel loaded at 1 MiB never touches, as with QEMU. */
#define INFO_BASE UINT64_C(0x9000)
#define INFO_LIMIT UINT64_C(0x9F000)

#define ELF_PT_LOAD 1

struct PACKED mb1_info {
	u32 flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
	u32 syms[4];
	u32 mmap_length, mmap_addr;
	u32 drives_length, drives_addr, config_table, boot_loader_name;
};

struct PACKED mb1_mod {
	u32 start, end, cmdline, reserved;
};

struct PACKED mb1_mmap {
	u32 size;
	u64 base, len;
	u32 type;
};

static int fail(char *err, size_t n, const char *msg, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t n, const char *msg, ...)
{
	va_list ap;
	va_start(ap, msg);
	fmt_vsnprintf(err, n, msg, ap);
	va_end(ap);
	return -CG_EINVAL;
}

static int place(const struct mb1_guest_mem *m, u64 gpa, const u8 *src, u64 filesz, u64 memsz,
		 char *err, size_t n)
{
	if (memsz < filesz || gpa + memsz < gpa || gpa + memsz > m->ram_bytes)
		return fail(err, n, "kernel segment 0x%lx+0x%lx lies outside guest RAM; give the VM more memory",
			    gpa, memsz);
	if (m->write(m->ctx, gpa, src, filesz))
		return -CG_EINVAL;
	static const u8 zero[256];
	for (u64 off = filesz; off < memsz;) {
		u64 k = memsz - off < sizeof(zero) ? memsz - off : sizeof(zero);
		m->write(m->ctx, gpa + off, zero, k);
		off += k;
	}
	return 0;
}

static int load_elf(const struct mb1_guest_mem *m, struct mb1_image k, u64 *entry, u64 *end,
		    char *err, size_t n)
{
	const u8 *d = k.data;
	bool is64 = d[4] == 2;
	u64 phoff = is64 ? le64_at(d + 32) : le32_at(d + 28);
	u32 phentsize = d[is64 ? 54 : 42] | (d[is64 ? 55 : 43] << 8);
	u32 phnum = d[is64 ? 56 : 44] | (d[is64 ? 57 : 45] << 8);
	if (d[4] != 1 && d[4] != 2)
		return fail(err, n, "kernel ELF class %u is neither 32 nor 64-bit", d[4]);
	if (phentsize < (is64 ? 56u : 32u) || phoff > k.size || (u64)phnum * phentsize > k.size - phoff)
		return fail(err, n, "kernel ELF program headers at 0x%lx run past the file (%lu bytes)", phoff, k.size);
	*entry = is64 ? le64_at(d + 24) : le32_at(d + 24);
	*end = 0;
	for (u32 i = 0; i < phnum; i++) {
		const u8 *ph = d + phoff + (u64)i * phentsize;
		if (le32_at(ph) != ELF_PT_LOAD)
			continue;
		u64 off = is64 ? le64_at(ph + 8) : le32_at(ph + 4);
		u64 paddr = is64 ? le64_at(ph + 24) : le32_at(ph + 12);
		u64 filesz = is64 ? le64_at(ph + 32) : le32_at(ph + 16);
		u64 memsz = is64 ? le64_at(ph + 40) : le32_at(ph + 20);
		if (off > k.size || filesz > k.size - off)
			return fail(err, n, "kernel segment at file offset 0x%lx runs past the file (%lu bytes)", off,
				    k.size);
		int rc = place(m, paddr, d + off, filesz, memsz, err, n);
		if (rc)
			return rc;
		if (paddr + memsz > *end)
			*end = paddr + memsz;
	}
	if (!*end)
		return fail(err, n, "kernel ELF has no loadable segment");
	return 0;
}

static int load_aout(const struct mb1_guest_mem *m, struct mb1_image k, u64 hdr_off, u64 *entry,
		     u64 *end, char *err, size_t n)
{
	const u8 *h = k.data + hdr_off;
	u32 header_addr = le32_at(h + 12), load_addr = le32_at(h + 16), load_end = le32_at(h + 20);
	u32 bss_end = le32_at(h + 24);
	if (load_addr > header_addr || header_addr - load_addr > hdr_off)
		return fail(err, n, "Multiboot address fields are inconsistent (load 0x%x, header 0x%x)",
			    load_addr, header_addr);
	u64 file_off = hdr_off - (header_addr - load_addr);
	u64 size = load_end ? (u64)load_end - load_addr : k.size - file_off;
	if (load_end && load_end < load_addr)
		return fail(err, n, "Multiboot load_end_addr 0x%x is below load_addr 0x%x", load_end, load_addr);
	if (size > k.size - file_off)
		size = k.size - file_off;
	u64 memsz = bss_end > load_addr + size ? bss_end - load_addr : size;
	*entry = le32_at(h + 28);
	*end = load_addr + memsz;
	return place(m, load_addr, k.data + file_off, size, memsz, err, n);
}

int mb1_load(const struct mb1_guest_mem *m, struct mb1_image kernel, const char *cmdline,
	     const struct mb1_module *mods, u32 nmods, u64 *entry, u64 *info_addr, char *err,
	     size_t err_size)
{
	u64 hdr = ~0ULL;
	for (u64 off = 0; off + 32 <= kernel.size && off < MB1_SEARCH; off += 4) {
		u32 magic = le32_at(kernel.data + off), flags = le32_at(kernel.data + off + 4);
		if (magic == MB1_MAGIC && (u32)(magic + flags + le32_at(kernel.data + off + 8)) == 0) {
			hdr = off;
			break;
		}
	}
	if (hdr == ~0ULL)
		return fail(err, err_size,
			    "kernel has no Multiboot1 header in its first %lu bytes (%lu bytes in all)",
			    (u64)MB1_SEARCH, kernel.size);
	u32 flags = le32_at(kernel.data + hdr + 4);
	u64 end = 0;
	int rc;
	bool elf = kernel.size >= 64 && !memcmp(kernel.data, "\177ELF", 4);
	if (flags & MB1_AOUT_KLUDGE)
		rc = load_aout(m, kernel, hdr, entry, &end, err, err_size);
	else if (elf)
		rc = load_elf(m, kernel, entry, &end, err, err_size);
	else
		return fail(err, err_size, "kernel is neither ELF nor has Multiboot address fields");
	if (rc)
		return rc;

	/* Info block, then strings, module list and memory map, all low. */
	u64 p = INFO_BASE;
	struct mb1_info info;
	memset(&info, 0, sizeof(info));
	u64 info_gpa = p;
	p += sizeof(info);
	info.flags = MB1_INFO_MEMORY | MB1_INFO_CMDLINE | MB1_INFO_MODS | MB1_INFO_MMAP |
		     MB1_INFO_LOADER_NAME;
	info.mem_lower = EBDA_START / 1024;
	info.mem_upper = (u32)((m->ram_bytes - HIGH_MEM) / 1024);
	info.cmdline = (u32)p;
	m->write(m->ctx, p, cmdline, strlen(cmdline) + 1);
	p += strlen(cmdline) + 1;
	info.boot_loader_name = (u32)p;
	m->write(m->ctx, p, "crossguard", 11);
	p = ALIGN_UP(p + 11, 16);

	u64 mod_at = ALIGN_UP(end, PAGE_SIZE);
	info.mods_count = nmods;
	info.mods_addr = (u32)p;
	u64 strings = p + nmods * sizeof(struct mb1_mod);
	for (u32 i = 0; i < nmods; i++) {
		if (mod_at + mods[i].image.size > m->ram_bytes)
			return fail(err, err_size, "module %u (%lu bytes) does not fit in guest RAM; give the VM more memory",
				    i, mods[i].image.size);
		m->write(m->ctx, mod_at, mods[i].image.data, mods[i].image.size);
		struct mb1_mod mod = { (u32)mod_at, (u32)(mod_at + mods[i].image.size), (u32)strings, 0 };
		m->write(m->ctx, p + i * sizeof(mod), &mod, sizeof(mod));
		m->write(m->ctx, strings, mods[i].cmdline, strlen(mods[i].cmdline) + 1);
		strings += strlen(mods[i].cmdline) + 1;
		mod_at = ALIGN_UP(mod_at + mods[i].image.size, PAGE_SIZE);
	}
	p = ALIGN_UP(strings, 16);
	struct mb1_mmap map[3] = {
		{ 20, 0, EBDA_START, 1 },
		{ 20, EBDA_START, HIGH_MEM - EBDA_START, 2 },
		{ 20, HIGH_MEM, m->ram_bytes - HIGH_MEM, 1 },
	};
	info.mmap_addr = (u32)p;
	info.mmap_length = sizeof(map);
	m->write(m->ctx, p, map, sizeof(map));
	p += sizeof(map);
	if (p > INFO_LIMIT)
		return fail(err, err_size, "command lines too long for the info area (%lu bytes used)", p - INFO_BASE);
	m->write(m->ctx, info_gpa, &info, sizeof(info));
	*info_addr = info_gpa;
	return 0;
}
