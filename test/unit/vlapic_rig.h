/* The vLAPIC test rig shared by test_vlapic.c and test_vlapic_lint.c: a
 * fake clock, scheduler wake and vm_end, one VM with two vCPUs (APIC IDs
 * 0 and 1, both software-enabled) and its IOAPIC, and register accessors
 * for the APIC page and the IOAPIC window. Each test file includes it
 * once; everything is static to that test. */
#ifndef CG_TEST_VLAPIC_RIG_H
#define CG_TEST_VLAPIC_RIG_H

#include "check.h"
#include "core/vm.h"
#include "core/irq.h"
#include "arch/x86/vmx/vlapic.h"
#include "arch/x86/vmx/vmx_vcpu.h"
#include <cg/errno.h>
#include <string.h>

static u64 fake_tsc;
static u32 wakes;
u64 arch_timestamp(void) { return fake_tsc; }
u64 arch_timestamp_hz(void) { return 2000000000ULL; } /* 2 GHz: crystal div 1 */
void sched_wake(struct vcpu *v) { (void)v; wakes++; }

/* vm_end (core/vm.c): what an INIT to the bootstrap vCPU asks for. */
static u32 ends;
static enum vm_end_kind end_kind;
static const char *end_reason;
void vm_end(struct vm *vm, enum vm_end_kind kind, u64 status, const char *reason)
{
	(void)vm;
	(void)status;
	ends++;
	end_kind = kind;
	end_reason = reason;
}

static struct vm vm;
static struct arch_vm avm; /* the VM's TSC offset (vmx_tsc.h) */
static struct vcpu cpu0, cpu1;
static struct arch_vcpu arch0, arch1; /* the vLAPICs live in arch's vCPU state */
static u32 page0[1024] __attribute__((aligned(4096))), page1[1024] __attribute__((aligned(4096)));

static void setup(void)
{
	memset(&vm, 0, sizeof(vm));
	memset(&avm, 0, sizeof(avm));
	vm.arch = &avm;
	memset(&cpu0, 0, sizeof(cpu0));
	memset(&cpu1, 0, sizeof(cpu1));
	memset(&arch0, 0, sizeof(arch0));
	memset(&arch1, 0, sizeof(arch1));
	cpu0.vm = cpu1.vm = &vm;
	cpu0.arch = &arch0;
	cpu1.arch = &arch1;
	cpu1.index = 1;
	vlapic_init(vcpu_lapic(&cpu0), page0, 0);
	vlapic_init(vcpu_lapic(&cpu1), page1, 1);
	vm.vcpus[0] = &cpu0;
	vm.vcpus[1] = &cpu1;
	vm.vcpu_count = 2;
	ioapic_reset(&vm.dev.ioapic, 2);
	*vlapic_reg(vcpu_lapic(&cpu0), 0xF0) = *vlapic_reg(vcpu_lapic(&cpu1), 0xF0) = 0x1FF; /* enabled */
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

/* The page bit of vec in the 256-bit register at base (after merging
 * what other "CPUs" posted, as the vCPU's own CPU does before entry). */
static bool page_has(struct vcpu *v, u32 base, u8 vec)
{
	vlapic_sync(vcpu_lapic(v));
	return *vlapic_vector_word(vcpu_lapic(v), base, vec / 32) & (1U << (vec % 32));
}

static bool irr_has(struct vcpu *v, u8 vec)
{
	return page_has(v, VLAPIC_REG_IRR, vec);
}

static void ioapic_set(u32 pin, u64 rte)
{
	u64 x = 0x10 + 2 * pin;
	CHECK(irq_ioapic_mmio(&vm, 0x00, true, 4, &x) == 0, "IOREGSEL");
	x = (u32)rte;
	CHECK(irq_ioapic_mmio(&vm, 0x10, true, 4, &x) == 0, "IOWIN low");
	x = 0x11 + 2 * pin;
	irq_ioapic_mmio(&vm, 0x00, true, 4, &x);
	x = rte >> 32;
	irq_ioapic_mmio(&vm, 0x10, true, 4, &x);
}

static u32 ioapic_get(u32 reg)
{
	u64 x = reg;
	irq_ioapic_mmio(&vm, 0x00, true, 4, &x);
	irq_ioapic_mmio(&vm, 0x10, false, 4, &x);
	return (u32)x;
}

static bool nmi_latched(struct vcpu *v)
{
	return vcpu_lapic(v)->nmi_pending != 0;
}

#endif
