/* Starting the application processors with INIT-SIPI-SIPI (SDM Vol 3A
 * 9.4.4.1), one at a time, each on its own stacks. */
#include "arch/x86/smp.h"
#include "lib/acpi.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "arch/x86/cpu_ops.h"
#include "arch/x86/lapic.h"
#include "arch/x86/percpu.h"
#include "arch/x86/tsc.h"
#include <cg/string.h>

#define AP_STACK_PAGES 4
#define AP_IST_PAGES (IST_STACK_SIZE / PAGE_SIZE)
#define SIPI_VECTOR (AP_TRAMPOLINE_BASE >> 12)
#define INIT_DELAY_US 10000
#define SIPI_DELAY_US 200
#define ARRIVE_TIMEOUT_US 1000000
#define BRINGUP_TIMEOUT_US 5000000

extern const u8 ap_trampoline_start[], ap_trampoline_end[];

struct ap_slot {
	u64 stack_top;
	u64 ist_tops[3];
};

static struct ap_slot ap_slots[CG_MAX_CPUS];
static u32 smp_total = 1;
static arch_ap_entry_fn ap_main;   /* core's, from arch_smp_start */
static volatile u32 ap_up[CG_MAX_CPUS]; /* set by arch_cpu_up on that CPU */

static volatile struct ap_boot_params *ap_params(void)
{
	return (volatile struct ap_boot_params *)(uintptr_t)(AP_TRAMPOLINE_BASE +
							       AP_PARAMS_OFFSET_VALUE);
}

static NORETURN void ap_entry(u32 index)
{
	struct ap_slot *s = &ap_slots[index];
	percpu_install(index, 0, s->stack_top);
	gdt_load_cpu(&percpu_table[index], s->ist_tops);
	idt_load();
	lapic_init_cpu();
	percpu_table[index].apic_id = lapic_id();
	ap_main(index);
}

void arch_cpu_up(void)
{
	__atomic_store_n(&ap_up[arch_cpu_index()], 1, __ATOMIC_RELEASE);
}

static bool ap_wait(volatile u32 *flag, u32 want, u64 timeout_us)
{
	u64 end = arch_timestamp() + arch_timestamp_hz() / 1000000 * timeout_us;
	while (*flag != want) {
		if (arch_timestamp() > end)
			return false;
		cpu_pause();
	}
	return true;
}

static bool ap_alloc(struct ap_slot *s)
{
	u64 stack = mem_alloc_pages(AP_STACK_PAGES);
	if (!stack)
		return false;
	s->stack_top = stack + AP_STACK_PAGES * PAGE_SIZE;
	for (int i = 0; i < 3; i++) {
		u64 ist = mem_alloc_pages(AP_IST_PAGES);
		if (!ist)
			return false;
		s->ist_tops[i] = ist + IST_STACK_SIZE;
	}
	return true;
}

static void ap_start_one(u32 index, u32 apic_id)
{
	volatile struct ap_boot_params *p = ap_params();
	struct ap_slot *s = &ap_slots[index];
	if (!ap_alloc(s)) {
		kprintf("smp: no memory for CPU %u (APIC %u) stacks; left out\n", index, apic_id);
		return;
	}
	p->cr3 = read_cr3();
	p->stack_top = s->stack_top;
	p->entry = (u64)(uintptr_t)ap_entry;
	p->cpu_index = index;
	p->arrived = 0;
	ap_up[index] = 0;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);

	lapic_send_ipi(apic_id, ICR_DELIVERY_INIT | ICR_LEVEL_ASSERT);
	tsc_delay_us(INIT_DELAY_US);
	for (int i = 0; i < 2 && !p->arrived; i++) {
		lapic_send_ipi(apic_id, ICR_DELIVERY_SIPI | SIPI_VECTOR);
		tsc_delay_us(SIPI_DELAY_US);
	}
	if (!ap_wait(&p->arrived, 1, ARRIVE_TIMEOUT_US)) {
		kprintf("smp: CPU %u (APIC %u) did not answer INIT-SIPI-SIPI; left out\n", index,
			apic_id);
		return;
	}
	if (!ap_wait(&ap_up[index], 1, BRINGUP_TIMEOUT_US)) {
		kprintf("smp: CPU %u (APIC %u) started but did not finish bring-up\n", index, apic_id);
		return;
	}
	smp_total++;
}

u32 smp_start_aps(const struct acpi_madt_info *madt, arch_ap_entry_fn entry)
{
	ap_main = entry;
	u32 me = lapic_id();
	u32 index = 1;
	memcpy((void *)(uintptr_t)AP_TRAMPOLINE_BASE, ap_trampoline_start,
	       (size_t)(ap_trampoline_end - ap_trampoline_start));
	for (u32 i = 0; i < madt->cpu_count; i++) {
		if (madt->apic_ids[i] == me)
			continue;
		if (index >= CG_MAX_CPUS) {
			kprintf("smp: more than %u CPUs; the rest are left out\n", CG_MAX_CPUS);
			break;
		}
		ap_start_one(index++, madt->apic_ids[i]);
	}
	return smp_total;
}

u32 smp_cpu_total(void)
{
	return smp_total;
}

u32 arch_smp_start(const struct acpi_madt_info *madt, arch_ap_entry_fn entry)
{
	return smp_start_aps(madt, entry);
}
