/* Loading a Multiboot1 kernel into a VM the way QEMU's -kernel does: the
 * a.out address fields when the header has them, else ELF32/ELF64 PT_LOAD
 * segments; modules after the kernel; a Multiboot info block with memory
 * size, memory map, command line and modules. */
#ifndef CG_GUEST_MB1_H
#define CG_GUEST_MB1_H

#include <cg/types.h>

/* Guest RAM is [0, ram_bytes). write copies len bytes to gpa and returns 0,
 * or a negative error code; the loader checks every range against
 * ram_bytes first, so the monitor's writer sees only RAM. */
struct mb1_guest_mem {
	int (*write)(void *ctx, u64 gpa, const void *src, u64 len);
	u64 ram_bytes;
	void *ctx;
};

struct mb1_image {
	const u8 *data;
	u64 size;
};

struct mb1_module {
	struct mb1_image image;
	const char *cmdline;
};

/* mb1_load: place kernel and modules in the guest RAM m writes and
 * build the info block. On success *entry, *info_addr hold the entry point and the info
 * block's guest-physical address. Returns 0, or -CG_EINVAL with err set
 * (no Multiboot header, bad ELF, segment outside guest RAM, modules do not
 * fit: each message names the problem and the fix). */
int mb1_load(const struct mb1_guest_mem *m, struct mb1_image kernel, const char *cmdline,
	     const struct mb1_module *mods, u32 nmods, u64 *entry, u64 *info_addr, char *err,
	     size_t err_size);

#endif
