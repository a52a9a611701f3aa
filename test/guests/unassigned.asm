; unassigned: one 8-byte access in 64-bit mode, from a 32-bit guest.
; REX.W MOV (48 8B /r, 48 89 /r) exists only in 64-bit mode: this runs
; there, called through long_mode_call (lib/long_mode.asm).

bits 64

section .text
; void lm_access64(struct lm_req *r) -- RDI = r (lm_req in unassigned.c):
;   +0 op (0 read, 1 write), +8 address (64-bit), +16 value (64-bit: read
;   result or what to write).
global lm_access64
lm_access64:
	mov rdx, [rdi + 8]
	cmp dword [rdi], 0
	jne .write
	mov rax, [rdx]              ; 48 8B 02: the 8-byte read
	mov [rdi + 16], rax
	ret
.write:
	mov rax, [rdi + 16]
	mov [rdx], rax              ; 48 89 02: the 8-byte write
	ret
