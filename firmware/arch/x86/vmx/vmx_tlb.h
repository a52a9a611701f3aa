/* When a vCPU's cached guest translations must be flushed, and with which
 * INVVPID type (SDM Vol 3C 28.3.3.3, Vol 2B INVVPID). Pure functions of
 * their arguments; host-tested (test/unit/test_vmx_event.c).
 *
 * With VPIDs a CPU keeps a vCPU's linear and combined translations across
 * VM exits and entries. The guest's own flushes (INVLPG, MOV CR3, INVPCID)
 * reach only the CPU it runs on, so a vCPU that comes back to a CPU where
 * it ran before could use translations its guest has since revoked.
 * Guest-physical translations need nothing here: a VM's EPT never changes
 * while it lives, and a freed one is flushed everywhere (arch_vm_retired). */
#ifndef X86_VMX_TLB_H
#define X86_VMX_TLB_H

#include <cg/types.h>

/* IA32_VMX_EPT_VPID_CAP (SDM Vol 3D A.10) */
#define EPT_VPID_CAP_INVVPID (1ULL << 32)
#define EPT_VPID_CAP_INVVPID_SINGLE (1ULL << 41)
#define EPT_VPID_CAP_INVVPID_ALL (1ULL << 42)

/* INVVPID types (SDM Vol 2B INVVPID) */
#define INVVPID_SINGLE_CONTEXT 1U
#define INVVPID_ALL_CONTEXT 2U

/* vmx_vpid_flush_type: the INVVPID type that flushes one VPID on a CPU
 * whose IA32_VMX_EPT_VPID_CAP is cap: single-context when offered, else
 * all-context (flushes every VPID: slower, still right). 0 when the CPU
 * has neither: VPIDs must then stay off (with VPID 0 every entry and exit
 * flushes). */
static inline u32 vmx_vpid_flush_type(u64 cap)
{
	if (!(cap & EPT_VPID_CAP_INVVPID))
		return 0;
	if (cap & EPT_VPID_CAP_INVVPID_SINGLE)
		return INVVPID_SINGLE_CONTEXT;
	if (cap & EPT_VPID_CAP_INVVPID_ALL)
		return INVVPID_ALL_CONTEXT;
	return 0;
}

/* vmx_vcpu_migrated: a vCPU about to run on cpu, which last ran on
 * last_cpu (ran: it has run before), changed CPU: its VPID must be
 * flushed here before it enters the guest. A first run is not a move (its
 * set-up flushes anyway: the VPID may have been an ended VM's). */
static inline bool vmx_vcpu_migrated(bool ran, u32 last_cpu, u32 cpu)
{
	return ran && last_cpu != cpu;
}

#endif
