/* The CPUID table (cpuid_policy.h). Bits: SDM Vol 2A CPUID, tables 3-8 to
 * 3-11 and the leaf 7 and 0xD descriptions. Each kept bit is one the guest
 * may use without the monitor: an instruction that runs in VMX non-root
 * operation as it does natively (SSE, AVX, BMI, ...), a paging or CR4
 * feature EPT leaves to the guest, or state the monitor switches (XSAVE
 * components in vcpu_fpu.c, MSRs in vcpu_msr.c and exit_msr.c). */
#include <cg/types.h>
#include "arch/x86/vmx/cpuid_policy.h"
#include "arch/x86/vmx/xstate.h"

#define B(n) (1U << (n))
#define CR4_OSXSAVE (1ULL << 18)
#define CR4_PKE (1ULL << 22)

/* CPUID.1:ECX */
#define L1C_SSE3 B(0)
#define L1C_PCLMULQDQ B(1)
#define L1C_SSSE3 B(9)
#define L1C_FMA B(12)
#define L1C_CX16 B(13)
#define L1C_SSE41 B(19)
#define L1C_SSE42 B(20)
#define L1C_MOVBE B(22)
#define L1C_POPCNT B(23)
#define L1C_TSC_DEADLINE B(24) /* the vLAPIC's timer has the mode */
#define L1C_AES B(25)
#define L1C_XSAVE B(26)
#define L1C_OSXSAVE B(27)
#define L1C_AVX B(28)
#define L1C_F16C B(29)
#define L1C_RDRAND B(30)
#define L1C_HYPERVISOR B(31)
/* Not named, so never offered: DTES64, MONITOR, DS-CPL, VMX, SMX, EST, TM2,
 * CNXT-ID, SDBG, xTPR, PDCM, PCID, DCA, x2APIC. */
#define L1C_KEEP (L1C_SSE3 | L1C_PCLMULQDQ | L1C_SSSE3 | L1C_CX16 | L1C_SSE41 | L1C_SSE42 | \
		  L1C_MOVBE | L1C_POPCNT | L1C_AES | L1C_RDRAND)
#define L1C_AVX_FAMILY (L1C_AVX | L1C_FMA | L1C_F16C)

/* CPUID.1:EDX */
#define L1D_FPU B(0)
#define L1D_VME B(1)
#define L1D_DE B(2)
#define L1D_PSE B(3)
#define L1D_TSC B(4)
#define L1D_MSR B(5)
#define L1D_PAE B(6)
#define L1D_CX8 B(8)
#define L1D_APIC B(9)
#define L1D_SEP B(11)
#define L1D_MTRR B(12)
#define L1D_PGE B(13)
#define L1D_CMOV B(15)
#define L1D_PAT B(16)
#define L1D_PSE36 B(17)
#define L1D_CLFSH B(19)
#define L1D_MMX B(23)
#define L1D_FXSR B(24)
#define L1D_SSE B(25)
#define L1D_SSE2 B(26)
#define L1D_SS B(27)
#define L1D_HTT B(28)
/* Not offered: MCE, MCA (no machine-check banks), PSN, DS, ACPI (thermal
 * MSRs), TM, PBE. */
#define L1D_KEEP (L1D_FPU | L1D_VME | L1D_DE | L1D_PSE | L1D_TSC | L1D_MSR | L1D_PAE | L1D_CX8 | \
		  L1D_SEP | L1D_MTRR | L1D_PGE | L1D_CMOV | L1D_PAT | L1D_PSE36 | L1D_CLFSH |  \
		  L1D_MMX | L1D_FXSR | L1D_SSE | L1D_SSE2 | L1D_SS)

/* CPUID.(7,0):EBX */
#define L7B_FSGSBASE B(0)
#define L7B_TSC_ADJUST B(1) /* emulated: exit_msr.c, vmx_tsc.h */
#define L7B_BMI1 B(3)
#define L7B_AVX2 B(5)
#define L7B_FDP_EXCPTN_ONLY B(6)
#define L7B_SMEP B(7)
#define L7B_BMI2 B(8)
#define L7B_ERMS B(9)
#define L7B_INVPCID B(10)
#define L7B_FPU_CSDS B(13)
#define L7B_AVX512F B(16)
#define L7B_AVX512DQ B(17)
#define L7B_RDSEED B(18)
#define L7B_ADX B(19)
#define L7B_SMAP B(20)
#define L7B_AVX512_IFMA B(21)
#define L7B_CLFLUSHOPT B(23)
#define L7B_CLWB B(24)
#define L7B_AVX512PF B(26)
#define L7B_AVX512ER B(27)
#define L7B_AVX512CD B(28)
#define L7B_SHA B(29)
#define L7B_AVX512BW B(30)
#define L7B_AVX512VL B(31)
/* Not offered: SGX, HLE, RTM (TSX), RDT monitoring and allocation, MPX
 * (its XSAVE state is not switched), processor trace. */
#define L7B_KEEP (L7B_FSGSBASE | L7B_TSC_ADJUST | L7B_BMI1 | L7B_FDP_EXCPTN_ONLY | L7B_SMEP | \
		  L7B_BMI2 | L7B_ERMS | L7B_FPU_CSDS | L7B_RDSEED | L7B_ADX | L7B_SMAP |       \
		  L7B_CLFLUSHOPT | L7B_CLWB | L7B_SHA)
#define L7B_AVX512_FAMILY (L7B_AVX512F | L7B_AVX512DQ | L7B_AVX512_IFMA | L7B_AVX512PF | \
			   L7B_AVX512ER | L7B_AVX512CD | L7B_AVX512BW | L7B_AVX512VL)

/* CPUID.(7,0):ECX */
#define L7C_AVX512_VBMI B(1)
#define L7C_UMIP B(2)
#define L7C_PKU B(3)
#define L7C_OSPKE B(4)
#define L7C_AVX512_VBMI2 B(6)
#define L7C_GFNI B(8)
#define L7C_VAES B(9)
#define L7C_VPCLMULQDQ B(10)
#define L7C_AVX512_VNNI B(11)
#define L7C_AVX512_BITALG B(12)
#define L7C_AVX512_VPOPCNTDQ B(14)
#define L7C_LA57 B(16)
#define L7C_RDPID B(22)
#define L7C_CLDEMOTE B(25)
#define L7C_MOVDIRI B(27)
#define L7C_MOVDIR64B B(28)
/* Not offered: PREFETCHWT1, WAITPKG (UMWAIT's MSR), CET shadow stacks
 * (supervisor state not switched), TME, MPX's MAWAU, Key Locker, bus-lock
 * detection, ENQCMD (PASID MSR), SGX launch control, PKS. */
#define L7C_KEEP (L7C_UMIP | L7C_GFNI | L7C_LA57 | L7C_CLDEMOTE | L7C_MOVDIRI | L7C_MOVDIR64B)
#define L7C_AVX_FAMILY (L7C_VAES | L7C_VPCLMULQDQ)
#define L7C_AVX512_FAMILY (L7C_AVX512_VBMI | L7C_AVX512_VBMI2 | L7C_AVX512_VNNI | \
			   L7C_AVX512_BITALG | L7C_AVX512_VPOPCNTDQ)

/* CPUID.(7,0):EDX */
#define L7D_AVX512_4VNNIW B(2)
#define L7D_AVX512_4FMAPS B(3)
#define L7D_FSRM B(4)
#define L7D_AVX512_VP2INTERSECT B(8)
#define L7D_MD_CLEAR B(10) /* VERW clears buffers: an instruction, not an MSR */
#define L7D_SERIALIZE B(14)
#define L7D_AVX512_FP16 B(23)
/* Not offered: UINTR, hybrid (leaf 0x1A is not passed), TSXLDTRK,
 * PCONFIG, CET IBT, AMX (8 KiB of tile state, not switched), and the
 * speculation-control MSRs: IA32_SPEC_CTRL, PRED_CMD, FLUSH_CMD,
 * ARCH_CAPABILITIES, CORE_CAPABILITIES all exit to #GP (spec_ctrl.c keeps
 * the host's own barriers between VMs). */
#define L7D_KEEP (L7D_FSRM | L7D_MD_CLEAR | L7D_SERIALIZE)
#define L7D_AVX512_FAMILY (L7D_AVX512_4VNNIW | L7D_AVX512_4FMAPS | L7D_AVX512_VP2INTERSECT | \
			   L7D_AVX512_FP16)

/* CPUID.(0xD,1):EAX */
#define LD1A_XSAVEOPT B(0)
#define LD1A_XSAVEC B(1)
#define LD1A_XGETBV_ECX1 B(2)
/* Not offered: XSAVES/XRSTORS (IA32_XSS supervisor state), XFD. */
#define LD1A_KEEP (LD1A_XSAVEOPT | LD1A_XSAVEC | LD1A_XGETBV_ECX1)

/* CPUID.80000001H */
#define LX1C_LAHF B(0)
#define LX1C_LZCNT B(5)
#define LX1C_PREFETCHW B(8)
#define LX1C_KEEP (LX1C_LAHF | LX1C_LZCNT | LX1C_PREFETCHW)
#define LX1D_SYSCALL B(11)
#define LX1D_NX B(20)
#define LX1D_PAGE1GB B(26)
#define LX1D_RDTSCP B(27)
#define LX1D_LM B(29)
#define LX1D_KEEP (LX1D_SYSCALL | LX1D_NX | LX1D_PAGE1GB | LX1D_LM)

static void zero(struct cpuid_regs *r)
{
	r->eax = r->ebx = r->ecx = r->edx = 0;
}

static void leaf1(const struct cpuid_host *h, const struct cpuid_vcpu *c, struct cpuid_regs *r)
{
	u32 ecx = r->ecx & L1C_KEEP;
	if (h->xfeatures & XFEATURE_AVX)
		ecx |= r->ecx & L1C_AVX_FAMILY;
	if (h->xsave)
		ecx |= r->ecx & L1C_XSAVE; /* vcpu_fpu.c switches with it */
	if ((ecx & L1C_XSAVE) && (c->cr4 & CR4_OSXSAVE))
		ecx |= L1C_OSXSAVE;
	r->ecx = ecx | L1C_TSC_DEADLINE | L1C_HYPERVISOR;
	u32 edx = r->edx & L1D_KEEP;
	if (c->apic_enabled)
		edx |= L1D_APIC;
	if (c->count > 1)
		edx |= L1D_HTT;
	r->edx = edx;
	/* EBX: brand index and CLFLUSH size kept, logical CPUs and the
	 * initial APIC ID (what the vLAPIC's ID register was reset to). */
	r->ebx = (r->ebx & 0x0000FFFFu) | (c->count << 16) | (c->index << 24);
}

static void leaf7(const struct cpuid_host *h, const struct cpuid_vcpu *c, u32 sub,
		  struct cpuid_regs *r)
{
	if (sub != 0) { /* sub-leaf 1 and on: nothing offered */
		zero(r);
		return;
	}
	bool avx = h->xfeatures & XFEATURE_AVX;
	bool avx512 = (h->xfeatures & XFEATURE_AVX512) == XFEATURE_AVX512;
	u32 ebx = r->ebx & L7B_KEEP;
	if (avx)
		ebx |= r->ebx & L7B_AVX2;
	if (avx512)
		ebx |= r->ebx & L7B_AVX512_FAMILY;
	if (c->invpcid)
		ebx |= r->ebx & L7B_INVPCID;
	u32 ecx = r->ecx & L7C_KEEP;
	if (avx)
		ecx |= r->ecx & L7C_AVX_FAMILY;
	if (avx512)
		ecx |= r->ecx & L7C_AVX512_FAMILY;
	if (c->rdtscp)
		ecx |= r->ecx & L7C_RDPID;
	if (h->xfeatures & XFEATURE_PKRU) {
		ecx |= r->ecx & L7C_PKU;
		if ((ecx & L7C_PKU) && (c->cr4 & CR4_PKE))
			ecx |= L7C_OSPKE;
	}
	u32 edx = r->edx & L7D_KEEP;
	if (avx512)
		edx |= r->edx & L7D_AVX512_FAMILY;
	r->eax = 0; /* the highest sub-leaf */
	r->ebx = ebx;
	r->ecx = ecx;
	r->edx = edx;
}

static void leaf_xstate(const struct cpuid_host *h, u32 sub, struct cpuid_regs *r)
{
	if (!h->xsave) {
		zero(r);
		return;
	}
	if (sub == 0) {
		/* EBX is the size for the XCR0 in force: the guest's own (the
		 * exit keeps it loaded), so the host's answer is the guest's. */
		u64 supported = (((u64)r->edx << 32) | r->eax) & h->xfeatures;
		r->eax = (u32)supported;
		r->edx = (u32)(supported >> 32);
		r->ecx = h->xstate_size;
	} else if (sub == 1) {
		r->eax &= LD1A_KEEP;
		r->ebx = r->ecx = r->edx = 0; /* no supervisor state (IA32_XSS) */
	} else if (sub >= 64 || !(h->xfeatures & (1ULL << sub))) {
		zero(r);
	}
}

static void leaf_ext1(const struct cpuid_vcpu *c, struct cpuid_regs *r)
{
	r->ecx &= LX1C_KEEP;
	u32 edx = r->edx & LX1D_KEEP;
	if (c->rdtscp)
		edx |= r->edx & LX1D_RDTSCP;
	r->edx = edx;
}

void cpuid_policy_apply(const struct cpuid_host *h, const struct cpuid_vcpu *c, u32 leaf, u32 sub,
			struct cpuid_regs *r)
{
	/* A leaf the host lacks reads as zero (a CPU would repeat its highest
	 * basic leaf, which would say nothing true). */
	if (leaf < 0x80000000u ? leaf > h->max : leaf > h->ext_max) {
		zero(r);
		return;
	}
	switch (leaf) {
	case 0:
	case 2:           /* cache and TLB descriptors */
	case 4:           /* deterministic cache parameters */
	case 0x80000000u:
	case 0x80000002u: /* brand string */
	case 0x80000003u:
	case 0x80000004u:
	case 0x80000006u: /* L2 cache */
		return;
	case 1:
		leaf1(h, c, r);
		return;
	case 7:
		leaf7(h, c, sub, r);
		return;
	case 0xD:
		leaf_xstate(h, sub, r);
		return;
	case 0x80000001u:
		leaf_ext1(c, r);
		return;
	case 0x80000008u: /* address sizes; no WBNOINVD and the rest */
		r->ebx = r->ecx = r->edx = 0;
		return;
	default:
		/* Monitoring, performance counters, x2APIC topology, RDT, SGX,
		 * processor trace, Key Locker, hybrid, AMX, ...: not offered. */
		zero(r);
		return;
	}
}
