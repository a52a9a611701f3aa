/* Per-VM extended page tables (SDM Vol 3C 29.3): 4 levels, guest RAM in
 * 2 MiB write-back pages, and with APIC virtualization the one 4 KiB
 * APIC-access page; nothing else mapped. Every other guest-physical
 * access is an EPT violation: emulated MMIO or a stopped VM. */
#include "lib/mem.h"
#include "core/virt.h"
#include "arch/x86/vmx/vmx_tsc.h"
#include "arch/x86/vmx/vmx_vcpu.h"
#include "arch/x86/vmx/spec_ctrl.h"
#include <cg/errno.h>

#define EPT_READ (1ULL << 0)
#define EPT_WRITE (1ULL << 1)
#define EPT_EXEC (1ULL << 2)
#define EPT_RWX (EPT_READ | EPT_WRITE | EPT_EXEC)
#define EPT_MEMTYPE_WB (6ULL << 3)
#define EPT_MEMTYPE_UC (0ULL << 3)
#define EPT_LARGE (1ULL << 7)
#define EPT_ADDR 0x000FFFFFFFFFF000ULL
/* EPTP: write-back paging structures, 4-level walk (29.3.2) */
#define EPTP_WB 6ULL
#define EPTP_WALK_4 (3ULL << 3)

static struct arch_vm arch_vms[VM_MAX];

static u64 *ept_next(u64 *table, u32 idx)
{
	if (!(table[idx] & EPT_RWX)) {
		u64 page = mem_alloc_pages(1);
		if (!page)
			return NULL;
		table[idx] = page | EPT_RWX;
	}
	return mem_ptr(table[idx] & EPT_ADDR);
}

int ept_map_2m(struct vm *vm, u64 gpa, u64 hpa)
{
	u64 *pml4 = mem_ptr(vm->arch->ept_root);
	u64 *pdpt = ept_next(pml4, (gpa >> 39) & 511);
	u64 *pd = pdpt ? ept_next(pdpt, (gpa >> 30) & 511) : NULL;
	if (!pd)
		return -CG_ENOMEM;
	pd[(gpa >> 21) & 511] = hpa | EPT_RWX | EPT_MEMTYPE_WB | EPT_LARGE;
	return 0;
}

int ept_map_4k_uc(struct vm *vm, u64 gpa, u64 hpa)
{
	u64 *pml4 = mem_ptr(vm->arch->ept_root);
	u64 *pdpt = ept_next(pml4, (gpa >> 39) & 511);
	u64 *pd = pdpt ? ept_next(pdpt, (gpa >> 30) & 511) : NULL;
	if (!pd)
		return -CG_ENOMEM;
	if (pd[(gpa >> 21) & 511] & EPT_LARGE)
		return -CG_EBUSY;
	u64 *pt = ept_next(pd, (gpa >> 21) & 511);
	if (!pt)
		return -CG_ENOMEM;
	pt[(gpa >> 12) & 511] = hpa | EPT_READ | EPT_WRITE | EPT_MEMTYPE_UC;
	return 0;
}

int arch_vm_init(struct vm *vm)
{
	vm->arch = &arch_vms[vm->id];
	vm->arch->ept_root = mem_alloc_pages(1);
	if (!vm->arch->ept_root)
		return -CG_ENOMEM;
	vm->arch->eptp = vm->arch->ept_root | EPTP_WB | EPTP_WALK_4;
	spec_ctrl_vm_init(vm);
	vmx_tsc_vm_init(vm);
	for (u32 i = 0; i < vm->chunk_count; i++) {
		int rc = ept_map_2m(vm, (u64)i * VM_CHUNK, vm->chunks[i]);
		if (rc) {
			arch_vm_free(vm);
			return rc;
		}
	}
	int rc = vmx_apicv_vm_init(vm);
	if (rc)
		arch_vm_free(vm);
	return rc;
}

void arch_vm_free(struct vm *vm)
{
	vmx_vm_lapics_free(vm);
	if (!vm->arch || !vm->arch->ept_root)
		return;
	u64 *pml4 = mem_ptr(vm->arch->ept_root);
	for (u32 i = 0; i < 512; i++) {
		if (!(pml4[i] & EPT_RWX))
			continue;
		u64 *pdpt = mem_ptr(pml4[i] & EPT_ADDR);
		for (u32 j = 0; j < 512; j++) {
			if (!(pdpt[j] & EPT_RWX))
				continue;
			/* 4 KiB tables under the directory (their pages are not
			 * the VM's: only the tables are freed) */
			u64 *pd = mem_ptr(pdpt[j] & EPT_ADDR);
			for (u32 k = 0; k < 512; k++)
				if ((pd[k] & EPT_RWX) && !(pd[k] & EPT_LARGE))
					pmm_free(&mem_pmm, pd[k] & EPT_ADDR, 1);
			pmm_free(&mem_pmm, pdpt[j] & EPT_ADDR, 1);
		}
		pmm_free(&mem_pmm, pml4[i] & EPT_ADDR, 1);
	}
	pmm_free(&mem_pmm, vm->arch->ept_root, 1);
	vm->arch->ept_root = 0;
	vm->arch->eptp = 0;
}
