/* Host tests for the vLAPIC (firmware/arch/x86/vmx/vlapic.c: the register page,
 * posted requests, the APICv write and EOI exits), its timer
 * (vlapic_timer.c), the IOAPIC (dev_ioapic.c) and MSI delivery (irq.c):
 * the register sequences Linux and the test guests use, against a fake
 * TSC. */
#include "vlapic_rig.h"

static void test_oneshot(void)
{
	setup();
	CHECK(vlapic_crystal_div(arch_timestamp_hz()) == 1, "2 GHz fits CPUID.15 ECX");
	CHECK(vlapic_crystal_div(5000000000ULL) == 2, "5 GHz needs a divisor of 2");
	wr(&cpu0, 0x3E0, 0xB); /* divide by 1 */
	wr(&cpu0, 0x320, 0xEC); /* one-shot, vector 0xEC */
	wr(&cpu0, 0x380, 1000);
	CHECK(vcpu_lapic(&cpu0)->timer_deadline == 1000000 + 1000, "deadline = now + count");
	CHECK(vcpu_lapic(&cpu0)->timer_dirty, "the run loop is told to rearm");
	fake_tsc += 400;
	CHECK(rd(&cpu0, 0x390) == 600, "current count counts down");
	CHECK(rd(&cpu0, 0x380) == 1000, "initial count reads back");
	CHECK(!vlapic_timer_fire(&cpu0, fake_tsc + 599), "not due one tick early");
	CHECK(vlapic_timer_fire(&cpu0, fake_tsc + 600), "due at the deadline");
	CHECK(irr_has(&cpu0, 0xEC), "vector requested");
	CHECK(vlapic_pending(vcpu_lapic(&cpu0)) == 0xEC, "deliverable");
	CHECK(vcpu_lapic(&cpu0)->timer_deadline == 0, "one-shot disarms");
	CHECK(rd(&cpu0, 0x390) == 0, "current count 0 after expiry");
	CHECK(!vlapic_timer_fire(&cpu0, fake_tsc + 100000), "no second interrupt");
	/* divide by 16: 0b0011 */
	wr(&cpu0, 0x3E0, 0x3);
	wr(&cpu0, 0x380, 10);
	CHECK(vcpu_lapic(&cpu0)->timer_deadline == fake_tsc + 160, "divide by 16 stretches the count");
	wr(&cpu0, 0x380, 0);
	CHECK(vcpu_lapic(&cpu0)->timer_deadline == 0, "initial count 0 stops the timer");
}

static void test_periodic_and_mask(void)
{
	setup();
	wr(&cpu0, 0x3E0, 0x3);
	wr(&cpu0, 0x320, (1U << 17) | 0x30); /* periodic */
	wr(&cpu0, 0x380, 100);              /* 1600 TSC ticks */
	u64 t0 = fake_tsc;
	CHECK(vlapic_timer_fire(&cpu0, t0 + 1600 * 3 + 5), "late periodic fires");
	CHECK(vcpu_lapic(&cpu0)->timer_deadline == t0 + 1600 * 4, "next period stays on the grid");
	CHECK(irr_has(&cpu0, 0x30), "one interrupt for the missed periods");
	vlapic_ack(vcpu_lapic(&cpu0), 0x30);
	wr(&cpu0, 0xB0, 0); /* EOI */
	wr(&cpu0, 0x320, (1U << 17) | (1U << 16) | 0x30); /* masked, same mode */
	CHECK(vcpu_lapic(&cpu0)->timer_deadline == t0 + 1600 * 4, "masking keeps the count running");
	CHECK(vlapic_timer_fire(&cpu0, t0 + 1600 * 4), "masked timer still expires");
	CHECK(!irr_has(&cpu0, 0x30), "but requests nothing");
	wr(&cpu0, 0x320, 0x30); /* back to one-shot: a mode change disarms */
	CHECK(vcpu_lapic(&cpu0)->timer_deadline == 0, "mode change disarms");
}

static void test_tsc_deadline(void)
{
	setup();
	vlapic_tsc_deadline_write(&cpu0, 5000000);
	CHECK(vcpu_lapic(&cpu0)->timer_deadline == 0, "ignored outside TSC-deadline mode");
	wr(&cpu0, 0x320, (2U << 17) | 0xEF);
	vlapic_tsc_deadline_write(&cpu0, 5000000);
	CHECK(vcpu_lapic(&cpu0)->timer_deadline == 5000000, "deadline is the guest TSC value");
	CHECK(vlapic_tsc_deadline_read(vcpu_lapic(&cpu0)) == 5000000, "MSR reads back");
	wr(&cpu0, 0x380, 77);
	CHECK(vcpu_lapic(&cpu0)->timer_deadline == 5000000 && rd(&cpu0, 0x380) == 0,
	      "initial count ignored in TSC-deadline mode");
	CHECK(vlapic_timer_fire(&cpu0, 5000001), "fires when the TSC passes it");
	CHECK(irr_has(&cpu0, 0xEF), "vector requested");
	CHECK(vlapic_tsc_deadline_read(vcpu_lapic(&cpu0)) == 0, "MSR reads 0 after expiry");
	vlapic_tsc_deadline_write(&cpu0, 9000000);
	vlapic_tsc_deadline_write(&cpu0, 0);
	CHECK(vcpu_lapic(&cpu0)->timer_deadline == 0, "writing 0 disarms");
}

static void test_ioapic(void)
{
	setup();
	CHECK(ioapic_get(1) == 0x00170011u, "version 0x11, 24 pins");
	CHECK(ioapic_get(0) == 2u << 24, "ID after the vCPUs'");
	CHECK(ioapic_get(0x10) & (1U << 16), "pins start masked");
	irq_line(&vm, 4, true);
	CHECK(!irr_has(&cpu0, 0x34), "masked pin delivers nothing");
	irq_line(&vm, 4, false);
	ioapic_set(4, 0x34); /* edge, fixed, physical dest 0 */
	irq_line(&vm, 4, true);
	CHECK(irr_has(&cpu0, 0x34) && !irr_has(&cpu1, 0x34), "edge goes to APIC 0 only");
	vlapic_ack(vcpu_lapic(&cpu0), 0x34);
	wr(&cpu0, 0xB0, 0);
	irq_line(&vm, 4, true);
	CHECK(!irr_has(&cpu0, 0x34), "no edge while the line stays high");
	irq_pulse(&vm, 4);
	CHECK(!irr_has(&cpu0, 0x34), "high -> high -> low: still no rising edge");
	irq_pulse(&vm, 4);
	CHECK(irr_has(&cpu0, 0x34), "a new rising edge interrupts");
	/* level-triggered pin 9 to APIC 1 */
	ioapic_set(9, (1ULL << 56) | (1ULL << 15) | 0x39);
	irq_line(&vm, 9, true);
	CHECK(irr_has(&cpu1, 0x39), "level pin delivered");
	CHECK(ioapic_get(0x10 + 18) & (1U << 14), "Remote IRR set");
	CHECK(page_has(&cpu1, VLAPIC_REG_TMR, 0x39), "TMR marks the vector");
	vlapic_ack(vcpu_lapic(&cpu1), 0x39);
	irq_line(&vm, 9, true);
	CHECK(!irr_has(&cpu1, 0x39), "not again before EOI");
	wr(&cpu1, 0xB0, 0);
	CHECK(irr_has(&cpu1, 0x39), "EOI with the line still high: delivered again");
	vlapic_ack(vcpu_lapic(&cpu1), 0x39);
	irq_line(&vm, 9, false);
	wr(&cpu1, 0xB0, 0);
	CHECK(!irr_has(&cpu1, 0x39) && !(ioapic_get(0x10 + 18) & (1U << 14)),
	      "EOI with the line low: Remote IRR clears, nothing pending");
	/* logical destination (flat): LDR bit 1 on APIC 1 */
	wr(&cpu1, 0xD0, 0x02000000);
	ioapic_set(5, (2ULL << 56) | (1ULL << 11) | 0x45);
	irq_pulse(&vm, 5);
	CHECK(irr_has(&cpu1, 0x45) && !irr_has(&cpu0, 0x45), "logical destination");
	irq_line(&vm, 99, true); /* out of range: ignored */
	u64 x = 0;
	CHECK(irq_ioapic_mmio(&vm, 0x10, false, 2, &x) != 0, "16-bit access refused");
}

static void test_msi(void)
{
	setup();
	CHECK(irq_msi(&vm, 0xFEE01000ULL, 0x41) == 0, "MSI to APIC 1");
	CHECK(irr_has(&cpu1, 0x41) && !irr_has(&cpu0, 0x41), "right vCPU");
	CHECK(irq_msi(&vm, 0xFED00000ULL, 0x42) != 0, "address outside 0xFEE refused");
	CHECK(irq_msi(&vm, 0xFEE00000ULL, 0x200 | 0x43) == -CG_ENOTSUP, "SMI delivery refused");
	CHECK(!irr_has(&cpu0, 0x42) && !irr_has(&cpu0, 0x43), "refused messages deliver nothing");
	CHECK(irq_msi(&vm, 0xFEEFF000ULL, 0x44) == 0 && irr_has(&cpu0, 0x44) && irr_has(&cpu1, 0x44),
	      "broadcast 0xFF reaches both");
	CHECK(irq_msi(&vm, 0xFEE00000ULL, 0x5) == 0 && !irr_has(&cpu0, 0x5),
	      "illegal vector < 16 dropped");
}

static u32 page(struct vcpu *v, u32 off)
{
	return *vlapic_reg(vcpu_lapic(v), off);
}

/* The register page is laid out as the APIC page (SDM Vol 3A table 10-1):
 * with APICv the CPU reads it as the virtual-APIC page. */
static void test_page_layout(void)
{
	setup();
	CHECK(page(&cpu1, 0x20) == 1U << 24, "ID at 0x20, bits 31:24");
	CHECK((page(&cpu0, 0x30) & 0xFF) == 0x14 && rd(&cpu0, 0x30) == page(&cpu0, 0x30),
	      "version at 0x30");
	CHECK(page(&cpu0, 0xE0) == 0xFFFFFFFFu, "DFR flat at reset");
	for (u32 off = 0x320; off <= 0x370; off += 0x10)
		CHECK(page(&cpu0, off) == 1U << 16, "LVT entries start masked");
	wr(&cpu0, 0xD0, 0x03ABCDEF);
	CHECK(page(&cpu0, 0xD0) == 0x03000000u, "LDR: only bits 31:24 kept in the page");
	wr(&cpu0, 0x310, 0x01FFFFFF);
	CHECK(page(&cpu0, 0x310) == 0x01000000u, "ICR high masked");
	wr(&cpu0, 0x80, 0x25);
	CHECK(page(&cpu0, 0x80) == 0x25 && vlapic_tpr_read(vcpu_lapic(&cpu0)) == 0x25, "TPR at 0x80");
	wr(&cpu0, 0x280, 0x1234);
	CHECK(page(&cpu0, 0x280) == 0, "ESR write clears it");
	wr(&cpu0, 0x3E0, 0xFF);
	CHECK(page(&cpu0, 0x3E0) == 0xB, "divide configuration: bits 0, 1 and 3");
	/* the interrupt registers: bit v of the 256 at base + 16 * (v / 32) */
	vlapic_set_irq(&cpu0, 0x61);
	CHECK(page(&cpu0, 0x200 + 0x30) == 0, "posted, not yet in IRR");
	CHECK(vcpu_lapic(&cpu0)->recheck, "the vCPU's CPU is asked to look");
	CHECK(vlapic_take_recheck(vcpu_lapic(&cpu0)) && !vlapic_take_recheck(vcpu_lapic(&cpu0)),
	      "recheck is taken once");
	CHECK(vlapic_sync(vcpu_lapic(&cpu0)), "merged into IRR");
	CHECK(page(&cpu0, 0x230) == 1U << 1, "vector 0x61: IRR word 3, bit 1");
	CHECK(!vlapic_sync(vcpu_lapic(&cpu0)), "nothing left to merge");
	wr(&cpu0, 0x80, 0x70);
	CHECK(vlapic_pending(vcpu_lapic(&cpu0)) < 0, "TPR class 7 holds vector 0x61 back");
	CHECK(vlapic_highest_irr(vcpu_lapic(&cpu0)) == 0x61, "but it is requested (RVI)");
	wr(&cpu0, 0x80, 0);
	CHECK(vlapic_pending(vcpu_lapic(&cpu0)) == 0x61, "deliverable at TPR 0");
	vlapic_ack(vcpu_lapic(&cpu0), 0x61);
	CHECK(page(&cpu0, 0x130) == 1U << 1 && page(&cpu0, 0x230) == 0, "IRR -> ISR in the page");
	CHECK(rd(&cpu0, 0xA0) == 0x60, "PPR: the in-service class");
	wr(&cpu0, 0xB0, 0);
	CHECK(page(&cpu0, 0x130) == 0 && rd(&cpu0, 0xA0) == 0, "EOI clears ISR and PPR");
	*vlapic_reg(vcpu_lapic(&cpu0), 0xF0) = 0xFF; /* software-disabled */
	vlapic_set_irq(&cpu0, 0x62);
	CHECK(vlapic_pending(vcpu_lapic(&cpu0)) < 0 && vlapic_highest_irr(vcpu_lapic(&cpu0)) < 0,
	      "a disabled APIC delivers nothing");
}

/* APICv: the CPU has already written the page when the APIC-write exit
 * comes (SDM Vol 3C 29.4.3); vlapic_apic_write applies it. */
static void cpu_writes(struct vcpu *v, u32 off, u32 val)
{
	*vlapic_reg(vcpu_lapic(v), off) = val;
	vlapic_apic_write(v, off);
}

static void test_apic_write_exits(void)
{
	setup();
	cpu_writes(&cpu0, 0x3E0, 0x3);
	cpu_writes(&cpu0, 0x320, (1U << 17) | 0x30);
	cpu_writes(&cpu0, 0x380, 100);
	CHECK(vcpu_lapic(&cpu0)->timer_deadline == fake_tsc + 1600, "timer armed from the page");
	cpu_writes(&cpu0, 0x320, 0x30);
	CHECK(vcpu_lapic(&cpu0)->timer_deadline == 0 && page(&cpu0, 0x380) == 0,
	      "mode change seen though the page already had the new mode");
	cpu_writes(&cpu0, 0x320, (2U << 17) | (1U << 20) | 0xEF);
	CHECK(page(&cpu0, 0x320) == ((2U << 17) | 0xEF), "reserved LVT bits cleared in the page");
	cpu_writes(&cpu0, 0xD0, 0x0100FFFF);
	CHECK(page(&cpu0, 0xD0) == 0x01000000u, "LDR masked after the write");
	/* a fixed IPI through ICR: high then low, as the guest writes them */
	cpu_writes(&cpu0, 0x310, 1U << 24);
	cpu_writes(&cpu0, 0x300, (1U << 14) | (1U << 12) | 0x51);
	CHECK(irr_has(&cpu1, 0x51) && !irr_has(&cpu0, 0x51), "ICR low write sends the IPI");
	CHECK(!(page(&cpu0, 0x300) & (1U << 12)), "delivery status reads idle");
	CHECK(wakes > 0, "the target is woken or kicked");
	/* level-triggered: the TMR bit (the EOI-exit bitmap) is set on merge,
	 * and the EOI-induced exit reaches the IOAPIC */
	ioapic_set(3, (1ULL << 15) | 0x93); /* level, to APIC 0 */
	irq_line(&vm, 3, true);
	CHECK(page_has(&cpu0, VLAPIC_REG_TMR, 0x93), "TMR set on merge");
	CHECK(vlapic_tmr_qword(vcpu_lapic(&cpu0), 2) == 1ULL << (0x93 - 128), "EOI-exit bitmap word 2");
	/* what the CPU does on delivery and on the virtualized EOI */
	*vlapic_vector_word(vcpu_lapic(&cpu0), VLAPIC_REG_IRR, 0x93 / 32) &= ~(1U << (0x93 % 32));
	irq_line(&vm, 3, false);
	vlapic_eoi_exit(&cpu0, 0x93);
	CHECK(!(ioapic_get(0x10 + 6) & (1U << 14)), "EOI exit clears Remote IRR");
	CHECK(vlapic_tmr_qword(vcpu_lapic(&cpu0), 2) == 0, "and the TMR bit");
	vlapic_set_irq(&cpu0, 0x94);
	CHECK(!page_has(&cpu0, VLAPIC_REG_TMR, 0x94), "edge requests leave TMR clear");
}

/* INIT IPIs: to an AP it means wait for SIPI; to the bootstrap vCPU
 * (index 0) the VM resets, as a PC does (no vCPU may be left waiting for
 * a SIPI nobody will send). */
static void test_init_ipi(void)
{
	setup();
	ends = 0;
	cpu0.state = cpu1.state = VCPU_RUNNING;
	wr(&cpu0, 0x310, 1u << 24);
	wr(&cpu0, 0x300, (5u << 8) | (1u << 14)); /* INIT, assert, to APIC ID 1 */
	CHECK(cpu1.init_pending && ends == 0, "INIT to an AP: it waits for SIPI, the VM goes on");
	wr(&cpu1, 0x310, 0u << 24);
	wr(&cpu1, 0x300, (5u << 8) | (1u << 14)); /* from the AP to the BSP */
	CHECK(ends == 1 && end_kind == VM_END_RESET && !strcmp(end_reason, "init-bsp"),
	      "INIT to the BSP resets the VM");
	CHECK(!cpu0.init_pending, "the BSP is not left waiting for a SIPI");
	ends = 0;
	wr(&cpu0, 0x300, (5u << 8) | (1u << 14) | (1u << 18)); /* shorthand: self */
	CHECK(ends == 1 && !cpu0.init_pending, "INIT to itself from the BSP resets the VM");
	ends = 0;
	wr(&cpu1, 0x300, (5u << 8) | (1u << 15)); /* level de-assert: no effect */
	CHECK(ends == 0, "INIT level de-assert does nothing");
}

/* NMI IPIs (ICR delivery mode 4, SDM Vol 3A 10.6.1): every destination
 * form, the vector ignored, one latched at most, a halted vCPU woken
 * unless it halted inside its NMI handler. */
static void test_nmi_ipi(void)
{
	setup();
	wr(&cpu0, 0x300, (4u << 8) | (1u << 14) | (1u << 18) | 0x37); /* self */
	CHECK(nmi_latched(&cpu0) && !nmi_latched(&cpu1), "self NMI latched on the sender only");
	CHECK(!irr_has(&cpu0, 0x37), "the vector field of an NMI IPI requests nothing");
	CHECK(arch_vcpu_irq_pending(&cpu0), "a latched NMI makes a halted vCPU runnable");
	wr(&cpu0, 0x300, (4u << 8) | (1u << 14) | (1u << 18)); /* a second one */
	CHECK(vlapic_take_nmi(vcpu_lapic(&cpu0)), "taken once");
	CHECK(!vlapic_take_nmi(vcpu_lapic(&cpu0)), "at most one NMI latched");
	CHECK(!arch_vcpu_irq_pending(&cpu0), "nothing pending after the take");

	wr(&cpu0, 0x310, 1u << 24);
	wakes = 0;
	wr(&cpu0, 0x300, (4u << 8) | (1u << 14)); /* physical, APIC ID 1 */
	CHECK(nmi_latched(&cpu1) && !nmi_latched(&cpu0), "NMI to APIC ID 1");
	CHECK(wakes == 1, "the target is woken (or kicked)");
	vlapic_take_nmi(vcpu_lapic(&cpu1));
	wr(&cpu0, 0x300, (4u << 8) | (1u << 14) | (3u << 18)); /* all excluding self */
	CHECK(nmi_latched(&cpu1) && !nmi_latched(&cpu0), "all-excluding-self");
	vlapic_take_nmi(vcpu_lapic(&cpu1));
	wr(&cpu1, 0x300, (4u << 8) | (1u << 14) | (2u << 18)); /* all including self */
	CHECK(nmi_latched(&cpu1) && nmi_latched(&cpu0), "all-including-self");
	vlapic_take_nmi(vcpu_lapic(&cpu0));
	vlapic_take_nmi(vcpu_lapic(&cpu1));
	*vlapic_reg(vcpu_lapic(&cpu1), 0xD0) = 2u << 24; /* LDR: logical bit 1 */
	wr(&cpu0, 0x310, 2u << 24);
	wr(&cpu0, 0x300, (4u << 8) | (1u << 14) | (1u << 11)); /* logical, mask 2 */
	CHECK(nmi_latched(&cpu1) && !nmi_latched(&cpu0), "logical destination");
	vlapic_take_nmi(vcpu_lapic(&cpu1));

	/* Software-disabled APIC: NMIs still accepted (10.4.7.2); globally
	 * disabled: nothing at all. */
	*vlapic_reg(vcpu_lapic(&cpu1), 0xF0) = 0xFF;
	vlapic_nmi(&cpu1);
	CHECK(vlapic_take_nmi(vcpu_lapic(&cpu1)), "software-disabled APIC takes an NMI");
	vcpu_lapic(&cpu1)->apic_base &= ~(1ULL << 11);
	vlapic_nmi(&cpu1);
	CHECK(!nmi_latched(&cpu1), "globally disabled APIC takes no NMI message");

	/* Halted inside its NMI handler: a new NMI waits for the IRET. */
	wakes = 0;
	vcpu_lapic(&cpu0)->nmi_masked = true;
	vlapic_nmi(&cpu0);
	CHECK(nmi_latched(&cpu0) && wakes == 0, "masked: latched, not woken");
	CHECK(!arch_vcpu_irq_pending(&cpu0), "masked: the halted vCPU stays blocked");
	vcpu_lapic(&cpu0)->nmi_masked = false;
	CHECK(arch_vcpu_irq_pending(&cpu0), "unmasked: runnable");
}

/* An injected interrupt whose delivery gave way to an exception goes back
 * to IRR (vmx_inject.c) and is deliverable again. */
static void test_unack(void)
{
	setup();
	vlapic_set_irq(&cpu0, 0x51);
	CHECK(vlapic_pending(vcpu_lapic(&cpu0)) == 0x51, "requested");
	vlapic_ack(vcpu_lapic(&cpu0), 0x51);
	CHECK(vlapic_pending(vcpu_lapic(&cpu0)) < 0, "in service: nothing else pending");
	vlapic_take_recheck(vcpu_lapic(&cpu0));
	vlapic_unack(vcpu_lapic(&cpu0), 0x51);
	CHECK(vcpu_lapic(&cpu0)->recheck, "the owner re-evaluates");
	CHECK(!page_has(&cpu0, VLAPIC_REG_ISR, 0x51) && irr_has(&cpu0, 0x51), "ISR -> IRR");
	CHECK(vlapic_pending(vcpu_lapic(&cpu0)) == 0x51, "deliverable again");
}

/* IA32_TSC_DEADLINE is in guest TSC units: host TSC + the VM's offset. */
static void test_tsc_deadline_offset(void)
{
	setup();
	struct vlapic *l = vcpu_lapic(&cpu0);
	wr(&cpu0, 0x320, (2U << 17) | 0xEF);
	avm.tsc_offset = 10000000; /* the guest's TSC is 10^7 ahead */
	vlapic_tsc_deadline_write(&cpu0, 11000500);
	CHECK(l->timer_deadline == 1000500, "guest ahead: the host deadline is the guest's minus the offset");
	CHECK(vlapic_tsc_deadline_read(l) == 11000500, "the MSR reads back the guest value");
	CHECK(!vlapic_timer_fire(&cpu0, 1000499) && vlapic_timer_fire(&cpu0, 1000500),
	      "fires when the guest's TSC reaches it");
	vlapic_tsc_deadline_write(&cpu0, 5000000);
	CHECK(l->timer_deadline == fake_tsc, "a deadline the guest's TSC has passed is due at once");
	avm.tsc_offset = (u64)-500000; /* the guest's TSC is behind: 500000 now */
	vlapic_tsc_deadline_write(&cpu0, 600000);
	CHECK(l->timer_deadline == 1100000, "guest behind: the host deadline is later");

	/* The offset changes while armed: the deadline moves with it. */
	avm.tsc_offset = 0;
	vlapic_tsc_deadline_write(&cpu0, 1500000);
	l->timer_dirty = false;
	vlapic_tsc_offset_changed(&cpu0, 1000000); /* the guest TSC jumped past it */
	CHECK(l->timer_deadline == fake_tsc && l->timer_dirty, "a jump past the deadline makes it due now");
	vlapic_tsc_offset_changed(&cpu0, (u64)-1000000); /* and far back */
	CHECK(l->timer_deadline == 2500000, "a jump back postpones it");
	CHECK(vlapic_tsc_deadline_read(l) == 1500000, "the guest's deadline itself is unchanged");
	/* One-shot counts are durations: an offset change leaves them alone. */
	wr(&cpu0, 0x320, 0x30);
	wr(&cpu0, 0x3E0, 0xB);
	wr(&cpu0, 0x380, 1000);
	vlapic_tsc_offset_changed(&cpu0, 123456789);
	CHECK(l->timer_deadline == fake_tsc + 1000, "the one-shot timer does not move");
}

/* IA32_APIC_BASE.EN: a disabled APIC is gone; enabled again, it is in its
 * power-on state (SDM Vol 3A 10.4.3, 10.4.7.1). */
static void test_apic_disable(void)
{
	setup();
	struct vlapic *l = vcpu_lapic(&cpu0);
	u64 base = l->apic_base;
	wr(&cpu0, 0x80, 0x20);           /* TPR */
	wr(&cpu0, 0xD0, 0x01000000);     /* LDR */
	wr(&cpu0, 0x3E0, 0xB);
	wr(&cpu0, 0x320, 0x31);
	wr(&cpu0, 0x380, 5000);          /* an armed one-shot */
	vlapic_set_irq(&cpu0, 0x40);
	CHECK(irr_has(&cpu0, 0x40), "a request before");
	CHECK(vlapic_write_base(&cpu0, VLAPIC_BASE | (1ULL << 10) | (1ULL << 11)) == -CG_EINVAL,
	      "x2APIC (EXTD) refused");
	CHECK(vlapic_write_base(&cpu0, VLAPIC_BASE | (1ULL << 10)) == -CG_EINVAL, "EN=0 EXTD=1 refused");
	CHECK(vlapic_write_base(&cpu0, 0xFED00000ULL | (1ULL << 11)) == -CG_EINVAL, "no relocation");
	CHECK(vlapic_write_base(&cpu0, base) == 0 && rd(&cpu0, 0x80) == 0x20 && l->timer_deadline,
	      "writing the same value changes nothing");

	CHECK(vlapic_write_base(&cpu0, VLAPIC_BASE) == 0, "EN cleared");
	CHECK(!vlapic_enabled(l) && (l->apic_base & (1ULL << 8)), "disabled, still the BSP");
	CHECK(l->timer_deadline == 0 && l->timer_dirty, "its timer stopped");
	CHECK(!irr_has(&cpu0, 0x40) && vlapic_pending(l) < 0, "its requests dropped");
	vlapic_set_irq(&cpu0, 0x41);
	CHECK(!irr_has(&cpu0, 0x41), "an IPI to it is dropped");
	CHECK(arch_irq_deliver(&vm, 0, false, VIRT_IRQ_FIXED, 0x42, false) == 0, "an IOAPIC/MSI message to its ID finds no one");
	CHECK(arch_irq_deliver(&vm, 0xFF, false, VIRT_IRQ_LOWEST, 0x43, false) == 1 && irr_has(&cpu1, 0x43) &&
		      !irr_has(&cpu0, 0x43),
	      "lowest priority to all goes to an enabled APIC");

	CHECK(vlapic_write_base(&cpu0, VLAPIC_BASE | (1ULL << 11)) == 0 && vlapic_enabled(l), "EN set again");
	CHECK(rd(&cpu0, 0x20) == 0 && rd(&cpu0, 0x30) == 0x00050014u, "ID and version as at power-on");
	CHECK(rd(&cpu0, 0x80) == 0 && rd(&cpu0, 0xD0) == 0 && rd(&cpu0, 0xE0) == 0xFFFFFFFFu,
	      "TPR, LDR 0, DFR all ones");
	CHECK(rd(&cpu0, 0xF0) == 0xFF, "SVR 0xFF: software-disabled");
	CHECK(rd(&cpu0, 0x320) == 0x10000 && rd(&cpu0, 0x380) == 0 && rd(&cpu0, 0x3E0) == 0,
	      "LVT timer masked, counts 0");
	bool clear = true;
	for (u32 off = 0x100; off < 0x280; off += 0x10)
		clear = clear && rd(&cpu0, off) == 0;
	CHECK(clear, "ISR, TMR, IRR all zero");
	CHECK(l->timer_deadline == 0, "the timer stays stopped");
	wr(&cpu0, 0xF0, 0x1FF);
	vlapic_set_irq(&cpu0, 0x44);
	CHECK(vlapic_pending(l) == 0x44, "takes interrupts again once software-enabled");
}

int main(void)
{
	test_nmi_ipi();
	test_unack();
	test_tsc_deadline_offset();
	test_apic_disable();
	test_init_ipi();
	test_page_layout();
	test_apic_write_exits();
	test_oneshot();
	test_periodic_and_mask();
	test_tsc_deadline();
	test_ioapic();
	test_msi();
	return check_summary();
}
