/* The segment selectors of Linux's 64-bit boot protocol
 * (Documentation/arch/x86/boot.rst, "64-bit BOOT PROTOCOL": __BOOT_CS and
 * __BOOT_DS). The guest Linux loader builds a GDT with these slots; arch
 * loads them into the vCPU when it starts a Linux VM. Both sides include
 * this one definition. */
#ifndef CG_ABI_LINUX_BOOT_H
#define CG_ABI_LINUX_BOOT_H

#define LINUX_BOOT_CS 0x10
#define LINUX_BOOT_DS 0x18

#endif
