/* Compiled to assembly only: each OFFSET line becomes "%define NAME value" in
 * build/gen/asm_offsets.inc, so assembly never types a struct offset. */
#include <stddef.h>
#include "arch/x86/trap.h"
#include "arch/x86/smp.h"
#include "arch/x86/percpu.h"
#include "arch/x86/vmx/spec_ctrl.h"
#include "core/virt.h"

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
