; Multiboot headers, both in the first page of the image so every loader
; finds its own: Multiboot 0.6.96 (QEMU -kernel, iPXE, GRUB "multiboot") and
; Multiboot2 (GRUB "multiboot2", BIOS and UEFI). Both enter _start32 in
; 32-bit protected mode with paging off.

extern _start32
extern __image_start, __image_load_end, __image_bss_end

MB1_MAGIC        equ 0x1BADB002
MB1_PAGE_ALIGN   equ 1 << 0     ; modules on page boundaries
MB1_MEMORY_INFO  equ 1 << 1     ; mem_* and mmap_* wanted
MB1_AOUT_KLUDGE  equ 1 << 16    ; use the address fields below, not the ELF
MB1_FLAGS        equ MB1_PAGE_ALIGN | MB1_MEMORY_INFO | MB1_AOUT_KLUDGE

MB2_MAGIC        equ 0xE85250D6
MB2_ARCH_I386    equ 0
MB2_TAG_END      equ 0
MB2_TAG_INFO_REQ equ 1
MB2_INFO_MMAP    equ 6
MB2_INFO_ACPI_NEW equ 15

section .multiboot
align 4
mb1_header:
	dd MB1_MAGIC
	dd MB1_FLAGS
	dd -(MB1_MAGIC + MB1_FLAGS)
	dd mb1_header          ; header_addr
	dd __image_start       ; load_addr
	dd __image_load_end    ; load_end_addr
	dd __image_bss_end     ; bss_end_addr
	dd _start32            ; entry_addr

align 8
mb2_header:
	dd MB2_MAGIC
	dd MB2_ARCH_I386
	dd mb2_header_end - mb2_header
	dd -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
align 8
	; The memory map is required: without it the monitor cannot run.
	dw MB2_TAG_INFO_REQ, 0
	dd 12
	dd MB2_INFO_MMAP
align 8
	dw MB2_TAG_END, 0
	dd 8
mb2_header_end:
