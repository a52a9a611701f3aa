/* Speculative-execution hygiene between VMs (docs/spec-ctrl.md).
 *
 * Two halves: a pure decision (spec_policy.c, host-tested) from what the
 * CPU enumerates in CPUID.(7,0) and IA32_ARCH_CAPABILITIES, and the part
 * that applies it on this CPU (spec_ctrl.c, the world-switch stubs in
 * vmx_entry.asm). Facts: Intel's "CPUID Enumeration and Architectural
 * MSRs" guidance and SDM Vol 4 table 2-2. */
#ifndef X86_VMX_SPEC_CTRL_H
#define X86_VMX_SPEC_CTRL_H

#include <cg/types.h>

/* CPUID.(EAX=7,ECX=0) bits the decision reads */
#define SPEC_L7_EBX_RTM          (1U << 11)  /* TSX restricted transactional memory */
#define SPEC_L7_EDX_MD_CLEAR     (1U << 10)  /* VERW overwrites the CPU's buffers */
#define SPEC_L7_EDX_IBRS_IBPB    (1U << 26)  /* IA32_SPEC_CTRL.IBRS, IA32_PRED_CMD.IBPB */
#define SPEC_L7_EDX_L1D_FLUSH    (1U << 28)  /* IA32_FLUSH_CMD.L1D_FLUSH */
#define SPEC_L7_EDX_ARCH_CAP     (1U << 29)  /* IA32_ARCH_CAPABILITIES exists */

/* MSRs (SDM Vol 4 table 2-2) */
#define MSR_IA32_SPEC_CTRL         0x48
#define MSR_IA32_PRED_CMD          0x49
#define MSR_IA32_ARCH_CAPABILITIES 0x10A
#define MSR_IA32_FLUSH_CMD         0x10B
#define SPEC_CTRL_IBRS             (1ULL << 0)
#define PRED_CMD_IBPB              (1ULL << 0)
#define FLUSH_CMD_L1D_FLUSH        (1ULL << 0)

/* IA32_ARCH_CAPABILITIES bits */
#define ARCH_CAP_RDCL_NO             (1ULL << 0)  /* not affected by L1TF/Meltdown */
#define ARCH_CAP_IBRS_ALL            (1ULL << 1)  /* enhanced IBRS */
#define ARCH_CAP_RSBA                (1ULL << 2)  /* RET may predict from the BTB */
#define ARCH_CAP_SKIP_L1DFL_VMENTRY  (1ULL << 3)  /* no L1D flush needed on VM entry */
#define ARCH_CAP_MDS_NO              (1ULL << 5)  /* not affected by MDS */
#define ARCH_CAP_TAA_NO              (1ULL << 8)  /* not affected by TSX async abort */
#define ARCH_CAP_PBRSB_NO            (1ULL << 24) /* no post-barrier RSB predictions */

/* cg.spec= on the monitor's command line */
enum spec_mode { SPEC_MODE_AUTO = 0, SPEC_MODE_ON, SPEC_MODE_OFF };

/* After a VM exit, before the monitor's first unbalanced RET. */
enum spec_rsb {
	SPEC_RSB_NONE = 0,
	SPEC_RSB_ONE,  /* one harmless entry + LFENCE (eIBRS, post-barrier RSB) */
	SPEC_RSB_FULL, /* overwrite all 32 entries */
};

/* What a CPU enumerates; zero where the leaf or MSR is absent. */
struct spec_cpu {
	u32 leaf7_ebx, leaf7_edx;
	u64 arch_cap;
};

/* What is affected and left without a means (struct spec_decision.exposed). */
#define SPEC_EXPOSED_BTI    (1U << 0) /* guest trains the monitor's indirect branches (no eIBRS) */
#define SPEC_EXPOSED_VM_BTI (1U << 1) /* branch training survives a switch between VMs */
#define SPEC_EXPOSED_MDS    (1U << 2) /* MDS/TAA buffers not cleared on entry */
#define SPEC_EXPOSED_L1TF   (1U << 3) /* L1D not flushed on entry */

struct spec_decision {
	bool ibpb;         /* IBPB when this CPU switches to another VM's vCPU */
	bool eibrs;        /* IA32_SPEC_CTRL.IBRS set once at bring-up */
	enum spec_rsb rsb; /* after every VM exit that returns to core */
	bool l1d_flush;    /* IA32_FLUSH_CMD on every VM entry */
	bool verw;         /* VERW on every VM entry */
	u32 exposed;       /* SPEC_EXPOSED_* */
};

/* spec_decide: the mitigations for a CPU that enumerates c, in mode m
 * (docs/spec-ctrl.md has the table). A mechanism the CPU does not
 * enumerate is never chosen, whatever the mode. Pure. */
void spec_decide(const struct spec_cpu *c, enum spec_mode m, struct spec_decision *d);

/* spec_mode_name, spec_rsb_name: the words the spec-ctrl marker uses. */
const char *spec_mode_name(enum spec_mode m);
const char *spec_rsb_name(enum spec_rsb r);

/* spec_exposed_list: exposed (SPEC_EXPOSED_*) as a comma-separated word
 * list ("bti,vm-bti,mds,l1tf", "none") in buf; returns buf. */
const char *spec_exposed_list(u32 exposed, char *buf, size_t size);

/* Per-CPU flags the world-switch stubs read (struct percpu.spec_flags). */
#define SPEC_F_RSB_FULL  0x01
#define SPEC_F_RSB_ONE   0x02
#define SPEC_F_L1D_FLUSH 0x04
#define SPEC_F_VERW      0x08
#define SPEC_F_RSB       0x03 /* either fill: at least the RSB stub copy */
#define SPEC_F_ENTRY     0x0C /* a barrier before VM entry: the full copy */
#define SPEC_F_IBPB      0x10 /* C only: IBPB on a switch between VMs */

/* spec_flags: the per-CPU flags for decision d. Pure. */
u8 spec_flags(const struct spec_decision *d);

struct vcpu;
struct vm;

/* spec_ctrl_cpu_init: on each CPU once VMX is on: read its enumeration,
 * decide, turn on enhanced IBRS where chosen, set this CPU's flags and
 * report them (@cg spec-ctrl). */
void spec_ctrl_cpu_init(void);

/* spec_ctrl_vm_init: give vm a tag no earlier VM had (arch_vm_init). */
void spec_ctrl_vm_init(struct vm *vm);

/* spec_ctrl_vcpu_load: v is made current on this CPU: IBPB when the last
 * vCPU this CPU ran belonged to another VM and the decision says so. */
void spec_ctrl_vcpu_load(struct vcpu *v);

/* spec_ctrl_exit_rip: the VM-exit stub for this CPU's flags (the VMCS
 * host RIP): the full copy when an entry barrier is set, the RSB copy
 * when only a fill is, else the plain one. */
u64 spec_ctrl_exit_rip(void);

/* spec_ctrl_enter: vmx_enter through this CPU's stub (vmx_entry.asm):
 * 0 after an exit core must see, 1 when VMLAUNCH/VMRESUME failed. */
int spec_ctrl_enter(struct vcpu *v, u32 launched);

#endif
