/* A virtual CPU: a small state machine owned by core. Arch code loads and
 * saves its registers; the scheduler moves it between queues.
 *   created -> wait_sipi (APs) or runnable (BSP)
 *   runnable <-> running -> blocked (HLT) -> runnable (interrupt)
 *   any -> stopped (its VM ended) */
#ifndef CG_VCPU_H
#define CG_VCPU_H

#include <cg/types.h>

enum vcpu_state {
	VCPU_WAIT_SIPI,
	VCPU_RUNNABLE,
	VCPU_RUNNING,
	VCPU_BLOCKED,
	VCPU_PAUSED,   /* would run, but its VM is paused by the operator */
	VCPU_STOPPED,
};

/* General registers in x86 encoding order (the instruction decoder's
 * numbering); RSP lives in the VMCS and is synced around emulation. */
enum gpr { GPR_RAX, GPR_RCX, GPR_RDX, GPR_RBX, GPR_RSP, GPR_RBP, GPR_RSI, GPR_RDI,
	   GPR_R8, GPR_R9, GPR_R10, GPR_R11, GPR_R12, GPR_R13, GPR_R14, GPR_R15, GPR_COUNT };

struct vm;
struct arch_vcpu;

/* Exit counters, one per basic exit reason (SDM Vol 3C appendix C). */
#define VCPU_EXIT_STATS 72

struct vcpu {
	/* Must stay first: the exit stub saves guest GPRs here. */
	u64 gpr[GPR_COUNT];
	/* Set by an exit handler that changed RBP or R12-R15 in gpr: the
	 * exit stub's quick way back into the guest reloads only the
	 * registers C may clobber (and RBX, which CPUID answers in) unless
	 * this is set (vmx_entry.asm). */
	bool gpr_callee_dirty;
	/* Set by whoever needs this vCPU back in its run loop (its VM ended, an
	 * INIT arrived): the exit path then returns to core instead of
	 * resuming the guest directly. Right after gpr_callee_dirty: the exit
	 * stub tests both with one 16-bit compare (asm_offsets.c asserts it). */
	volatile bool attention;
	struct vm *vm;
	struct arch_vcpu *arch;   /* arch's state (VMCS, vLAPIC), from arch_vcpu_create */
	u32 index;         /* within its VM; 0 = bootstrap processor */
	volatile u32 state;
	u64 boot_rip;      /* where the loader says the bootstrap vCPU starts */
	u64 boot_rax, boot_rbx;
	/* Linux's 64-bit entry (boot protocol): long mode with the loader's
	 * identity map and GDT, RSI = boot_params. */
	bool boot_long64;
	u64 boot_cr3, boot_gdt, boot_rsi;
	u16 boot_gdt_limit;
	u8 sipi_vector;
	bool sipi_pending;
	bool init_pending;
	u32 id;            /* machine-wide: the scheduler policy's vCPU id */
	volatile s32 on_cpu; /* CPU whose VMX state holds this vCPU, or -1 */
	u32 released;      /* set once when its VM ends and it is let go */
	u64 run_ticks;     /* timestamp ticks on a CPU (guest + its exits) */
	u64 steal_ticks;   /* runnable but waiting for a CPU */
	u64 runnable_since;
	u64 switches;      /* times it was put on a CPU */
	u64 migrations;    /* times it ran on another CPU than the time before
			    * (arch counts them: each flushes its TLB there) */
	/* Its exits by basic reason: written only by the CPU running it,
	 * with plain (relaxed) adds, no locked instruction on the exit
	 * path; the VM's figure is the sum over its vCPUs (vm_exit_count). */
	u64 exit_stats[VCPU_EXIT_STATS];
};

#endif
