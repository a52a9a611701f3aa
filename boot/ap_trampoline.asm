; AP start-up code, assembled flat for AP_BOOT_BASE and copied there by
; smp.c. Real mode -> 32-bit protected mode -> long mode with the boot CPU's
; page tables, then the C entry on the stack the boot CPU prepared:
;   void ap_entry(u32 cpu_index);
; Parameters come from struct ap_boot_params at AP_PARAMS_OFFSET.

%include "asm_offsets.inc"

PARAMS equ AP_BOOT_BASE + AP_PARAMS_OFFSET
CR0_PE  equ 1 << 0
CR0_NE  equ 1 << 5
CR0_WP  equ 1 << 16
CR0_PG  equ 1 << 31
CR4_PAE equ 1 << 5
MSR_EFER equ 0xC0000080
EFER_LME equ 1 << 8

org AP_BOOT_BASE
bits 16
ap_start16:
	cli
	cld
	xor ax, ax
	mov ds, ax
	lgdt [ap_gdt_ptr]
	mov eax, cr0
	or eax, CR0_PE
	mov cr0, eax
	jmp dword 0x08:ap_start32

bits 32
ap_start32:
	mov ax, 0x10
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov eax, cr4
	or eax, CR4_PAE
	mov cr4, eax
	mov eax, [PARAMS + AP_PARAMS_CR3]
	mov cr3, eax
	mov ecx, MSR_EFER
	rdmsr
	or eax, EFER_LME
	wrmsr
	mov eax, cr0
	or eax, CR0_PE | CR0_NE | CR0_WP | CR0_PG
	mov cr0, eax
	jmp 0x18:ap_start64

bits 64
ap_start64:
	mov ax, 0x20
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov rsp, [PARAMS + AP_PARAMS_STACK]
	mov rdi, [PARAMS + AP_PARAMS_INDEX]
	mov rax, [PARAMS + AP_PARAMS_ENTRY]
	mov dword [PARAMS + AP_PARAMS_ARRIVED], 1
	call rax
.dead:
	cli
	hlt
	jmp .dead

align 8
ap_gdt:
	dq 0
	dq 0x00CF9A000000FFFF  ; 0x08: 32-bit code
	dq 0x00CF92000000FFFF  ; 0x10: 32-bit data
	dq 0x00AF9A000000FFFF  ; 0x18: 64-bit code
	dq 0x00CF92000000FFFF  ; 0x20: data
ap_gdt_end:
ap_gdt_ptr:
	dw ap_gdt_end - ap_gdt - 1
	dd ap_gdt

%if ($ - $$) > AP_PARAMS_OFFSET
%error "AP trampoline overlaps its parameter block"
%endif
