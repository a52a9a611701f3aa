; pcid: MOV to CR4 in 64-bit mode (CR4.PCIDE can be set only in IA-32e
; mode: SDM Vol 3A 4.10.1), with a 64-bit IDT whose #UD, #GP and #PF
; gates land here and resume at a chosen point. Called through
; long_mode_call (lib/long_mode.asm).

bits 64

CR4_PCIDE equ (1 << 17)

section .data
align 8
lm_resume: dq 0                 ; where an exception resumes
lm_vector: dd -1                ; the vector it had, -1: none

section .text
; The gates of pcid.c's 64-bit IDT: note the vector, drop the error code,
; resume at lm_resume.
global lm_trap_ud, lm_trap_gp, lm_trap_pf
lm_trap_ud:
	mov dword [lm_vector], 6
	jmp lm_trap_resume
lm_trap_gp:
	mov dword [lm_vector], 13
	add rsp, 8
	jmp lm_trap_resume
lm_trap_pf:
	mov dword [lm_vector], 14
	add rsp, 8
lm_trap_resume:
	push rax
	mov rax, [lm_resume]
	mov [rsp + 8], rax          ; the frame's RIP
	pop rax
	iretq

; void lm_set_cr4(struct cr4_try *t) -- RDI = t (pcid.c): +0 the bits to
; set (u32), +4 the vector that MOV to CR4 raised (out, -1: none), +8 CR4
; right after (out, low half). PCIDE is cleared again before returning:
; paging cannot be turned off with it set.
global lm_set_cr4
lm_set_cr4:
	mov dword [lm_vector], -1
	mov eax, .after
	mov [lm_resume], rax
	mov rax, cr4
	mov ecx, [rdi]
	or rax, rcx
	mov cr4, rax                ; #GP where PCIDE is not offered
.after:
	mov eax, [lm_vector]
	mov [rdi + 4], eax
	mov rax, cr4
	mov [rdi + 8], eax
	and rax, ~CR4_PCIDE
	mov cr4, rax
	ret
