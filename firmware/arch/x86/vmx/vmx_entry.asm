; The world switch. Enter the guest with its general registers from
; struct vcpu, and come back here on every VM exit with them saved again.
;   int vmx_enter(struct vcpu *v, u32 launched);
; Returns 0 after a VM exit that core must see, 1 when VMLAUNCH/VMRESUME
; itself failed (the caller reads the VM-instruction error). Exits the
; monitor handles on the spot go straight back into the guest:
;   bool vmx_exit_fast(struct vcpu *v);   /* true: resume the guest */
; RSP, RIP and everything else of the guest live in the VMCS.

%include "asm_offsets.inc"

global vmx_enter, vmx_exit_entry
extern vmx_exit_fast

section .text
bits 64

%macro LOAD_GUEST 0                     ; rdi = vcpu; rdi itself last
	mov rax, [rdi + VCPU_RAX]
	mov rcx, [rdi + VCPU_RCX]
	mov rdx, [rdi + VCPU_RDX]
	mov rbx, [rdi + VCPU_RBX]
	mov rbp, [rdi + VCPU_RBP]
	mov rsi, [rdi + VCPU_RSI]
	mov r8,  [rdi + VCPU_R8]
	mov r9,  [rdi + VCPU_R9]
	mov r10, [rdi + VCPU_R10]
	mov r11, [rdi + VCPU_R11]
	mov r12, [rdi + VCPU_R12]
	mov r13, [rdi + VCPU_R13]
	mov r14, [rdi + VCPU_R14]
	mov r15, [rdi + VCPU_R15]
	mov rdi, [rdi + VCPU_RDI]
%endmacro

vmx_enter:
	push rbx
	push rbp
	push r12
	push r13
	push r14
	push r15
	push rdi                        ; the vcpu, found again at exit
	mov rax, VMCS_FIELD_HOST_RSP
	vmwrite rax, rsp
	test esi, esi
	jz .launch
.resume:
	LOAD_GUEST
	vmresume
	jmp .failed
.launch:
	LOAD_GUEST
	vmlaunch
.failed:
	pop rdi
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbp
	pop rbx
	mov eax, 1
	ret

vmx_exit_entry:
	push rdi                        ; guest rdi; the vcpu is at [rsp + 8]
	mov rdi, [rsp + 8]
	mov [rdi + VCPU_RAX], rax
	mov [rdi + VCPU_RCX], rcx
	mov [rdi + VCPU_RDX], rdx
	mov [rdi + VCPU_RBX], rbx
	mov [rdi + VCPU_RBP], rbp
	mov [rdi + VCPU_RSI], rsi
	mov [rdi + VCPU_R8],  r8
	mov [rdi + VCPU_R9],  r9
	mov [rdi + VCPU_R10], r10
	mov [rdi + VCPU_R11], r11
	mov [rdi + VCPU_R12], r12
	mov [rdi + VCPU_R13], r13
	mov [rdi + VCPU_R14], r14
	mov [rdi + VCPU_R15], r15
	pop rax
	mov [rdi + VCPU_RDI], rax
	call vmx_exit_fast              ; the stack is 16-byte aligned here
	test al, al
	jz .to_core
	mov rdi, [rsp]
	jmp vmx_enter.resume
.to_core:
	pop rdi
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbp
	pop rbx
	xor eax, eax
	ret
