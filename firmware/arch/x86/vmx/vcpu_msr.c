/* The passed-through MSRs and how each is kept per vCPU (vcpu_msr.h).
 * Every other MSR exits (exit_msr.c emulates an allow list, the rest is
 * #GP). */
#include "arch/x86/cpu_ops.h"
#include "arch/x86/vmx/vcpu_msr.h"

#define CPUID_EXT_LEAF 0x80000001u
#define CPUID_EXT_EDX_RDTSCP (1U << 27)

/* SDM Vol 4 table 2-2 for the numbers; the VMCS fields in Vol 3C 25.4.1. */
static const struct vcpu_msr_def msrs[] = {
	/* Reads: host TSC + the VM's offset; writes exit (vmx_tsc.c) */
	{ 0x10, "TSC", VCPU_MSR_HOST_RO, true, false, false },
	{ 0x174, "SYSENTER_CS", VCPU_MSR_VMCS, true, true, false },
	{ 0x175, "SYSENTER_ESP", VCPU_MSR_VMCS, true, true, false },
	{ 0x176, "SYSENTER_EIP", VCPU_MSR_VMCS, true, true, false },
	/* Writes exit: an invalid memory type must be #GP (exit_msr.c) */
	{ 0x277, "PAT", VCPU_MSR_VMCS, true, false, false },
	{ 0xC0000100, "FS_BASE", VCPU_MSR_VMCS, true, true, false },
	{ 0xC0000101, "GS_BASE", VCPU_MSR_VMCS, true, true, false },
	/* The switched ones, in the order of a vCPU's array */
	{ 0xC0000081, "STAR", VCPU_MSR_SWITCHED, true, true, false },
	{ 0xC0000082, "LSTAR", VCPU_MSR_SWITCHED, true, true, false },
	{ 0xC0000083, "CSTAR", VCPU_MSR_SWITCHED, true, true, false },
	{ 0xC0000084, "FMASK", VCPU_MSR_SWITCHED, true, true, false },
	{ 0xC0000102, "KERNEL_GS_BASE", VCPU_MSR_SWITCHED, true, true, false },
	/* Linux keeps the CPU number here for RDTSCP/RDPID in the vDSO */
	{ 0xC0000103, "TSC_AUX", VCPU_MSR_SWITCHED, true, true, true },
};
#define MSR_COUNT (sizeof(msrs) / sizeof(msrs[0]))

const struct vcpu_msr_def *vcpu_msr_table(u32 *count)
{
	*count = MSR_COUNT;
	return msrs;
}

const char *vcpu_msr_table_check(void)
{
	u32 switched = 0;
	for (u32 i = 0; i < MSR_COUNT; i++) {
		const struct vcpu_msr_def *d = &msrs[i];
		if (d->write && d->keep == VCPU_MSR_HOST_RO)
			return d->name;
		if (d->keep == VCPU_MSR_SWITCHED && !(d->read && d->write))
			return d->name; /* a switched MSR's writes must not exit... */
		if (d->keep == VCPU_MSR_SWITCHED)
			switched++;
	}
	return switched == VCPU_MSR_SWITCHED ? NULL : "switched count";
}

static void bitmap_clear(u8 *bm, u32 base, u32 bit)
{
	bm[base + bit / 8] &= (u8) ~(1U << (bit % 8));
}

void vcpu_msr_bitmap(u8 *bm, bool has_rdtscp)
{
	for (u32 i = 0; i < MSR_COUNT; i++) {
		const struct vcpu_msr_def *d = &msrs[i];
		if (d->needs_rdtscp && !has_rdtscp)
			continue; /* exits, and exit_msr.c says #GP as the CPU would */
		u32 high = d->msr >= 0xC0000000u ? 1024 : 0;
		u32 bit = d->msr & 0x1FFF;
		if (d->read)
			bitmap_clear(bm, high, bit);
		if (d->write)
			bitmap_clear(bm, 2048 + high, bit);
	}
}

bool vcpu_msr_has_tsc_aux(void)
{
	static int has = -1;
	if (has < 0)
		has = cpuid(0x80000000u, 0).eax >= CPUID_EXT_LEAF &&
		      (cpuid(CPUID_EXT_LEAF, 0).edx & CPUID_EXT_EDX_RDTSCP);
	return has;
}

/* Store (save) or load the switched MSRs, in the table's order. */
static void msr_switch(u64 vals[VCPU_MSR_SWITCHED], bool save)
{
	u32 n = 0;
	bool aux = vcpu_msr_has_tsc_aux();
	for (u32 i = 0; i < MSR_COUNT; i++) {
		const struct vcpu_msr_def *d = &msrs[i];
		if (d->keep != VCPU_MSR_SWITCHED)
			continue;
		if (!d->needs_rdtscp || aux) {
			if (save)
				vals[n] = rdmsr(d->msr);
			else
				wrmsr(d->msr, vals[n]);
		}
		n++;
	}
}

void vcpu_msr_save(u64 vals[VCPU_MSR_SWITCHED])
{
	msr_switch(vals, true);
}

void vcpu_msr_restore(const u64 vals[VCPU_MSR_SWITCHED])
{
	msr_switch((u64 *)vals, false);
}
