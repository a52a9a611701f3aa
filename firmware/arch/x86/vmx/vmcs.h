/* VMCS field encodings (SDM Vol 3D appendix B), exit reasons (appendix C)
 * and the control bits the monitor uses (Vol 3C 25.6, 25.7, 25.8). */
#ifndef X86_VMCS_H
#define X86_VMCS_H

/* 16-bit */
#define VMCS_VPID                    0x0000
#define VMCS_GUEST_ES_SEL            0x0800
#define VMCS_GUEST_CS_SEL            0x0802
#define VMCS_GUEST_SS_SEL            0x0804
#define VMCS_GUEST_DS_SEL            0x0806
#define VMCS_GUEST_FS_SEL            0x0808
#define VMCS_GUEST_GS_SEL            0x080A
#define VMCS_GUEST_LDTR_SEL          0x080C
#define VMCS_GUEST_TR_SEL            0x080E
#define VMCS_GUEST_INTR_STATUS       0x0810 /* RVI (7:0), SVI (15:8) */
#define VMCS_HOST_ES_SEL             0x0C00
#define VMCS_HOST_CS_SEL             0x0C02
#define VMCS_HOST_SS_SEL             0x0C04
#define VMCS_HOST_DS_SEL             0x0C06
#define VMCS_HOST_FS_SEL             0x0C08
#define VMCS_HOST_GS_SEL             0x0C0A
#define VMCS_HOST_TR_SEL             0x0C0C
/* 64-bit */
#define VMCS_IO_BITMAP_A             0x2000
#define VMCS_IO_BITMAP_B             0x2002
#define VMCS_MSR_BITMAP              0x2004
#define VMCS_TSC_OFFSET              0x2010
#define VMCS_VIRTUAL_APIC_PAGE       0x2012
#define VMCS_APIC_ACCESS_ADDR        0x2014
#define VMCS_EPT_POINTER             0x201A
#define VMCS_EOI_EXIT_BITMAP0        0x201C /* 1-3 follow, 2 apart */
#define VMCS_GUEST_PHYSICAL_ADDRESS  0x2400
#define VMCS_LINK_POINTER            0x2800
#define VMCS_GUEST_DEBUGCTL          0x2802
#define VMCS_GUEST_PAT               0x2804
#define VMCS_GUEST_EFER              0x2806
#define VMCS_GUEST_PDPTE0            0x280A
#define VMCS_HOST_PAT                0x2C00
#define VMCS_HOST_EFER               0x2C02
/* 32-bit */
#define VMCS_PIN_CONTROLS            0x4000
#define VMCS_PROC_CONTROLS           0x4002
#define VMCS_EXCEPTION_BITMAP        0x4004
#define VMCS_PF_ERROR_MASK           0x4006
#define VMCS_PF_ERROR_MATCH          0x4008
#define VMCS_CR3_TARGET_COUNT        0x400A
#define VMCS_EXIT_CONTROLS           0x400C
#define VMCS_EXIT_MSR_STORE_COUNT    0x400E
#define VMCS_EXIT_MSR_LOAD_COUNT     0x4010
#define VMCS_ENTRY_CONTROLS          0x4012
#define VMCS_ENTRY_MSR_LOAD_COUNT    0x4014
#define VMCS_ENTRY_INTR_INFO         0x4016
#define VMCS_ENTRY_EXCEPTION_ERROR   0x4018
#define VMCS_ENTRY_INSTR_LEN         0x401A
#define VMCS_TPR_THRESHOLD           0x401C
#define VMCS_PROC_CONTROLS2          0x401E
#define VMCS_PLE_GAP                 0x4020
#define VMCS_PLE_WINDOW              0x4022
#define VMCS_INSTRUCTION_ERROR       0x4400
#define VMCS_EXIT_REASON             0x4402
#define VMCS_EXIT_INTR_INFO          0x4404
#define VMCS_EXIT_INTR_ERROR         0x4406
#define VMCS_IDT_VECTORING_INFO      0x4408
#define VMCS_IDT_VECTORING_ERROR     0x440A
#define VMCS_EXIT_INSTR_LEN          0x440C
#define VMCS_EXIT_INSTR_INFO         0x440E
#define VMCS_GUEST_ES_LIMIT          0x4800
#define VMCS_GUEST_CS_LIMIT          0x4802
#define VMCS_GUEST_SS_LIMIT          0x4804
#define VMCS_GUEST_DS_LIMIT          0x4806
#define VMCS_GUEST_FS_LIMIT          0x4808
#define VMCS_GUEST_GS_LIMIT          0x480A
#define VMCS_GUEST_LDTR_LIMIT        0x480C
#define VMCS_GUEST_TR_LIMIT          0x480E
#define VMCS_GUEST_GDTR_LIMIT        0x4810
#define VMCS_GUEST_IDTR_LIMIT        0x4812
#define VMCS_GUEST_ES_AR             0x4814
#define VMCS_GUEST_CS_AR             0x4816
#define VMCS_GUEST_SS_AR             0x4818
#define VMCS_GUEST_DS_AR             0x481A
#define VMCS_GUEST_FS_AR             0x481C
#define VMCS_GUEST_GS_AR             0x481E
#define VMCS_GUEST_LDTR_AR           0x4820
#define VMCS_GUEST_TR_AR             0x4822
#define VMCS_GUEST_INTERRUPTIBILITY  0x4824
#define VMCS_GUEST_ACTIVITY_STATE    0x4826
#define VMCS_GUEST_SYSENTER_CS       0x482A
#define VMCS_PREEMPTION_TIMER        0x482E
#define VMCS_HOST_SYSENTER_CS        0x4C00
/* natural width */
#define VMCS_CR0_MASK                0x6000
#define VMCS_CR4_MASK                0x6002
#define VMCS_CR0_SHADOW              0x6004
#define VMCS_CR4_SHADOW              0x6006
#define VMCS_EXIT_QUALIFICATION      0x6400
#define VMCS_GUEST_LINEAR_ADDRESS    0x640A
#define VMCS_GUEST_CR0               0x6800
#define VMCS_GUEST_CR3               0x6802
#define VMCS_GUEST_CR4               0x6804
#define VMCS_GUEST_ES_BASE           0x6806
#define VMCS_GUEST_CS_BASE           0x6808
#define VMCS_GUEST_SS_BASE           0x680A
#define VMCS_GUEST_DS_BASE           0x680C
#define VMCS_GUEST_FS_BASE           0x680E
#define VMCS_GUEST_GS_BASE           0x6810
#define VMCS_GUEST_LDTR_BASE         0x6812
#define VMCS_GUEST_TR_BASE           0x6814
#define VMCS_GUEST_GDTR_BASE         0x6816
#define VMCS_GUEST_IDTR_BASE         0x6818
#define VMCS_GUEST_DR7               0x681A
#define VMCS_GUEST_RSP               0x681C
#define VMCS_GUEST_RIP               0x681E
#define VMCS_GUEST_RFLAGS            0x6820
#define VMCS_GUEST_PENDING_DBG       0x6822
#define VMCS_GUEST_SYSENTER_ESP      0x6824
#define VMCS_GUEST_SYSENTER_EIP      0x6826
#define VMCS_HOST_CR0                0x6C00
#define VMCS_HOST_CR3                0x6C02
#define VMCS_HOST_CR4                0x6C04
#define VMCS_HOST_FS_BASE            0x6C06
#define VMCS_HOST_GS_BASE            0x6C08
#define VMCS_HOST_TR_BASE            0x6C0A
#define VMCS_HOST_GDTR_BASE          0x6C0C
#define VMCS_HOST_IDTR_BASE          0x6C0E
#define VMCS_HOST_SYSENTER_ESP       0x6C10
#define VMCS_HOST_SYSENTER_EIP       0x6C12
#define VMCS_HOST_RSP                0x6C14
#define VMCS_HOST_RIP                0x6C16

/* Pin-based controls (Vol 3C 25.6.1) */
#define PIN_EXTERNAL_INTERRUPT_EXITING (1U << 0)
#define PIN_NMI_EXITING                (1U << 3)
#define PIN_VIRTUAL_NMIS               (1U << 5)
#define PIN_PREEMPTION_TIMER           (1U << 6)
/* Primary processor-based controls (25.6.2) */
#define PROC_INTERRUPT_WINDOW_EXITING  (1U << 2)
#define PROC_USE_TSC_OFFSETTING        (1U << 3)
#define PROC_HLT_EXITING               (1U << 7)
#define PROC_MWAIT_EXITING             (1U << 10)
#define PROC_RDPMC_EXITING             (1U << 11)
#define PROC_CR8_LOAD_EXITING          (1U << 19)
#define PROC_CR8_STORE_EXITING         (1U << 20)
#define PROC_USE_TPR_SHADOW            (1U << 21)
#define PROC_NMI_WINDOW_EXITING        (1U << 22)
#define PROC_MOV_DR_EXITING            (1U << 23)
#define PROC_USE_IO_BITMAPS            (1U << 25)
#define PROC_USE_MSR_BITMAPS           (1U << 28)
#define PROC_MONITOR_EXITING           (1U << 29)
#define PROC_PAUSE_EXITING             (1U << 30)
#define PROC_ACTIVATE_SECONDARY        (1U << 31)
/* Secondary processor-based controls */
#define PROC2_VIRTUALIZE_APIC_ACCESSES (1U << 0)
#define PROC2_ENABLE_EPT               (1U << 1)
#define PROC2_ENABLE_RDTSCP            (1U << 3)
#define PROC2_ENABLE_VPID              (1U << 5)
#define PROC2_WBINVD_EXITING           (1U << 6)
#define PROC2_UNRESTRICTED_GUEST       (1U << 7)
#define PROC2_APIC_REGISTER_VIRT       (1U << 8)
#define PROC2_VIRTUAL_INTR_DELIVERY    (1U << 9)
#define PROC2_PAUSE_LOOP_EXITING       (1U << 10)
#define PROC2_ENABLE_INVPCID           (1U << 12)
/* VM-exit controls (25.7.1) */
#define EXIT_SAVE_DEBUG_CONTROLS       (1U << 2)
#define EXIT_HOST_ADDRESS_SPACE_SIZE   (1U << 9)
#define EXIT_ACK_INTERRUPT_ON_EXIT     (1U << 15)
#define EXIT_SAVE_PAT                  (1U << 18)
#define EXIT_LOAD_PAT                  (1U << 19)
#define EXIT_SAVE_EFER                 (1U << 20)
#define EXIT_LOAD_EFER                 (1U << 21)
#define EXIT_SAVE_PREEMPTION_TIMER     (1U << 22)
/* VM-entry controls (25.8.1) */
#define ENTRY_LOAD_DEBUG_CONTROLS      (1U << 2)
#define ENTRY_IA32E_MODE_GUEST         (1U << 9)
#define ENTRY_LOAD_PAT                 (1U << 14)
#define ENTRY_LOAD_EFER                (1U << 15)

/* Interruption information (25.8.3, 26.9.2) */
#define INTR_INFO_VALID                (1U << 31)
#define INTR_INFO_DELIVER_ERROR        (1U << 11)
#define INTR_TYPE_EXTERNAL             (0U << 8)
#define INTR_TYPE_NMI                  (2U << 8)
#define INTR_TYPE_HW_EXCEPTION         (3U << 8)
#define INTR_TYPE_SW_INTERRUPT         (4U << 8)
#define INTR_TYPE_PRIV_SW_EXCEPTION    (5U << 8) /* INT1 (ICEBP) */
#define INTR_TYPE_SW_EXCEPTION         (6U << 8)
#define INTR_TYPE_MASK                 (7U << 8)

/* Guest interruptibility state (25.4.2) */
#define INTERRUPTIBILITY_STI           (1U << 0)
#define INTERRUPTIBILITY_MOV_SS        (1U << 1)
#define INTERRUPTIBILITY_NMI           (1U << 3)

/* Activity state */
#define ACTIVITY_ACTIVE 0
#define ACTIVITY_HLT 1

/* Basic exit reasons (appendix C) */
enum vmx_exit_reason {
	EXIT_EXCEPTION_NMI = 0,
	EXIT_EXTERNAL_INTERRUPT = 1,
	EXIT_TRIPLE_FAULT = 2,
	EXIT_INIT = 3,
	EXIT_SIPI = 4,
	EXIT_INTERRUPT_WINDOW = 7,
	EXIT_NMI_WINDOW = 8,
	EXIT_TASK_SWITCH = 9,
	EXIT_CPUID = 10,
	EXIT_GETSEC = 11,
	EXIT_HLT = 12,
	EXIT_INVD = 13,
	EXIT_INVLPG = 14,
	EXIT_RDPMC = 15,
	EXIT_RDTSC = 16,
	EXIT_RSM = 17,
	EXIT_VMCALL = 18,
	EXIT_VMCLEAR = 19,
	EXIT_VMLAUNCH = 20,
	EXIT_VMPTRLD = 21,
	EXIT_VMPTRST = 22,
	EXIT_VMREAD = 23,
	EXIT_VMRESUME = 24,
	EXIT_VMWRITE = 25,
	EXIT_VMXOFF = 26,
	EXIT_VMXON = 27,
	EXIT_CR_ACCESS = 28,
	EXIT_DR_ACCESS = 29,
	EXIT_IO_INSTRUCTION = 30,
	EXIT_RDMSR = 31,
	EXIT_WRMSR = 32,
	EXIT_INVALID_GUEST_STATE = 33,
	EXIT_MSR_LOADING = 34,
	EXIT_MWAIT = 36,
	EXIT_MONITOR_TRAP = 37,
	EXIT_MONITOR = 39,
	EXIT_PAUSE = 40,
	EXIT_MACHINE_CHECK = 41,
	EXIT_TPR_BELOW_THRESHOLD = 43,
	EXIT_APIC_ACCESS = 44,
	EXIT_EOI_INDUCED = 45,
	EXIT_GDTR_IDTR = 46,
	EXIT_LDTR_TR = 47,
	EXIT_EPT_VIOLATION = 48,
	EXIT_EPT_MISCONFIG = 49,
	EXIT_INVEPT = 50,
	EXIT_RDTSCP = 51,
	EXIT_PREEMPTION_TIMER = 52,
	EXIT_INVVPID = 53,
	EXIT_WBINVD = 54,
	EXIT_XSETBV = 55,
	EXIT_APIC_WRITE = 56,
	EXIT_RDRAND = 57,
	EXIT_INVPCID = 58,
	EXIT_VMFUNC = 59,
	EXIT_RDSEED = 61,
	EXIT_XSAVES = 63,
	EXIT_XRSTORS = 64,
	EXIT_REASON_MAX = 70,
};

#define EXIT_REASON_ENTRY_FAILURE (1U << 31)

#endif
