; run_user and its way back (guest.h, ring 3): IRET to CPL 3, and the
; INT 0x81 handler that returns to run_user's caller.

bits 32

SEL_DATA32 equ 0x10
SEL_UCODE equ 0x2B              ; must match guest.h
SEL_UDATA equ 0x33

section .data
; run_user's caller's stack, after its four saved registers. Guests whose
; own ring-0 code comes back through user_return store it too.
global ring3_kernel_esp
ring3_kernel_esp: dd 0

section .text
; void run_user(void (*fn)(void), u32 user_esp, u32 eflags)
global run_user
run_user:
	push ebp
	push ebx
	push esi
	push edi
	mov [ring3_kernel_esp], esp
	mov eax, [esp + 20]
	mov ecx, [esp + 24]
	mov edx, [esp + 28]
	push dword SEL_UDATA
	push ecx
	push edx
	push dword SEL_UCODE
	push eax
	mov ax, SEL_UDATA           ; FS and GS: the IRET to ring 3 nulls them
	mov ds, ax
	mov es, ax
	iretd

; INT 0x81 (a DPL 3 gate), and any way out that jumps here: back to
; run_user's caller on the kernel stack.
global user_return
user_return:
	mov ax, SEL_DATA32          ; FS and GS stay null: nothing here uses them
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov esp, [ring3_kernel_esp]
	pop edi
	pop esi
	pop ebx
	pop ebp
	ret

section .note.GNU-stack noalloc noexec nowrite progbits
