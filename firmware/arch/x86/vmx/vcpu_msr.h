/* The MSRs a guest reaches without an exit, from one table (vcpu_msr.c):
 * each is either held in the VMCS (the CPU switches it on entry and exit),
 * switched by hand when another vCPU takes the CPU, or read-only and the
 * same for every guest. The MSR bitmap is built from the table, so no MSR
 * is passed through without saying how it is kept per vCPU. */
#ifndef X86_VMX_VCPU_MSR_H
#define X86_VMX_VCPU_MSR_H

#include <cg/types.h>

enum vcpu_msr_keep {
	VCPU_MSR_VMCS,     /* a guest-state field of the VMCS */
	VCPU_MSR_SWITCHED, /* saved and restored by vcpu_msr_save/restore */
	VCPU_MSR_HOST_RO,  /* the host's value (the TSC: plus the VM's offset,
			    * which the CPU adds), read-only for the guest */
};

struct vcpu_msr_def {
	u32 msr;
	const char *name;
	u8 keep;     /* enum vcpu_msr_keep */
	bool read;   /* RDMSR without an exit */
	bool write;  /* WRMSR without an exit */
	bool needs_rdtscp; /* exists only where CPUID.80000001H:EDX.RDTSCP */
};

/* How many MSRs vcpu_msr_save/restore switch: the size of a vCPU's array */
#define VCPU_MSR_SWITCHED 6

/* vcpu_msr_table: the table and its length (for the tests and the docs). */
const struct vcpu_msr_def *vcpu_msr_table(u32 *count);

/* vcpu_msr_table_check: NULL when every entry is sound (a guest can write
 * only what is kept per vCPU, the switched count matches), else the name
 * of the first bad entry. */
const char *vcpu_msr_table_check(void);

/* vcpu_msr_bitmap: clear the intercept bits of every passed-through MSR in
 * the 4 KiB MSR bitmap bm (SDM Vol 3C 25.6.9: read low, read high, write
 * low, write high, 1 KiB each); has_rdtscp: whether TSC_AUX exists. */
void vcpu_msr_bitmap(u8 *bm, bool has_rdtscp);

/* vcpu_msr_has_tsc_aux: whether this CPU has IA32_TSC_AUX (RDTSCP). */
bool vcpu_msr_has_tsc_aux(void);

/* vcpu_msr_save: store this CPU's switched MSRs into vals. */
void vcpu_msr_save(u64 vals[VCPU_MSR_SWITCHED]);

/* vcpu_msr_restore: load vals into this CPU's switched MSRs. A new vCPU's
 * vals are zero, the power-on value of each. */
void vcpu_msr_restore(const u64 vals[VCPU_MSR_SWITCHED]);

#endif
