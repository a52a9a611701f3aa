/* What the loader handed us, independent of the Multiboot version. */
#ifndef CG_BOOTINFO_H
#define CG_BOOTINFO_H

#include <cg/types.h>
#include "lib/memmap.h"
#include "lib/phys.h"

#define MB1_BOOTLOADER_MAGIC 0x2BADB002u
#define MB2_BOOTLOADER_MAGIC 0x36d76289u

#define BOOTINFO_CMDLINE_MAX 256
#define BOOTINFO_NAME_MAX 64
#define BOOTINFO_MODULES_MAX 32

enum boot_protocol { BOOT_MB1 = 1, BOOT_MB2 = 2 };

struct boot_module {
	u64 start;
	u64 end; /* exclusive */
	char cmdline[BOOTINFO_CMDLINE_MAX];
};

struct boot_info {
	enum boot_protocol protocol;
	u64 info_addr; /* where the loader's structure lies */
	u64 info_len;  /* its size, so it can be reserved */
	char cmdline[BOOTINFO_CMDLINE_MAX];
	char loader_name[BOOTINFO_NAME_MAX];
	struct memmap mem; /* normalised */
	u32 module_count;
	struct boot_module modules[BOOTINFO_MODULES_MAX];
	u64 rsdp_addr; /* 0: not given by the loader (scan the BIOS areas) */
	bool efi;      /* booted through UEFI (an EFI system table tag seen) */
};

/* bootinfo_parse: fill bi from the structure at info_addr, handed over with
 * the given register magic. Strings are truncated to fit, never overrun.
 * Returns 0; -CG_EINVAL for a bad magic, a truncated or inconsistent
 * structure, or a tag walking out of its total size; -CG_ENOENT when the
 * loader gave no memory map at all; -CG_ERANGE when a pointer leaves the
 * readable window; -CG_ENOMEM when there are more modules or (normalised)
 * map ranges than the fixed tables hold. */
int bootinfo_parse(struct boot_info *bi, u32 magic, u64 info_addr,
		   const struct phys_access *pa);

#endif
