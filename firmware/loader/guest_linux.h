/* Loading a Linux bzImage into a VM the way a modern boot loader does for
 * the 64-bit entry point (Linux boot protocol, Documentation/x86/boot.rst,
 * "64-bit Boot Protocol"): the protected-mode kernel at its preferred
 * address, the zero page (struct boot_params) with the image's setup header
 * and the loader's fields filled in, the command line, the initrd as high as
 * the kernel allows, an e820 map, and identity-mapped page tables plus a GDT
 * so the vCPU can start in long mode at kernel + 0x200.
 *
 * Pure: guest memory is reached only through struct linux_guest_mem, so the
 * host unit tests run it against a buffer. Nothing is written until every
 * check has passed: on error guest memory is untouched.
 *
 * Guest-physical layout (all below 1 MiB except kernel and initrd):
 *   0x07000  boot_params, the zero page (4 KiB)
 *   0x08000  GDT: null, null, code 0x10 (64-bit), data 0x18 (LINUX_GDT_*)
 *   0x09000  PML4, 0x0A000 PDPT, 0x0B000.. page directories (2 MiB pages)
 *   0x20000  command line (up to 64 KiB, and at most the kernel's
 *            cmdline_size)
 *   kernel   pref_address (16 MiB for stock kernels), see linux_load
 *   initrd   page-aligned, ending as high as possible below
 *            min(initrd_addr_max + 1, RAM end), above the kernel's init_size
 * The caller's e820 map must mark 0..0x30000 and the kernel/initrd ranges
 * as RAM (type 1); the kernel reclaims the low pages once it is running.
 *
 * The monitor then starts the vCPU with: CR3 = page_tables, CR4.PAE,
 * EFER.LME|LMA, CR0.PE|PG, GDTR = gdt/gdt_limit, CS = LINUX_BOOT_CS (64-bit
 * code), DS/ES/SS = LINUX_BOOT_DS, interrupts off, RSI = boot_params,
 * RIP = entry64. */
#ifndef CG_GUEST_LINUX_H
#define CG_GUEST_LINUX_H

#include <cg/types.h>
#include "abi/linux_boot.h" /* LINUX_BOOT_CS, LINUX_BOOT_DS */

/* Fixed low-memory layout (see above). */
#define LINUX_BOOT_PARAMS UINT64_C(0x7000)
#define LINUX_GDT UINT64_C(0x8000)
#define LINUX_PML4 UINT64_C(0x9000)
#define LINUX_PDPT UINT64_C(0xA000)
#define LINUX_PD UINT64_C(0xB000)
#define LINUX_PD_MAX 16 /* page directories: identity map up to 16 GiB */
#define LINUX_CMDLINE UINT64_C(0x20000)
#define LINUX_CMDLINE_MAX UINT64_C(0x10000) /* bytes, with the NUL */

/* e820 types (ACPI "address range types"): the caller's map uses these. */
#define LINUX_E820_RAM 1
#define LINUX_E820_RESERVED 2
#define LINUX_E820_ACPI 3
#define LINUX_E820_NVS 4
#define LINUX_E820_MAX 128 /* entries in boot_params.e820_table */

/* Guest RAM is [0, ram_bytes). write copies len bytes to gpa and returns 0,
 * or a negative error code (the loader then stops and returns it). */
struct linux_guest_mem {
	int (*write)(void *ctx, u64 gpa, const void *src, u64 len);
	u64 ram_bytes;
	void *ctx;
};

struct linux_e820 {
	u64 addr, size;
	u32 type; /* LINUX_E820_* */
};

/* Where everything went: what the monitor needs to start the vCPU. */
struct linux_boot {
	u64 entry64;      /* RIP: kernel_addr + 0x200 */
	u64 boot_params;  /* RSI: the zero page */
	u64 kernel_addr;  /* protected-mode kernel load address */
	u64 kernel_end;   /* max(kernel_addr, pref_address) + init_size */
	u64 initrd_addr;  /* 0 when there is no initrd */
	u64 initrd_size;
	u64 cmdline_addr;
	u64 page_tables;  /* CR3: the PML4 */
	u64 ident_bytes;  /* identity-mapped from 0: max(4 GiB, RAM), capped */
	u64 gdt;          /* GDTR base */
	u16 gdt_limit;    /* GDTR limit */
};

/* linux_load: load the bzImage image[0..size) with cmdline (may be "" but
 * not NULL), an optional initrd (NULL or initrd_size 0: none) and the e820
 * map (1..LINUX_E820_MAX entries) into m, as laid out above.
 * The kernel goes to its pref_address when that is kernel_alignment-aligned
 * and fits; otherwise (relocatable kernels only) to the first aligned
 * address >= 16 MiB that fits, else >= 1 MiB. "Fits" means init_size bytes
 * from max(load address, pref_address) end within RAM: a stock x86-64
 * kernel's 64-bit entry moves itself up to its pref_address
 * (LOAD_PHYSICAL_ADDR) before decompressing, so a lower load address saves
 * no memory for it; the 1 MiB fallback serves small VMs only with kernels
 * whose pref_address is low. kernel_end is that runtime end, and the
 * "give the VM at least N MiB" message names that figure.
 * Returns 0 with *out filled; -CG_EINVAL with err set ("what is wrong and
 * the fix") for an image that is not a 64-bit bzImage with boot protocol
 * 2.12 or later, is truncated, does not fit in RAM, or for an initrd,
 * command line or map that does not fit; or the write callback's error. */
int linux_load(const struct linux_guest_mem *m, const u8 *image, u64 size, const char *cmdline,
	       const u8 *initrd, u64 initrd_size, const struct linux_e820 *map, u32 map_count,
	       struct linux_boot *out, char *err, size_t err_size);

#endif
