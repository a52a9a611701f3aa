; unassigned: one 8-byte access in 64-bit mode, from a 32-bit guest.
; REX.W MOV (48 8B /r, 48 89 /r) exists only in 64-bit mode, so the trip
; goes there and back: PAE, CR3, EFER.LME, CR0.PG, a far jump to a 64-bit
; code segment (SDM Vol 3A 10.8.5), then out again by the reverse steps
; (10.8.5.4): a far return to 32-bit code, paging off, LME off.

bits 32

SEL_CODE32 equ 0x08             ; same as lib/entry.asm's, so CS/DS stay valid
SEL_DATA32 equ 0x10
SEL_CODE64 equ 0x18
MSR_EFER equ 0xC0000080
EFER_LME equ (1 << 8)
CR4_PAE equ (1 << 5)
CR0_PG equ (1 << 31)

section .data
align 8
lm_gdt:
	dq 0
	dq 0x00CF9A000000FFFF       ; 0x08 code32, flat
	dq 0x00CF92000000FFFF       ; 0x10 data32, flat
	dq 0x00AF9A000000FFFF       ; 0x18 code64 (L=1)
lm_gdt_end:
lm_gdtr:
	dw lm_gdt_end - lm_gdt - 1
	dd lm_gdt
saved_gdtr:
	dw 0
	dd 0
saved_esp: dd 0

section .text
; void long_mode_access(struct lm_req *r) -- r (lm_req in unassigned.c):
;   +0 cr3 (PML4, below 4 GiB), +4 op (0 read, 1 write),
;   +8 address (64-bit), +16 value (64-bit: read result or what to write).
; Interrupts stay off while away; general registers and EFLAGS restored.
global long_mode_access
long_mode_access:
	pushad
	pushfd
	cli
	mov esi, [esp + 40]         ; r: after pushad (32) and pushfd (4)
	mov [saved_esp], esp
	sgdt [saved_gdtr]
	lgdt [lm_gdtr]
	mov eax, [esi]              ; CR3 first: only CR0.PG must come last
	mov cr3, eax
	mov eax, cr4
	or eax, CR4_PAE
	mov cr4, eax
	mov ecx, MSR_EFER
	rdmsr
	or eax, EFER_LME
	wrmsr
	mov eax, cr0
	or eax, CR0_PG
	mov cr0, eax                ; IA-32e mode, still 32-bit code
	jmp SEL_CODE64:lm_64

bits 64
lm_64:
	mov esi, esi                ; zero-extend: the upper halves are undefined
	mov esp, esp
	mov rdx, [rsi + 8]
	cmp dword [rsi + 4], 0
	jne .write
	mov rax, [rdx]              ; 48 8B 02: the 8-byte read
	mov [rsi + 16], rax
	jmp .out
.write:
	mov rax, [rsi + 16]
	mov [rdx], rax              ; 48 89 02: the 8-byte write
.out:
	push SEL_CODE32
	mov eax, lm_back32          ; below 4 GiB: zero-extended
	push rax
	o64 retf

bits 32
lm_back32:
	mov eax, cr0
	and eax, ~CR0_PG
	mov cr0, eax
	mov ecx, MSR_EFER
	rdmsr
	and eax, ~EFER_LME
	wrmsr
	mov eax, cr4
	and eax, ~CR4_PAE
	mov cr4, eax
	lgdt [saved_gdtr]
	mov esp, [saved_esp]
	popfd
	popad
	ret
