; A trip into 64-bit mode and back for the 32-bit test guests: PAE, CR3,
; EFER.LME, CR0.PG, a far jump to a 64-bit code segment (SDM Vol 3A
; 10.8.5), a call of the caller's 64-bit code, then out by the reverse
; steps (10.8.5.4): a far return to 32-bit code, paging off, LME off.
; The C side is lib/long_mode.h.

bits 32

SEL_CODE32 equ 0x08             ; same as entry.asm's, so CS/DS stay valid
SEL_DATA32 equ 0x10
SEL_CODE64 equ 0x18             ; long_mode.h's LM_SEL_CODE64
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
saved_idtr:
	dw 0
	dd 0
saved_esp: dd 0
saved_call: dd 0

section .text
; void long_mode_call(struct lm_call *c) -- c: +0 cr3, +4 fn, +8 arg,
; +12 idtr (struct lm_call in long_mode.h). Interrupts stay off while
; away; general registers, EFLAGS, GDTR and IDTR are restored.
global long_mode_call
long_mode_call:
	pushad
	pushfd
	cli
	mov esi, [esp + 40]         ; c: after pushad (32) and pushfd (4)
	mov [saved_call], esi
	mov [saved_esp], esp
	sgdt [saved_gdtr]
	sidt [saved_idtr]
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
	mov esp, esp                ; zero-extend: the upper halves are undefined
	mov esi, [saved_call]
	mov eax, [rsi + 12]
	test eax, eax
	jz .call
	lidt [rax]                  ; a 64-bit IDT: 10-byte operand
.call:
	mov edi, [rsi + 8]
	mov eax, [rsi + 4]
	call rax
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
	lidt [saved_idtr]
	mov esp, [saved_esp]
	popfd
	popad
	ret
