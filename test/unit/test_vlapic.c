/* Host tests for the vLAPIC timer (firmware/core/vlapic_timer.c), the
 * IOAPIC (dev_ioapic.c) and MSI delivery (irq.c): the register sequences
 * Linux and the test guests use, against a fake TSC. */
#include "check.h"
#include "vm.h"
#include "irq.h"
#include "vlapic.h"
#include <string.h>

static u64 fake_tsc;
static u32 wakes;
u64 arch_timestamp(void) { return fake_tsc; }
u64 arch_timestamp_hz(void) { return 2000000000ULL; } /* 2 GHz: crystal div 1 */
void sched_wake(struct vcpu *v) { (void)v; wakes++; }

static struct vm vm;
static struct vcpu cpu0, cpu1;

static void setup(void)
{
	memset(&vm, 0, sizeof(vm));
	memset(&cpu0, 0, sizeof(cpu0));
	memset(&cpu1, 0, sizeof(cpu1));
	cpu0.vm = cpu1.vm = &vm;
	cpu1.index = 1;
	vlapic_reset(&cpu0.lapic, 0);
	vlapic_reset(&cpu1.lapic, 1);
	vm.vcpus[0] = &cpu0;
	vm.vcpus[1] = &cpu1;
	vm.vcpu_count = 2;
	ioapic_reset(&vm.dev.ioapic, 2);
	cpu0.lapic.svr = cpu1.lapic.svr = 0x1FF; /* software-enabled */
	fake_tsc = 1000000;
	wakes = 0;
}

static void wr(struct vcpu *v, u32 reg, u32 val)
{
	u64 x = val;
	CHECK(vlapic_mmio(v, reg, true, 4, &x) == 0, "APIC write accepted");
}

static u32 rd(struct vcpu *v, u32 reg)
{
	u64 x = 0;
	CHECK(vlapic_mmio(v, reg, false, 4, &x) == 0, "APIC read accepted");
	return (u32)x;
}

static bool irr_has(struct vcpu *v, u8 vec)
{
	return v->lapic.irr[vec / 32] & (1U << (vec % 32));
}

static void test_oneshot(void)
{
	setup();
	CHECK(vlapic_crystal_div(arch_timestamp_hz()) == 1, "2 GHz fits CPUID.15 ECX");
	CHECK(vlapic_crystal_div(5000000000ULL) == 2, "5 GHz needs a divisor of 2");
	wr(&cpu0, 0x3E0, 0xB); /* divide by 1 */
	wr(&cpu0, 0x320, 0xEC); /* one-shot, vector 0xEC */
	wr(&cpu0, 0x380, 1000);
	CHECK(cpu0.lapic.timer_deadline == 1000000 + 1000, "deadline = now + count");
	CHECK(cpu0.lapic.timer_dirty, "the run loop is told to rearm");
	fake_tsc += 400;
	CHECK(rd(&cpu0, 0x390) == 600, "current count counts down");
	CHECK(rd(&cpu0, 0x380) == 1000, "initial count reads back");
	CHECK(!vlapic_timer_fire(&cpu0, fake_tsc + 599), "not due one tick early");
	CHECK(vlapic_timer_fire(&cpu0, fake_tsc + 600), "due at the deadline");
	CHECK(irr_has(&cpu0, 0xEC), "vector requested");
	CHECK(vlapic_pending(&cpu0.lapic) == 0xEC, "deliverable");
	CHECK(cpu0.lapic.timer_deadline == 0, "one-shot disarms");
	CHECK(rd(&cpu0, 0x390) == 0, "current count 0 after expiry");
	CHECK(!vlapic_timer_fire(&cpu0, fake_tsc + 100000), "no second interrupt");
	/* divide by 16: 0b0011 */
	wr(&cpu0, 0x3E0, 0x3);
	wr(&cpu0, 0x380, 10);
	CHECK(cpu0.lapic.timer_deadline == fake_tsc + 160, "divide by 16 stretches the count");
	wr(&cpu0, 0x380, 0);
	CHECK(cpu0.lapic.timer_deadline == 0, "initial count 0 stops the timer");
}

static void test_periodic_and_mask(void)
{
	setup();
	wr(&cpu0, 0x3E0, 0x3);
	wr(&cpu0, 0x320, (1U << 17) | 0x30); /* periodic */
	wr(&cpu0, 0x380, 100);              /* 1600 TSC ticks */
	u64 t0 = fake_tsc;
	CHECK(vlapic_timer_fire(&cpu0, t0 + 1600 * 3 + 5), "late periodic fires");
	CHECK(cpu0.lapic.timer_deadline == t0 + 1600 * 4, "next period stays on the grid");
	CHECK(irr_has(&cpu0, 0x30), "one interrupt for the missed periods");
	vlapic_ack(&cpu0.lapic, 0x30);
	wr(&cpu0, 0xB0, 0); /* EOI */
	wr(&cpu0, 0x320, (1U << 17) | (1U << 16) | 0x30); /* masked, same mode */
	CHECK(cpu0.lapic.timer_deadline == t0 + 1600 * 4, "masking keeps the count running");
	CHECK(vlapic_timer_fire(&cpu0, t0 + 1600 * 4), "masked timer still expires");
	CHECK(!irr_has(&cpu0, 0x30), "but requests nothing");
	wr(&cpu0, 0x320, 0x30); /* back to one-shot: a mode change disarms */
	CHECK(cpu0.lapic.timer_deadline == 0, "mode change disarms");
}

static void test_tsc_deadline(void)
{
	setup();
	vlapic_tsc_deadline_write(&cpu0, 5000000);
	CHECK(cpu0.lapic.timer_deadline == 0, "ignored outside TSC-deadline mode");
	wr(&cpu0, 0x320, (2U << 17) | 0xEF);
	vlapic_tsc_deadline_write(&cpu0, 5000000);
	CHECK(cpu0.lapic.timer_deadline == 5000000, "deadline is the guest TSC value");
	CHECK(vlapic_tsc_deadline_read(&cpu0.lapic) == 5000000, "MSR reads back");
	wr(&cpu0, 0x380, 77);
	CHECK(cpu0.lapic.timer_deadline == 5000000 && rd(&cpu0, 0x380) == 0,
	      "initial count ignored in TSC-deadline mode");
	CHECK(vlapic_timer_fire(&cpu0, 5000001), "fires when the TSC passes it");
	CHECK(irr_has(&cpu0, 0xEF), "vector requested");
	CHECK(vlapic_tsc_deadline_read(&cpu0.lapic) == 0, "MSR reads 0 after expiry");
	vlapic_tsc_deadline_write(&cpu0, 9000000);
	vlapic_tsc_deadline_write(&cpu0, 0);
	CHECK(cpu0.lapic.timer_deadline == 0, "writing 0 disarms");
}

static void ioapic_set(u32 pin, u64 rte)
{
	u64 x = 0x10 + 2 * pin;
	CHECK(ioapic_mmio(&vm, 0x00, true, 4, &x) == 0, "IOREGSEL");
	x = (u32)rte;
	CHECK(ioapic_mmio(&vm, 0x10, true, 4, &x) == 0, "IOWIN low");
	x = 0x11 + 2 * pin;
	ioapic_mmio(&vm, 0x00, true, 4, &x);
	x = rte >> 32;
	ioapic_mmio(&vm, 0x10, true, 4, &x);
}

static u32 ioapic_get(u32 reg)
{
	u64 x = reg;
	ioapic_mmio(&vm, 0x00, true, 4, &x);
	ioapic_mmio(&vm, 0x10, false, 4, &x);
	return (u32)x;
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
	vlapic_ack(&cpu0.lapic, 0x34);
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
	CHECK(cpu1.lapic.tmr[0x39 / 32] & (1U << (0x39 % 32)), "TMR marks the vector");
	vlapic_ack(&cpu1.lapic, 0x39);
	irq_line(&vm, 9, true);
	CHECK(!irr_has(&cpu1, 0x39), "not again before EOI");
	wr(&cpu1, 0xB0, 0);
	CHECK(irr_has(&cpu1, 0x39), "EOI with the line still high: delivered again");
	vlapic_ack(&cpu1.lapic, 0x39);
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
	CHECK(ioapic_mmio(&vm, 0x10, false, 2, &x) != 0, "16-bit access refused");
}

static void test_msi(void)
{
	setup();
	CHECK(irq_msi(&vm, 0xFEE01000ULL, 0x41) == 0, "MSI to APIC 1");
	CHECK(irr_has(&cpu1, 0x41) && !irr_has(&cpu0, 0x41), "right vCPU");
	CHECK(irq_msi(&vm, 0xFED00000ULL, 0x42) != 0, "address outside 0xFEE refused");
	CHECK(irq_msi(&vm, 0xFEE00000ULL, 0x400 | 0x43) != 0, "NMI delivery refused");
	CHECK(!irr_has(&cpu0, 0x42) && !irr_has(&cpu0, 0x43), "refused messages deliver nothing");
	CHECK(irq_msi(&vm, 0xFEEFF000ULL, 0x44) == 0 && irr_has(&cpu0, 0x44) && irr_has(&cpu1, 0x44),
	      "broadcast 0xFF reaches both");
	CHECK(irq_msi(&vm, 0xFEE00000ULL, 0x5) == 0 && !irr_has(&cpu0, 0x5),
	      "illegal vector < 16 dropped");
}

int main(void)
{
	test_oneshot();
	test_periodic_and_mask();
	test_tsc_deadline();
	test_ioapic();
	test_msi();
	return check_summary();
}
