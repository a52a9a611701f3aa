/* bootinfo: Multiboot 1 and 2 structures built byte by byte in a physical
 * window, then broken in the ways a confused or hostile loader would. */
#include <string.h>
#include <cg/errno.h>
#include "check.h"
#include "phys_window.h"
#include "lib/bootinfo.h"

#define WIN_BASE 0x10000ULL
#define WIN_SIZE 0x20000ULL
#define INFO 0x10000ULL   /* where the info structure goes */
#define STRS 0x11000ULL   /* strings */
#define MODS 0x12000ULL   /* MB1 module list */
#define MMAP 0x13000ULL   /* MB1 memory map */

static struct boot_info bi; /* large: keep off the stack */

static bool map_has(const struct memmap *m, u64 base, u64 len, u32 type)
{
	for (u32 i = 0; i < m->count; i++)
		if (m->e[i].base == base && m->e[i].len == len && m->e[i].type == type)
			return true;
	return false;
}

/* ---- Multiboot 1 ---- */

static void mb1_mmap_entry(struct phys_window *w, u64 *at, u32 size, u64 base, u64 len, u32 type)
{
	u8 *p = phys_window_at(w, *at);

	put_le32(p, size);
	put_le64(p + 4, base);
	put_le64(p + 12, len);
	put_le32(p + 20, type);
	*at += 4 + size;
}

/* A complete MB1 structure; returns the mmap_length it wrote. */
static u32 mb1_build(struct phys_window *w)
{
	u8 *info = phys_window_at(w, INFO);
	u64 at = MMAP;

	memset(w->buf, 0, w->size);
	put_le32(info + 0, (1u << 0) | (1u << 2) | (1u << 3) | (1u << 6) | (1u << 9));
	put_le32(info + 4, 639);
	put_le32(info + 8, 130048);
	strcpy((char *)phys_window_at(w, STRS), "console=com1 smp=4");
	put_le32(info + 16, STRS);
	strcpy((char *)phys_window_at(w, STRS + 0x100), "GRUB 2.06");
	put_le32(info + 64, STRS + 0x100);
	strcpy((char *)phys_window_at(w, STRS + 0x200), "guest.elf mem=64M");
	put_le32(info + 20, 2);
	put_le32(info + 24, MODS);
	put_le32(phys_window_at(w, MODS), 0x400000);
	put_le32(phys_window_at(w, MODS + 4), 0x480000);
	put_le32(phys_window_at(w, MODS + 8), STRS + 0x200);
	put_le32(phys_window_at(w, MODS + 16), 0x500000);
	put_le32(phys_window_at(w, MODS + 20), 0x500123);
	put_le32(phys_window_at(w, MODS + 24), 0);

	mb1_mmap_entry(w, &at, 20, 0x100000, 0x7ef0000, 1);
	mb1_mmap_entry(w, &at, 20, 0, 0x9fc00, 1);
	mb1_mmap_entry(w, &at, 24, 0x9fc00, 0x400, 2); /* larger size: skip the extra */
	mb1_mmap_entry(w, &at, 20, 0xf0000, 0x10000, 2);
	put_le32(info + 44, (u32)(at - MMAP));
	put_le32(info + 48, MMAP);
	return (u32)(at - MMAP);
}

static void test_mb1_good(struct phys_window *w)
{
	int err;

	mb1_build(w);
	err = bootinfo_parse(&bi, MB1_BOOTLOADER_MAGIC, INFO, &w->pa);
	CHECK(err == 0, "mb1: full structure parses");
	CHECK(bi.protocol == BOOT_MB1 && bi.info_addr == INFO && bi.info_len == 116, "mb1: info range");
	CHECK(strcmp(bi.cmdline, "console=com1 smp=4") == 0, "mb1: cmdline");
	CHECK(strcmp(bi.loader_name, "GRUB 2.06") == 0, "mb1: loader name");
	CHECK(bi.module_count == 2 && bi.modules[0].start == 0x400000 && bi.modules[0].end == 0x480000 &&
	      strcmp(bi.modules[0].cmdline, "guest.elf mem=64M") == 0, "mb1: module 0");
	CHECK(bi.modules[1].end == 0x500123 && bi.modules[1].cmdline[0] == 0, "mb1: module 1 without string");
	CHECK(bi.mem.count == 4, "mb1: four ranges");
	CHECK(map_has(&bi.mem, 0, 0x9f000, MEMMAP_USABLE), "mb1: low usable trimmed to pages");
	CHECK(map_has(&bi.mem, 0x9fc00, 0x400, MEMMAP_RESERVED), "mb1: size-24 entry read at right offsets");
	CHECK(map_has(&bi.mem, 0x100000, 0x7ef0000, MEMMAP_USABLE), "mb1: high usable");
	CHECK(bi.rsdp_addr == 0 && !bi.efi, "mb1: no rsdp, not efi");
}

static void test_mb1_bad(struct phys_window *w)
{
	u8 *info = phys_window_at(w, INFO);
	u32 len;

	CHECK(bootinfo_parse(&bi, 0x12345678, INFO, &w->pa) == -CG_EINVAL, "bad magic");

	mb1_build(w);
	put_le32(phys_window_at(w, MMAP + 24), 16);
	CHECK(bootinfo_parse(&bi, MB1_BOOTLOADER_MAGIC, INFO, &w->pa) == -CG_EINVAL, "mb1: mmap entry size 16");

	mb1_build(w);
	put_le32(phys_window_at(w, MMAP), 0);
	CHECK(bootinfo_parse(&bi, MB1_BOOTLOADER_MAGIC, INFO, &w->pa) == -CG_EINVAL, "mb1: mmap entry size 0");

	len = mb1_build(w);
	put_le32(info + 44, len - 4);
	CHECK(bootinfo_parse(&bi, MB1_BOOTLOADER_MAGIC, INFO, &w->pa) == -CG_EINVAL,
	      "mb1: last entry runs past mmap_length");

	len = mb1_build(w);
	put_le32(info + 44, len + 2);
	CHECK(bootinfo_parse(&bi, MB1_BOOTLOADER_MAGIC, INFO, &w->pa) == -CG_EINVAL,
	      "mb1: trailing fragment shorter than a size word");

	mb1_build(w);
	put_le32(phys_window_at(w, MMAP), 0xfffffff0);
	CHECK(bootinfo_parse(&bi, MB1_BOOTLOADER_MAGIC, INFO, &w->pa) == -CG_EINVAL, "mb1: huge entry size");

	mb1_build(w);
	put_le32(info + 48, 0x100);
	CHECK(bootinfo_parse(&bi, MB1_BOOTLOADER_MAGIC, INFO, &w->pa) == -CG_ERANGE, "mb1: mmap below window");

	mb1_build(w);
	put_le32(info + 44, 0xffffff00);
	CHECK(bootinfo_parse(&bi, MB1_BOOTLOADER_MAGIC, INFO, &w->pa) == -CG_ERANGE, "mb1: mmap_length past window");

	mb1_build(w);
	put_le32(info + 16, 0xdead0000);
	CHECK(bootinfo_parse(&bi, MB1_BOOTLOADER_MAGIC, INFO, &w->pa) == -CG_ERANGE, "mb1: cmdline outside");

	mb1_build(w);
	memset(phys_window_at(w, WIN_BASE + WIN_SIZE - 8), 'x', 8);
	put_le32(info + 64, WIN_BASE + WIN_SIZE - 8);
	CHECK(bootinfo_parse(&bi, MB1_BOOTLOADER_MAGIC, INFO, &w->pa) == -CG_ERANGE,
	      "mb1: unterminated name running off the window");

	mb1_build(w);
	memset(phys_window_at(w, STRS + 0x800), 'a', 1000);
	put_le32(info + 16, STRS + 0x800);
	CHECK(bootinfo_parse(&bi, MB1_BOOTLOADER_MAGIC, INFO, &w->pa) == 0 &&
	      strlen(bi.cmdline) == BOOTINFO_CMDLINE_MAX - 1, "mb1: long cmdline truncated");

	mb1_build(w);
	put_le32(info + 20, BOOTINFO_MODULES_MAX + 1);
	CHECK(bootinfo_parse(&bi, MB1_BOOTLOADER_MAGIC, INFO, &w->pa) == -CG_ENOMEM, "mb1: too many modules");

	mb1_build(w);
	put_le32(info + 24, 0x7ffffff0);
	CHECK(bootinfo_parse(&bi, MB1_BOOTLOADER_MAGIC, INFO, &w->pa) == -CG_ERANGE, "mb1: module list outside");

	mb1_build(w);
	put_le32(phys_window_at(w, MODS + 4), 0x3fffff);
	CHECK(bootinfo_parse(&bi, MB1_BOOTLOADER_MAGIC, INFO, &w->pa) == -CG_EINVAL, "mb1: module end before start");

	mb1_build(w);
	CHECK(bootinfo_parse(&bi, MB1_BOOTLOADER_MAGIC, WIN_BASE + WIN_SIZE - 100, &w->pa) == -CG_ERANGE,
	      "mb1: info straddles window end");
	CHECK(bootinfo_parse(&bi, MB1_BOOTLOADER_MAGIC, 0, &w->pa) == -CG_ERANGE, "mb1: info at 0");
	CHECK(bootinfo_parse(&bi, MB1_BOOTLOADER_MAGIC, ~0ULL - 10, &w->pa) == -CG_ERANGE, "mb1: info wraps");
}

static void test_mb1_fallbacks(struct phys_window *w)
{
	u8 *info = phys_window_at(w, INFO);
	u64 at = MMAP;

	mb1_build(w);
	put_le32(info, (1u << 0));
	CHECK(bootinfo_parse(&bi, MB1_BOOTLOADER_MAGIC, INFO, &w->pa) == 0, "mb1: mem_lower/upper only");
	CHECK(bi.mem.count == 2 && map_has(&bi.mem, 0, 0x9f000, MEMMAP_USABLE) &&
	      map_has(&bi.mem, MIB, 130048ULL * 1024, MEMMAP_USABLE), "mb1: synthesised map");
	CHECK(bi.cmdline[0] == 0 && bi.module_count == 0, "mb1: unflagged fields ignored");

	put_le32(info, (1u << 2));
	CHECK(bootinfo_parse(&bi, MB1_BOOTLOADER_MAGIC, INFO, &w->pa) == -CG_ENOENT, "mb1: no map at all");

	put_le32(info, (1u << 6) | (1u << 3));
	put_le32(info + 44, 0);
	put_le32(info + 48, 0);
	put_le32(info + 20, 0);
	put_le32(info + 24, 0);
	CHECK(bootinfo_parse(&bi, MB1_BOOTLOADER_MAGIC, INFO, &w->pa) == -CG_ENOENT,
	      "mb1: empty mmap and module list at address 0, no mem");

	mb1_build(w);
	put_le64(phys_window_at(w, MMAP + 4 + 8), ~0ULL - 0x1000);
	CHECK(bootinfo_parse(&bi, MB1_BOOTLOADER_MAGIC, INFO, &w->pa) == -CG_EINVAL,
	      "mb1: mmap entry wrapping past 2^64");
	put_le32(info, (1u << 6));

	/* 300 raw entries that normalise to two: more than the table holds. */
	for (int i = 0; i < 300; i++)
		mb1_mmap_entry(w, &at, 20, i % 2 ? 0x100000 : 0x200000, 0x100000, 1);
	put_le32(info + 44, (u32)(at - MMAP));
	CHECK(bootinfo_parse(&bi, MB1_BOOTLOADER_MAGIC, INFO, &w->pa) == 0 && bi.mem.count == 1 &&
	      map_has(&bi.mem, 0x100000, 0x200000, MEMMAP_USABLE), "mb1: 300 duplicate entries squeeze");

	at = MMAP;
	for (int i = 0; i < 300; i++)
		mb1_mmap_entry(w, &at, 20, (u64)i * 0x2000, 0x1000, 1 + i % 2);
	put_le32(info + 44, (u32)(at - MMAP));
	CHECK(bootinfo_parse(&bi, MB1_BOOTLOADER_MAGIC, INFO, &w->pa) == -CG_ENOMEM,
	      "mb1: 300 distinct ranges overflow");
}

/* ---- Multiboot 2 ---- */

struct mb2 {
	u8 b[4096];
	u32 len;
};

static void mb2_begin(struct mb2 *m)
{
	memset(m, 0, sizeof(*m));
	m->len = 8;
}

/* Append a tag with payload; returns its offset. Pads to 8. */
static u32 mb2_tag(struct mb2 *m, u32 type, const void *payload, u32 plen)
{
	u32 off = m->len;

	put_le32(m->b + off, type);
	put_le32(m->b + off + 4, 8 + plen);
	if (plen)
		memcpy(m->b + off + 8, payload, plen);
	m->len = (u32)ALIGN_UP(off + 8 + plen, 8);
	return off;
}

static void mb2_end(struct mb2 *m)
{
	mb2_tag(m, 0, NULL, 0);
	put_le32(m->b, m->len);
}

static u32 mb2_mmap_tag(struct mb2 *m, u32 entry_size, u32 n, const u64 (*ents)[3])
{
	u8 p[8 + 16 * 64] = { 0 };

	put_le32(p, entry_size);
	for (u32 i = 0; i < n; i++) {
		put_le64(p + 8 + i * entry_size, ents[i][0]);
		put_le64(p + 16 + i * entry_size, ents[i][1]);
		put_le32(p + 24 + i * entry_size, (u32)ents[i][2]);
	}
	return mb2_tag(m, 6, p, 8 + n * entry_size);
}

static const u64 mb2_ents[3][3] = {
	{ 0, 0x9fc00, 1 }, { 0x100000, 0x3ff00000, 1 }, { 0xfec00000, 0x1000, 2 },
};

static u32 acpi_old_off, acpi_new_off;

static void mb2_build(struct mb2 *m, bool with_new_acpi)
{
	u8 mod[32] = { 0 };
	u8 rsdp[36] = { 'R', 'S', 'D', ' ', 'P', 'T', 'R', ' ' };
	u8 mem[8];

	mb2_begin(m);
	mb2_tag(m, 1, "quiet", 6);
	mb2_tag(m, 2, "Limine", 7);
	put_le32(mod, 0x800000);
	put_le32(mod + 4, 0x900000);
	memcpy(mod + 8, "vmlinuz", 8);
	mb2_tag(m, 3, mod, 16);
	put_le32(mem, 639);
	put_le32(mem + 4, 1047552);
	mb2_tag(m, 4, mem, 8);
	mb2_mmap_tag(m, 24, 3, mb2_ents);
	if (with_new_acpi)
		acpi_new_off = mb2_tag(m, 15, rsdp, 36);
	acpi_old_off = mb2_tag(m, 14, rsdp, 20);
	mb2_tag(m, 21, "ignored!", 8);
	mb2_tag(m, 12, mem, 8);
	mb2_end(m);
}

static int mb2_parse_at(struct phys_window *w, const struct mb2 *m, u64 addr)
{
	u64 room = w->base + w->size - addr;

	memset(w->buf, 0, w->size);
	/* Only what fits: a structure may be placed to overhang the window. */
	memcpy(phys_window_at(w, addr), m->b, m->len < room ? m->len : room);
	return bootinfo_parse(&bi, MB2_BOOTLOADER_MAGIC, addr, &w->pa);
}

static int mb2_parse(struct phys_window *w, const struct mb2 *m)
{
	return mb2_parse_at(w, m, INFO);
}

static void test_mb2_good(struct phys_window *w)
{
	static struct mb2 m;

	mb2_build(&m, true);
	CHECK(mb2_parse(w, &m) == 0, "mb2: full structure parses");
	CHECK(bi.protocol == BOOT_MB2 && bi.info_addr == INFO && bi.info_len == m.len, "mb2: info range");
	CHECK(strcmp(bi.cmdline, "quiet") == 0 && strcmp(bi.loader_name, "Limine") == 0, "mb2: strings");
	CHECK(bi.module_count == 1 && bi.modules[0].start == 0x800000 && bi.modules[0].end == 0x900000 &&
	      strcmp(bi.modules[0].cmdline, "vmlinuz") == 0, "mb2: module");
	CHECK(bi.mem.count == 3 && map_has(&bi.mem, 0, 0x9f000, MEMMAP_USABLE) &&
	      map_has(&bi.mem, 0x100000, 0x3ff00000, MEMMAP_USABLE) &&
	      map_has(&bi.mem, 0xfec00000, 0x1000, MEMMAP_RESERVED), "mb2: mmap tag, not meminfo");
	CHECK(bi.rsdp_addr == INFO + acpi_new_off + 8, "mb2: new RSDP preferred even before old tag");
	CHECK(bi.efi, "mb2: efi system table tag seen");

	mb2_build(&m, false);
	CHECK(mb2_parse(w, &m) == 0 && bi.rsdp_addr == INFO + acpi_old_off + 8 && bi.efi,
	      "mb2: old RSDP used when alone");

	/* Extended entries (size 32) must be stepped over by entry_size. */
	mb2_begin(&m);
	{
		u8 p[8 + 32 * 2] = { 0 };

		put_le32(p, 32);
		put_le64(p + 8, 0x100000);
		put_le64(p + 16, 0x100000);
		put_le32(p + 24, 1);
		put_le64(p + 8 + 32, 0x300000);
		put_le64(p + 16 + 32, 0x1000);
		put_le32(p + 24 + 32, 4);
		mb2_tag(&m, 6, p, sizeof(p));
	}
	mb2_end(&m);
	CHECK(mb2_parse(w, &m) == 0 && bi.mem.count == 2 && map_has(&bi.mem, 0x300000, 0x1000, MEMMAP_ACPI_NVS),
	      "mb2: entry_size 32");

	/* Module string without NUL inside its tag stops at the tag end. */
	mb2_begin(&m);
	{
		u8 mod[16] = { 0 };

		put_le32(mod, 0x1000);
		put_le32(mod + 4, 0x2000);
		memcpy(mod + 8, "ABCDEFGH", 8);
		mb2_tag(&m, 3, mod, 16);
		mb2_tag(&m, 2, "ZZZZ", 4);
	}
	mb2_mmap_tag(&m, 24, 3, mb2_ents);
	mb2_end(&m);
	CHECK(mb2_parse(w, &m) == 0 && strcmp(bi.modules[0].cmdline, "ABCDEFGH") == 0 &&
	      strcmp(bi.loader_name, "ZZZZ") == 0, "mb2: unterminated strings bounded by tag");

	mb2_begin(&m);
	{
		u8 mem[8];

		put_le32(mem, 600);
		put_le32(mem + 4, 4096);
		mb2_tag(&m, 4, mem, 8);
	}
	mb2_end(&m);
	CHECK(mb2_parse(w, &m) == 0 && bi.mem.count == 2 && map_has(&bi.mem, MIB, 4 * MIB, MEMMAP_USABLE),
	      "mb2: meminfo alone synthesises a map");

	mb2_begin(&m);
	mb2_tag(&m, 1, "x", 2);
	mb2_end(&m);
	CHECK(mb2_parse(w, &m) == -CG_ENOENT, "mb2: no memory information");
}

static void test_mb2_bad(struct phys_window *w)
{
	static struct mb2 m;
	u32 off;

	mb2_build(&m, true);
	put_le32(m.b + 8 + 4, 4);
	CHECK(mb2_parse(w, &m) == -CG_EINVAL, "mb2: tag size < 8");

	mb2_build(&m, true);
	put_le32(m.b + 8 + 4, m.len);
	CHECK(mb2_parse(w, &m) == -CG_EINVAL, "mb2: tag runs past total_size");

	mb2_build(&m, true);
	put_le32(m.b, m.len - 8);
	CHECK(mb2_parse(w, &m) == -CG_EINVAL, "mb2: end tag outside total_size");

	mb2_begin(&m);
	mb2_mmap_tag(&m, 24, 3, mb2_ents);
	put_le32(m.b, m.len);
	CHECK(mb2_parse(w, &m) == -CG_EINVAL, "mb2: missing end tag");

	mb2_begin(&m);
	mb2_mmap_tag(&m, 24, 3, mb2_ents);
	m.len += 4; /* a 4-byte fragment where a tag header would be */
	put_le32(m.b, m.len);
	CHECK(mb2_parse(w, &m) == -CG_EINVAL, "mb2: fragment instead of end tag");

	mb2_begin(&m);
	put_le32(m.b, 8);
	CHECK(mb2_parse(w, &m) == -CG_EINVAL, "mb2: total_size 8");
	put_le32(m.b, 0);
	CHECK(mb2_parse(w, &m) == -CG_EINVAL, "mb2: total_size 0");

	mb2_build(&m, true);
	put_le32(m.b, 0x80000000u);
	CHECK(mb2_parse(w, &m) == -CG_ERANGE, "mb2: total_size past window");
	mb2_build(&m, true);
	CHECK(mb2_parse_at(w, &m, WIN_BASE + WIN_SIZE - 16) == -CG_ERANGE, "mb2: structure straddles window end");
	CHECK(bootinfo_parse(&bi, MB2_BOOTLOADER_MAGIC, 0x1000, &w->pa) == -CG_ERANGE, "mb2: info outside");

	mb2_begin(&m);
	mb2_mmap_tag(&m, 20, 3, mb2_ents);
	mb2_end(&m);
	CHECK(mb2_parse(w, &m) == -CG_EINVAL, "mb2: mmap entry_size 20");

	mb2_begin(&m);
	mb2_mmap_tag(&m, 28, 2, mb2_ents);
	mb2_end(&m);
	CHECK(mb2_parse(w, &m) == -CG_EINVAL, "mb2: mmap entry_size 28 (not a multiple of 8)");

	mb2_begin(&m);
	off = mb2_mmap_tag(&m, 24, 3, mb2_ents);
	put_le32(m.b + off + 4, 16 + 24 * 3 - 8);
	mb2_end(&m);
	CHECK(mb2_parse(w, &m) == -CG_EINVAL, "mb2: mmap tag size not a whole number of entries");

	mb2_begin(&m);
	mb2_mmap_tag(&m, 0, 0, mb2_ents);
	mb2_end(&m);
	CHECK(mb2_parse(w, &m) == -CG_EINVAL, "mb2: mmap entry_size 0");

	mb2_begin(&m);
	mb2_tag(&m, 3, "\x00\x10\x00\x00", 4);
	mb2_end(&m);
	CHECK(mb2_parse(w, &m) == -CG_EINVAL, "mb2: module tag too short");

	mb2_begin(&m);
	mb2_mmap_tag(&m, 24, 3, mb2_ents);
	mb2_tag(&m, 15, "RSD PTR ", 8);
	mb2_end(&m);
	CHECK(mb2_parse(w, &m) == -CG_EINVAL, "mb2: ACPI new tag too short for an RSDP");

	mb2_begin(&m);
	mb2_mmap_tag(&m, 24, 3, mb2_ents);
	for (int i = 0; i <= BOOTINFO_MODULES_MAX; i++) {
		u8 mod[8] = { 0 };

		mb2_tag(&m, 3, mod, 8);
	}
	mb2_end(&m);
	CHECK(mb2_parse(w, &m) == -CG_ENOMEM, "mb2: too many modules");

	mb2_build(&m, true);
	CHECK(bootinfo_parse(&bi, MB1_BOOTLOADER_MAGIC ^ 1, INFO, &w->pa) == -CG_EINVAL, "mb2: wrong magic");
}

/* Random byte damage to valid structures must end in a code, never a crash
 * or a sanitizer report; success must still leave a normal map. */
static void fuzz(struct phys_window *w, int iters)
{
	static struct mb2 good, m;
	int ok = 0, errs = 0, weird = 0;

	mb2_build(&good, true);
	for (int it = 0; it < iters; it++) {
		int err, flips = 1 + (int)check_rand_below(8);
		bool mb1 = it % 3 == 0;

		if (mb1) {
			mb1_build(w);
			for (int f = 0; f < flips; f++) {
				u64 a = check_rand_below(2) ? INFO + check_rand_below(116) : MMAP + check_rand_below(104);

				*phys_window_at(w, a) = (u8)check_rand();
			}
			err = bootinfo_parse(&bi, MB1_BOOTLOADER_MAGIC, INFO, &w->pa);
		} else {
			u64 at = WIN_BASE + WIN_SIZE - ALIGN_UP(good.len, 8);

			m = good;
			for (int f = 0; f < flips; f++)
				m.b[check_rand_below(good.len)] = (u8)check_rand();
			/* Placed flush with the window end: any overread is caught. */
			err = mb2_parse_at(w, &m, at);
		}
		if (err == 0) {
			ok++;
			for (u32 i = 1; i < bi.mem.count; i++)
				if (bi.mem.e[i - 1].base + bi.mem.e[i - 1].len > bi.mem.e[i].base)
					weird++;
			if (bi.module_count > BOOTINFO_MODULES_MAX)
				weird++;
		} else if (err == -CG_EINVAL || err == -CG_ERANGE || err == -CG_ENOENT || err == -CG_ENOMEM) {
			errs++;
		} else {
			weird++;
		}
	}
	printf("bootinfo fuzz: %d parsed, %d rejected\n", ok, errs);
	CHECK(weird == 0, "fuzz: only documented results, normal maps on success");
	CHECK(ok > 0 && errs > 0, "fuzz: both outcomes exercised");
}

int main(void)
{
	struct phys_window w;

	phys_window_open(&w, WIN_BASE, WIN_SIZE);
	test_mb1_good(&w);
	test_mb1_bad(&w);
	test_mb1_fallbacks(&w);
	test_mb2_good(&w);
	test_mb2_bad(&w);
	fuzz(&w, 4000);
	phys_window_close(&w);
	return check_summary();
}
