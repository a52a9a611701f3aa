/* Building a vCPU's VMCS on the CPU that will run it (SDM Vol 3C chapter
 * 25 for the fields, 27.2-27.3 for what VM entry checks). */
#include "lib/fatal.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "abi/linux_boot.h"
#include "core/virt.h"
#include "arch/x86/cpu_ops.h"
#include "arch/x86/msr.h"
#include "arch/x86/percpu.h"
#include "arch/x86/vmx/vmcs.h"
#include "arch/x86/vmx/vmx_event.h"
#include "arch/x86/vmx/vmx_ops.h"
#include "arch/x86/vmx/vmx_tlb.h"
#include "arch/x86/vmx/vmx_tsc.h"
#include "arch/x86/vmx/vmx_vcpu.h"
#include "arch/x86/vmx/spec_ctrl.h"
#include <cg/spinlock.h>
#include <cg/string.h>

#define MSR_IA32_VMX_TRUE_PROCBASED_CTLS 0x48E
#define MSR_IA32_VMX_TRUE_EXIT_CTLS 0x48F
#define MSR_IA32_VMX_TRUE_ENTRY_CTLS 0x490
#define MSR_IA32_PAT 0x277
#define VMX_BASIC_TRUE_CTLS (1ULL << 55)
#define CR0_ET (1ULL << 4)
#define CR0_NW (1ULL << 29)
#define CR0_CD (1ULL << 30)
#define CR4_SMXE (1ULL << 14)
#define CR4_PCIDE (1ULL << 17)
#define CR4_PAE (1ULL << 5)
#define EFER_LME (1ULL << 8)
#define PAT_POWER_ON 0x0007040600070406ULL
#define DR7_INIT 0x400
#define RFLAGS_RESERVED1 0x2
/* Access rights (25.4.1): type, S, DPL, P, D/B, G; bit 16 = unusable */
#define AR_CODE32 0xC09B
#define AR_CODE64 0xA09B
#define AR_DATA32 0xC093
#define AR_CODE16 0x009B
#define AR_DATA16 0x0093
#define AR_TSS_BUSY 0x008B
#define AR_LDT 0x0082
#define AR_UNUSABLE 0x10000
/* Pause-loop exiting, in TSC ticks (SDM Vol 3C 25.6.13) */
#define PLE_GAP 128
#define PLE_WINDOW 4096

/* The I/O bitmaps trap every port; the MSR bitmap traps all but the MSRs
 * of vcpu_msr.c's table, each kept per vCPU. Shared by all vCPUs. */
static u64 io_bitmap_a, io_bitmap_b, msr_bitmap;
static u32 bitmap_lock;

static void vmx_bitmaps_init(void)
{
	spin_lock(&bitmap_lock);
	if (!msr_bitmap) {
		io_bitmap_a = mem_alloc_pages(1);
		io_bitmap_b = mem_alloc_pages(1);
		u64 m = mem_alloc_pages(1);
		if (!io_bitmap_a || !io_bitmap_b || !m)
			panic("vmx_bitmaps_init: out of memory for I/O and MSR bitmaps");
		memset(mem_ptr(io_bitmap_a), 0xFF, PAGE_SIZE);
		memset(mem_ptr(io_bitmap_b), 0xFF, PAGE_SIZE);
		u8 *bm = mem_ptr(m);
		memset(bm, 0xFF, PAGE_SIZE);
		vcpu_msr_bitmap(bm, vcpu_msr_has_tsc_aux());
		__atomic_store_n(&msr_bitmap, m, __ATOMIC_RELEASE);
	}
	spin_unlock(&bitmap_lock);
}

/* vmx_ctl: the control value with what we want, what the CPU requires set
 * (allowed-0) and nothing it cannot do (allowed-1), per appendix A.3-A.5. */
static u32 vmx_ctl(u32 msr, u32 want)
{
	u64 cap = rdmsr(msr);
	return (want | (u32)cap) & (u32)(cap >> 32);
}

static void vmcs_segment(u32 sel_f, u32 base_f, u32 limit_f, u32 ar_f, u16 sel, u64 base, u32 limit,
			 u32 ar)
{
	vmcs_write(sel_f, sel);
	vmcs_write(base_f, base);
	vmcs_write(limit_f, limit);
	vmcs_write(ar_f, ar);
}

#define SEG(name, sel, base, limit, ar)                                                        \
	vmcs_segment(VMCS_GUEST_##name##_SEL, VMCS_GUEST_##name##_BASE, VMCS_GUEST_##name##_LIMIT, \
		     VMCS_GUEST_##name##_AR, sel, base, limit, ar)

static void vmcs_guest_common(void)
{
	SEG(LDTR, 0, 0, 0, AR_UNUSABLE);
	SEG(TR, 0, 0, 0x67, AR_TSS_BUSY);
	vmcs_write(VMCS_GUEST_GDTR_BASE, 0);
	vmcs_write(VMCS_GUEST_GDTR_LIMIT, 0xFFFF);
	vmcs_write(VMCS_GUEST_IDTR_BASE, 0);
	vmcs_write(VMCS_GUEST_IDTR_LIMIT, 0xFFFF);
	vmcs_write(VMCS_GUEST_CR3, 0);
	vmcs_write(VMCS_GUEST_DR7, DR7_INIT);
	vmcs_write(VMCS_GUEST_RSP, 0);
	vmcs_write(VMCS_GUEST_RFLAGS, RFLAGS_RESERVED1);
	vmcs_write(VMCS_GUEST_PENDING_DBG, 0);
	vmcs_write(VMCS_GUEST_INTERRUPTIBILITY, 0);
	vmcs_write(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_ACTIVE);
	vmcs_write(VMCS_GUEST_SYSENTER_CS, 0);
	vmcs_write(VMCS_GUEST_SYSENTER_ESP, 0);
	vmcs_write(VMCS_GUEST_SYSENTER_EIP, 0);
	vmcs_write(VMCS_GUEST_DEBUGCTL, 0);
	vmcs_write(VMCS_GUEST_PAT, PAT_POWER_ON);
	vmcs_write(VMCS_GUEST_EFER, 0);
	vmcs_write(VMCS_LINK_POINTER, ~0ULL);
}

/* The guest-visible CR0/CR4 (the read shadows) and the real registers,
 * which must keep the bits VMX operation fixes (with unrestricted guest,
 * PE and PG are free; 23.8, 25.8). */
u64 vmx_guest_cr0(void)
{
	u64 mask = vmcs_read(VMCS_CR0_MASK);
	return (vmcs_read(VMCS_GUEST_CR0) & ~mask) | (vmcs_read(VMCS_CR0_SHADOW) & mask);
}

void vmx_set_cr0(struct vcpu *v, u64 guest_value);
void vmx_set_cr0(struct vcpu *v, u64 val)
{
	u64 fixed0 = rdmsr(MSR_IA32_VMX_CR0_FIXED0) & ~(CR0_PE | CR0_PG);
	u64 fixed1 = rdmsr(MSR_IA32_VMX_CR0_FIXED1);
	vmcs_write(VMCS_CR0_SHADOW, val);
	vmcs_write(VMCS_GUEST_CR0, ((val | fixed0) & fixed1) & ~(CR0_NW | CR0_CD));
	u64 efer = vmcs_read(VMCS_GUEST_EFER);
	bool lma = (efer & (1ULL << 8)) && (val & CR0_PG);
	efer = lma ? efer | (1ULL << 10) : efer & ~(1ULL << 10);
	vmcs_write(VMCS_GUEST_EFER, efer);
	v->arch->entry = lma ? v->arch->entry | ENTRY_IA32E_MODE_GUEST
			     : v->arch->entry & ~ENTRY_IA32E_MODE_GUEST;
	vmcs_write(VMCS_ENTRY_CONTROLS, v->arch->entry);
}

void vmx_set_cr4(u64 guest_value);
void vmx_set_cr4(u64 val)
{
	u64 fixed0 = rdmsr(MSR_IA32_VMX_CR4_FIXED0);
	u64 fixed1 = rdmsr(MSR_IA32_VMX_CR4_FIXED1);
	vmcs_write(VMCS_CR4_SHADOW, val);
	vmcs_write(VMCS_GUEST_CR4, (val | fixed0 | CR4_VMXE) & fixed1);
}

void vmx_vcpu_reset_realmode(struct vcpu *v, u8 vector)
{
	/* The SIPI state (SDM Vol 3A 9.4.4.2): CS = vector << 8, IP = 0 */
	SEG(CS, (u16)(vector << 8), (u64)vector << 12, 0xFFFF, AR_CODE16);
	SEG(DS, 0, 0, 0xFFFF, AR_DATA16);
	SEG(ES, 0, 0, 0xFFFF, AR_DATA16);
	SEG(SS, 0, 0, 0xFFFF, AR_DATA16);
	SEG(FS, 0, 0, 0xFFFF, AR_DATA16);
	SEG(GS, 0, 0, 0xFFFF, AR_DATA16);
	vmcs_guest_common();
	vmcs_write(VMCS_GUEST_RIP, 0);
	vmcs_write(VMCS_GUEST_EFER, 0);
	vmx_set_cr0(v, CR0_ET | CR0_NW | CR0_CD);
	vmx_set_cr4(0);
	memset(v->gpr, 0, sizeof(v->gpr));
	vmx_debug_init(); /* DR0-DR3, DR6; DR7 and pending #DBs: vmcs_guest_common */
	v->arch->event.valid = false;
	/* INIT empties the TLBs (SDM Vol 3A table 9-1): global pages
	 * from before must not survive into the new paging set-up. */
	vmx_vcpu_flush_tlb(v->arch);
}

/* Linux's 64-bit boot state (boot protocol, "64-bit boot protocol"):
 * paging on with the loader's identity map, flat __BOOT_CS/__BOOT_DS. */
static void vmcs_guest_long64(struct vcpu *v)
{
	SEG(CS, LINUX_BOOT_CS, 0, 0xFFFFFFFF, AR_CODE64);
	SEG(DS, LINUX_BOOT_DS, 0, 0xFFFFFFFF, AR_DATA32);
	SEG(ES, LINUX_BOOT_DS, 0, 0xFFFFFFFF, AR_DATA32);
	SEG(SS, LINUX_BOOT_DS, 0, 0xFFFFFFFF, AR_DATA32);
	SEG(FS, LINUX_BOOT_DS, 0, 0xFFFFFFFF, AR_DATA32);
	SEG(GS, LINUX_BOOT_DS, 0, 0xFFFFFFFF, AR_DATA32);
	vmcs_guest_common();
	vmcs_write(VMCS_GUEST_GDTR_BASE, v->boot_gdt);
	vmcs_write(VMCS_GUEST_GDTR_LIMIT, v->boot_gdt_limit);
	vmcs_write(VMCS_GUEST_CR3, v->boot_cr3);
	vmcs_write(VMCS_GUEST_RIP, v->boot_rip);
	vmcs_write(VMCS_GUEST_EFER, EFER_LME);
	vmx_set_cr4(CR4_PAE);
	vmx_set_cr0(v, CR0_PE | CR0_ET | CR0_PG); /* sets EFER.LMA and IA-32e mode */
}

static void vmcs_guest_pm32(struct vcpu *v)
{
	SEG(CS, 0x08, 0, 0xFFFFFFFF, AR_CODE32);
	SEG(DS, 0x10, 0, 0xFFFFFFFF, AR_DATA32);
	SEG(ES, 0x10, 0, 0xFFFFFFFF, AR_DATA32);
	SEG(SS, 0x10, 0, 0xFFFFFFFF, AR_DATA32);
	SEG(FS, 0x10, 0, 0xFFFFFFFF, AR_DATA32);
	SEG(GS, 0x10, 0, 0xFFFFFFFF, AR_DATA32);
	vmcs_guest_common();
	vmcs_write(VMCS_GUEST_RIP, v->boot_rip);
	vmx_set_cr0(v, CR0_PE | CR0_ET);
	vmx_set_cr4(0);
}

void vmx_vcpu_host_state(void)
{
	struct percpu *pc = this_percpu();
	struct {
		u16 limit;
		u64 base;
	} PACKED gdtr, idtr;
	__asm__ volatile("sgdt %0; sidt %1" : "=m"(gdtr), "=m"(idtr));
	vmcs_write(VMCS_HOST_CR0, read_cr0());
	vmcs_write(VMCS_HOST_CR3, read_cr3());
	vmcs_write(VMCS_HOST_CR4, read_cr4());
	vmcs_write(VMCS_HOST_CS_SEL, GDT_KERNEL_CODE);
	vmcs_write(VMCS_HOST_SS_SEL, GDT_KERNEL_DATA);
	vmcs_write(VMCS_HOST_DS_SEL, GDT_KERNEL_DATA);
	vmcs_write(VMCS_HOST_ES_SEL, GDT_KERNEL_DATA);
	vmcs_write(VMCS_HOST_FS_SEL, 0);
	vmcs_write(VMCS_HOST_GS_SEL, 0);
	vmcs_write(VMCS_HOST_TR_SEL, GDT_TSS_BASE + 16 * pc->index);
	vmcs_write(VMCS_HOST_FS_BASE, 0);
	vmcs_write(VMCS_HOST_GS_BASE, (u64)(uintptr_t)pc);
	vmcs_write(VMCS_HOST_TR_BASE, (u64)(uintptr_t)&pc->tss);
	vmcs_write(VMCS_HOST_GDTR_BASE, gdtr.base);
	vmcs_write(VMCS_HOST_IDTR_BASE, idtr.base);
	vmcs_write(VMCS_HOST_SYSENTER_CS, 0);
	vmcs_write(VMCS_HOST_SYSENTER_ESP, 0);
	vmcs_write(VMCS_HOST_SYSENTER_EIP, 0);
	vmcs_write(VMCS_HOST_EFER, rdmsr(MSR_IA32_EFER));
	vmcs_write(VMCS_HOST_PAT, rdmsr(MSR_IA32_PAT));
	vmcs_write(VMCS_HOST_RIP, spec_ctrl_exit_rip());
}

void vmx_vcpu_setup(struct vcpu *v)
{
	struct arch_vcpu *a = v->arch;
	bool true_ctls = rdmsr(MSR_IA32_VMX_BASIC) & VMX_BASIC_TRUE_CTLS;
	vmx_bitmaps_init();

	u32 pin = vmx_ctl(true_ctls ? MSR_IA32_VMX_TRUE_PINBASED_CTLS : MSR_IA32_VMX_PINBASED_CTLS,
			  PIN_EXTERNAL_INTERRUPT_EXITING | PIN_NMI_EXITING | PIN_VIRTUAL_NMIS |
				  PIN_PREEMPTION_TIMER);
	/* TSC offsetting: the VM's offset (vmx_tsc.h), 0 until the guest
	 * writes its TSC. */
	u32 want_proc = PROC_HLT_EXITING | PROC_MWAIT_EXITING | PROC_RDPMC_EXITING |
			PROC_CR8_LOAD_EXITING | PROC_CR8_STORE_EXITING | PROC_USE_IO_BITMAPS |
			PROC_USE_MSR_BITMAPS | PROC_MONITOR_EXITING | PROC_ACTIVATE_SECONDARY |
			PROC_USE_TSC_OFFSETTING;
	u32 want_proc2 = PROC2_ENABLE_EPT | PROC2_ENABLE_RDTSCP | PROC2_ENABLE_VPID |
			 PROC2_UNRESTRICTED_GUEST | PROC2_ENABLE_INVPCID | PROC2_PAUSE_LOOP_EXITING;
	/* VPIDs only where this CPU can flush one (migration, INIT). */
	u32 vpid_flush = vmx_vpid_flush_type(rdmsr(MSR_IA32_VMX_EPT_VPID_CAP));
	if (!vpid_flush)
		want_proc2 &= ~PROC2_ENABLE_VPID;
	vmx_apicv_controls(v, &want_proc, &want_proc2);
	a->proc = vmx_ctl(true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS : MSR_IA32_VMX_PROCBASED_CTLS,
			  want_proc);
	u32 proc2 = vmx_ctl(MSR_IA32_VMX_PROCBASED_CTLS2, want_proc2);
	/* Guest NMIs need both (vmx_inject.c); NMI-window exiting is turned
	 * on only while an NMI waits, so only its allowed-1 bit is asked. */
	a->vnmi = (pin & PIN_VIRTUAL_NMIS) &&
		  (rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS : MSR_IA32_VMX_PROCBASED_CTLS) >>
		   32) & PROC_NMI_WINDOW_EXITING;
	u32 exit = vmx_ctl(true_ctls ? MSR_IA32_VMX_TRUE_EXIT_CTLS : MSR_IA32_VMX_EXIT_CTLS,
			   EXIT_SAVE_DEBUG_CONTROLS | EXIT_HOST_ADDRESS_SPACE_SIZE |
				   EXIT_ACK_INTERRUPT_ON_EXIT | EXIT_SAVE_PAT | EXIT_LOAD_PAT |
				   EXIT_SAVE_EFER | EXIT_LOAD_EFER | EXIT_SAVE_PREEMPTION_TIMER);
	a->timer_saved = exit & EXIT_SAVE_PREEMPTION_TIMER;
	a->timer_rate = rdmsr(MSR_IA32_VMX_MISC) & 0x1F;
	a->entry = vmx_ctl(true_ctls ? MSR_IA32_VMX_TRUE_ENTRY_CTLS : MSR_IA32_VMX_ENTRY_CTLS,
			   ENTRY_LOAD_DEBUG_CONTROLS | ENTRY_LOAD_PAT | ENTRY_LOAD_EFER) &
		   ~ENTRY_IA32E_MODE_GUEST;
	if (!(proc2 & PROC2_ENABLE_EPT) || !(proc2 & PROC2_UNRESTRICTED_GUEST) ||
	    !(pin & PIN_PREEMPTION_TIMER))
		panic("vmx_vcpu_setup: CPU %u lacks EPT, unrestricted guest or the preemption timer",
		      this_percpu()->index);

	vmcs_write(VMCS_PIN_CONTROLS, pin);
	vmcs_write(VMCS_PROC_CONTROLS, a->proc);
	vmcs_write(VMCS_PROC_CONTROLS2, proc2);
	a->proc2 = proc2; /* CPUID tells the guest what these let it run */
	if (proc2 & PROC2_PAUSE_LOOP_EXITING) {
		/* A spin of PAUSEs longer than the window exits (reason PAUSE) and
		 * yields the CPU to another vCPU: an overcommitted guest spinning on
		 * a lock held by a descheduled vCPU stops burning its slice. */
		vmcs_write(VMCS_PLE_GAP, PLE_GAP);
		vmcs_write(VMCS_PLE_WINDOW, PLE_WINDOW);
	}
	vmcs_write(VMCS_EXIT_CONTROLS, exit);
	vmcs_write(VMCS_ENTRY_CONTROLS, a->entry);
	vmcs_write(VMCS_EXCEPTION_BITMAP, VMX_EXCEPTION_BITMAP); /* #AC, #DB: vmx_event.h */
	vmcs_write(VMCS_PF_ERROR_MASK, 0);
	vmcs_write(VMCS_PF_ERROR_MATCH, 0);
	vmcs_write(VMCS_CR3_TARGET_COUNT, 0);
	vmcs_write(VMCS_EXIT_MSR_STORE_COUNT, 0);
	vmcs_write(VMCS_EXIT_MSR_LOAD_COUNT, 0);
	vmcs_write(VMCS_ENTRY_MSR_LOAD_COUNT, 0);
	vmcs_write(VMCS_ENTRY_INTR_INFO, 0);
	vmcs_write(VMCS_IO_BITMAP_A, io_bitmap_a);
	vmcs_write(VMCS_IO_BITMAP_B, io_bitmap_b);
	vmcs_write(VMCS_MSR_BITMAP, msr_bitmap);
	vmcs_write(VMCS_EPT_POINTER, v->vm->arch->eptp);
	a->vpid_flush = (proc2 & PROC2_ENABLE_VPID) ? vpid_flush : 0;
	if (a->vpid_flush) {
		vmcs_write(VMCS_VPID, a->vpid);
		vmx_vcpu_flush_tlb(a); /* the VPID may have been an ended VM's */
	}
	vmx_apicv_setup(v, a->proc, proc2);
	vmx_tsc_load(v);
	/* PE, NE and PG changes exit (mode switches, EFER.LMA); the guest reads
	 * its own values of the masked bits from the shadows. VMXE, SMXE and
	 * PCIDE belong to features CPUID does not offer: setting one exits
	 * and is #GP (exit_cr.c), where the CPU would otherwise take PCIDE. */
	vmcs_write(VMCS_CR0_MASK, CR0_PE | CR0_NE | CR0_PG | CR0_NW | CR0_CD);
	vmcs_write(VMCS_CR4_MASK, CR4_VMXE | CR4_SMXE | CR4_PCIDE);
	vmx_vcpu_host_state();
	if (v->boot_long64) {
		vmcs_guest_long64(v);
		v->gpr[GPR_RSI] = v->boot_rsi;
	} else {
		vmcs_guest_pm32(v);
		v->gpr[GPR_RAX] = v->boot_rax;
		v->gpr[GPR_RBX] = v->boot_rbx;
	}
	a->initialized = true;
}

void vmcs_write_failed(u64 field, u64 value)
{
	panic("vmcs_write: field 0x%lx value 0x%lx refused (VM-instruction error %lu)", field,
	      value, vmcs_read(VMCS_INSTRUCTION_ERROR));
}
