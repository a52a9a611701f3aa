/* EPT violations: guest-physical accesses outside the VM's RAM (SDM Vol
 * 3C 28.2.1, table 28-7). Data accesses are emulated by decoding the
 * faulting MOV: the local APIC page here (vlapic.c), any other address by
 * core's MMIO router (vm_mmio), which also decides what unassigned space
 * does (all ones and dropped writes, or a stop: the VM's
 * on_unassigned_access). An instruction fetch from outside RAM always
 * stops the VM: QEMU would execute the all-ones bytes it reads there,
 * which no guest means to do. */
#include "core/virt.h"
#include "arch/x86/vmx/vlapic.h"
#include "arch/x86/vmx/guest_walk.h"
#include "arch/x86/vmx/insn_decode.h"
#include "lib/log.h"
#include "arch/x86/vmx/vmcs.h"
#include "arch/x86/vmx/vmexit.h"
#include "arch/x86/vmx/vmx_ops.h"
#include "arch/x86/vmx/vmx_vcpu.h"

#define EPT_QUAL_WRITE (1U << 1)
#define EPT_QUAL_FETCH (1U << 2)
/* The guest linear address is valid (bit 7) and is the one the access
 * translated, not a paging-structure entry's (bit 8): SDM Vol 3C 28.2.1,
 * table 28-7. */
#define EPT_QUAL_GLA_ACCESS ((1U << 7) | (1U << 8))
#define INSN_MAX 15

static enum insn_mode guest_insn_mode(void)
{
	u64 ar = vmcs_read(VMCS_GUEST_CS_AR);
	if ((vmcs_read(VMCS_GUEST_EFER) & (1ULL << 10)) && (ar & (1U << 13)))
		return INSN_MODE_64;
	return (ar & (1U << 14)) ? INSN_MODE_32 : INSN_MODE_16;
}

static enum exit_action ept_stop(struct vcpu *v, u64 gpa, u64 q, const char *what)
{
	kprintf("vm %s: vcpu %u %s guest-physical 0x%lx at rip 0x%lx: %s; VM stopped\n",
		v->vm->name, v->index,
		(q & EPT_QUAL_FETCH) ? "fetch from" : (q & EPT_QUAL_WRITE) ? "write to" : "read of",
		gpa, vmcs_read(VMCS_GUEST_RIP), what);
	vm_end(v->vm, VM_END_STOP, 0, "bad-memory-access");
	return EXIT_ACT_VM_ENDED;
}

/* The guest's local APIC page, while its APIC is enabled (IA32_APIC_BASE
 * bit 11, SDM Vol 3A 10.4.3): emulated here, not by core's router. */
static bool ept_is_lapic(struct vcpu *v, u64 gpa)
{
	return gpa - VLAPIC_BASE < VLAPIC_SIZE && vlapic_enabled(vcpu_lapic(v));
}

/* One decoded access: to the vLAPIC or to core's device router. */
static enum dev_result ept_access(struct vcpu *v, u64 gpa, bool lapic, bool write, u32 size,
				  u64 *val)
{
	if (!lapic)
		return vm_mmio(v, gpa, write, size, val);
	virt_count_lapic_exit(v);
	return vlapic_mmio(v, gpa - VLAPIC_BASE, write, size, val) ? DEV_BAD_ACCESS : DEV_OK;
}

enum exit_action vmexit_emulate_mmio(struct vcpu *v, u64 gpa, u64 q)
{
	u64 probe = 0;
	bool lapic = ept_is_lapic(v, gpa);
	if (q & EPT_QUAL_FETCH)
		return ept_stop(v, gpa, q, "instructions run from RAM only");
	if (!lapic && vm_mmio(v, gpa, false, 0, &probe) == DEV_UNHANDLED)
		return ept_stop(v, gpa, q, "not RAM and no device there (on_unassigned_access stop)");
	/* The CPU itself made this access while delivering an event (pushing
	 * its frame, reading the IDT or GDT: SDM Vol 3C 28.2.4), not the
	 * instruction at RIP: emulating that instruction would skip the
	 * event. A PC has no device that takes an exception frame. */
	if (vmcs_read(VMCS_IDT_VECTORING_INFO) & INTR_INFO_VALID)
		return ept_stop(v, gpa, q,
				"the CPU touched it delivering an exception or interrupt: the IDT, "
				"GDT and stacks must be in RAM");

	/* Fetch the instruction: up to 15 bytes, fewer at the end of mapped
	 * guest memory (the decoder says when it needs more). */
	struct guest_paging pg;
	struct guest_mem gm;
	vmexit_guest_paging(&pg);
	vmexit_guest_mem(v, &gm);
	u64 rip = vmcs_read(VMCS_GUEST_CS_BASE) + vmcs_read(VMCS_GUEST_RIP);
	if (guest_insn_mode() != INSN_MODE_64)
		rip &= 0xFFFFFFFFu;
	u8 bytes[INSN_MAX];
	size_t n = INSN_MAX;
	while (n && guest_read(&gm, &pg, rip, bytes, n))
		n--;
	struct mmio_insn insn;
	if (insn_decode_mmio(bytes, n, guest_insn_mode(), &insn)) {
		kprintf("vm %s: cannot emulate the instruction at %lx touching device memory %lx:", v->vm->name,
			rip, gpa);
		for (size_t i = 0; i < n && i < 8; i++)
			kprintf(" %02x", bytes[i]);
		kprintf("\n");
		return ept_stop(v, gpa, q, "unsupported instruction for device memory");
	}
	u64 val = 0;
	if (insn.dir == MMIO_WRITE)
		val = mmio_write_value(insn.has_imm ? 0 : vmexit_gpr_read(v, insn.reg), &insn);
	enum dev_result r = ept_access(v, gpa, lapic, insn.dir == MMIO_WRITE, insn.size, &val);
	if (r == DEV_BAD_ACCESS)
		return ept_stop(v, gpa, q, "malformed device register access");
	if (insn.dir == MMIO_READ)
		vmexit_gpr_write(v, insn.reg, mmio_read_result(vmexit_gpr_read(v, insn.reg), &insn, val));
	/* The guest's data breakpoints watch linear addresses; an APIC-access
	 * exit (APICv) reports none, so there only TF is seen. */
	u32 hits = 0;
	if ((q & EPT_QUAL_GLA_ACCESS) == EPT_QUAL_GLA_ACCESS)
		hits = vmx_debug_bp_hits(insn.dir == MMIO_WRITE ? BP_DATA_WRITE : BP_DATA_READ,
					 vmcs_read(VMCS_GUEST_LINEAR_ADDRESS), insn.size);
	vmx_advance_rip(insn.len, hits);
	return EXIT_ACT_RESUME;
}

enum exit_action exit_ept_violation(struct vcpu *v, u64 q)
{
	return vmexit_emulate_mmio(v, vmcs_read(VMCS_GUEST_PHYSICAL_ADDRESS), q);
}
