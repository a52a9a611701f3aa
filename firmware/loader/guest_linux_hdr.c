/* The bzImage setup header check for the Linux loader (contracts in
 * guest_linux_hdr.h): what linux_load needs from a kernel image before it
 * places anything, and the loader's error text. */
#include "loader/guest_linux_hdr.h"
#include "lib/fmt.h"
#include <cg/errno.h>
#include <cg/unaligned.h>
#include <stdarg.h>

#define BOOT_FLAG 0xAA55
#define HDRS_MAGIC 0x53726448u /* "HdrS" little-endian */
#define PROTO_MIN 0x020C       /* 2.12: xloadflags, 64-bit entry */
#define XLF_KERNEL_64 (1u << 0) /* xloadflags: 64-bit entry at load address + 0x200 */
#define SECTOR 512
#define SETUP_SECTS_DEFAULT 4

#define ALIGN_MAX GIB
#define PHYS_MAX (UINT64_C(1) << 52) /* architectural physical-address limit */

int linux_fail(char *err, size_t n, const char *msg, ...)
{
	va_list ap;
	va_start(ap, msg);
	fmt_vsnprintf(err, n, msg, ap);
	va_end(ap);
	return -CG_EINVAL;
}

int linux_hdr_parse(const u8 *img, u64 size, struct bz_hdr *h, char *err, size_t n)
{
	static const char fix[] = "use a 64-bit kernel with boot protocol 2.12 or later";

	if (size < HDR_VERSION + 2)
		return linux_fail(err, n, "kernel image is %lu bytes, too small for a Linux setup header; %s", size, fix);
	if (le16_at(img + HDR_BOOT_FLAG) != BOOT_FLAG)
		return linux_fail(err, n, "kernel image has boot_flag 0x%x, not 0xAA55: not a Linux bzImage; %s",
				  le16_at(img + HDR_BOOT_FLAG), fix);
	if (le32_at(img + HDR_HEADER) != HDRS_MAGIC)
		return linux_fail(err, n, "kernel image has no \"HdrS\" magic: boot protocol before 2.00; %s", fix);
	u16 ver = le16_at(img + HDR_VERSION);
	if (ver < PROTO_MIN)
		return linux_fail(err, n, "kernel uses boot protocol %u.%02u, which has no 64-bit entry point; %s",
				  ver >> 8, ver & 0xFF, fix);
	h->hdr_end = HDR_HEADER + img[HDR_JUMP + 1];
	if (h->hdr_end < HDR_MIN_END)
		return linux_fail(err, n, "kernel setup header ends at 0x%lx, before init_size (0x%x) that protocol %u.%02u has",
				  h->hdr_end, HDR_MIN_END, ver >> 8, ver & 0xFF);
	if (h->hdr_end > size)
		return linux_fail(err, n, "kernel image is %lu bytes, cut short inside its setup header (0x%lx bytes)",
				  size, h->hdr_end);
	u16 xlf = le16_at(img + HDR_XLOADFLAGS);
	if (!(xlf & XLF_KERNEL_64))
		return linux_fail(err, n, "kernel has no 64-bit entry point (xloadflags 0x%x lacks XLF_KERNEL_64); %s",
				  xlf, fix);
	u64 sects = img[HDR_SETUP_SECTS] ? img[HDR_SETUP_SECTS] : SETUP_SECTS_DEFAULT;
	h->setup_len = (sects + 1) * SECTOR;
	h->pm_len = (u64)le32_at(img + HDR_SYSSIZE) * 16;
	if (!h->pm_len)
		return linux_fail(err, n, "kernel setup header has syssize 0: no protected-mode code");
	if (h->setup_len > size || h->pm_len > size - h->setup_len)
		return linux_fail(err, n,
				  "kernel image is %lu bytes but its header claims %lu bytes of setup and %lu of kernel: truncated file",
			    size, h->setup_len, h->pm_len);
	h->pref = le64_at(img + HDR_PREF_ADDRESS);
	h->align = le32_at(img + HDR_KERNEL_ALIGNMENT);
	h->init_size = le32_at(img + HDR_INIT_SIZE);
	h->initrd_max = le32_at(img + HDR_INITRD_ADDR_MAX);
	h->cmdline_max = le32_at(img + HDR_CMDLINE_SIZE);
	h->relocatable = img[HDR_RELOCATABLE] != 0;
	if (h->align < PAGE_SIZE || h->align > ALIGN_MAX || (h->align & (h->align - 1)))
		return linux_fail(err, n, "kernel_alignment 0x%lx is not a power of two between 4 KiB and 1 GiB",
				  h->align);
	if (h->pref >= PHYS_MAX)
		return linux_fail(err, n, "kernel pref_address 0x%lx lies outside any guest RAM", h->pref);
	if (h->init_size < h->pm_len)
		h->init_size = h->pm_len;
	return 0;
}
