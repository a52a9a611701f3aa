/* guest_linux: synthetic bzImages built here (a setup header with the
 * fields the Linux boot protocol defines, then a patterned protected-mode
 * part and a trailing "signature" that must not be loaded) go through
 * linux_load into a fake guest RAM. Checked: every zero-page field the
 * kernel reads, the kernel/initrd/command line bytes, the GDT and identity
 * page tables (walked), that every write lands inside guest RAM and inside a
 * range the loader reports, and that every refusal (old protocol, no 64-bit
 * entry, truncation at each length, RAM/initrd/command line too big, bad
 * e820 map) writes nothing and says how to fix it. */
#include <stdlib.h>
#include <string.h>
#include <cg/errno.h>
#include "check.h"
#include "loader/guest_linux.h"

/* Setup header offsets (Linux boot protocol), spelled out independently of
 * guest_linux.c so a wrong constant there shows up here. */
#define O_SETUP_SECTS 0x1F1
#define O_SYSSIZE 0x1F4
#define O_VID_MODE 0x1FA
#define O_BOOT_FLAG 0x1FE
#define O_JUMP 0x200
#define O_HEADER 0x202
#define O_VERSION 0x206
#define O_TYPE_OF_LOADER 0x210
#define O_LOADFLAGS 0x211
#define O_CODE32_START 0x214
#define O_RAMDISK_IMAGE 0x218
#define O_RAMDISK_SIZE 0x21C
#define O_HEAP_END_PTR 0x224
#define O_CMD_LINE_PTR 0x228
#define O_INITRD_ADDR_MAX 0x22C
#define O_KERNEL_ALIGNMENT 0x230
#define O_RELOCATABLE 0x234
#define O_XLOADFLAGS 0x236
#define O_CMDLINE_SIZE 0x238
#define O_SETUP_DATA 0x250
#define O_PREF_ADDRESS 0x258
#define O_INIT_SIZE 0x260
#define O_HANDOVER 0x264
#define O_KERNEL_INFO 0x268
#define O_EXT_RAMDISK_IMAGE 0x0C0
#define O_EXT_RAMDISK_SIZE 0x0C4
#define O_EXT_CMD_LINE_PTR 0x0C8
#define O_SENTINEL 0x1EF
#define O_E820_ENTRIES 0x1E8
#define O_E820_TABLE 0x2D0

#define HDR_END 0x26C /* jump byte 0x6A: header through kernel_info_offset */
#define POISON 0xCC

/* ---- fake guest RAM: [0, size) is RAM, [0, backed) is stored ---- */

struct wrec {
	u64 gpa, len;
};

struct ram {
	u8 *buf;
	u64 backed, size;
	u64 writes, oob;
	struct wrec rec[8192];
	u32 nrec;
	u64 fail_at; /* a write touching this gpa fails; ~0: none */
};

static struct ram R;

static int ram_write(void *ctx, u64 gpa, const void *src, u64 len)
{
	struct ram *r = ctx;

	r->writes++;
	if (gpa > r->size || len > r->size - gpa) {
		r->oob++;
		return -CG_ERANGE;
	}
	if (r->fail_at >= gpa && r->fail_at - gpa < len)
		return -CG_EIO;
	if (r->nrec < ARRAY_SIZE(r->rec))
		r->rec[r->nrec++] = (struct wrec){ gpa, len };
	if (gpa < r->backed) {
		u64 k = len < r->backed - gpa ? len : r->backed - gpa;
		memcpy(r->buf + gpa, src, k);
	}
	return 0;
}

static void ram_reset(u64 size, u64 backed)
{
	free(R.buf);
	memset(&R, 0, sizeof(R));
	R.size = size;
	R.backed = backed < size ? backed : size;
	R.buf = malloc(R.backed);
	memset(R.buf, POISON, R.backed);
	R.fail_at = ~0ull;
}

static struct linux_guest_mem mem(void)
{
	return (struct linux_guest_mem){ ram_write, R.size, &R };
}

static u8 b8(u64 gpa)
{
	return R.buf[gpa];
}

static u16 b16(u64 gpa)
{
	u16 v;
	memcpy(&v, R.buf + gpa, 2);
	return v;
}

static u32 b32(u64 gpa)
{
	u32 v;
	memcpy(&v, R.buf + gpa, 4);
	return v;
}

static u64 b64(u64 gpa)
{
	u64 v;
	memcpy(&v, R.buf + gpa, 8);
	return v;
}

/* ---- synthetic bzImage ---- */

struct kopt {
	u8 setup_sects;  /* as written in the header (0 means 4) */
	u16 version;
	u16 xlf;
	u8 jump;         /* the byte at 0x201: the header ends at 0x202 + jump */
	u64 pref;
	u32 align, init_size, initrd_max, cmdline_size;
	u8 relocatable;
	u32 pm_len;      /* protected-mode bytes (multiple of 16) */
	u32 trailer;     /* bytes after the protected-mode part (a signature) */
};

static struct kopt kdef(void)
{
	return (struct kopt){
		.setup_sects = 4, .version = 0x020F, .xlf = 0x3, .jump = 0x6A,
		.pref = 16 * MIB, .align = 2 * MIB, .init_size = 4 * MIB,
		.initrd_max = 0x7FFFFFFF, .cmdline_size = 2047, .relocatable = 1,
		.pm_len = 64 * 1024, .trailer = 100,
	};
}

static u64 setup_length(const struct kopt *o)
{
	return ((u64)(o->setup_sects ? o->setup_sects : 4) + 1) * 512;
}

static u8 pm_byte(u64 i)
{
	return (u8)(i * 7 + 3);
}

static void put16(u8 *p, u16 v) { memcpy(p, &v, 2); }
static void put32(u8 *p, u32 v) { memcpy(p, &v, 4); }
static void put64(u8 *p, u64 v) { memcpy(p, &v, 8); }

static u8 *make_image(const struct kopt *o, u64 *size)
{
	u64 sl = setup_length(o);
	*size = sl + o->pm_len + o->trailer;
	u8 *img = malloc(*size);
	for (u64 i = 0; i < sl; i++)
		img[i] = (u8)(0x40 + i); /* setup code and header filler */
	img[O_SETUP_SECTS] = o->setup_sects;
	put32(img + O_SYSSIZE, o->pm_len / 16);
	put16(img + O_VID_MODE, 0xFFFF);
	put16(img + O_BOOT_FLAG, 0xAA55);
	img[O_JUMP] = 0xEB;
	img[O_JUMP + 1] = o->jump;
	memcpy(img + O_HEADER, "HdrS", 4);
	put16(img + O_VERSION, o->version);
	img[O_TYPE_OF_LOADER] = 0;
	img[O_LOADFLAGS] = 0x01 | 0x40; /* LOADED_HIGH, plus KEEP_SEGMENTS to be dropped */
	put32(img + O_CODE32_START, 0x100000);
	put32(img + O_RAMDISK_IMAGE, 0);
	put32(img + O_RAMDISK_SIZE, 0);
	put16(img + O_HEAP_END_PTR, 0);
	put32(img + O_CMD_LINE_PTR, 0);
	put32(img + O_INITRD_ADDR_MAX, o->initrd_max);
	put32(img + O_KERNEL_ALIGNMENT, o->align);
	img[O_RELOCATABLE] = o->relocatable;
	put16(img + O_XLOADFLAGS, o->xlf);
	put32(img + O_CMDLINE_SIZE, o->cmdline_size);
	put64(img + O_SETUP_DATA, 0x123456789ull); /* must be cleared */
	put64(img + O_PREF_ADDRESS, o->pref);
	put32(img + O_INIT_SIZE, o->init_size);
	put32(img + O_HANDOVER, 0x190);
	put32(img + O_KERNEL_INFO, 0xABCD1234);
	for (u64 i = 0; i < o->pm_len; i++)
		img[sl + i] = pm_byte(i);
	memset(img + sl + o->pm_len, 0xEE, o->trailer);
	return img;
}

/* The usual VM map: low RAM, the EBDA/ROM hole, RAM from 1 MiB. */
static struct linux_e820 MAP[3];

static const struct linux_e820 *std_map(u64 ram)
{
	MAP[0] = (struct linux_e820){ 0, 0x9FC00, LINUX_E820_RAM };
	MAP[1] = (struct linux_e820){ 0x9FC00, 0x100000 - 0x9FC00, LINUX_E820_RESERVED };
	MAP[2] = (struct linux_e820){ 0x100000, ram - 0x100000, LINUX_E820_RAM };
	return MAP;
}

static char err[256];

static int load(const struct kopt *o, const char *cmdline, const u8 *initrd, u64 initrd_size,
		struct linux_boot *out)
{
	u64 size;
	u8 *img = make_image(o, &size);
	struct linux_guest_mem m = mem();
	err[0] = 0;
	int rc = linux_load(&m, img, size, cmdline, initrd, initrd_size, std_map(R.size), 3, out, err,
			    sizeof(err));
	free(img);
	return rc;
}

static bool has(const char *s)
{
	return strstr(err, s) != NULL;
}

/* A refusal: -CG_EINVAL, a message containing want, nothing written. */
static void check_refused(int rc, const char *want, const char *what)
{
	CHECK(rc == -CG_EINVAL, what);
	CHECK(has(want), what);
	CHECK(R.writes == 0, what);
	if (!has(want))
		fprintf(stderr, "  message was: %s\n", err);
}

/* Every recorded write lies inside one of the ranges the loader reports. */
static bool writes_in(const struct linux_boot *b, u64 pm_len, u64 cmd_len, u32 npd)
{
	struct wrec ok[] = {
		{ b->boot_params, 4096 },
		{ b->gdt, (u64)b->gdt_limit + 1 },
		{ b->page_tables, (2 + (u64)npd) * 4096 },
		{ b->cmdline_addr, cmd_len + 1 },
		{ b->kernel_addr, pm_len },
		{ b->initrd_addr, b->initrd_size },
	};
	for (u32 i = 0; i < R.nrec; i++) {
		bool in = false;
		for (u32 j = 0; j < ARRAY_SIZE(ok); j++)
			in |= R.rec[i].gpa >= ok[j].gpa && R.rec[i].gpa + R.rec[i].len <= ok[j].gpa + ok[j].len;
		if (!in) {
			fprintf(stderr, "  stray write 0x%lx+0x%lx\n", (unsigned long)R.rec[i].gpa,
				(unsigned long)R.rec[i].len);
			return false;
		}
	}
	return R.oob == 0 && R.nrec < ARRAY_SIZE(R.rec);
}

/* Walk the loader's 4-level tables for va (2 MiB pages only); ~0 if not
 * mapped or malformed. */
static u64 walk(u64 cr3, u64 va)
{
	u64 e = b64(cr3 + ((va >> 39) & 511) * 8);
	if ((e & 3) != 3 || (e & 0x80))
		return ~0ull;
	e = b64((e & ~0xFFFull) + ((va >> 30) & 511) * 8);
	if ((e & 3) != 3 || (e & 0x80))
		return ~0ull;
	e = b64((e & ~0xFFFull) + ((va >> 21) & 511) * 8);
	if ((e & 0x83) != 0x83)
		return ~0ull;
	return (e & ~0x1FFFFFull & ((1ull << 52) - 1)) | (va & 0x1FFFFF);
}

/* ---- tests ---- */

static void test_valid(void)
{
	struct kopt o = kdef();
	struct linux_boot b;
	static u8 rd[3 * 4096 + 17];
	const char *cmd = "console=ttyS0 root=/dev/vda ro";

	for (u64 i = 0; i < sizeof(rd); i++)
		rd[i] = (u8)(i ^ 0x5A);
	ram_reset(64 * MIB, 64 * MIB);
	int rc = load(&o, cmd, rd, sizeof(rd), &b);
	CHECK(rc == 0, "valid: loads");
	if (rc) {
		fprintf(stderr, "  %s\n", err);
		return;
	}
	const u64 bp = b.boot_params;

	/* Reported layout. */
	CHECK(b.kernel_addr == 16 * MIB, "valid: kernel at pref_address");
	CHECK(b.entry64 == 16 * MIB + 0x200, "valid: 64-bit entry at load address + 0x200");
	CHECK(b.kernel_end == 20 * MIB, "valid: kernel_end = load + init_size");
	CHECK(bp == 0x7000, "valid: zero page at 0x7000");
	CHECK(b.cmdline_addr == 0x20000, "valid: command line at 0x20000");
	CHECK(b.page_tables == 0x9000, "valid: PML4 at 0x9000");
	CHECK(b.gdt == 0x8000 && b.gdt_limit == 31, "valid: GDT at 0x8000, 4 entries");
	CHECK(b.ident_bytes == 4 * GIB, "valid: 4 GiB identity map for a small VM");
	CHECK(b.initrd_size == sizeof(rd), "valid: initrd size");
	CHECK(b.initrd_addr == ((64 * MIB - sizeof(rd)) & ~0xFFFull), "valid: initrd page-aligned at top of RAM");
	CHECK(b.initrd_addr + b.initrd_size <= 64 * MIB, "valid: initrd inside RAM");

	/* Zero page: setup header copied from 0x1F1 to the header's end. */
	u64 size;
	u8 *img = make_image(&o, &size);
	CHECK(b8(bp + O_SETUP_SECTS) == 4, "bp: setup_sects copied");
	CHECK(b32(bp + O_SYSSIZE) == o.pm_len / 16, "bp: syssize copied");
	CHECK(b16(bp + O_VID_MODE) == 0xFFFF, "bp: vid_mode copied");
	CHECK(b16(bp + O_BOOT_FLAG) == 0xAA55, "bp: boot_flag copied");
	CHECK(!memcmp(R.buf + bp + O_HEADER, "HdrS", 4), "bp: HdrS copied");
	CHECK(b16(bp + O_VERSION) == 0x020F, "bp: version copied");
	CHECK(b32(bp + O_INIT_SIZE) == 4 * MIB, "bp: init_size copied");
	CHECK(b16(bp + O_XLOADFLAGS) == 3, "bp: xloadflags copied");
	CHECK(b32(bp + O_KERNEL_INFO) == 0xABCD1234, "bp: header copied through its last field");
	CHECK(b32(bp + O_KERNEL_ALIGNMENT) == 2 * MIB, "bp: kernel_alignment copied");
	CHECK(b64(bp + O_PREF_ADDRESS) == 16 * MIB, "bp: pref_address copied");
	bool rest = true;
	for (u64 i = HDR_END; i < 4096; i++)
		if (i < O_E820_TABLE || i >= O_E820_TABLE + 3 * 20)
			rest &= b8(bp + i) == 0;
	CHECK(rest, "bp: nothing past the header's end but the e820 table");
	bool low = true;
	for (u64 i = 0; i < 0x1F1; i++)
		if (i != O_E820_ENTRIES)
			low &= b8(bp + i) == 0; /* ext_* fields are zero here too */
	CHECK(low, "bp: below the header only e820_entries is set");
	CHECK(b8(bp + O_SENTINEL) == 0, "bp: sentinel zero (the kernel keeps our fields)");

	/* Loader-written header fields. */
	CHECK(b8(bp + O_TYPE_OF_LOADER) == 0xFF, "bp: type_of_loader 0xFF");
	CHECK(b8(bp + O_LOADFLAGS) == 0x81, "bp: loadflags LOADED_HIGH|CAN_USE_HEAP, no KEEP_SEGMENTS");
	CHECK(b32(bp + O_CODE32_START) == 16 * MIB, "bp: code32_start = load address");
	CHECK(b16(bp + O_HEAP_END_PTR) == 0xFE00, "bp: heap_end_ptr");
	CHECK(b32(bp + O_CMD_LINE_PTR) == 0x20000, "bp: cmd_line_ptr");
	CHECK(b32(bp + O_EXT_CMD_LINE_PTR) == 0, "bp: ext_cmd_line_ptr");
	CHECK(b32(bp + O_RAMDISK_IMAGE) == (u32)b.initrd_addr, "bp: ramdisk_image");
	CHECK(b32(bp + O_RAMDISK_SIZE) == sizeof(rd), "bp: ramdisk_size");
	CHECK(b32(bp + O_EXT_RAMDISK_IMAGE) == 0 && b32(bp + O_EXT_RAMDISK_SIZE) == 0, "bp: ext_ramdisk_*");
	CHECK(b64(bp + O_SETUP_DATA) == 0, "bp: setup_data cleared");
	CHECK(b8(bp + O_E820_ENTRIES) == 3, "bp: e820_entries");
	bool e820 = true;
	for (u32 i = 0; i < 3; i++) {
		u64 e = bp + O_E820_TABLE + i * 20;
		e820 &= b64(e) == MAP[i].addr && b64(e + 8) == MAP[i].size && b32(e + 16) == MAP[i].type;
	}
	CHECK(e820, "bp: e820_table entries (addr, size, type; 20 bytes each)");

	/* Payloads. */
	CHECK(!strcmp((const char *)R.buf + 0x20000, cmd), "cmdline: NUL-terminated copy");
	CHECK(!memcmp(R.buf + b.kernel_addr, img + setup_length(&o), o.pm_len), "kernel: protected-mode part loaded");
	CHECK(b8(b.kernel_addr + o.pm_len) == POISON, "kernel: trailer past syssize not loaded");
	CHECK(b8(b.kernel_addr - 1) == POISON, "kernel: nothing before it");
	CHECK(!memcmp(R.buf + b.initrd_addr, rd, sizeof(rd)), "initrd: copied");
	free(img);

	/* GDT: null, null, 64-bit code, flat data (SDM 3.4.5). */
	u64 cs = b64(b.gdt + 0x10), ds = b64(b.gdt + 0x18);
	CHECK(b64(b.gdt) == 0 && b64(b.gdt + 8) == 0, "gdt: two null entries");
	CHECK(cs == 0x00AF9B000000FFFFull, "gdt: 0x10 = 64-bit code, execute/read, accessed");
	CHECK(ds == 0x00CF93000000FFFFull, "gdt: 0x18 = flat data, read/write, accessed");
	CHECK(((cs >> 53) & 1) && !((cs >> 54) & 1), "gdt: code L=1, D=0");
	CHECK(((cs >> 47) & 1) && ((ds >> 47) & 1), "gdt: present");
	CHECK(((cs >> 45) & 3) == 0 && ((ds >> 45) & 3) == 0, "gdt: DPL 0");

	/* Page tables: identity, 2 MiB pages, first 4 GiB. */
	CHECK(b64(0x9000) == (0xA000 | 3), "pml4[0] -> pdpt, present, writable");
	bool pml4_rest = true;
	for (u32 i = 1; i < 512; i++)
		pml4_rest &= b64(0x9000 + i * 8) == 0;
	CHECK(pml4_rest, "pml4: only entry 0");
	bool pdpt = true;
	for (u32 i = 0; i < 512; i++)
		pdpt &= b64(0xA000 + i * 8) == (i < 4 ? (0xB000 + i * 4096ull) | 3 : 0);
	CHECK(pdpt, "pdpt: 4 page directories, rest empty");
	bool pds = true;
	for (u64 i = 0; i < 4 * 512; i++)
		pds &= b64(0xB000 + i * 8) == ((i * 2 * MIB) | 0x83);
	CHECK(pds, "pd: every 2 MiB page identity, P|RW|PS");
	u64 probes[] = { 0, 0x7000, 0x20000, 16 * MIB + 0x200, b.initrd_addr, 0xFEE00000, 4 * GIB - 1 };
	bool ident = true;
	for (u32 i = 0; i < ARRAY_SIZE(probes); i++)
		ident &= walk(0x9000, probes[i]) == probes[i];
	CHECK(ident, "walk: identity for zero page, cmdline, entry, initrd, LAPIC, 4 GiB - 1");
	CHECK(walk(0x9000, 4 * GIB) == ~0ull, "walk: nothing past 4 GiB");

	CHECK(writes_in(&b, o.pm_len, strlen(cmd), 4), "writes: all inside reported ranges and RAM");
}

static void test_setup_sects_zero(void)
{
	struct kopt o = kdef();
	struct linux_boot b;
	o.setup_sects = 0; /* means 4: protected mode starts at 5 * 512 */
	ram_reset(64 * MIB, 64 * MIB);
	u64 size;
	u8 *img = make_image(&o, &size);
	struct linux_guest_mem m = mem();
	int rc = linux_load(&m, img, size, "", NULL, 0, std_map(R.size), 3, &b, err, sizeof(err));
	CHECK(rc == 0, "setup_sects 0: loads");
	CHECK(!memcmp(R.buf + b.kernel_addr, img + 5 * 512, o.pm_len), "setup_sects 0: kernel from 0xA00");
	CHECK(b8(b.boot_params + O_SETUP_SECTS) == 0, "setup_sects 0: copied as is");
	CHECK(R.buf[0x20000] == 0, "empty command line: a lone NUL");
	CHECK(b.initrd_addr == 0 && b32(b.boot_params + O_RAMDISK_IMAGE) == 0 &&
		      b32(b.boot_params + O_RAMDISK_SIZE) == 0,
	      "no initrd: ramdisk fields zero");
	free(img);

	/* setup_sects 1 with a 0x6A header still fits (header ends at 0x26C). */
	o = kdef();
	o.setup_sects = 1;
	ram_reset(64 * MIB, 64 * MIB);
	CHECK(load(&o, "", NULL, 0, &b) == 0, "setup_sects 1: loads");
	img = make_image(&o, &size);
	CHECK(!memcmp(R.buf + b.kernel_addr, img + 1024, o.pm_len), "setup_sects 1: kernel from 0x400");
	free(img);
}

static void test_bad_headers(void)
{
	struct linux_boot b;
	struct kopt o;

	o = kdef();
	o.version = 0x020B;
	ram_reset(64 * MIB, 64 * MIB);
	check_refused(load(&o, "", NULL, 0, &b), "boot protocol 2.11", "protocol 2.11 refused");
	CHECK(has("use a 64-bit kernel with boot protocol 2.12 or later"), "protocol 2.11: says the fix");

	o = kdef();
	o.version = 0x0206;
	ram_reset(64 * MIB, 64 * MIB);
	check_refused(load(&o, "", NULL, 0, &b), "2.06", "protocol 2.06 refused");

	o = kdef();
	o.version = 0x020C;
	ram_reset(64 * MIB, 64 * MIB);
	CHECK(load(&o, "", NULL, 0, &b) == 0, "protocol 2.12 accepted");

	o = kdef();
	o.xlf = 0x2; /* CAN_BE_LOADED_ABOVE_4G only */
	ram_reset(64 * MIB, 64 * MIB);
	check_refused(load(&o, "", NULL, 0, &b), "XLF_KERNEL_64", "no XLF_KERNEL_64 refused");
	CHECK(has("2.12 or later"), "no XLF_KERNEL_64: says the fix");

	o = kdef();
	o.jump = 0x60; /* header would end at 0x262: no room for init_size */
	ram_reset(64 * MIB, 64 * MIB);
	check_refused(load(&o, "", NULL, 0, &b), "before init_size", "header too short refused");

	o = kdef();
	o.align = 3 * MIB;
	ram_reset(64 * MIB, 64 * MIB);
	check_refused(load(&o, "", NULL, 0, &b), "kernel_alignment", "bad kernel_alignment refused");

	o = kdef();
	o.pm_len = 0;
	o.trailer = 4096;
	ram_reset(64 * MIB, 64 * MIB);
	check_refused(load(&o, "", NULL, 0, &b), "syssize 0", "syssize 0 refused");

	/* Wrong boot flag, wrong magic. */
	o = kdef();
	u64 size;
	u8 *img = make_image(&o, &size);
	struct linux_guest_mem m;
	img[O_BOOT_FLAG] = 0x00;
	ram_reset(64 * MIB, 64 * MIB);
	m = mem();
	check_refused(linux_load(&m, img, size, "", NULL, 0, std_map(R.size), 3, &b, err, sizeof(err)),
		      "boot_flag", "bad boot flag refused");
	img[O_BOOT_FLAG] = 0x55;
	img[O_BOOT_FLAG + 1] = 0xAA;
	img[O_HEADER] = 'h';
	check_refused(linux_load(&m, img, size, "", NULL, 0, std_map(R.size), 3, &b, err, sizeof(err)),
		      "HdrS", "bad magic refused");
	free(img);
}

static void test_truncated(void)
{
	struct kopt o = kdef();
	struct linux_boot b;
	u64 size;
	u8 *img = make_image(&o, &size);
	struct linux_guest_mem m;
	u32 bad = 0;

	/* Every length below the header's end: refused, nothing written, and
	 * ASan checks nothing past the length is read (a copy of that length). */
	ram_reset(64 * MIB, 64 * MIB);
	m = mem();
	for (u64 len = 0; len < HDR_END; len++) {
		u8 *cut = malloc(len ? len : 1);
		memcpy(cut, img, len);
		int rc = linux_load(&m, cut, len, "", NULL, 0, std_map(R.size), 3, &b, err, sizeof(err));
		bad += rc != -CG_EINVAL;
		free(cut);
	}
	CHECK(bad == 0, "truncated in the header: every length refused");
	CHECK(R.writes == 0, "truncated in the header: nothing written");

	/* Past the header but short of setup + syssize * 16. */
	u64 need = setup_length(&o) + o.pm_len;
	u64 lens[] = { HDR_END, 1024, setup_length(&o), need - 16, need - 1 };
	bad = 0;
	for (u32 i = 0; i < ARRAY_SIZE(lens); i++) {
		u8 *cut = malloc(lens[i]);
		memcpy(cut, img, lens[i]);
		err[0] = 0;
		int rc = linux_load(&m, cut, lens[i], "", NULL, 0, std_map(R.size), 3, &b, err, sizeof(err));
		bad += rc != -CG_EINVAL || !has("truncated file");
		free(cut);
	}
	CHECK(bad == 0, "image smaller than the header claims: refused as truncated");
	CHECK(R.writes == 0, "image smaller than claimed: nothing written");

	/* Exactly setup + protected mode, no trailer: fine. */
	CHECK(linux_load(&m, img, need, "", NULL, 0, std_map(R.size), 3, &b, err, sizeof(err)) == 0,
	      "image without trailer loads");
	free(img);
}

static void test_placement(void)
{
	struct kopt o;
	struct linux_boot b;

	/* init_size past RAM: says how much RAM the kernel needs. */
	o = kdef();
	o.init_size = 100 * MIB;
	ram_reset(64 * MIB, 1 * MIB);
	check_refused(load(&o, "", NULL, 0, &b), "give the VM at least 116 MiB", "init_size > RAM refused");

	/* Just fits: pref + init_size == RAM end. */
	o = kdef();
	o.init_size = 48 * MIB;
	ram_reset(64 * MIB, 1 * MIB);
	CHECK(load(&o, "", NULL, 0, &b) == 0 && b.kernel_addr == 16 * MIB && b.kernel_end == 64 * MIB,
	      "init_size up to RAM end: at pref_address");

	/* pref_address not aligned: first aligned address >= 16 MiB; the
	 * kernel still runs up to pref_address + init_size. */
	o = kdef();
	o.pref = 17 * MIB;
	ram_reset(64 * MIB, 1 * MIB);
	CHECK(load(&o, "", NULL, 0, &b) == 0 && b.kernel_addr == 16 * MIB && b.kernel_end == 21 * MIB,
	      "unaligned pref: loaded at 16 MiB, runs to pref + init_size");
	o.align = 8 * MIB;
	o.pref = 20 * MIB;
	ram_reset(64 * MIB, 1 * MIB);
	CHECK(load(&o, "", NULL, 0, &b) == 0 && b.kernel_addr == 16 * MIB && b.kernel_end == 24 * MIB,
	      "unaligned pref, 8 MiB alignment");

	/* Small VM, kernel with a low pref_address (1 MiB, not 2 MiB-aligned):
	 * 16 MiB does not fit in 12 MiB, so aligned up from 1 MiB. */
	o = kdef();
	o.pref = 1 * MIB;
	ram_reset(12 * MIB, 12 * MIB);
	CHECK(load(&o, "", NULL, 0, &b) == 0 && b.kernel_addr == 2 * MIB && b.entry64 == 2 * MIB + 0x200 &&
		      b.kernel_end == 6 * MIB,
	      "small VM, low pref: kernel at 2 MiB");
	CHECK(writes_in(&b, o.pm_len, 0, 4), "small VM: writes inside reported ranges");

	/* A stock kernel (pref 16 MiB) in 12 MiB: loading it lower would not
	 * help, it moves itself up to pref_address. */
	o = kdef();
	ram_reset(12 * MIB, 12 * MIB);
	check_refused(load(&o, "", NULL, 0, &b), "give the VM at least 20 MiB", "pref 16 MiB in 12 MiB refused");
	ram_reset(5 * MIB, 5 * MIB);
	check_refused(load(&o, "", NULL, 0, &b), "give the VM at least 20 MiB", "tiny VM refused");

	/* Not relocatable: pref_address or nothing. */
	o = kdef();
	o.relocatable = 0;
	ram_reset(12 * MIB, 12 * MIB);
	check_refused(load(&o, "", NULL, 0, &b), "not relocatable", "non-relocatable, small VM refused");
	ram_reset(64 * MIB, 1 * MIB);
	CHECK(load(&o, "", NULL, 0, &b) == 0 && b.kernel_addr == 16 * MIB, "non-relocatable at pref_address");

	/* pref_address past RAM or past physical addresses: refused, no wrap. */
	o = kdef();
	o.pref = GIB;
	ram_reset(64 * MIB, 1 * MIB);
	check_refused(load(&o, "", NULL, 0, &b), "give the VM at least 1028 MiB", "pref 1 GiB in 64 MiB refused");
	o.pref = ~0ull & ~(u64)(2 * MIB - 1);
	ram_reset(64 * MIB, 1 * MIB);
	check_refused(load(&o, "", NULL, 0, &b), "outside any guest RAM", "huge pref refused");
}

static void test_initrd(void)
{
	struct kopt o = kdef();
	struct linux_boot b;
	u8 *rd = calloc(1, 64 * MIB);

	/* Kernel 16..20 MiB in 64 MiB: 44 MiB left. */
	ram_reset(64 * MIB, 1 * MIB);
	check_refused(load(&o, "", rd, 50 * MIB, &b), "give the VM at least 70 MiB", "initrd too big for RAM");
	ram_reset(64 * MIB, 1 * MIB);
	CHECK(load(&o, "", rd, 44 * MIB, &b) == 0 && b.initrd_addr == 20 * MIB, "initrd filling RAM to the kernel");
	ram_reset(64 * MIB, 1 * MIB);
	CHECK(load(&o, "", rd, 44 * MIB + 1, &b) == -CG_EINVAL, "initrd one byte too big");

	/* Capped by initrd_addr_max, not by RAM: the end is at or below it. */
	o.initrd_max = 48 * MIB - 1;
	ram_reset(64 * MIB, 1 * MIB);
	CHECK(load(&o, "", rd, 5000, &b) == 0, "initrd below initrd_addr_max: loads");
	CHECK(b.initrd_addr == 48 * MIB - 8192 && b.initrd_addr + b.initrd_size <= 48 * MIB,
	      "initrd ends below initrd_addr_max + 1, page-aligned start");
	ram_reset(64 * MIB, 1 * MIB);
	check_refused(load(&o, "", rd, 30 * MIB, &b), "initrd_addr_max", "initrd past initrd_addr_max refused");
	CHECK(has("use a smaller initrd"), "initrd past initrd_addr_max: says the fix");

	/* NULL initrd with a size means none. */
	o = kdef();
	ram_reset(64 * MIB, 1 * MIB);
	CHECK(load(&o, "", NULL, 4096, &b) == 0 && b.initrd_size == 0 && b.initrd_addr == 0, "NULL initrd: none");
	free(rd);
}

static void test_cmdline(void)
{
	struct kopt o = kdef();
	struct linux_boot b;
	char buf[70000];

	o.cmdline_size = 16;
	ram_reset(64 * MIB, 1 * MIB);
	check_refused(load(&o, "0123456789abcdefg", NULL, 0, &b), "at most 16", "cmdline over cmdline_size refused");
	ram_reset(64 * MIB, 1 * MIB);
	CHECK(load(&o, "0123456789abcdef", NULL, 0, &b) == 0, "cmdline of exactly cmdline_size");
	CHECK(!strcmp((char *)R.buf + 0x20000, "0123456789abcdef"), "cmdline copied with its NUL");

	/* A kernel allowing more than the 64 KiB area: the area is the limit. */
	o.cmdline_size = 0x7FFFFFFF;
	memset(buf, 'x', sizeof(buf) - 1);
	buf[sizeof(buf) - 1] = 0;
	ram_reset(64 * MIB, 1 * MIB);
	check_refused(load(&o, buf, NULL, 0, &b), "at most 65535", "cmdline over the 64 KiB area refused");
	buf[65535] = 0;
	ram_reset(64 * MIB, 1 * MIB);
	CHECK(load(&o, buf, NULL, 0, &b) == 0, "cmdline filling the area loads");
	CHECK(writes_in(&b, o.pm_len, 65535, 4), "long cmdline: writes inside reported ranges");
}

static void test_e820(void)
{
	struct kopt o = kdef();
	struct linux_boot b;
	u64 size;
	u8 *img = make_image(&o, &size);
	struct linux_e820 map[LINUX_E820_MAX + 1];
	struct linux_guest_mem m;

	/* 128 entries: 1 MiB RAM each up to 64 MiB, then reserved ones. */
	for (u32 i = 0; i < ARRAY_SIZE(map); i++)
		map[i] = (struct linux_e820){ i * MIB, MIB, i < 64 ? LINUX_E820_RAM : LINUX_E820_RESERVED };
	ram_reset(64 * MIB, 1 * MIB);
	m = mem();
	CHECK(linux_load(&m, img, size, "", NULL, 0, map, LINUX_E820_MAX, &b, err, sizeof(err)) == 0,
	      "128 entries, kernel spanning many: loads");
	CHECK(b8(0x7000 + O_E820_ENTRIES) == 128, "e820_entries 128");
	CHECK(b64(0x7000 + O_E820_TABLE + 127 * 20) == 127 * MIB &&
		      b32(0x7000 + O_E820_TABLE + 127 * 20 + 16) == LINUX_E820_RESERVED,
	      "last e820 entry at the end of the table");

	ram_reset(64 * MIB, 1 * MIB);
	m = mem();
	check_refused(linux_load(&m, img, size, "", NULL, 0, map, LINUX_E820_MAX + 1, &b, err, sizeof(err)),
		      "1 to 128", "129 entries refused");
	check_refused(linux_load(&m, img, size, "", NULL, 0, map, 0, &b, err, sizeof(err)), "0 entries",
		      "empty map refused");

	/* RAM map ending at 18 MiB: the kernel is not all RAM. */
	struct linux_e820 shortmap[2] = { { 0, 0x9FC00, 1 }, { MIB, 17 * MIB, 1 } };
	check_refused(linux_load(&m, img, size, "", NULL, 0, shortmap, 2, &b, err, sizeof(err)),
		      "kernel (init_size)", "kernel outside e820 RAM refused");
	/* Low RAM marked reserved: the zero page is not RAM. */
	struct linux_e820 nolow[2] = { { 0, MIB, 2 }, { MIB, 63 * MIB, 1 } };
	check_refused(linux_load(&m, img, size, "", NULL, 0, nolow, 2, &b, err, sizeof(err)), "zero page",
		      "zero page outside e820 RAM refused");
	free(img);
}

static void test_big_ram(void)
{
	struct kopt o = kdef();
	struct linux_boot b;

	/* 6 GiB: six page directories; only the low 64 MiB is stored. */
	ram_reset(6 * GIB, 64 * MIB);
	CHECK(load(&o, "", NULL, 0, &b) == 0 && b.ident_bytes == 6 * GIB, "6 GiB VM: 6 GiB identity map");
	CHECK(walk(0x9000, 6 * GIB - 1) == 6 * GIB - 1 && walk(0x9000, 6 * GIB) == ~0ull, "6 GiB VM: walk");
	CHECK(writes_in(&b, o.pm_len, 0, 6), "6 GiB VM: writes inside reported ranges");

	/* 5.5 GiB rounds up to whole directories. */
	ram_reset(5 * GIB + GIB / 2, 64 * MIB);
	CHECK(load(&o, "", NULL, 0, &b) == 0 && b.ident_bytes == 6 * GIB, "5.5 GiB VM: 6 GiB identity map");

	/* 40 GiB: capped at 16 GiB; the initrd still below initrd_addr_max. */
	static u8 rd[4096];
	ram_reset(40 * GIB, 64 * MIB);
	CHECK(load(&o, "", rd, sizeof(rd), &b) == 0 && b.ident_bytes == 16 * GIB, "40 GiB VM: 16 GiB cap");
	CHECK(b.initrd_addr == 0x80000000ull - 4096, "40 GiB VM: initrd just below 2 GiB");
	CHECK(walk(0x9000, 16 * GIB - 1) == 16 * GIB - 1 && walk(0x9000, 16 * GIB) == ~0ull, "40 GiB VM: walk");
	CHECK(writes_in(&b, o.pm_len, 0, 16), "40 GiB VM: writes inside reported ranges");
}

static void test_write_failure(void)
{
	struct kopt o = kdef();
	struct linux_boot b;

	ram_reset(64 * MIB, 1 * MIB);
	R.fail_at = 0x9000 + 8; /* inside the PML4 */
	memset(&b, 0x11, sizeof(b));
	CHECK(load(&o, "", NULL, 0, &b) == -CG_EIO, "write failure: callback's error returned");
	CHECK(has("0x9000"), "write failure: names the address");
	CHECK(b.entry64 == 0x1111111111111111ull, "write failure: out untouched");
}

/* Random header bytes and lengths: never a write outside RAM, never a
 * read outside the image (ASan), success only with a sane result. */
static void test_fuzz(void)
{
	struct kopt o = kdef();
	u64 size;
	u8 *img = make_image(&o, &size);
	struct linux_boot b;
	u32 oob = 0, insane = 0, loaded = 0;
	static const u16 hot[] = { O_SETUP_SECTS, O_SYSSIZE, O_SYSSIZE + 2, O_JUMP + 1, O_VERSION,
				   O_XLOADFLAGS, O_KERNEL_ALIGNMENT, O_KERNEL_ALIGNMENT + 2, O_PREF_ADDRESS,
				   O_PREF_ADDRESS + 4, O_PREF_ADDRESS + 7, O_INIT_SIZE, O_INIT_SIZE + 3,
				   O_INITRD_ADDR_MAX, O_INITRD_ADDR_MAX + 3, O_CMDLINE_SIZE, O_RELOCATABLE };
	static u8 rd[8192];

	ram_reset(32 * MIB, 1 * MIB);
	for (u32 it = 0; it < 3000; it++) {
		u8 *t = malloc(size);
		memcpy(t, img, size);
		for (u32 k = 1 + check_rand_below(4); k; k--)
			t[hot[check_rand_below(ARRAY_SIZE(hot))]] = (u8)check_rand();
		u64 len = check_rand_below(4) ? size : check_rand_below(size + 1);
		u8 *cut = malloc(len ? len : 1);
		memcpy(cut, t, len);
		R.oob = 0;
		struct linux_guest_mem m = mem();
		int rc = linux_load(&m, cut, len, "console=ttyS0", rd, check_rand_below(2) ? sizeof(rd) : 0,
				    std_map(R.size), 3, &b, err, sizeof(err));
		oob += R.oob != 0;
		loaded += rc == 0;
		if (rc == 0)
			insane += b.kernel_addr < MIB || b.kernel_end > R.size || b.entry64 != b.kernel_addr + 0x200 ||
				  (b.initrd_size && (b.initrd_addr < b.kernel_end || b.initrd_addr + b.initrd_size > R.size));
		else
			insane += rc != -CG_EINVAL || !err[0];
		free(cut);
		free(t);
	}
	printf("linux fuzz: %u loaded, %u refused\n", loaded, 3000 - loaded);
	CHECK(oob == 0, "fuzz: no write outside RAM");
	CHECK(insane == 0, "fuzz: results sane, refusals explained");
	free(img);
}

int main(void)
{
	test_valid();
	test_setup_sects_zero();
	test_bad_headers();
	test_truncated();
	test_placement();
	test_initrd();
	test_cmdline();
	test_e820();
	test_big_ram();
	test_write_failure();
	test_fuzz();
	free(R.buf);
	return check_summary();
}
