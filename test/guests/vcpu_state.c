/* vcpu_state: the registers a VM exit does not save in the VMCS (x87, SSE
 * and AVX registers, MXCSR, XCR0, the MSRs passed through to the guest)
 * start from their power-on values in a new VM and stay the VM's own.
 * Two of these run as two VMs on one physical CPU (guests.test.ts, "vcpu
 * state pair"): each checks its start state, plants values made from its
 * seed=N, yields so the other runs on the same CPU, and checks its values
 * are still there. Before the fix the VM that started second read all of
 * the first one's XMM registers and its IA32_TSC_AUX (issue 11, items 1
 * and 2). Then XSETBV: values the SDM refuses are #GP, XCR0 unchanged
 * (item 3). */
#include "guest.h"
#include "cpu.h"
#include <abi/hypercall.h>

#define CR0_MP (1u << 1)
#define CR0_EM (1u << 2)
#define CR0_TS (1u << 3)
#define CR4_OSFXSR (1u << 9)
#define CR4_OSXMMEXCPT (1u << 10)
#define CR4_OSXSAVE (1u << 18)
#define CPUID1_ECX_XSAVE (1u << 26)
#define CPUID1_ECX_AVX (1u << 28)
#define CPUIDX1_EDX_LM (1u << 29)
#define CPUIDX1_EDX_RDTSCP (1u << 27)
#define MXCSR_INIT 0x1F80u
#define MXCSR_PLANT 0x7F80u /* round toward zero: a valid, non-default value */
#define MSR_STAR 0xC0000081u
#define MSR_LSTAR 0xC0000082u
#define MSR_KERNEL_GS_BASE 0xC0000102u
#define MSR_TSC_AUX 0xC0000103u
#define ROUNDS 200

static u8 fx[512] __attribute__((aligned(64)));
static u32 xmm[8][4] __attribute__((aligned(16)));
static u32 ymm_hi[8][4] __attribute__((aligned(16)));
static bool has_avx, has_xsave, has_rdtscp, has_lm;


static inline void write_cr0(u32 v) { __asm__ volatile("mov %0, %%cr0" ::"r"(v)); }

static u64 xgetbv0(void)
{
	u32 lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((u64)hi << 32) | lo;
}

struct xsetbv_op {
	u32 ecx;
	u64 value;
};

static void do_xsetbv(void *arg)
{
	struct xsetbv_op *op = arg;
	__asm__ volatile("xsetbv" ::"c"(op->ecx), "a"((u32)op->value), "d"((u32)(op->value >> 32)));
}

static int xsetbv_safe(u32 ecx, u64 value)
{
	struct xsetbv_op op = { ecx, value };
	return catch_exception(do_xsetbv, &op);
}

#define XMM_STORE(n) __asm__ volatile("movdqa %%xmm" #n ", %0" : "=m"(xmm[n]))
#define XMM_LOAD(n) __asm__ volatile("movdqa %0, %%xmm" #n ::"m"(xmm[n]))
#define YMM_HI_STORE(n) __asm__ volatile("vextractf128 $1, %%ymm" #n ", %0" : "=m"(ymm_hi[n]))
#define YMM_HI_LOAD(n) \
	__asm__ volatile("vinsertf128 $1, %0, %%ymm" #n ", %%ymm" #n ::"m"(ymm_hi[n]))

static void store_vector_regs(void)
{
	XMM_STORE(0); XMM_STORE(1); XMM_STORE(2); XMM_STORE(3);
	XMM_STORE(4); XMM_STORE(5); XMM_STORE(6); XMM_STORE(7);
	if (has_avx) {
		YMM_HI_STORE(0); YMM_HI_STORE(1); YMM_HI_STORE(2); YMM_HI_STORE(3);
		YMM_HI_STORE(4); YMM_HI_STORE(5); YMM_HI_STORE(6); YMM_HI_STORE(7);
	}
	__asm__ volatile("fxsave %0" : "=m"(fx));
}

static void load_vector_regs(void)
{
	XMM_LOAD(0); XMM_LOAD(1); XMM_LOAD(2); XMM_LOAD(3);
	XMM_LOAD(4); XMM_LOAD(5); XMM_LOAD(6); XMM_LOAD(7);
	if (has_avx) {
		YMM_HI_LOAD(0); YMM_HI_LOAD(1); YMM_HI_LOAD(2); YMM_HI_LOAD(3);
		YMM_HI_LOAD(4); YMM_HI_LOAD(5); YMM_HI_LOAD(6); YMM_HI_LOAD(7);
	}
}

static u32 pattern(u32 seed, u32 reg, u32 word)
{
	return 0x5EED0000u ^ (seed << 12) ^ (reg << 4) ^ word;
}

/* Nonzero words in the vector registers; with seed, words that differ
 * from that seed's pattern. */
static u32 vector_mismatches(u32 seed)
{
	u32 bad = 0;
	for (u32 r = 0; r < 8; r++)
		for (u32 w = 0; w < 4; w++) {
			u32 want = seed ? pattern(seed, r, w) : 0;
			bad += xmm[r][w] != want;
			if (has_avx)
				bad += ymm_hi[r][w] != (seed ? ~want : 0);
		}
	return bad;
}

static u32 mxcsr(void) { return *(u32 *)(fx + 24); }
static u16 fcw(void) { return *(u16 *)(fx + 0); }
static u16 fsw(void) { return *(u16 *)(fx + 2); }
static u8 ftw_abridged(void) { return fx[4]; }

static u64 msr_or(u32 msr, u64 fallback)
{
	u64 v;
	return rdmsr_safe(msr, &v) == NO_EXCEPTION ? v : fallback;
}

static void check_start_state(void)
{
	store_vector_regs();
	u32 bad = vector_mismatches(0);
	report(bad == 0, "start: XMM0-7%s all zero (%u words hold someone's data)",
	       has_avx ? " and YMM0-7's upper halves" : "", bad);
	if (bad)
		report_info("start: XMM0 = %08x %08x %08x %08x", xmm[0][3], xmm[0][2], xmm[0][1],
			    xmm[0][0]);
	report(mxcsr() == MXCSR_INIT, "start: MXCSR = 0x%x (0x1F80 at power-on)", mxcsr());
	report(fsw() == 0 && ftw_abridged() == 0, "start: x87 status 0x%x, tags 0x%x: empty stack",
	       fsw(), ftw_abridged());
	report(fcw() == 0x37F || fcw() == 0x40, "start: x87 control word 0x%x", fcw());
	bool st_zero = true;
	for (u32 i = 32; i < 160; i++)
		if (fx[i])
			st_zero = false;
	report(st_zero, "start: ST0-7 hold no values");
	if (has_rdtscp)
		report(msr_or(MSR_TSC_AUX, ~0ull) == 0, "start: IA32_TSC_AUX = 0x%llx",
		       msr_or(MSR_TSC_AUX, ~0ull));
	if (has_lm) {
		report(msr_or(MSR_KERNEL_GS_BASE, ~0ull) == 0 && msr_or(MSR_LSTAR, ~0ull) == 0 &&
			       msr_or(MSR_STAR, ~0ull) == 0,
		       "start: STAR, LSTAR, KERNEL_GS_BASE are 0");
	}
}

static void plant(u32 seed)
{
	for (u32 r = 0; r < 8; r++)
		for (u32 w = 0; w < 4; w++) {
			xmm[r][w] = pattern(seed, r, w);
			ymm_hi[r][w] = ~pattern(seed, r, w);
		}
	load_vector_regs();
	u32 m = MXCSR_PLANT;
	__asm__ volatile("ldmxcsr %0" ::"m"(m));
	__asm__ volatile("fld1; fldpi");
	if (has_rdtscp)
		wrmsr_safe(MSR_TSC_AUX, 0xA0000000u | seed);
	if (has_lm) {
		wrmsr_safe(MSR_KERNEL_GS_BASE, 0xB0000000u | seed);
		wrmsr_safe(MSR_LSTAR, 0xC0000000u | seed);
	}
}

static void check_planted(u32 seed)
{
	store_vector_regs();
	u32 bad = vector_mismatches(seed);
	report(bad == 0, "after %u yields: the vector registers are still this VM's (%u words differ)",
	       ROUNDS, bad);
	report(mxcsr() == MXCSR_PLANT, "after the yields: MXCSR 0x%x", mxcsr());
	report(((fx[4] & 0xC0) == 0xC0), "after the yields: two x87 registers in use (tags 0x%x)",
	       fx[4]);
	if (has_rdtscp) {
		u64 aux = msr_or(MSR_TSC_AUX, 0);
		u32 lo, hi, c;
		__asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(c));
		report(aux == (0xA0000000u | seed) && c == (0xA0000000u | seed),
		       "after the yields: TSC_AUX 0x%llx, RDTSCP's ECX 0x%x (this VM's)", aux, c);
	}
	if (has_lm)
		report(msr_or(MSR_KERNEL_GS_BASE, 0) == (0xB0000000u | seed) &&
			       msr_or(MSR_LSTAR, 0) == (0xC0000000u | seed),
		       "after the yields: KERNEL_GS_BASE and LSTAR are this VM's");
}

static void check_xsetbv(void)
{
	if (!has_xsave) {
		report_skip("XSETBV rules (no XSAVE)");
		return;
	}
	u64 before = xgetbv0();
	report(xsetbv_safe(0, 0) == VEC_GP, "XSETBV 0 (x87 cleared): #GP");
	report(xsetbv_safe(0, 2) == VEC_GP, "XSETBV 2 (SSE without x87): #GP");
	if (has_avx)
		report(xsetbv_safe(0, 5) == VEC_GP, "XSETBV 5 (AVX without SSE): #GP");
	u64 offered = ((u64)cpuid(0xD, 0).edx << 32) | cpuid(0xD, 0).eax;
	u32 refused = 0;
	for (u32 bit = 3; bit < 64; bit++)
		if (!(offered & (1ull << bit)) && xsetbv_safe(0, before | (1ull << bit)) != VEC_GP)
			refused++;
	report(refused == 0, "XSETBV of each component CPUID.(0xD,0) does not list: #GP (%u taken)",
	       refused);
	report(xsetbv_safe(1, 1) == VEC_GP, "XSETBV with ECX=1 (no such XCR): #GP");
	report(xgetbv0() == before, "XCR0 still 0x%llx after the refused writes", xgetbv0());
	/* CPUID.1:ECX.OSXSAVE follows CR4.OSXSAVE (issue 12) */
	report(cpuid(1, 0).ecx & (1u << 27), "CPUID.1:ECX.OSXSAVE set while CR4.OSXSAVE is");
}

int main(void)
{
	u32 seed = cmdline_uint("seed", 1);
	struct cpuid_regs l1 = cpuid(1, 0);
	has_xsave = l1.ecx & CPUID1_ECX_XSAVE;
	bool ext = cpuid(0x80000000u, 0).eax >= 0x80000001u;
	has_rdtscp = ext && (cpuid(0x80000001u, 0).edx & CPUIDX1_EDX_RDTSCP);
	has_lm = ext && (cpuid(0x80000001u, 0).edx & CPUIDX1_EDX_LM);
	/* SSE on: the loader leaves x87 emulation on and OSFXSR off */
	write_cr0((read_cr0() & ~(CR0_EM | CR0_TS)) | CR0_MP);
	write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT | (has_xsave ? CR4_OSXSAVE : 0));
	if (has_xsave && !(read_cr4() & CR4_OSXSAVE))
		has_xsave = false;
	/* YMM's upper halves need XCR0.AVX: read them with it on, but check
	 * XCR0's own start value first. */
	u64 xcr0_start = has_xsave ? xgetbv0() : 1;
	has_avx = has_xsave && (l1.ecx & CPUID1_ECX_AVX) && (cpuid(0xD, 0).eax & 4);
	if (has_avx)
		xsetbv_safe(0, 7);
	report_info("vcpu_state seed=%u: xsave=%d avx=%d rdtscp=%d lm=%d", seed, has_xsave, has_avx,
		    has_rdtscp, has_lm);
	check_start_state();
	if (has_xsave)
		report(xcr0_start == 1, "start: XCR0 = 0x%llx (x87 only at power-on)", xcr0_start);
	plant(seed);
	for (u32 i = 0; i < ROUNDS; i++) {
		if (on_crossguard()) {
			u32 a = HC_YIELD;
			__asm__ volatile("vmcall" : "+a"(a) : : "memory");
		} else {
			delay(1000);
		}
	}
	check_planted(seed);
	check_xsetbv();
	return report_summary();
}
