/* Host tests for what raises an NMI besides an NMI IPI: the local APIC's
 * LINT pins (firmware/arch/x86/vmx/vlapic_lint.c, SDM Vol 3A 10.5.1 and
 * 10.4.3), the operator's NMI button (core/irq.c irq_nmi_button) and
 * IOAPIC and MSI messages with delivery mode NMI, SMI, INIT or ExtINT
 * (dev_ioapic.c, irq.c; SDM Vol 3A 10.11.2, 82093AA datasheet 3.2.4). */
#include "vlapic_rig.h"

#define LVT_LINT0 0x350
#define LVT_LINT1 0x360
#define MASKED (1u << 16)
#define MODE(m) ((u32)(m) << 8)
enum { FIXED = 0, LOWEST = 1, SMI = 2, NMI = 4, INIT = 5, EXTINT = 7 };

/* An edge on LINT1 becomes what the LVT entry says. */
static void test_lint1_modes(void)
{
	setup();
	CHECK(rd(&cpu0, LVT_LINT1) == MASKED, "LINT1 starts masked (power-on)");
	CHECK(arch_vcpu_lint(&cpu0, 1) == VIRT_LINT_MASKED && !nmi_latched(&cpu0),
	      "masked: nothing delivered");

	wr(&cpu0, LVT_LINT1, MODE(NMI) | 0x77);
	wakes = 0;
	CHECK(arch_vcpu_lint(&cpu0, 1) == VIRT_LINT_NMI, "delivery mode NMI: an NMI");
	CHECK(nmi_latched(&cpu0) && !nmi_latched(&cpu1) && wakes == 1, "latched on that vCPU, woken");
	CHECK(!irr_has(&cpu0, 0x77), "the NMI entry's vector requests nothing");
	vlapic_take_nmi(vcpu_lapic(&cpu0));
	wr(&cpu0, LVT_LINT1, MODE(NMI) | MASKED);
	CHECK(arch_vcpu_lint(&cpu0, 1) == VIRT_LINT_MASKED && !nmi_latched(&cpu0),
	      "NMI mode with the mask bit: dropped");

	wr(&cpu0, LVT_LINT1, MODE(FIXED) | 0x41);
	CHECK(arch_vcpu_lint(&cpu0, 1) == VIRT_LINT_FIXED, "fixed: the vector");
	CHECK(irr_has(&cpu0, 0x41) && !page_has(&cpu0, VLAPIC_REG_TMR, 0x41) && !nmi_latched(&cpu0),
	      "vector 0x41 requested, edge-triggered, no NMI");
	CHECK(vlapic_pending(vcpu_lapic(&cpu0)) == 0x41, "and deliverable");
	wr(&cpu0, LVT_LINT1, MODE(FIXED) | 0x05);
	CHECK(arch_vcpu_lint(&cpu0, 1) == VIRT_LINT_DROPPED && !irr_has(&cpu0, 0x05),
	      "fixed with an illegal vector (< 16): dropped");
	static const u32 none[] = { SMI, INIT, EXTINT };
	for (u32 i = 0; i < 3; i++) {
		wr(&cpu1, LVT_LINT1, MODE(none[i]) | 0x42);
		CHECK(arch_vcpu_lint(&cpu1, 1) == VIRT_LINT_DROPPED && !irr_has(&cpu1, 0x42) &&
			      !nmi_latched(&cpu1) && ends == 0,
		      "SMI, INIT and ExtINT from a pin: nothing, no reset");
	}
	CHECK(arch_vcpu_lint(&cpu0, 2) == VIRT_LINT_DROPPED, "no third pin");

	/* LINT0 follows its own entry */
	wr(&cpu1, LVT_LINT0, MODE(NMI));
	CHECK(arch_vcpu_lint(&cpu1, 0) == VIRT_LINT_NMI && nmi_latched(&cpu1), "LINT0 as NMI");
	vlapic_take_nmi(vcpu_lapic(&cpu1));
}

/* A software-disabled APIC keeps every LVT entry masked (10.4.7.2); a
 * globally disabled one is no APIC: LINT1 is the CPU's NMI input and
 * LINT0 its INTR, from an 8259 a VM does not connect (10.4.3). */
static void test_lint1_disabled(void)
{
	setup();
	wr(&cpu0, LVT_LINT1, MODE(NMI));
	wr(&cpu0, 0xF0, 0xFF);
	CHECK(arch_vcpu_lint(&cpu0, 1) == VIRT_LINT_MASKED && !nmi_latched(&cpu0),
	      "software-disabled: masked");
	wr(&cpu0, 0xF0, 0x1FF);
	CHECK(vlapic_write_base(&cpu0, VLAPIC_BASE) == 0, "EN cleared");
	CHECK(rd(&cpu0, LVT_LINT1) == MASKED, "the LVT is back at power-on: masked");
	CHECK(arch_vcpu_lint(&cpu0, 1) == VIRT_LINT_NMI && nmi_latched(&cpu0),
	      "globally disabled: LINT1 is the NMI pin, the mask is no more");
	vlapic_take_nmi(vcpu_lapic(&cpu0));
	vlapic_nmi(&cpu0);
	CHECK(!nmi_latched(&cpu0), "while an NMI message still finds no APIC");
	CHECK(arch_vcpu_lint(&cpu0, 0) == VIRT_LINT_DROPPED && !nmi_latched(&cpu0),
	      "LINT0 (INTR) has nothing behind it");
}

/* The button presses LINT1 on every vCPU and counts each outcome. */
static void test_nmi_button(void)
{
	setup();
	memset(vm.irq_stats, 0, sizeof(vm.irq_stats));
	wr(&cpu0, LVT_LINT1, MODE(NMI)); /* as Linux programs the BSP */
	struct irq_nmi_result r;
	vm.state = VM_ENDING;
	CHECK(irq_nmi_button(&vm, &r) == -CG_ENOENT && !nmi_latched(&cpu0) &&
		      r.n[IRQ_STAT_LINT1_NMI] == 0,
	      "a VM that is ending: nothing pressed");
	vm.state = VM_RUNNING;
	CHECK(irq_nmi_button(&vm, &r) == 0, "pressed");
	CHECK(r.n[IRQ_STAT_LINT1_NMI] == 1 && r.n[IRQ_STAT_LINT1_MASKED] == 1 &&
		      r.n[IRQ_STAT_LINT1_FIXED] == 0 && r.n[IRQ_STAT_LINT1_DROPPED] == 0,
	      "BSP: NMI; AP (LINT1 masked): dropped");
	CHECK(nmi_latched(&cpu0) && !nmi_latched(&cpu1), "the NMI on the BSP only");
	wr(&cpu1, LVT_LINT1, MODE(FIXED) | 0x50);
	CHECK(irq_nmi_button(&vm, &r) == 0, "pressed again");
	CHECK(r.n[IRQ_STAT_LINT1_NMI] == 1 && r.n[IRQ_STAT_LINT1_FIXED] == 1 && irr_has(&cpu1, 0x50),
	      "second press: NMI and vector 0x50");
	CHECK(vm.irq_stats[IRQ_STAT_LINT1_NMI] == 2 && vm.irq_stats[IRQ_STAT_LINT1_MASKED] == 1 &&
		      vm.irq_stats[IRQ_STAT_LINT1_FIXED] == 1,
	      "the VM's counters add up");
	CHECK(!strcmp(irq_stat_name(IRQ_STAT_LINT1_MASKED), "lint1-masked") && !irq_stat_name(IRQ_STATS),
	      "stat names");
}

/* IOAPIC entries with delivery mode NMI deliver an NMI (vector ignored,
 * edge whatever the trigger bit says); SMI, INIT and ExtINT nothing. */
static void test_ioapic_nmi(void)
{
	setup();
	memset(vm.irq_stats, 0, sizeof(vm.irq_stats));
	ioapic_set(4, (1ULL << 56) | (1ULL << 15) | MODE(NMI) | 0x34); /* "level", APIC 1 */
	irq_line(&vm, 4, true);
	CHECK(nmi_latched(&cpu1) && !nmi_latched(&cpu0), "pin 4 as NMI: an NMI on APIC 1");
	CHECK(!irr_has(&cpu1, 0x34) && !page_has(&cpu1, VLAPIC_REG_TMR, 0x34), "no vector requested");
	CHECK(!(ioapic_get(0x10 + 8) & (1U << 14)), "no Remote IRR: NMI entries are edges");
	vlapic_take_nmi(vcpu_lapic(&cpu1));
	irq_line(&vm, 4, true);
	CHECK(!nmi_latched(&cpu1), "no new edge while the line stays high");
	irq_line(&vm, 4, false);
	irq_line(&vm, 4, true);
	CHECK(nmi_latched(&cpu1), "a new edge without any EOI: another NMI");
	vlapic_take_nmi(vcpu_lapic(&cpu1));
	irq_line(&vm, 4, false);

	wr(&cpu0, 0xD0, 0x01000000); /* logical bit 0 */
	ioapic_set(5, (1ULL << 56) | (1ULL << 11) | MODE(NMI));
	irq_pulse(&vm, 5);
	CHECK(nmi_latched(&cpu0) && !nmi_latched(&cpu1), "logical destination");
	vlapic_take_nmi(vcpu_lapic(&cpu0));
	ioapic_set(6, (0xFFULL << 56) | MODE(NMI));
	irq_pulse(&vm, 6);
	CHECK(nmi_latched(&cpu0) && nmi_latched(&cpu1), "broadcast: both");
	vlapic_take_nmi(vcpu_lapic(&cpu0));
	vlapic_take_nmi(vcpu_lapic(&cpu1));
	CHECK(vm.irq_stats[IRQ_STAT_MSG_NMI] == 4, "four NMI messages counted");

	static const u32 none[] = { SMI, INIT, EXTINT };
	for (u32 i = 0; i < 3; i++) {
		ioapic_set(7, (1ULL << 15) | MODE(none[i]) | 0x47);
		irq_pulse(&vm, 7);
		CHECK(!nmi_latched(&cpu0) && !irr_has(&cpu0, 0x47) && ends == 0,
		      "SMI, INIT, ExtINT entries: nothing delivered, no reset");
		CHECK(!(ioapic_get(0x10 + 14) & (1U << 14)), "and no Remote IRR left set");
	}
	CHECK(vm.irq_stats[IRQ_STAT_MSG_DROPPED] == 3, "three dropped messages counted");
	/* back to fixed level: the pin works as before */
	ioapic_set(7, (1ULL << 15) | MODE(FIXED) | 0x47);
	irq_line(&vm, 7, true);
	CHECK(irr_has(&cpu0, 0x47) && (ioapic_get(0x10 + 14) & (1U << 14)), "fixed level again");
}

/* MSI data with delivery mode NMI (10.11.2): an NMI, vector ignored. */
static void test_msi_nmi(void)
{
	setup();
	memset(vm.irq_stats, 0, sizeof(vm.irq_stats));
	CHECK(irq_msi(&vm, 0xFEE01000ULL, MODE(NMI) | 0x43) == 0, "NMI message accepted");
	CHECK(nmi_latched(&cpu1) && !nmi_latched(&cpu0) && !irr_has(&cpu1, 0x43), "an NMI on APIC 1");
	vlapic_take_nmi(vcpu_lapic(&cpu1));
	CHECK(irq_msi(&vm, 0xFEE00000ULL, MODE(INIT)) == -CG_ENOTSUP && ends == 0,
	      "INIT message dropped, no reset");
	CHECK(irq_msi(&vm, 0xFEE00000ULL, MODE(EXTINT) | 0x44) == -CG_ENOTSUP && !irr_has(&cpu0, 0x44),
	      "ExtINT message dropped");
	CHECK(vm.irq_stats[IRQ_STAT_MSG_NMI] == 1 && vm.irq_stats[IRQ_STAT_MSG_DROPPED] == 2,
	      "counted");
	CHECK(vlapic_write_base(&cpu1, VLAPIC_BASE) == 0, "APIC 1 disabled");
	CHECK(irq_msi(&vm, 0xFEE01000ULL, MODE(NMI)) == 0 && !nmi_latched(&cpu1),
	      "an NMI message finds no disabled APIC");
}

int main(void)
{
	test_lint1_modes();
	test_lint1_disabled();
	test_nmi_button();
	test_ioapic_nmi();
	test_msi_nmi();
	return check_summary();
}
