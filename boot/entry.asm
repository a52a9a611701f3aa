; From the loader to C: 32-bit protected mode, paging off (both Multiboot
; versions). Identity-map the first 4 GiB with 2 MiB pages, enter long mode
; and call boot_main(magic, info) on the boot stack.
;   void boot_main(u32 magic, u64 info_phys);

extern boot_main
global _start32
global boot_pml4, boot_pdpt
global boot_gdt_ptr, boot_stack_top, boot_tsc

BOOT_STACK_SIZE equ 16384
CR0_PE  equ 1 << 0
CR0_NE  equ 1 << 5
CR0_WP  equ 1 << 16
CR0_PG  equ 1 << 31
CR4_PAE equ 1 << 5
MSR_EFER equ 0xC0000080
EFER_LME equ 1 << 8
PTE_P   equ 1 << 0
PTE_RW  equ 1 << 1
PTE_PWT equ 1 << 3
PTE_PCD equ 1 << 4
PTE_PS  equ 1 << 7
COM1    equ 0x3F8

section .boot32 progbits alloc exec nowrite
bits 32
_start32:
	cli
	cld
	mov [boot_magic], eax
	mov [boot_info], ebx
	; Timestamp of the first monitor instruction, for boot-cost figures.
	rdtsc
	mov [boot_tsc], eax
	mov [boot_tsc + 4], edx
	mov esp, boot_stack_top

	; Long mode is required (CPUID 80000001h:EDX bit 29, SDM Vol 2A CPUID).
	mov eax, 0x80000000
	cpuid
	cmp eax, 0x80000001
	jb .no_long_mode
	mov eax, 0x80000001
	cpuid
	test edx, 1 << 29
	jz .no_long_mode

	; PML4[0] -> PDPT; PDPT[0..3] -> four page directories of 2 MiB pages.
	mov dword [boot_pml4], boot_pdpt + (PTE_P | PTE_RW)
	mov edi, boot_pdpt
	mov eax, boot_pd + (PTE_P | PTE_RW)
	mov ecx, 4
.pdpt:
	mov [edi], eax
	add eax, 4096
	add edi, 8
	loop .pdpt

	; 2048 PDEs cover 0-4 GiB. The top GiB holds MMIO (LAPIC, IOAPIC, PCI
	; holes), so it is mapped uncached.
	mov edi, boot_pd
	xor ebx, ebx
	mov ecx, 2048
.pd:
	mov eax, ebx
	shl eax, 21
	or eax, PTE_P | PTE_RW | PTE_PS
	cmp ebx, 1536
	jb .cached
	or eax, PTE_PCD | PTE_PWT
.cached:
	mov [edi], eax
	mov dword [edi + 4], 0
	inc ebx
	add edi, 8
	loop .pd

	mov eax, boot_pml4
	mov cr3, eax
	mov eax, cr4
	or eax, CR4_PAE
	mov cr4, eax
	mov ecx, MSR_EFER
	rdmsr
	or eax, EFER_LME
	wrmsr
	mov eax, cr0
	or eax, CR0_PE | CR0_NE | CR0_WP | CR0_PG
	mov cr0, eax
	lgdt [boot_gdt_ptr]
	jmp 0x08:.long_mode

.no_long_mode:
	mov esi, msg_no_long_mode
.putc:
	lodsb
	test al, al
	jz .halt
	mov ah, al
	mov dx, COM1 + 5
.wait:
	in al, dx
	test al, 0x20
	jz .wait
	mov dx, COM1
	mov al, ah
	out dx, al
	jmp .putc
.halt:
	hlt
	jmp .halt

bits 64
.long_mode:
	mov ax, 0x10
	mov ds, ax
	mov es, ax
	mov ss, ax
	xor eax, eax
	mov fs, ax
	mov gs, ax
	mov rsp, boot_stack_top
	mov edi, [boot_magic]
	mov esi, [boot_info]
	call boot_main
.dead:
	cli
	hlt
	jmp .dead

section .rodata
msg_no_long_mode:
	db "crossguard: this CPU has no 64-bit long mode; it cannot run the monitor", 13, 10, 0

align 8
boot_gdt:
	dq 0
	dq 0x00AF9A000000FFFF  ; 0x08: 64-bit code
	dq 0x00CF92000000FFFF  ; 0x10: data
boot_gdt_end:
boot_gdt_ptr:
	dw boot_gdt_end - boot_gdt - 1
	dq boot_gdt

section .data
align 8
boot_tsc:   dq 0
boot_magic: dd 0
boot_info:  dd 0

section .bss
alignb 4096
boot_pml4:  resb 4096
boot_pdpt:  resb 4096
boot_pd:    resb 4 * 4096
alignb 16
boot_stack: resb BOOT_STACK_SIZE
boot_stack_top:
