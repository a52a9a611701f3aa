/* msr: the MSR allow list. Allowed MSRs read (and where writable, write
 * back) correctly; refused and unimplemented ones raise #GP.
 * IA32_MISC_ENABLE (SDM Vol 4 table 2-2) takes writes of its own value
 * and of "limit CPUID maxval" (bit 22: CPUID.0:EAX reads 2), and raises
 * #GP for a reserved bit. */
#include "guest.h"

#define MSR_TSC 0x10
#define MSR_APIC_BASE 0x1B
#define MSR_SYSENTER_CS 0x174
#define MSR_PAT 0x277
#define MSR_MISC_ENABLE 0x1A0
#define MISC_FAST_STRINGS (1ull << 0)
#define MISC_LIMIT_CPUID (1ull << 22)
#define MSR_VMX_BASIC 0x480
#define MSR_EFER 0xC0000080u
#define MSR_BOGUS 0x12345678u

#define APIC_BASE_ENABLE (1u << 11)
#define APIC_BASE_ADDR_MASK 0xFFFFF000u

/* WB, WT, UC-, UC in the low half, swapped in the high half: all valid
 * memory types (SDM 11.12.2), and different from the reset value. */
#define PAT_TEST 0x0007040600070406ull

int main(void)
{
	u64 a, b;

	int va = rdmsr_safe(MSR_TSC, &a);
	int vb = rdmsr_safe(MSR_TSC, &b);
	report(va == NO_EXCEPTION && vb == NO_EXCEPTION, "RDMSR TSC (0x10) does not fault");
	/* Emulators may advance the TSC in steps (Bochs with several CPUs ticks
	 * once per scheduling quantum), so wait a bounded while for a change. */
	u64 t0 = rdtsc(), t1 = t0;
	for (u32 i = 0; i < SPIN_LIMIT && t1 == t0; i++)
		t1 = rdtsc();
	report(t1 > t0, "RDTSC increases: 0x%llx then 0x%llx", t0, t1);
	/* QEMU TCG's RDMSR of the TSC reads 0 (it only returns what WRMSR put
	 * there), so the value is only checked under crossguard. */
	if (on_crossguard())
		report(b > a, "RDMSR TSC (0x10) increases: 0x%llx then 0x%llx", a, b);
	else
		report_skip("RDMSR TSC (0x10) increases: 0x%llx then 0x%llx (not under crossguard)", a, b);

	u64 base = 0;
	int v = rdmsr_safe(MSR_APIC_BASE, &base);
	report(v == NO_EXCEPTION && (base & APIC_BASE_ENABLE) && (u32)base && ((u32)base & APIC_BASE_ADDR_MASK) == 0xFEE00000u,
	       "RDMSR IA32_APIC_BASE (0x1B) = 0x%llx: enabled, base 0xFEE00000", base);

	u64 old = 0, back = 0;
	rdmsr_safe(MSR_SYSENTER_CS, &old);
	v = wrmsr_safe(MSR_SYSENTER_CS, 0x1234);
	int r = rdmsr_safe(MSR_SYSENTER_CS, &back);
	report(v == NO_EXCEPTION && r == NO_EXCEPTION && back == 0x1234,
	       "IA32_SYSENTER_CS (0x174) write 0x1234, read back 0x%llx", back);
	wrmsr_safe(MSR_SYSENTER_CS, old);

	rdmsr_safe(MSR_PAT, &old);
	v = wrmsr_safe(MSR_PAT, PAT_TEST);
	r = rdmsr_safe(MSR_PAT, &back);
	report(v == NO_EXCEPTION && r == NO_EXCEPTION && back == PAT_TEST,
	       "IA32_PAT (0x277) write 0x%llx, read back 0x%llx", PAT_TEST, back);
	wrmsr_safe(MSR_PAT, old);
	/* Memory type 2 is reserved: hardware raises #GP (SDM 11.12.2), and a
	 * monitor that put it in the VMCS guest PAT would fail VM entry. */
	v = wrmsr_safe(MSR_PAT, (PAT_TEST & ~0xFFull) | 2);
	rdmsr_safe(MSR_PAT, &back);
	if (on_crossguard())
		report(v == VEC_GP && back == old, "WRMSR IA32_PAT with reserved type 2 raises #GP (got vector %d)", v);
	else
		report_skip("WRMSR IA32_PAT with reserved type 2 raises #GP: got vector %d (not under crossguard)", v);
	wrmsr_safe(MSR_PAT, old);

	u64 efer = 0;
	v = rdmsr_safe(MSR_EFER, &efer);
	report(v == NO_EXCEPTION, "RDMSR EFER (0xC0000080) = 0x%llx", efer);

	u64 misc = 0;
	v = rdmsr_safe(MSR_MISC_ENABLE, &misc);
	report(v == NO_EXCEPTION && (misc & MISC_FAST_STRINGS),
	       "RDMSR IA32_MISC_ENABLE (0x1A0) = 0x%llx: fast strings on", misc);
	v = wrmsr_safe(MSR_MISC_ENABLE, misc);
	back = 0;
	rdmsr_safe(MSR_MISC_ENABLE, &back);
	report(v == NO_EXCEPTION && back == misc, "WRMSR IA32_MISC_ENABLE of its own value (vector %d)", v);
	u32 max_leaf = cpuid(0, 0).eax;
	v = wrmsr_safe(MSR_MISC_ENABLE, misc | MISC_LIMIT_CPUID);
	rdmsr_safe(MSR_MISC_ENABLE, &back);
	u32 limited = cpuid(0, 0).eax;
	int v2 = wrmsr_safe(MSR_MISC_ENABLE, misc);
	u32 restored = cpuid(0, 0).eax;
	report(v == NO_EXCEPTION && v2 == NO_EXCEPTION && (back & MISC_LIMIT_CPUID),
	       "IA32_MISC_ENABLE limit CPUID maxval (bit 22) set and cleared");
	if (on_crossguard()) {
		report(limited == 2 && restored == max_leaf,
		       "CPUID.0:EAX reads 2 while it is set (%u), %u again after", limited, restored);
		v = wrmsr_safe(MSR_MISC_ENABLE, misc | (1ull << 1));
		rdmsr_safe(MSR_MISC_ENABLE, &back);
		report(v == VEC_GP && back == misc, "IA32_MISC_ENABLE reserved bit 1 raises #GP (vector %d)", v);
		v = wrmsr_safe(MSR_MISC_ENABLE, misc & ~MISC_FAST_STRINGS);
		rdmsr_safe(MSR_MISC_ENABLE, &back);
		report(v == NO_EXCEPTION && (back & MISC_FAST_STRINGS),
		       "clearing fast strings is accepted; they stay on (the host's setting)");
	} else {
		report_skip("CPUID.0:EAX while limited: %u, then %u (not under crossguard)", limited, restored);
	}

	if (on_crossguard()) {
		v = rdmsr_safe(MSR_BOGUS, &a);
		report(v == VEC_GP, "RDMSR 0x12345678 (unimplemented) raises #GP (got vector %d)", v);
		v = wrmsr_safe(MSR_BOGUS, 0);
		report(v == VEC_GP, "WRMSR 0x12345678 (unimplemented) raises #GP (got vector %d)", v);
		v = rdmsr_safe(MSR_VMX_BASIC, &a);
		report(v == VEC_GP, "RDMSR IA32_VMX_BASIC (0x480) raises #GP: VMX hidden (got vector %d)", v);
	} else {
		/* QEMU TCG reads unknown MSRs as 0 and ignores writes to them,
		 * where hardware (and KVM) raise #GP: nothing to assert there. */
		v = rdmsr_safe(MSR_BOGUS, &a);
		report_skip("RDMSR 0x12345678 raises #GP: got vector %d (not under crossguard)", v);
		v = wrmsr_safe(MSR_BOGUS, 0);
		report_skip("WRMSR 0x12345678 raises #GP: got vector %d (not under crossguard)", v);
	}
	return report_summary();
}
