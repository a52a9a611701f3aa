; Multiboot1 entry, GDT, IDT stubs, the exception catcher and the AP
; trampoline of the test guests. 32-bit protected mode, paging off.

bits 32

MB_MAGIC equ 0x1BADB002
MB_FLAGS equ 0x00000003         ; bit 0: align modules, bit 1: memory info
STACK_SIZE equ 16384
AP_STACK_SHIFT equ 13           ; 8 KiB per AP, must match smp.c
AP_MAX equ 16                   ; must match smp.h
SEL_CODE32 equ 0x08             ; selectors: must match guest.h
SEL_DATA32 equ 0x10

section .multiboot
align 4
global mb_header
mb_header:
	dd MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

section .bss
align 16
boot_stack:
	resb STACK_SIZE
boot_stack_top:

section .data
align 8
; Our own GDT: the loader's may be anywhere (and in memory we reuse).
global gdt
gdt:
	dq 0
	dq 0x00CF9A000000FFFF       ; 0x08 code, 32-bit, flat 4 GiB
	dq 0x00CF92000000FFFF       ; 0x10 data, 32-bit, flat 4 GiB
	dq 0x00009A000000FFFF       ; 0x18 code, 16-bit, base 0, 64 KiB
	dq 0x000092000000FFFF       ; 0x20 data, 16-bit, base 0, 64 KiB
gdt_end:
global gdt_ptr
gdt_ptr:
	dw gdt_end - gdt - 1
	dd gdt

; catch_exception state, shared with trap.c.
global catch_resume, catch_vector, catch_error
catch_resume: dd 0              ; EIP to resume at after a fault; 0 = not armed
catch_vector: dd 0
catch_error: dd 0
catch_esp: dd 0

section .text
; void _start(void) -- Multiboot entry: EAX = magic, EBX = info address.
global _start
extern guest_start
_start:
	cli
	cld
	mov esp, boot_stack_top
	lgdt [gdt_ptr]
	jmp SEL_CODE32:.reload
.reload:
	mov cx, SEL_DATA32
	mov ds, cx
	mov es, cx
	mov ss, cx
	mov fs, cx
	mov gs, cx
	push ebx
	push eax
	call guest_start            ; void guest_start(u32 magic, u32 info): no return
.halt:
	cli
	hlt
	jmp .halt

; IDT stubs: each pushes an error code (a dummy 0 when the CPU pushes none)
; and its vector, so trap_common always sees the same frame layout
; (struct trap_frame in guest.h).
%macro TRAP_STUB 1
trap_stub_%1:
%if %1 == 8 || (%1 >= 10 && %1 <= 14) || %1 == 17 || %1 == 21 || %1 == 29 || %1 == 30
	push dword %1
%else
	push dword 0
	push dword %1
%endif
	jmp trap_common
%endmacro

%assign v 0
%rep 256
TRAP_STUB v
%assign v v + 1
%endrep

extern trap_dispatch
trap_common:
	pushad
	cld
	push esp                    ; void trap_dispatch(struct trap_frame *)
	call trap_dispatch
	add esp, 4
	popad
	add esp, 8                  ; vector and error code
	iretd

section .rodata
global trap_stubs
trap_stubs:
%assign v 0
%rep 256
	dd trap_stub_ %+ v
%assign v v + 1
%endrep

section .text
; int catch_exception(void (*fn)(void *arg), void *arg)
; setjmp-like: a fault inside fn makes trap_dispatch resume at .resume,
; where the saved stack pointer and callee-saved registers come back.
global catch_exception
catch_exception:
	push ebp
	push ebx
	push esi
	push edi
	mov [catch_esp], esp
	mov dword [catch_vector], -1
	mov dword [catch_error], 0
	mov dword [catch_resume], .resume
	push dword [esp + 24]       ; arg
	call [esp + 24]             ; fn (one slot further up after the push)
.resume:
	mov esp, [catch_esp]
	mov dword [catch_resume], 0
	mov eax, [catch_vector]
	pop edi
	pop esi
	pop ebx
	pop ebp
	ret

; AP trampoline: copied to AP_TRAMPOLINE (0x8000) by smp.c, entered by SIPI
; in real mode with CS = 0x0800, IP = 0. Only offsets relative to its start
; are used inside it, so it runs wherever it is copied.
bits 16
global ap_tramp_start, ap_tramp_end
ap_tramp_start:
	cli
	cld
	mov ax, cs
	mov ds, ax
	o32 lgdt [tramp_gdtr - ap_tramp_start]
	mov eax, cr0
	or eax, 1
	mov cr0, eax
	jmp dword SEL_CODE32:ap_entry32
align 4
tramp_gdtr:
	dw gdt_end - gdt - 1
	dd gdt
ap_tramp_end:

bits 32
extern ap_main, ap_stacks, ap_next_slot
; Each AP takes a stack slot with LOCK XADD, so APs may start in any order
; or all at once.
ap_entry32:
	mov ax, SEL_DATA32
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov fs, ax
	mov gs, ax
	mov eax, 1
	lock xadd [ap_next_slot], eax
	cmp eax, AP_MAX
	jae .park
	lea esp, [eax + 1]
	shl esp, AP_STACK_SHIFT
	add esp, ap_stacks
	push eax                    ; void ap_main(u32 slot): no return
	call ap_main
.park:
	cli
	hlt
	jmp .park

section .note.GNU-stack noalloc noexec nowrite progbits
