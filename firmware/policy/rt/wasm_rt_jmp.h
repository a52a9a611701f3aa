/* The runtime's own setjmp/longjmp (wasm_rt_jmp.S): just what unwinding a
 * trap needs on x86-64 SysV. Saved: the callee-saved registers, the stack
 * pointer after return and the return address. Not saved: x87/SSE state
 * (the monitor has none) and the signal mask (there are no signals).
 * Slot indices are shared with the assembly, which multiplies them by 8. */
#ifndef WASM_RT_JMP_H
#define WASM_RT_JMP_H

#define WASM_RT_JB_RBX 0
#define WASM_RT_JB_RBP 1
#define WASM_RT_JB_R12 2
#define WASM_RT_JB_R13 3
#define WASM_RT_JB_R14 4
#define WASM_RT_JB_R15 5
#define WASM_RT_JB_RSP 6
#define WASM_RT_JB_RIP 7
#define WASM_RT_JB_SLOTS 8

#ifndef __ASSEMBLER__
#include <stdint.h>

struct wasm_rt_jmp_buf {
	uint64_t slot[WASM_RT_JB_SLOTS];
};

/* wasm_rt_setjmp: save the context; returns 0, and later the value given
 * to wasm_rt_longjmp (never 0) when jumped back to. */
int wasm_rt_setjmp(struct wasm_rt_jmp_buf *jb) __attribute__((returns_twice));
/* wasm_rt_longjmp: resume the wasm_rt_setjmp that filled jb, whose frame
 * must still be live; val 0 is delivered as 1. */
void wasm_rt_longjmp(struct wasm_rt_jmp_buf *jb, int val) __attribute__((noreturn));
#endif

#endif
