/* delivery: the details of how exceptions and interrupts reach the
 * guest's handlers, as the CPU delivers them.
 *   - RF (EFLAGS bit 16) in the frame: 1 for a fault, whoever raised it
 *     (the monitor's #GP for a refused MSR and #UD for a VMX instruction,
 *     the CPU's own #GP); 0 for INT n and for an interrupt taken between
 *     two instructions, also right after an instruction the monitor
 *     emulated (an APIC write); after an emulated MMIO read, the next
 *     instruction's instruction breakpoint still fires (SDM Vol. 3A
 *     17.3.1.1).
 *   - An interrupt whose delivery raises an exception (#AC: a same-
 *     privilege handler on an odd ring-3 stack with AC set): the #AC is
 *     delivered (table 6-5: handled serially), and the interrupt is not
 *     lost but delivered once the #AC handler has returned
 *     (docs/guest-abi.md, Faults). With vid_lost=1 those two checks are
 *     skips: Bochs 2.7's virtual-interrupt delivery (APIC virtualization,
 *     cg.apicv=1) does not record the interrupt in the exit's
 *     IDT-vectoring information, so no monitor can deliver it again
 *     (manifest.ini: delivery_apicv; delivery runs them emulated).
 * Handlers and ring-3 code: delivery.asm. */
#include "guest.h"
#include "smp.h"

#define RFLAGS_RF (1u << 16)
#define RFLAGS_IF (1u << 9)
#define RFLAGS_AC (1u << 18)
#define RFLAGS_RESERVED (1u << 1)
#define CR0_AM (1u << 18)
#define DR6_B0 (1u << 0)
#define VEC_SOFT 0x30
#define VEC_SELF_IPI 0x49
#define USER_VECTOR 0x50 /* delivery.asm's ICR value */
#define MSR_UNKNOWN 0x12345678u

extern volatile u32 ac_count, ac_eip, user_irq_count, user_waited;
void ac_fix_handler(void), user_irq_handler(void), user_ipi_ac(void);
void mmio_then_bp(void);
extern char mmio_bp_target[];

static u8 user_stack[4096] __attribute__((aligned(16)));

static void do_vmxoff(void *arg)
{
	(void)arg;
	__asm__ volatile("vmxoff" : : : "cc", "memory");
}

static void do_bad_selector(void *arg)
{
	(void)arg;
	/* Beyond the GDT's limit: #GP with the selector as error code. */
	__asm__ volatile("mov %0, %%fs" : : "r"(0xFFF8u) : "memory");
}

static void do_mmio_then_bp(void *arg)
{
	(void)arg;
	mmio_then_bp();
}

static volatile u32 frame_eflags, frame_eip, frame_count;

static void record_frame(struct trap_frame *f)
{
	frame_eflags = f->eflags;
	frame_eip = f->eip;
	frame_count++;
	if (f->vector >= 32 && f->vector != VEC_SOFT)
		apic_eoi();
}

static void rf_in_faults(void)
{
	u64 val;
	int vec = rdmsr_safe(MSR_UNKNOWN, &val);
	report(vec == VEC_GP, "RDMSR of an unknown MSR: #GP (%d)", vec);
	report(vec == VEC_GP && (caught_eflags() & RFLAGS_RF),
	       "the monitor's #GP frame has RF set, as a fault's does (EFLAGS 0x%x)", caught_eflags());
	vec = catch_exception(do_vmxoff, NULL);
	report(vec == VEC_UD, "VMXOFF: #UD (%d)", vec);
	report(vec == VEC_UD && (caught_eflags() & RFLAGS_RF),
	       "the monitor's #UD frame has RF set (EFLAGS 0x%x)", caught_eflags());
	vec = catch_exception(do_bad_selector, NULL);
	report(vec == VEC_GP && caught_error_code() == 0xFFF8,
	       "the CPU's own #GP for a bad selector (%d, error 0x%x)", vec, caught_error_code());
	report(vec == VEC_GP && (caught_eflags() & RFLAGS_RF),
	       "the CPU's own #GP frame has RF set too (EFLAGS 0x%x)", caught_eflags());
}

static void no_rf_elsewhere(void)
{
	trap_register(VEC_SOFT, record_frame);
	__asm__ volatile("int %0" : : "i"(VEC_SOFT) : "memory");
	report(frame_count == 1 && !(frame_eflags & RFLAGS_RF),
	       "INT n: RF clear in its frame (EFLAGS 0x%x)", frame_eflags);

	/* A self-IPI comes right after the ICR write, which the monitor
	 * emulates (or the CPU virtualizes): between two instructions. */
	trap_register(VEC_SELF_IPI, record_frame);
	apic_enable();
	sti();
	apic_write(APIC_ICR_LO, ICR_MODE_FIXED | ICR_LEVEL_ASSERT | ICR_DEST_SELF | VEC_SELF_IPI);
	cli();
	report(frame_count == 2, "self-IPI delivered right after the ICR write (%u)", frame_count);
	report(frame_count == 2 && !(frame_eflags & RFLAGS_RF),
	       "an interrupt after an emulated instruction: RF clear in its frame (EFLAGS 0x%x)",
	       frame_eflags);

	/* An instruction breakpoint on the instruction after an emulated
	 * MMIO read: RF must not be left set over it. */
	__asm__ volatile("mov %0, %%dr6" : : "r"(0xFFFF0FF0u));
	__asm__ volatile("mov %0, %%dr0" : : "r"(mmio_bp_target));
	__asm__ volatile("mov %0, %%dr7" : : "r"(0x00000401u)); /* L0, execute, 1 byte */
	int vec = catch_exception(do_mmio_then_bp, NULL);
	u32 dr6;
	__asm__ volatile("mov %%dr6, %0" : "=r"(dr6));
	__asm__ volatile("mov %0, %%dr7" : : "r"(0x400u));
	report(vec == VEC_DB && (dr6 & DR6_B0),
	       "the instruction breakpoint right after an emulated MMIO read fires (%d, DR6 0x%x)", vec,
	       dr6);
}

static void interrupt_then_ac(void)
{
	set_gate(USER_VECTOR, user_irq_handler, SEL_CONFORMING, GATE_INT_DPL0);
	set_gate(VEC_AC, ac_fix_handler, SEL_CODE32, GATE_INT_DPL0);
	__asm__ volatile("mov %%cr0, %%eax; or %0, %%eax; mov %%eax, %%cr0" : : "i"(CR0_AM) : "eax");
	run_user(user_ipi_ac, (u32)(user_stack + sizeof(user_stack)) - 2,
		 RFLAGS_AC | RFLAGS_IF | RFLAGS_RESERVED);
	bool in_service = apic_vector_set(APIC_ISR, USER_VECTOR);
	if (in_service)
		apic_eoi(); /* lost in delivery: leave the APIC usable */
	if (ac_count == 0 && !on_crossguard()) {
		report_skip("interrupt delivery with AC on an odd stack: this CPU model does not check "
			    "alignment (QEMU TCG)");
		return;
	}
	report(ac_count == 1, "the interrupt's delivery on the odd stack raised #AC once (%u)",
	       ac_count);
	if (cmdline_uint("vid_lost", 0)) {
		report_skip("the interrupt after the #AC: vid_lost=1, this CPU's virtual-interrupt "
			    "delivery does not report it at the exit (%u delivered, in service %d)",
			    user_irq_count, in_service);
		return;
	}
	report(user_irq_count == 1,
	       "the interrupt was delivered after the #AC handler returned, once (%u, %u spins left)",
	       user_irq_count, user_waited);
	report(!in_service && !apic_vector_set(APIC_IRR, USER_VECTOR),
	       "its vector is neither in service nor requested afterwards");
}

int main(void)
{
	rings_init();
	rf_in_faults();
	no_rf_elsewhere();
	interrupt_then_ac();
	return report_summary();
}
