/* The bzImage setup header, for the Linux loader (guest_linux.c): where
 * its fields sit, in the image and in boot_params alike, and the checked
 * subset of them linux_load uses (guest_linux_hdr.c). Internal to the
 * loader; callers use guest_linux.h. */
#ifndef CG_GUEST_LINUX_HDR_H
#define CG_GUEST_LINUX_HDR_H

#include <cg/types.h>

/* Offsets into the bzImage, which are also offsets into boot_params (the
 * zero page): the setup header sits at 0x1F1 in both. Names are the Linux
 * boot protocol's (struct setup_header as hdr.*, struct boot_params). */
#define HDR_START 0x1F1            /* hdr: first byte of the setup header */
#define HDR_SETUP_SECTS 0x1F1      /* hdr.setup_sects, u8: 512-byte sectors, 0 means 4 */
#define HDR_SYSSIZE 0x1F4          /* hdr.syssize, u32: protected-mode code in 16-byte units */
#define HDR_BOOT_FLAG 0x1FE        /* hdr.boot_flag, u16: 0xAA55 */
#define HDR_JUMP 0x200             /* hdr.jump, u16: short jmp; byte 0x201 = header length - 0x202 + 0x200 */
#define HDR_HEADER 0x202           /* hdr.header, u32: "HdrS" */
#define HDR_VERSION 0x206          /* hdr.version, u16: protocol major << 8 | minor */
#define HDR_TYPE_OF_LOADER 0x210   /* hdr.type_of_loader, u8 (write) */
#define HDR_LOADFLAGS 0x211        /* hdr.loadflags, u8 (modify) */
#define HDR_CODE32_START 0x214     /* hdr.code32_start, u32: protected-mode load address */
#define HDR_RAMDISK_IMAGE 0x218    /* hdr.ramdisk_image, u32 (write) */
#define HDR_RAMDISK_SIZE 0x21C     /* hdr.ramdisk_size, u32 (write) */
#define HDR_HEAP_END_PTR 0x224     /* hdr.heap_end_ptr, u16 (write) */
#define HDR_CMD_LINE_PTR 0x228     /* hdr.cmd_line_ptr, u32 (write) */
#define HDR_INITRD_ADDR_MAX 0x22C  /* hdr.initrd_addr_max, u32: highest initrd byte address */
#define HDR_KERNEL_ALIGNMENT 0x230 /* hdr.kernel_alignment, u32 */
#define HDR_RELOCATABLE 0x234      /* hdr.relocatable_kernel, u8 */
#define HDR_XLOADFLAGS 0x236       /* hdr.xloadflags, u16 */
#define HDR_CMDLINE_SIZE 0x238     /* hdr.cmdline_size, u32: max length without the NUL */
#define HDR_SETUP_DATA 0x250       /* hdr.setup_data, u64 (write): list of struct setup_data */
#define HDR_PREF_ADDRESS 0x258     /* hdr.pref_address, u64 */
#define HDR_INIT_SIZE 0x260        /* hdr.init_size, u32: linear memory needed from the load address */
#define HDR_MIN_END 0x264          /* the header must reach past hdr.init_size */

/* The fields of the setup header linux_load uses, checked. */
struct bz_hdr {
	u64 hdr_end;   /* 0x202 + jump offset: end of the setup header */
	u64 setup_len; /* (setup_sects + 1) * 512: real-mode part, skipped */
	u64 pm_len;    /* syssize * 16: protected-mode part, loaded */
	u64 pref, align, init_size, initrd_max, cmdline_max;
	bool relocatable;
};

/* linux_hdr_parse: validate the setup header (Linux boot protocol) of the
 * kernel img[0..size) for the 64-bit entry: a bzImage with boot protocol
 * 2.12 or later, XLF_KERNEL_64, a sane kernel_alignment and pref_address,
 * not truncated. Returns 0 with *h filled (init_size raised to at least
 * pm_len), or -CG_EINVAL with err (n bytes) saying what is wrong and the
 * fix. */
int linux_hdr_parse(const u8 *img, u64 size, struct bz_hdr *h, char *err, size_t n);

/* linux_fail: format msg into err (n bytes; cut to fit and always
 * NUL-terminated when n > 0). Returns -CG_EINVAL, for the loader's
 * "return linux_fail(...)". */
int linux_fail(char *err, size_t n, const char *msg, ...) __attribute__((format(printf, 3, 4)));

#endif
