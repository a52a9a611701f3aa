/* Architectural MSRs and control-register bits (SDM Vol 4, chapter 2;
 * Vol 3A 2.5 for CR bits; Vol 3D appendix A for the VMX capability MSRs). */
#ifndef X86_MSR_H
#define X86_MSR_H

#define MSR_IA32_APIC_BASE            0x1B
#define MSR_IA32_FEATURE_CONTROL      0x3A
#define MSR_IA32_VMX_BASIC            0x480
#define MSR_IA32_VMX_PINBASED_CTLS    0x481
#define MSR_IA32_VMX_PROCBASED_CTLS   0x482
#define MSR_IA32_VMX_EXIT_CTLS        0x483
#define MSR_IA32_VMX_ENTRY_CTLS       0x484
#define MSR_IA32_VMX_MISC             0x485
#define MSR_IA32_VMX_CR0_FIXED0       0x486
#define MSR_IA32_VMX_CR0_FIXED1       0x487
#define MSR_IA32_VMX_CR4_FIXED0       0x488
#define MSR_IA32_VMX_CR4_FIXED1       0x489
#define MSR_IA32_VMX_PROCBASED_CTLS2  0x48B
#define MSR_IA32_VMX_EPT_VPID_CAP     0x48C
#define MSR_IA32_VMX_TRUE_PINBASED_CTLS 0x48D
#define MSR_IA32_EFER                 0xC0000080
#define MSR_IA32_GS_BASE              0xC0000101

/* IA32_APIC_BASE (SDM Vol 3A 10.4.4) */
#define APIC_BASE_BSP     (1ULL << 8)
#define APIC_BASE_ENABLE  (1ULL << 11)
#define APIC_BASE_ADDR_MASK 0xFFFFFF000ULL

/* IA32_FEATURE_CONTROL (SDM Vol 3C 23.7) */
#define FEATURE_CONTROL_LOCK          (1ULL << 0)
#define FEATURE_CONTROL_VMXON_IN_SMX  (1ULL << 1)
#define FEATURE_CONTROL_VMXON_OUT_SMX (1ULL << 2)

#define CR0_PE (1ULL << 0)
#define CR0_NE (1ULL << 5)
#define CR0_PG (1ULL << 31)
#define CR4_OSFXSR (1ULL << 9)
#define CR4_VMXE (1ULL << 13)
#define CR4_OSXSAVE (1ULL << 18)

/* CPUID.1:ECX.VMX[bit 5] (SDM Vol 3C 23.6) */
#define CPUID_1_ECX_VMX (1U << 5)
#define CPUID_1_ECX_XSAVE (1U << 26)

#endif
