/* Applying the speculative-execution decision (spec_policy.c) on each
 * CPU: enhanced IBRS at bring-up, IBPB on a switch between VMs, and the
 * choice of world-switch stub (vmx_entry.asm) that fills the RSB after
 * exits and flushes L1D or clears buffers before entries. Every MSR is
 * touched only where the decision chose it, and the decision only
 * chooses what CPUID enumerates. */
#include "lib/log.h"
#include "core/virt.h"
#include "arch/x86/cpu_ops.h"
#include "arch/x86/percpu.h"
#include "arch/x86/vmx/spec_ctrl.h"
#include "arch/x86/vmx/vmx_vcpu.h"

int vmx_enter(struct vcpu *v, u32 launched);
int vmx_enter_rsb(struct vcpu *v, u32 launched);
int vmx_enter_spec(struct vcpu *v, u32 launched);
extern void vmx_exit_entry(void);
extern void vmx_exit_entry_rsb(void);
extern void vmx_exit_entry_spec(void);

static enum spec_mode spec_mode;
/* Tags of VM instances: a VM created later in a freed slot (or at the
 * same struct address) is another tenant and gets a new tag. */
static u64 spec_vm_tags;
/* The tag of the VM whose vCPU each CPU ran last (0: none yet). */
static u64 spec_last_vm[CG_MAX_CPUS];

static struct spec_cpu spec_read_cpu(void)
{
	struct spec_cpu c = { 0, 0, 0 };
	if (cpuid(0, 0).eax >= 7) {
		struct cpuid_regs r = cpuid(7, 0);
		c.leaf7_ebx = r.ebx;
		c.leaf7_edx = r.edx;
	}
	if (c.leaf7_edx & SPEC_L7_EDX_ARCH_CAP)
		c.arch_cap = rdmsr(MSR_IA32_ARCH_CAPABILITIES);
	return c;
}

void spec_ctrl_cpu_init(void)
{
	struct percpu *pc = this_percpu();
	struct spec_cpu c = spec_read_cpu();
	struct spec_decision d;
	spec_decide(&c, spec_mode, &d);
	/* Enhanced IBRS is "set once": the guest cannot write IA32_SPEC_CTRL
	 * (its WRMSR exits and is refused), so the bit stays for good. */
	if (d.eibrs)
		wrmsr(MSR_IA32_SPEC_CTRL, rdmsr(MSR_IA32_SPEC_CTRL) | SPEC_CTRL_IBRS);
	pc->spec_flags = spec_flags(&d);
	char exposed[40];
	cg_marker("spec-ctrl",
		  "cpu=%u mode=%s ibpb=%u eibrs=%u rsb=%s l1d-flush=%u verw=%u exposed=%s "
		  "cpuid7-ebx=0x%x cpuid7-edx=0x%x arch-cap=0x%lx",
		  pc->index, spec_mode_name(spec_mode), d.ibpb ? 1 : 0, d.eibrs ? 1 : 0,
		  spec_rsb_name(d.rsb), d.l1d_flush ? 1 : 0, d.verw ? 1 : 0,
		  spec_exposed_list(d.exposed, exposed, sizeof(exposed)), c.leaf7_ebx, c.leaf7_edx,
		  c.arch_cap);
}

void spec_ctrl_vm_init(struct vm *vm)
{
	vm->arch->spec_tag = __atomic_add_fetch(&spec_vm_tags, 1, __ATOMIC_RELAXED);
}

void spec_ctrl_vcpu_load(struct vcpu *v)
{
	struct percpu *pc = this_percpu();
	u64 tag = v->vm->arch->spec_tag;
	if (spec_last_vm[pc->index] == tag)
		return;
	/* Another tenant's branch training must not steer this one's
	 * predictions (nor the other way round): IBPB (SDM Vol 4 table 2-2,
	 * IA32_PRED_CMD). The monitor's own code between the two is not the
	 * concern here; that is eIBRS's part. */
	if (pc->spec_flags & SPEC_F_IBPB)
		wrmsr(MSR_IA32_PRED_CMD, PRED_CMD_IBPB);
	spec_last_vm[pc->index] = tag;
}

u64 spec_ctrl_exit_rip(void)
{
	u8 f = this_percpu()->spec_flags;
	if (f & SPEC_F_ENTRY)
		return (u64)(uintptr_t)vmx_exit_entry_spec;
	if (f & SPEC_F_RSB)
		return (u64)(uintptr_t)vmx_exit_entry_rsb;
	return (u64)(uintptr_t)vmx_exit_entry;
}

int spec_ctrl_enter(struct vcpu *v, u32 launched)
{
	u8 f = this_percpu()->spec_flags;
	if (f & SPEC_F_ENTRY)
		return vmx_enter_spec(v, launched);
	if (f & SPEC_F_RSB)
		return vmx_enter_rsb(v, launched);
	return vmx_enter(v, launched);
}

void arch_virt_set_spec(enum virt_spec mode)
{
	spec_mode = mode == VIRT_SPEC_ON    ? SPEC_MODE_ON
		    : mode == VIRT_SPEC_OFF ? SPEC_MODE_OFF
					    : SPEC_MODE_AUTO;
}
