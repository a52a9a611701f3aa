/* VMX instructions with their failure reported (SDM Vol 3C 31.2: CF set =
 * VMfailInvalid, ZF set = VMfailValid with the error in the VMCS). */
#ifndef X86_VMX_OPS_H
#define X86_VMX_OPS_H

#include <cg/types.h>

static inline bool vmx_vmclear(u64 phys)
{
	u8 fail;
	__asm__ volatile("vmclear %1; setna %0" : "=qm"(fail) : "m"(phys) : "cc", "memory");
	return !fail;
}

static inline bool vmx_vmptrld(u64 phys)
{
	u8 fail;
	__asm__ volatile("vmptrld %1; setna %0" : "=qm"(fail) : "m"(phys) : "cc", "memory");
	return !fail;
}

static inline u64 vmcs_read(u64 field)
{
	u64 v = 0;
	__asm__ volatile("vmread %1, %0" : "=rm"(v) : "r"(field) : "cc");
	return v;
}

/* vmcs_write: write a field; a failure is a monitor bug (wrong field for
 * this CPU), reported by vmcs_write_failed and fatal. */
void vmcs_write_failed(u64 field, u64 value);
static inline void vmcs_write(u64 field, u64 value)
{
	u8 fail;
	__asm__ volatile("vmwrite %2, %1; setna %0" : "=qm"(fail) : "r"(field), "rm"(value) : "cc");
	if (__builtin_expect(fail, 0))
		vmcs_write_failed(field, value);
}

struct invept_desc {
	u64 eptp;
	u64 reserved;
};

struct invvpid_desc {
	u64 vpid; /* bits 15:0; the rest must be 0 */
	u64 linear;
};

/* INVVPID of type (vmx_tlb.h) for vpid */
static inline void vmx_invvpid(u32 type, u16 vpid)
{
	struct invvpid_desc d = { vpid, 0 };
	__asm__ volatile("invvpid %0, %1" ::"m"(d), "r"((u64)type) : "cc", "memory");
}

/* INVEPT single-context (type 1) */
static inline void vmx_invept(u64 eptp)
{
	struct invept_desc d = { eptp, 0 };
	__asm__ volatile("invept %0, %1" ::"m"(d), "r"(1ULL) : "cc", "memory");
}

#endif
