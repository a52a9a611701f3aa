/* The register frame built by trap_entry.asm. */
#ifndef X86_TRAP_H
#define X86_TRAP_H

#include <cg/types.h>

struct trap_frame {
	u64 r15, r14, r13, r12, r11, r10, r9, r8;
	u64 rbp, rdi, rsi, rdx, rcx, rbx, rax;
	u64 vector;
	u64 error;
	/* pushed by the CPU */
	u64 rip, cs, rflags, rsp, ss;
};

/* Vector used to stop other CPUs (delivered as NMI, SDM Vol 3A 10.6.1). */
#define TRAP_NMI 2
/* Host interrupt vectors: a kick from another CPU, CPU 0's tick, and the
 * LAPIC's spurious vector. */
#define TRAP_KICK 0xF0
#define TRAP_TICK 0xF1
#define TRAP_SPURIOUS 0xFF

/* trap_dispatch: C side of every interrupt and exception. An NMI while the
 * machine is stopping halts this CPU; anything else in the monitor is fatal. */
void trap_dispatch(struct trap_frame *tf);

#endif
