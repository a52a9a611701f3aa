/* The Linux bzImage loader (contract and guest layout in guest_linux.h):
 * placing the kernel and initrd in guest RAM, checking every range against
 * RAM and the e820 map, then writing the kernel, initrd, command line,
 * zero page, GDT and identity page tables. The setup header is checked
 * first, in guest_linux_hdr.c. */
#include "loader/guest_linux.h"
#include "loader/guest_linux_hdr.h"
#include "lib/fmt.h"
#include <cg/errno.h>
#include <cg/string.h>

/* boot_params fields outside the setup header. */
#define BP_EXT_RAMDISK_IMAGE 0x0C0 /* ext_ramdisk_image, u32: ramdisk_image bits 63:32 */
#define BP_EXT_RAMDISK_SIZE 0x0C4  /* ext_ramdisk_size, u32: ramdisk_size bits 63:32 */
#define BP_EXT_CMD_LINE_PTR 0x0C8  /* ext_cmd_line_ptr, u32: cmd_line_ptr bits 63:32 */
#define BP_E820_ENTRIES 0x1E8      /* e820_entries, u8 */
#define BP_E820_TABLE 0x2D0        /* e820_table[128], 20 bytes each: addr u64, size u64, type u32 */
#define BP_SIZE 0x1000             /* the zero page */

#define LOADER_UNDEFINED 0xFF  /* type_of_loader: no assigned loader id */
#define LOADED_HIGH (1u << 0)  /* loadflags: protected-mode code at 0x100000+ */
#define CAN_USE_HEAP (1u << 7) /* loadflags: heap_end_ptr is valid */
#define HEAP_END 0xFE00        /* heap_end_ptr: end of a 64 KiB setup segment - 0x200 */
#define ENTRY64_OFFSET 0x200

#define HIGH_MEM UINT64_C(0x100000)
#define KERNEL_FALLBACK (16 * MIB)

/* x86-64 paging entries (SDM Vol 3A 4.5) and descriptors (3.4.5). */
#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_PS (1ull << 7)
#define PT_ENTRIES 512
#define LARGE_PAGE (2 * MIB)
/* Flat descriptor: base 0, limit 0xFFFFF, access byte and flags nibble. */
#define SEG_DESC(access, flags) \
	(UINT64_C(0xFFFF) | (UINT64_C(0xF) << 48) | ((u64)(access) << 40) | ((u64)(flags) << 52))
#define SEG_CODE_ER_A 0x9B /* P, DPL 0, S, type 0xB: execute/read, accessed */
#define SEG_DATA_RW_A 0x93 /* P, DPL 0, S, type 0x3: read/write, accessed */
#define SEG_FLAGS_L 0xA    /* G (4 KiB granularity), L (64-bit code) */
#define SEG_FLAGS_DB 0xC   /* G, D/B (32-bit) */
#define GDT_ENTRIES 4      /* null, null, __BOOT_CS 0x10, __BOOT_DS 0x18 */

struct PACKED e820_entry {
	u64 addr, size;
	u32 type;
};

_Static_assert(sizeof(struct e820_entry) == 20, "boot_params e820 entries are 20 bytes");
_Static_assert(BP_E820_TABLE + LINUX_E820_MAX * 20 <= BP_SIZE, "e820_table fits the zero page");
_Static_assert(LINUX_BOOT_PARAMS + BP_SIZE <= LINUX_GDT, "layout: zero page below the GDT");
_Static_assert(LINUX_GDT + GDT_ENTRIES * 8 <= LINUX_PML4, "layout: GDT below the PML4");
_Static_assert(LINUX_PD + LINUX_PD_MAX * PAGE_SIZE <= LINUX_CMDLINE, "layout: PDs below the command line");
_Static_assert(LINUX_CMDLINE + LINUX_CMDLINE_MAX <= HIGH_MEM, "layout: all low structures below 1 MiB");

static u64 mib_up(u64 bytes)
{
	return (bytes + MIB - 1) / MIB;
}

/* run_base: where a kernel loaded at addr runs (and needs init_size)
 * from. The protocol counts init_size from the load address; a stock
 * x86-64 kernel's 64-bit entry, though, first moves its base up to its
 * LOAD_PHYSICAL_ADDR, which is what it reports as pref_address (seen in
 * Debian's 6.1 startup_64: "cmp $0x1000000,%rbp"). Taking the higher of
 * the two is right for both. */
static u64 run_base(const struct bz_hdr *h, u64 addr)
{
	return addr < h->pref ? h->pref : addr;
}

/* fits: addr is a usable load address: at or above 1 MiB, and the kernel
 * run from it has init_size bytes before limit. */
static bool fits(const struct bz_hdr *h, u64 addr, u64 limit)
{
	u64 run = run_base(h, addr);
	return addr >= HIGH_MEM && run <= limit && h->init_size <= limit - run;
}

/* place_kernel: the load address (see linux_load). limit is the end of
 * RAM that is also identity-mapped. */
static int place_kernel(const struct bz_hdr *h, u64 limit, u64 *addr, char *err, size_t n)
{
	if (h->pref % h->align == 0 && fits(h, h->pref, limit)) {
		*addr = h->pref;
		return 0;
	}
	u64 base = run_base(h, ALIGN_UP(HIGH_MEM, h->align));
	if (!h->relocatable)
		return linux_fail(err, n,
				  "kernel is not relocatable and needs 0x%lx..0x%lx (pref_address + init_size); give the VM at least %lu MiB",
			    h->pref, h->pref + h->init_size, mib_up(h->pref + h->init_size));
	u64 tries[2] = { ALIGN_UP(KERNEL_FALLBACK, h->align), ALIGN_UP(HIGH_MEM, h->align) };
	for (u32 i = 0; i < ARRAY_SIZE(tries); i++) {
		if (fits(h, tries[i], limit)) {
			*addr = tries[i];
			return 0;
		}
	}
	return linux_fail(err, n,
			  "kernel needs %lu MiB (init_size) from 0x%lx but the VM has %lu MiB; give the VM at least %lu MiB",
		    mib_up(h->init_size), base, limit / MIB, mib_up(base + h->init_size));
}

/* covered: whether [start, end) lies in RAM entries of the map. */
static bool covered(const struct linux_e820 *map, u32 count, u64 start, u64 end)
{
	u64 cur = start;
	for (u32 pass = 0; pass <= count && cur < end; pass++) {
		for (u32 i = 0; i < count; i++) {
			const struct linux_e820 *e = &map[i];
			if (e->type == LINUX_E820_RAM && e->addr <= cur && cur - e->addr < e->size) {
				cur = e->addr + e->size < e->addr ? ~0ull : e->addr + e->size;
				break;
			}
		}
	}
	return cur >= end;
}

/* Writes stop at the first failure, which is kept for the caller. */
struct writer {
	const struct linux_guest_mem *m;
	int rc;
	u64 fail_gpa;
};

static void wr(struct writer *w, u64 gpa, const void *src, u64 len)
{
	if (w->rc)
		return;
	w->rc = w->m->write(w->m->ctx, gpa, src, len);
	if (w->rc)
		w->fail_gpa = gpa;
}

static void wr8(struct writer *w, u64 gpa, u8 v)
{
	wr(w, gpa, &v, 1);
}

static void wr16(struct writer *w, u64 gpa, u16 v)
{
	wr(w, gpa, &v, 2);
}

static void wr32(struct writer *w, u64 gpa, u32 v)
{
	wr(w, gpa, &v, 4);
}

static void wr64(struct writer *w, u64 gpa, u64 v)
{
	wr(w, gpa, &v, 8);
}

static void wr_zero(struct writer *w, u64 gpa, u64 len)
{
	static const u8 zero[256];
	for (u64 off = 0; off < len; off += sizeof(zero))
		wr(w, gpa + off, zero, len - off < sizeof(zero) ? len - off : sizeof(zero));
}

/* One page-table page: entry i = first + i * step | flags, for i < count;
 * the rest zero. */
static void wr_table(struct writer *w, u64 gpa, u64 first, u64 step, u32 count, u64 flags)
{
	u64 buf[64];
	for (u32 i = 0; i < PT_ENTRIES; i += ARRAY_SIZE(buf)) {
		for (u32 j = 0; j < ARRAY_SIZE(buf); j++)
			buf[j] = i + j < count ? (first + (u64)(i + j) * step) | flags : 0;
		wr(w, gpa + i * 8, buf, sizeof(buf));
	}
}

int linux_load(const struct linux_guest_mem *m, const u8 *image, u64 size, const char *cmdline,
	       const u8 *initrd, u64 initrd_size, const struct linux_e820 *map, u32 map_count,
	       struct linux_boot *out, char *err, size_t err_size)
{
	struct bz_hdr h = { 0 };
	int rc = linux_hdr_parse(image, size, &h, err, err_size);
	if (rc)
		return rc;

	/* Identity map max(4 GiB, RAM) in whole page directories, capped. */
	u64 ram = m->ram_bytes;
	u32 npd = (u32)(ram > (u64)LINUX_PD_MAX * GIB ? LINUX_PD_MAX : ALIGN_UP(ram, GIB) / GIB);
	if (npd < 4)
		npd = 4;
	u64 ident = (u64)npd * GIB;
	u64 limit = ram < ident ? ram : ident;

	u64 kaddr = 0;
	rc = place_kernel(&h, limit, &kaddr, err, err_size);
	if (rc)
		return rc;
	u64 kend = run_base(&h, kaddr) + h.init_size;

	if (!initrd)
		initrd_size = 0;
	u64 rd_addr = 0;
	if (initrd_size) {
		u64 top = h.initrd_max + 1 < limit ? h.initrd_max + 1 : limit;
		u64 low = ALIGN_UP(kend, PAGE_SIZE);
		if (initrd_size > top || ALIGN_DOWN(top - initrd_size, PAGE_SIZE) < low) {
			u64 need = low + initrd_size;
			if (initrd_size <= ident - low && need <= h.initrd_max + 1)
				return linux_fail(err, err_size,
						  "initrd (%lu bytes) does not fit between the kernel's end 0x%lx and RAM end 0x%lx; give the VM at least %lu MiB",
					    initrd_size, kend, ram, mib_up(need));
			return linux_fail(err, err_size,
					  "initrd (%lu bytes) does not fit between the kernel's end 0x%lx and its initrd_addr_max 0x%lx; use a smaller initrd",
				    initrd_size, kend, h.initrd_max);
		}
		rd_addr = ALIGN_DOWN(top - initrd_size, PAGE_SIZE);
	}

	u64 cl_len = strlen(cmdline);
	u64 cl_max = h.cmdline_max < LINUX_CMDLINE_MAX - 1 ? h.cmdline_max : LINUX_CMDLINE_MAX - 1;
	if (cl_len > cl_max)
		return linux_fail(err, err_size, "kernel command line is %lu bytes; this kernel takes at most %lu (cmdline_size)",
				  cl_len, cl_max);

	if (!map_count || map_count > LINUX_E820_MAX)
		return linux_fail(err, err_size, "e820 map has %u entries; the zero page holds 1 to %u", map_count,
				  LINUX_E820_MAX);
	u64 low_end = LINUX_PD + npd * PAGE_SIZE;
	struct {
		const char *what;
		u64 start, end;
	} used[] = {
		{ "zero page, GDT and page tables", LINUX_BOOT_PARAMS, low_end },
		{ "command line", LINUX_CMDLINE, LINUX_CMDLINE + cl_len + 1 },
		{ "kernel (init_size)", kaddr, kend },
		{ "initrd", rd_addr, rd_addr + initrd_size },
	};
	for (u32 i = 0; i < ARRAY_SIZE(used); i++) {
		if (used[i].end > ram)
			return linux_fail(err, err_size, "the %s at 0x%lx..0x%lx lies past guest RAM (%lu MiB); give the VM more memory",
					  used[i].what, used[i].start, used[i].end, ram / MIB);
		if (used[i].start < used[i].end && !covered(map, map_count, used[i].start, used[i].end))
			return linux_fail(err, err_size, "e820 map does not mark the %s at 0x%lx..0x%lx as RAM (type 1)",
					  used[i].what, used[i].start, used[i].end);
	}

	/* Everything fits: write. */
	struct writer w = { m, 0, 0 };
	const u64 bp = LINUX_BOOT_PARAMS;
	wr(&w, kaddr, image + h.setup_len, h.pm_len);
	if (initrd_size)
		wr(&w, rd_addr, initrd, initrd_size);
	wr(&w, LINUX_CMDLINE, cmdline, cl_len + 1);

	wr_zero(&w, bp, BP_SIZE);
	wr(&w, bp + HDR_START, image + HDR_START, h.hdr_end - HDR_START);
	wr8(&w, bp + HDR_TYPE_OF_LOADER, LOADER_UNDEFINED);
	wr8(&w, bp + HDR_LOADFLAGS, LOADED_HIGH | CAN_USE_HEAP);
	wr32(&w, bp + HDR_CODE32_START, (u32)kaddr);
	wr16(&w, bp + HDR_HEAP_END_PTR, HEAP_END);
	wr32(&w, bp + HDR_CMD_LINE_PTR, (u32)LINUX_CMDLINE);
	wr32(&w, bp + BP_EXT_CMD_LINE_PTR, (u32)(LINUX_CMDLINE >> 32));
	wr32(&w, bp + HDR_RAMDISK_IMAGE, (u32)rd_addr);
	wr32(&w, bp + BP_EXT_RAMDISK_IMAGE, (u32)(rd_addr >> 32));
	wr32(&w, bp + HDR_RAMDISK_SIZE, (u32)initrd_size);
	wr32(&w, bp + BP_EXT_RAMDISK_SIZE, (u32)(initrd_size >> 32));
	wr64(&w, bp + HDR_SETUP_DATA, 0);
	wr8(&w, bp + BP_E820_ENTRIES, (u8)map_count);
	for (u32 i = 0; i < map_count; i++) {
		struct e820_entry e = { map[i].addr, map[i].size, map[i].type };
		wr(&w, bp + BP_E820_TABLE + i * sizeof(e), &e, sizeof(e));
	}

	const u64 gdt[GDT_ENTRIES] = {
		0,
		0,
		SEG_DESC(SEG_CODE_ER_A, SEG_FLAGS_L),
		SEG_DESC(SEG_DATA_RW_A, SEG_FLAGS_DB),
	};
	wr(&w, LINUX_GDT, gdt, sizeof(gdt));

	wr_table(&w, LINUX_PML4, LINUX_PDPT, 0, 1, PTE_P | PTE_RW);
	wr_table(&w, LINUX_PDPT, LINUX_PD, PAGE_SIZE, npd, PTE_P | PTE_RW);
	for (u32 i = 0; i < npd; i++)
		wr_table(&w, LINUX_PD + i * PAGE_SIZE, (u64)i * GIB, LARGE_PAGE, PT_ENTRIES,
			 PTE_P | PTE_RW | PTE_PS);

	if (w.rc) {
		fmt_snprintf(err, err_size, "writing guest memory at 0x%lx failed (%s)", w.fail_gpa,
			     cg_strerror(w.rc));
		return w.rc;
	}

	out->entry64 = kaddr + ENTRY64_OFFSET;
	out->boot_params = bp;
	out->kernel_addr = kaddr;
	out->kernel_end = kend;
	out->initrd_addr = rd_addr;
	out->initrd_size = initrd_size;
	out->cmdline_addr = LINUX_CMDLINE;
	out->page_tables = LINUX_PML4;
	out->ident_bytes = ident;
	out->gdt = LINUX_GDT;
	out->gdt_limit = sizeof(gdt) - 1;
	return 0;
}
