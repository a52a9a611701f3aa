/* APIC virtualization (SDM Vol 3C chapter 29). When the CPU offers "use
 * TPR shadow", "virtualize APIC accesses", "APIC-register virtualization"
 * and "virtual-interrupt delivery", a VM's vLAPIC register page becomes
 * each vCPU's virtual-APIC page and one shared, never-read page is mapped
 * at the guest's APIC base as the APIC-access page. Then:
 *   - register reads come from the page, and TPR writes, CR8 moves and
 *     EOIs of edge-triggered vectors happen in the guest: no exit;
 *   - the other register writes land in the page and trap afterwards
 *     (APIC-write exit): vlapic.c applies them as it would an MMIO write;
 *   - reads the CPU does not virtualize (the timer's current count) and
 *     writes it does not (the version, narrow stores) are APIC-access
 *     exits, emulated like any device access;
 *   - interrupts are delivered by the CPU from VIRR (RVI/SVI in the guest
 *     interrupt status), so no interrupt-window exits; we only keep RVI
 *     and the EOI-exit bitmap (level-triggered vectors, whose EOIs must
 *     reach the IOAPIC) up to date before each entry that needs it.
 * Posted interrupts are not used: a request from another CPU is merged on
 * the vCPU's own CPU after a kick (vlapic.h). */
#include "lib/fatal.h"
#include "lib/mem.h"
#include "core/virt.h"
#include "arch/x86/cpu_ops.h"
#include "arch/x86/msr.h"
#include "arch/x86/percpu.h"
#include "arch/x86/vmx/vmcs.h"
#include "arch/x86/vmx/vmexit.h"
#include "arch/x86/vmx/vmx_ops.h"
#include "arch/x86/vmx/vmx_vcpu.h"
#include <cg/errno.h>
#include <cg/spinlock.h>

/* All four are needed together (29.1-29.2) */
#define APICV_PROC PROC_USE_TPR_SHADOW
#define APICV_PROC2 \
	(PROC2_VIRTUALIZE_APIC_ACCESSES | PROC2_APIC_REGISTER_VIRT | PROC2_VIRTUAL_INTR_DELIVERY)
/* APIC-access exit qualification (27.2.1, table 27-6): page offset and
 * access type */
#define APIC_ACCESS_OFFSET(q) ((q) & 0xFFF)
#define APIC_ACCESS_TYPE(q) (((q) >> 12) & 0xF)
enum { APIC_ACCESS_LINEAR_READ = 0, APIC_ACCESS_LINEAR_WRITE = 1 };
/* What vmexit_emulate_mmio's report expects (EPT qualification bit 1) */
#define EPT_QUAL_WRITE (1U << 1)

/* Off unless cg.apicv=1: Linux SMP boots under Bochs hung in 2 of 5
 * tries with it on (see docs/guest-abi.md), none with it off. */
static bool apicv_allowed;
static u64 apic_access_page;
static u32 apic_access_lock;

void arch_virt_set_apicv(bool allow)
{
	apicv_allowed = allow;
}

bool arch_vm_apicv(const struct vm *vm)
{
	return vm->arch && vm->arch->apicv;
}

/* The allowed-1 halves of the control MSRs (appendix A.3.2, A.3.3); the
 * true-controls MSR has the same allowed-1 bits. */
static bool apicv_offered(void)
{
	if (!(cpuid(1, 0).ecx & CPUID_1_ECX_VMX))
		return false;
	u32 proc = (u32)(rdmsr(MSR_IA32_VMX_PROCBASED_CTLS) >> 32);
	if (!(proc & PROC_ACTIVATE_SECONDARY) || !(proc & APICV_PROC))
		return false;
	u32 proc2 = (u32)(rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2) >> 32);
	return (proc2 & APICV_PROC2) == APICV_PROC2;
}

int vmx_apicv_vm_init(struct vm *vm)
{
	vm->arch->apicv = false;
	if (!apicv_allowed || !apicv_offered())
		return 0;
	/* The CPU only compares addresses with the APIC-access page; its
	 * contents are never read, so every VM shares one. */
	spin_lock(&apic_access_lock);
	if (!apic_access_page)
		apic_access_page = mem_alloc_pages(1);
	u64 page = apic_access_page;
	spin_unlock(&apic_access_lock);
	if (!page)
		return -CG_ENOMEM;
	int rc = ept_map_4k_uc(vm, VLAPIC_BASE, page);
	if (rc)
		return rc;
	vm->arch->apicv = true;
	return 0;
}

void vmx_apicv_controls(struct vcpu *v, u32 *proc, u32 *proc2)
{
	if (!v->vm->arch->apicv)
		return;
	/* MOV to/from CR8 reads and writes the virtual TPR (29.3) */
	*proc = (*proc & ~(PROC_CR8_LOAD_EXITING | PROC_CR8_STORE_EXITING)) | APICV_PROC;
	*proc2 |= APICV_PROC2;
}

/* The EOI-exit bitmap, RVI and SVI from the vLAPIC's page (v's VMCS
 * current here); the next entry merges what is posted. */
static void apicv_load_state(struct vcpu *v)
{
	struct arch_vcpu *a = v->arch;
	struct vlapic *l = vcpu_lapic(v);
	for (u32 i = 0; i < 4; i++) {
		a->eoi_exit[i] = vlapic_tmr_qword(l, i);
		vmcs_write(VMCS_EOI_EXIT_BITMAP0 + 2 * i, a->eoi_exit[i]);
	}
	int isr = vlapic_highest_isr(l), irr = vlapic_highest_irr(l);
	vmcs_write(VMCS_GUEST_INTR_STATUS, (irr < 0 ? 0 : (u32)irr) | (isr < 0 ? 0 : (u32)isr) << 8);
	__atomic_store_n(&l->recheck, 1, __ATOMIC_RELEASE);
}

void vmx_apicv_setup(struct vcpu *v, u32 proc, u32 proc2)
{
	struct arch_vcpu *a = v->arch;
	struct vlapic *l = vcpu_lapic(v);
	a->apicv = v->vm->arch->apicv;
	if (!a->apicv)
		return;
	if (!(proc & APICV_PROC) || (proc2 & APICV_PROC2) != APICV_PROC2)
		panic("vmx_apicv_setup: CPU %u lacks the APIC virtualization CPU 0 offered (vm %s)",
		      this_percpu()->index, v->vm->name);
	vmcs_write(VMCS_VIRTUAL_APIC_PAGE, (u64)(uintptr_t)l->regs);
	vmcs_write(VMCS_APIC_ACCESS_ADDR, apic_access_page);
	vmcs_write(VMCS_TPR_THRESHOLD, 0); /* unused with virtual-interrupt delivery */
	apicv_load_state(v);
}

void vmx_apicv_sync(struct vcpu *v)
{
	struct arch_vcpu *a = v->arch;
	struct vlapic *l = vcpu_lapic(v);
	vlapic_sync(l);
	/* Before RVI: the CPU must not deliver a level-triggered vector whose
	 * EOI would not exit. */
	for (u32 i = 0; i < 4; i++) {
		u64 tmr = vlapic_tmr_qword(l, i);
		if (tmr != a->eoi_exit[i]) {
			a->eoi_exit[i] = tmr;
			vmcs_write(VMCS_EOI_EXIT_BITMAP0 + 2 * i, tmr);
		}
	}
	/* SVI too: the CPU keeps it at the highest VISR bit, and a vector
	 * whose delivery gave way to an exception went back from VISR to
	 * VIRR (vlapic_unack). */
	int irr = vlapic_highest_irr(l), isr = vlapic_highest_isr(l);
	u64 status = vmcs_read(VMCS_GUEST_INTR_STATUS);
	u64 want = (irr < 0 ? 0 : (u64)irr) | (isr < 0 ? 0 : (u64)isr) << 8;
	if ((status & 0xFFFF) != want)
		vmcs_write(VMCS_GUEST_INTR_STATUS, want);
}

void vmx_apicv_apic_state(struct vcpu *v)
{
	struct arch_vcpu *a = v->arch;
	struct vlapic *l = vcpu_lapic(v);
	bool on = vlapic_enabled(l);
	if (!v->vm->arch->apicv || on == a->apicv)
		return;
	/* With "use TPR shadow" clear every linear access to the APIC-access
	 * page exits (SDM Vol 3C, "Virtualizing Reads from the APIC-Access
	 * Page" and "... Writes to ..."), so the emulation path sees each one
	 * and finds no APIC there; "virtualize APIC accesses" stays on, so
	 * the page itself is never the guest's. APIC-register virtualization
	 * and virtual-interrupt delivery need the TPR shadow (the VM-entry
	 * checks on the execution controls) and go with it; CR8 moves exit
	 * again, to the vLAPIC's TPR, rather than reach this CPU's own. */
	u32 cr8 = PROC_CR8_LOAD_EXITING | PROC_CR8_STORE_EXITING;
	u32 vapic2 = PROC2_APIC_REGISTER_VIRT | PROC2_VIRTUAL_INTR_DELIVERY;
	if (on) {
		a->proc = (a->proc & ~cr8) | APICV_PROC;
		a->proc2 |= vapic2;
	} else {
		a->proc = (a->proc & ~APICV_PROC) | cr8;
		a->proc2 &= ~vapic2;
	}
	vmcs_write(VMCS_PROC_CONTROLS, a->proc);
	vmcs_write(VMCS_PROC_CONTROLS2, a->proc2);
	a->apicv = on;
	/* Back in its power-on state (vlapic_write_base): nothing requested,
	 * in service or level-triggered */
	if (on)
		apicv_load_state(v);
}

enum exit_action exit_apic_access(struct vcpu *v, u64 q)
{
	u32 type = APIC_ACCESS_TYPE(q);
	if (type != APIC_ACCESS_LINEAR_READ && type != APIC_ACCESS_LINEAR_WRITE)
		return vmexit_fatal(v, "APIC page used for event delivery, a fetch or a page walk",
				    "bad-memory-access");
	return vmexit_emulate_mmio(v, VLAPIC_BASE + APIC_ACCESS_OFFSET(q),
				  type == APIC_ACCESS_LINEAR_WRITE ? EPT_QUAL_WRITE : 0);
}

enum exit_action exit_apic_write(struct vcpu *v, u64 q)
{
	vlapic_apic_write(v, (u32)APIC_ACCESS_OFFSET(q));
	return EXIT_ACT_RESUME;
}

enum exit_action exit_eoi_induced(struct vcpu *v, u64 q)
{
	vlapic_eoi_exit(v, (u8)q); /* the qualification is the vector (27.2.1) */
	return EXIT_ACT_RESUME;
}
