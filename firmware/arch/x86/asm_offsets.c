/* Compiled to assembly only: each OFFSET line becomes "%define NAME value" in
 * build/gen/asm_offsets.inc, so assembly never types a struct offset. */
#include <stddef.h>
#include "arch/x86/trap.h"
#include "arch/x86/smp.h"
#include "arch/x86/percpu.h"
#include "arch/x86/vmx/spec_ctrl.h"
#include "core/virt.h"
#include "arch/x86/vmx/vmcs.h"
#include "arch/x86/vmx/vmx_vcpu.h"

#define OFFSET(name, value) __asm__ volatile("\n.ascii \"@@define " #name " %c0\"" ::"i"(value))

void asm_offsets(void);
void asm_offsets(void)
{
	OFFSET(TRAP_FRAME_VECTOR, offsetof(struct trap_frame, vector));
	OFFSET(TRAP_FRAME_HW_OFFSET, offsetof(struct trap_frame, rip));
	OFFSET(TRAP_FRAME_SIZE, sizeof(struct trap_frame));
	OFFSET(AP_BOOT_BASE, AP_TRAMPOLINE_BASE);
	OFFSET(AP_PARAMS_OFFSET, AP_PARAMS_OFFSET_VALUE);
	OFFSET(AP_PARAMS_CR3, offsetof(struct ap_boot_params, cr3));
	OFFSET(AP_PARAMS_STACK, offsetof(struct ap_boot_params, stack_top));
	OFFSET(AP_PARAMS_ENTRY, offsetof(struct ap_boot_params, entry));
	OFFSET(AP_PARAMS_INDEX, offsetof(struct ap_boot_params, cpu_index));
	OFFSET(AP_PARAMS_ARRIVED, offsetof(struct ap_boot_params, arrived));
	OFFSET(VCPU_RAX, offsetof(struct vcpu, gpr[GPR_RAX]));
	OFFSET(VCPU_RCX, offsetof(struct vcpu, gpr[GPR_RCX]));
	OFFSET(VCPU_RDX, offsetof(struct vcpu, gpr[GPR_RDX]));
	OFFSET(VCPU_RBX, offsetof(struct vcpu, gpr[GPR_RBX]));
	OFFSET(VCPU_RBP, offsetof(struct vcpu, gpr[GPR_RBP]));
	OFFSET(VCPU_RSI, offsetof(struct vcpu, gpr[GPR_RSI]));
	OFFSET(VCPU_RDI, offsetof(struct vcpu, gpr[GPR_RDI]));
	OFFSET(VCPU_R8, offsetof(struct vcpu, gpr[GPR_R8]));
	OFFSET(VCPU_R9, offsetof(struct vcpu, gpr[GPR_R9]));
	OFFSET(VCPU_R10, offsetof(struct vcpu, gpr[GPR_R10]));
	OFFSET(VCPU_R11, offsetof(struct vcpu, gpr[GPR_R11]));
	OFFSET(VCPU_R12, offsetof(struct vcpu, gpr[GPR_R12]));
	OFFSET(VCPU_R13, offsetof(struct vcpu, gpr[GPR_R13]));
	OFFSET(VCPU_R14, offsetof(struct vcpu, gpr[GPR_R14]));
	OFFSET(VCPU_R15, offsetof(struct vcpu, gpr[GPR_R15]));
	OFFSET(VCPU_GPR_CALLEE_DIRTY, offsetof(struct vcpu, gpr_callee_dirty));
	/* The exit stub's dispatch and its checks before going straight back
	 * in (vmx_entry.asm, vmx_run.c's vmx_inject_pending) */
	OFFSET(VCPU_ARCH, offsetof(struct vcpu, arch));
	OFFSET(VCPU_ATTENTION, offsetof(struct vcpu, attention));
	/* gpr_callee_dirty and attention as one 16-bit word: the stub's
	 * common path tests both at once ("cmp word") */
	_Static_assert(offsetof(struct vcpu, attention) ==
			       offsetof(struct vcpu, gpr_callee_dirty) + 1 &&
			       sizeof(((struct vcpu *)0)->attention) == 1 &&
			       sizeof(((struct vcpu *)0)->gpr_callee_dirty) == 1,
		       "struct vcpu: attention must follow gpr_callee_dirty (vmx_entry.asm)");
	OFFSET(VCPU_EXIT_FLAGS, offsetof(struct vcpu, gpr_callee_dirty));
	OFFSET(VCPU_EXIT_STATS, offsetof(struct vcpu, exit_stats));
	OFFSET(VM_EXIT_STATS, VCPU_EXIT_STATS); /* = vm.h's, the table's size */
	OFFSET(VMCS_FIELD_EXIT_REASON, VMCS_EXIT_REASON);
	OFFSET(ARCH_EVENT_VALID, offsetof(struct arch_vcpu, event.valid));
	OFFSET(ARCH_LAPIC_RECHECK, offsetof(struct arch_vcpu, lapic.recheck));
	OFFSET(ARCH_NMI_BLOCKED, offsetof(struct arch_vcpu, nmi_blocked));
	OFFSET(ARCH_PROC, offsetof(struct arch_vcpu, proc));
	OFFSET(PROC_WINDOWS, PROC_INTERRUPT_WINDOW_EXITING | PROC_NMI_WINDOW_EXITING);
	OFFSET(VMCS_FIELD_HOST_RSP, 0x6C14);
	/* The world-switch stubs' speculative-execution hygiene (spec_ctrl.h) */
	OFFSET(PERCPU_SPEC_FLAGS, offsetof(struct percpu, spec_flags));
	OFFSET(SPEC_F_RSB_FULL, SPEC_F_RSB_FULL);
	OFFSET(SPEC_F_RSB_ONE, SPEC_F_RSB_ONE);
	OFFSET(SPEC_F_L1D_FLUSH, SPEC_F_L1D_FLUSH);
	OFFSET(SPEC_F_VERW, SPEC_F_VERW);
	OFFSET(MSR_FLUSH_CMD, MSR_IA32_FLUSH_CMD);
	OFFSET(SEL_KERNEL_DATA, GDT_KERNEL_DATA);
}
