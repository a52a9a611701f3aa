/* wasm_rt_setjmp / wasm_rt_longjmp for x86-64 SysV (see wasm_rt_jmp.h).
 * GAS syntax so the same file builds into the monitor and the host tests. */
#include "wasm_rt_jmp.h"

#define SLOT(n) ((n) * 8)

	.text

/* int wasm_rt_setjmp(struct wasm_rt_jmp_buf *jb);   rdi = jb */
	.globl	wasm_rt_setjmp
	.type	wasm_rt_setjmp, @function
wasm_rt_setjmp:
	movq	%rbx, SLOT(WASM_RT_JB_RBX)(%rdi)
	movq	%rbp, SLOT(WASM_RT_JB_RBP)(%rdi)
	movq	%r12, SLOT(WASM_RT_JB_R12)(%rdi)
	movq	%r13, SLOT(WASM_RT_JB_R13)(%rdi)
	movq	%r14, SLOT(WASM_RT_JB_R14)(%rdi)
	movq	%r15, SLOT(WASM_RT_JB_R15)(%rdi)
	leaq	8(%rsp), %rdx			/* rsp as the caller sees it */
	movq	%rdx, SLOT(WASM_RT_JB_RSP)(%rdi)
	movq	(%rsp), %rdx			/* return address */
	movq	%rdx, SLOT(WASM_RT_JB_RIP)(%rdi)
	xorl	%eax, %eax
	ret
	.size	wasm_rt_setjmp, . - wasm_rt_setjmp

/* void wasm_rt_longjmp(struct wasm_rt_jmp_buf *jb, int val);   rdi, esi */
	.globl	wasm_rt_longjmp
	.type	wasm_rt_longjmp, @function
wasm_rt_longjmp:
	movl	%esi, %eax
	testl	%eax, %eax
	jnz	1f
	incl	%eax				/* setjmp must see nonzero */
1:	movq	SLOT(WASM_RT_JB_RBX)(%rdi), %rbx
	movq	SLOT(WASM_RT_JB_RBP)(%rdi), %rbp
	movq	SLOT(WASM_RT_JB_R12)(%rdi), %r12
	movq	SLOT(WASM_RT_JB_R13)(%rdi), %r13
	movq	SLOT(WASM_RT_JB_R14)(%rdi), %r14
	movq	SLOT(WASM_RT_JB_R15)(%rdi), %r15
	movq	SLOT(WASM_RT_JB_RSP)(%rdi), %rsp
	jmpq	*SLOT(WASM_RT_JB_RIP)(%rdi)
	.size	wasm_rt_longjmp, . - wasm_rt_longjmp

	.section .note.GNU-stack, "", @progbits
