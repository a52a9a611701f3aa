/* vcpu_msr.c: the one table of MSRs a guest reaches without an exit
 * (issue 11 item 2: IA32_TSC_AUX was passed through but never switched).
 * The MSR bitmap built from it must pass through exactly the table's
 * MSRs, and every MSR a guest can write without an exit must be kept per
 * vCPU (in the VMCS or switched). */
#include <string.h>
#include "check.h"
#include "arch/x86/vmx/vcpu_msr.h"

#define TSC_AUX 0xC0000103u

static bool intercepted(const u8 *bm, u32 msr, bool write)
{
	u32 base = (write ? 2048 : 0) + (msr >= 0xC0000000u ? 1024 : 0);
	u32 bit = msr & 0x1FFF;
	return bm[base + bit / 8] & (1U << (bit % 8));
}

static const struct vcpu_msr_def *find(u32 msr)
{
	u32 n;
	const struct vcpu_msr_def *t = vcpu_msr_table(&n);
	for (u32 i = 0; i < n; i++)
		if (t[i].msr == msr)
			return &t[i];
	return NULL;
}

int main(void)
{
	CHECK(vcpu_msr_table_check() == NULL, "the table is sound");
	const struct vcpu_msr_def *aux = find(TSC_AUX);
	CHECK(aux && aux->keep == VCPU_MSR_SWITCHED, "TSC_AUX is switched per vCPU");
	const struct vcpu_msr_def *kgs = find(0xC0000102u);
	CHECK(kgs && kgs->keep == VCPU_MSR_SWITCHED, "KERNEL_GS_BASE is switched per vCPU");

	static u8 bm[4096];
	for (int rdtscp = 0; rdtscp <= 1; rdtscp++) {
		memset(bm, 0xFF, sizeof(bm));
		vcpu_msr_bitmap(bm, rdtscp);
		u32 passed = 0, unkept = 0, unknown = 0;
		/* Every MSR the bitmap covers: low 0..0x1FFF, high 0xC0000000.. */
		for (u32 half = 0; half < 2; half++) {
			for (u32 i = 0; i < 0x2000; i++) {
				u32 msr = (half ? 0xC0000000u : 0) + i;
				bool r = !intercepted(bm, msr, false), w = !intercepted(bm, msr, true);
				if (!r && !w)
					continue;
				passed++;
				const struct vcpu_msr_def *d = find(msr);
				if (!d)
					unknown++;
				else if (w && d->keep == VCPU_MSR_HOST_RO)
					unkept++;
			}
		}
		CHECK(unknown == 0, "the bitmap passes through only the table's MSRs");
		CHECK(unkept == 0, "no writable MSR is shared between vCPUs");
		CHECK(passed > 10, "the table's MSRs are passed through");
		CHECK(!intercepted(bm, TSC_AUX, false) == (bool)rdtscp,
		      "TSC_AUX is passed through exactly where the CPU has it");
		CHECK(intercepted(bm, 0x48, false) && intercepted(bm, 0x48, true),
		      "IA32_SPEC_CTRL always exits");
		CHECK(intercepted(bm, 0x277, true) && !intercepted(bm, 0x277, false),
		      "PAT writes exit (checked), reads do not");
		CHECK(intercepted(bm, 0x10, true), "TSC writes exit");
	}
	return check_summary();
}
