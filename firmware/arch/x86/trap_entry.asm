; Interrupt and exception entry: one tiny stub per vector pushes a zero
; error code where the CPU pushes none, then the vector, and joins one path
; that saves the general registers and calls
;   void trap_dispatch(struct trap_frame *tf);
; The frame layout is struct trap_frame; its size is generated from C.

%include "asm_offsets.inc"

extern trap_dispatch
global trap_stub_table

%macro TRAP_STUB 1
align 16
trap_stub_%1:
%if %1 = 8 || %1 = 10 || %1 = 11 || %1 = 12 || %1 = 13 || %1 = 14 || %1 = 17 || %1 = 21 || %1 = 29 || %1 = 30
%else
	push 0
%endif
	push %1
	jmp trap_common
%endmacro

section .text
bits 64

%assign v 0
%rep 256
	TRAP_STUB v
%assign v v + 1
%endrep

trap_common:
	push rax
	push rbx
	push rcx
	push rdx
	push rsi
	push rdi
	push rbp
	push r8
	push r9
	push r10
	push r11
	push r12
	push r13
	push r14
	push r15
	cld
	mov rdi, rsp
	mov rbx, rsp
	and rsp, -16
	call trap_dispatch
	mov rsp, rbx
	pop r15
	pop r14
	pop r13
	pop r12
	pop r11
	pop r10
	pop r9
	pop r8
	pop rbp
	pop rdi
	pop rsi
	pop rdx
	pop rcx
	pop rbx
	pop rax
	add rsp, TRAP_FRAME_HW_OFFSET - TRAP_FRAME_VECTOR
	iretq

%if TRAP_FRAME_VECTOR != 15 * 8
%error "trap_common pushes 15 registers before the vector; struct trap_frame disagrees"
%endif

section .rodata
align 8
trap_stub_table:
%assign v 0
%rep 256
	dq trap_stub_ %+ v
%assign v v + 1
%endrep
