/* What CPUID tells a guest, from one table of what crossguard runs natively,
 * emulates or switches per vCPU (cpuid_policy.c). A bit that the table does
 * not name is never advertised, whatever the host CPU has: a guest is never
 * told of a feature whose MSRs or state the monitor does not back. Pure:
 * the host's answer and the vCPU's facts are passed in (host-tested). */
#ifndef X86_VMX_CPUID_POLICY_H
#define X86_VMX_CPUID_POLICY_H

#include <cg/types.h>
#include "arch/x86/cpu_ops.h"

/* What the answers depend on that is the same for every vCPU: the host
 * and what the monitor switches (computed once). */
struct cpuid_host {
	bool xsave;         /* the monitor switches state with XSAVE */
	u64 xfeatures;      /* XCR0 components a guest may enable (vcpu_fpu.h) */
	u32 xstate_size;    /* the image size for all of them */
	u32 max;            /* CPUID.0:EAX and CPUID.80000000H:EAX of the host */
	u32 ext_max;
};

/* What they depend on per vCPU */
struct cpuid_vcpu {
	u32 index, count;   /* the vCPU's index and its VM's vCPU count */
	u64 cr4;            /* the guest's CR4: OSXSAVE and PKE are mirrored */
	bool apic_enabled;  /* IA32_APIC_BASE.EN: CPUID.1:EDX.APIC follows it */
	bool rdtscp;        /* VMX "enable RDTSCP": RDTSCP and RDPID run */
	bool invpcid;       /* VMX "enable INVPCID": INVPCID runs */
};

/* cpuid_policy_per_vcpu: whether leaf's answer depends on the vCPU (the
 * only leaves for which cpuid_policy_apply reads c; others may pass NULL,
 * which keeps the common leaves' exits short). */
static inline bool cpuid_policy_per_vcpu(u32 leaf)
{
	return leaf == 1 || leaf == 7 || leaf == 0x80000001u;
}

/* cpuid_policy_cacheable: whether leaf's answer (every subleaf) is the
 * same for every vCPU and every guest state, so it may be answered from a
 * cache (cpuid_cache.h): not the per-vCPU leaves, and not 0xD, whose
 * EBX is the XSAVE size for the XCR0 the guest has loaded. Leaf 0's
 * "limit CPUID maxval" (IA32_MISC_ENABLE, per vCPU) is applied on top by
 * the caller, after the cache. */
static inline bool cpuid_policy_cacheable(u32 leaf)
{
	return !cpuid_policy_per_vcpu(leaf) && leaf != 0xD;
}

/* cpuid_policy_apply: r holds the host's answer to (leaf, sub); leaves in
 * it what vCPU c sees for a leaf the host defines. The leaves that the
 * monitor makes up (0x6, 0x15, 0x16, 0x80000007, 0x40000000+) are the
 * caller's. */
void cpuid_policy_apply(const struct cpuid_host *h, const struct cpuid_vcpu *c, u32 leaf, u32 sub,
			struct cpuid_regs *r);

#endif
