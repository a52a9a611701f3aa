/* Fuzz target: the Multiboot 1 and 2 information parser (lib/bootinfo.c),
 * which follows the pointers a boot loader left in memory.
 * Input: one byte choosing the magic (MB1, MB2 or the next 4 bytes as
 * is), then the physical memory from WIN_BASE on, where the info
 * structure starts (an exactly-sized window: a pointer past it gets NULL
 * from phys_map, a read past a mapped range trips ASan).
 * Invariants beyond "no crash":
 *  - only the documented results;
 *  - on success the structure lies inside the window, strings are
 *    terminated in their arrays, modules are at most BOOTINFO_MODULES_MAX
 *    with start <= end, an RSDP given by MB2 lies in the window, and the
 *    memory map is normal: at most MEMMAP_MAX sorted, disjoint, non-empty
 *    ranges, usable ones page-aligned. */
#include <cg/errno.h>
#include "fuzz.h"
#include "../unit/phys_window.h"
#include "memmap_check.h"
#include "lib/bootinfo.h"

#define WIN_BASE 0x10000ull

static struct boot_info bi;

static bool terminated(const char *s, size_t size)
{
	return memchr(s, 0, size) != NULL;
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_in in = { data, size };
	u8 sel = fuzz_u8(&in);
	u32 magic = sel % 3 == 0 ? MB1_BOOTLOADER_MAGIC : sel % 3 == 1 ? MB2_BOOTLOADER_MAGIC : fuzz_u32(&in);
	size_t n = in.n < (1 << 16) ? in.n : (1 << 16);
	struct phys_window w;
	const struct phys_access *pa = &w.pa;
	int rc;

	phys_window_open(&w, WIN_BASE, n);
	if (n)
		memcpy(w.buf, in.p, n);
	memset(&bi, 0xA5, sizeof(bi));
	rc = bootinfo_parse(&bi, magic, WIN_BASE, pa);
	FUZZ_CHECK(rc == 0 || rc == -CG_EINVAL || rc == -CG_ENOENT || rc == -CG_ERANGE || rc == -CG_ENOMEM,
		   "undocumented result");
	if (rc == 0) {
		FUZZ_CHECK(bi.info_addr == WIN_BASE && bi.info_len <= n, "info structure outside the window");
		FUZZ_CHECK(terminated(bi.cmdline, sizeof(bi.cmdline)) &&
				   terminated(bi.loader_name, sizeof(bi.loader_name)), "strings not terminated");
		FUZZ_CHECK(bi.module_count <= BOOTINFO_MODULES_MAX, "too many modules");
		for (u32 i = 0; i < bi.module_count; i++)
			FUZZ_CHECK(bi.modules[i].start <= bi.modules[i].end &&
					   terminated(bi.modules[i].cmdline, sizeof(bi.modules[i].cmdline)), "module");
		if (bi.rsdp_addr)
			FUZZ_CHECK(phys_map(pa, bi.rsdp_addr, 20) != NULL, "RSDP outside the window");
		memmap_check_normal(&bi.mem);
	}
	phys_window_close(&w);
	return 0;
}
