/* CPUID as the guest sees it (docs/guest-abi.md): the host's answers
 * through the table of what crossguard backs (cpuid_policy.c), the leaves
 * the monitor makes up (power, TSC and bus clocks), and the crossguard
 * leaves at 0x40000000. */
#include "abi/hypercall.h"
#include "core/virt.h"
#include "arch/x86/cpu_ops.h"
#include "arch/x86/percpu.h"
#include "arch/x86/vmx/cpuid_cache.h"
#include "arch/x86/vmx/cpuid_policy.h"
#include "arch/x86/vmx/misc_enable.h"
#include "arch/x86/vmx/vmcs.h"
#include "arch/x86/vmx/vmexit.h"
#include "arch/x86/vmx/vmx_ops.h"
#include "arch/x86/vmx/vmx_vcpu.h"

#define HV_LEAF_BASE 0x40000000u
#define HV_LEAF_MAX 0x40000001u
/* "CrossGuardVM" in EBX, ECX, EDX order */
#define HV_SIG_EBX 0x736F7243u /* "Cros" */
#define HV_SIG_ECX 0x61754773u /* "sGua" */
#define HV_SIG_EDX 0x4D566472u /* "rdVM" */

#define L6_EAX_ARAT (1U << 2)
#define LEAF_TSC_CRYSTAL 0x15u
#define LEAF_FREQ 0x16u
#define LEAF_POWER_MGMT 0x80000007u
#define L80000007_EDX_INVARIANT_TSC (1U << 8)

/* The host's side of every answer, the same for all vCPUs: read once. */
static struct cpuid_host host_facts;
static bool host_facts_ready;

static __attribute__((noinline)) void cpuid_host_facts_read(void)
{
	const struct xstate_layout *l = vcpu_fpu_layout();
	struct cpuid_host n = {
		.xsave = l->xsave,
		.xfeatures = l->mask,
		.xstate_size = l->size,
		.max = cpuid(0, 0).eax,
		.ext_max = cpuid(0x80000000u, 0).eax,
	};
	host_facts = n; /* every CPU computes the same: a race only repeats it */
	__atomic_store_n(&host_facts_ready, true, __ATOMIC_RELEASE);
}

/* Inline: every CPUID exit asks, and after the first the answer is one
 * load. */
static inline const struct cpuid_host *cpuid_host_facts(void)
{
	if (__builtin_expect(!__atomic_load_n(&host_facts_ready, __ATOMIC_ACQUIRE), 0))
		cpuid_host_facts_read();
	return &host_facts;
}

/* The leaves the monitor makes up; false for the host's (the table's). */
static bool cpuid_emulated(u32 leaf, struct cpuid_regs *r)
{
	switch (leaf) {
	case 6: /* thermal and power: only "APIC timer always running" */
		r->eax = L6_EAX_ARAT;
		r->ebx = r->ecx = r->edx = 0;
		return true;
	case LEAF_TSC_CRYSTAL: {
		/* SDM Vol 2A CPUID.15H: TSC = crystal * EBX / EAX; the APIC
		 * timer counts at the crystal clock. */
		u64 hz = arch_timestamp_hz();
		u32 div = vlapic_crystal_div(hz);
		r->eax = 1;
		r->ebx = div;
		r->ecx = (u32)(hz / div);
		r->edx = 0;
		return true;
	}
	case LEAF_FREQ: { /* CPUID.16H: base, maximum and bus frequency in MHz */
		u64 hz = arch_timestamp_hz();
		r->eax = r->ebx = (u32)(hz / 1000000);
		r->ecx = (u32)(hz / vlapic_crystal_div(hz) / 1000000);
		r->edx = 0;
		return true;
	}
	case LEAF_POWER_MGMT:
		/* The guest's TSC is the host's, and the monitor needs that to
		 * be invariant (every CPU with EPT has one): saying so lets
		 * Linux trust it without a clocksource watchdog. */
		r->edx = L80000007_EDX_INVARIANT_TSC;
		r->eax = r->ebx = r->ecx = 0;
		return true;
	default:
		return false;
	}
}

/* The answer before leaf 0's per-vCPU limit: the crossguard leaves, the
 * made-up ones, or the host's through the table. */
static void cpuid_guest_answer(struct vcpu *v, u32 leaf, u32 sub, struct cpuid_regs *r)
{
	*r = (struct cpuid_regs){ 0, 0, 0, 0 };
	if (leaf >= HV_LEAF_BASE && leaf < HV_LEAF_BASE + 0x100) {
		if (leaf == HV_LEAF_BASE) {
			r->eax = HV_LEAF_MAX;
			r->ebx = HV_SIG_EBX;
			r->ecx = HV_SIG_ECX;
			r->edx = HV_SIG_EDX;
		} else if (leaf == HV_LEAF_MAX) {
			r->eax = HC_ABI_VERSION;
		}
		return;
	}
	if (cpuid_emulated(leaf, r))
		return;
	*r = cpuid(leaf, sub);
	if (!cpuid_policy_per_vcpu(leaf)) {
		cpuid_policy_apply(cpuid_host_facts(), NULL, leaf, sub, r);
	} else {
		const struct arch_vcpu *a = v->arch;
		struct cpuid_vcpu c = {
			.index = v->index,
			.count = v->vm->vcpu_count,
			.apic_enabled = vlapic_enabled(&a->lapic),
			.rdtscp = a->proc2 & PROC2_ENABLE_RDTSCP,
			.invpcid = a->proc2 & PROC2_ENABLE_INVPCID,
			/* Guest-owned CR4 bits (not in the CR4 guest/host mask) */
			.cr4 = leaf != 0x80000001u ? vmcs_read(VMCS_GUEST_CR4) : 0,
		};
		cpuid_policy_apply(cpuid_host_facts(), &c, leaf, sub, r);
	}
	/* Up to the frequency leaf: Linux takes the TSC and APIC timer rates
	 * from 0x15/0x16 instead of calibrating against the PIT. */
	if (leaf == 0 && r->eax < LEAF_FREQ)
		r->eax = LEAF_FREQ;
}

/* Finished answers of the cacheable leaves, per host CPU (cpuid_cache.h),
 * twice: as they are, and as a vCPU that set IA32_MISC_ENABLE's "limit
 * CPUID maxval" sees them (leaf 0 says 2; SDM Vol 4 table 2-2, bit 22;
 * the leaves above still answer). Each vCPU points at the one its CPU and
 * its MISC_ENABLE call for (exit_cpuid_bind), so an exit neither finds
 * its CPU's slot table nor tests the limit. Only this CPU writes its own,
 * with its exits' interrupts off. */
struct cpuid_cpu_caches {
	struct cpuid_cache plain, limited;
	bool ready; /* both initialized (cpuid_cache_init) */
};
static struct cpuid_cpu_caches cpuid_caches[CG_MAX_CPUS];

void exit_cpuid_bind(struct arch_vcpu *a)
{
	struct cpuid_cpu_caches *cc = &cpuid_caches[this_percpu()->index];
	if (!cc->ready) {
		cpuid_cache_init(&cc->plain);
		cpuid_cache_init(&cc->limited);
		cc->ready = true;
	}
	a->cpuid_cache = a->misc_enable & MISC_ENABLE_LIMIT_CPUID ? &cc->limited : &cc->plain;
}

/* r into the guest's registers (CPUID clears their upper halves), and on
 * past the instruction. */
static inline enum exit_action cpuid_answer(struct vcpu *v, const struct cpuid_regs *r)
{
	v->gpr[GPR_RAX] = r->eax;
	v->gpr[GPR_RBX] = r->ebx;
	v->gpr[GPR_RCX] = r->ecx;
	v->gpr[GPR_RDX] = r->edx;
	vmx_skip_instruction();
	return EXIT_ACT_RESUME;
}

/* A miss: work the answer out, and keep it when it may be kept. Out of
 * line and cold: the common exit is a hit. The binding is made again
 * first: the answer goes into the table this CPU and this MISC_ENABLE
 * call for, whatever the pointer said. */
static __attribute__((noinline, cold)) enum exit_action exit_cpuid_miss(struct vcpu *v)
{
	u32 leaf = (u32)v->gpr[GPR_RAX];
	u32 sub = (u32)v->gpr[GPR_RCX];
	struct arch_vcpu *a = v->arch;
	struct cpuid_regs r;
	cpuid_guest_answer(v, leaf, sub, &r);
	if (leaf == 0 && (a->misc_enable & MISC_ENABLE_LIMIT_CPUID))
		r.eax = 2;
	exit_cpuid_bind(a);
	if (cpuid_policy_cacheable(leaf))
		cpuid_cache_put(a->cpuid_cache, leaf, sub, &r);
	return cpuid_answer(v, &r);
}

/* The common exit: a hit in the table the vCPU points at, answered with no
 * frame and no test of the limit (README's benchmark table counts it). */
enum exit_action exit_cpuid(struct vcpu *v)
{
	u32 leaf = (u32)v->gpr[GPR_RAX];
	u32 sub = (u32)v->gpr[GPR_RCX];
	const struct cpuid_cache_slot *s = cpuid_cache_slot_of(v->arch->cpuid_cache, leaf);
	if (__builtin_expect(!cpuid_cache_slot_holds(s, leaf, sub), 0))
		return exit_cpuid_miss(v); /* from v: no arguments to set up here */
	return cpuid_answer(v, &s->r);
}
