/* AP bring-up: INIT-SIPI(-SIPI) to a trampoline below 1 MiB (entry.asm)
 * that switches to protected mode, takes a stack slot and calls ap_main.
 * The MP initialization protocol is in SDM Vol. 3A, 9.4. */
#include "guest.h"
#include "smp.h"

#define AP_STACK_SIZE 8192 /* must match AP_STACK_SHIFT in entry.asm */

/* Used by ap_entry32 (entry.asm). */
u8 ap_stacks[AP_MAX][AP_STACK_SIZE] __attribute__((aligned(16)));
volatile u32 ap_next_slot;

extern const u8 ap_tramp_start[], ap_tramp_end[];

static volatile u32 online;
static ap_entry volatile entry_fn;
static bool tramp_ready;

/* Called by ap_entry32 on the AP's own stack. */
void ap_main(u32 slot) NORETURN;
void ap_main(u32 slot)
{
	(void)slot;
	idt_load();
	u32 id = apic_id();
	ap_entry fn = entry_fn;
	__atomic_fetch_add(&online, 1, __ATOMIC_SEQ_CST);
	if (fn)
		fn(id);
	for (;;)
		__asm__ volatile("cli; hlt");
}

u32 smp_online(void)
{
	return __atomic_load_n(&online, __ATOMIC_SEQ_CST);
}

static bool wait_online(u32 target, u32 limit)
{
	for (u32 i = 0; i < limit; i++) {
		if (smp_online() >= target)
			return true;
		relax();
	}
	return false;
}

bool smp_start_ap(u32 id, ap_entry fn)
{
	u32 target = smp_online() + 1;

	if (ap_next_slot >= AP_MAX)
		return false;
	if (!tramp_ready) {
		memcpy((void *)AP_TRAMPOLINE, ap_tramp_start, (size_t)(ap_tramp_end - ap_tramp_start));
		tramp_ready = true;
	}
	entry_fn = fn;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);

	/* SDM's INIT, 10 ms, SIPI, 200 us, SIPI. Emulators do not enforce the
	 * delays; a second SIPI is only sent if the first one did not bring
	 * the AP up, so a SIPI never reaches an AP that is already running. */
	if (!apic_send_init(id))
		return false;
	delay(10000);
	if (!apic_send_sipi(id, AP_TRAMPOLINE >> 12))
		return false;
	if (wait_online(target, SPIN_LIMIT / 16))
		return true;
	if (!apic_send_sipi(id, AP_TRAMPOLINE >> 12))
		return false;
	return wait_online(target, SPIN_LIMIT);
}

u32 smp_start_all(u32 n, ap_entry fn)
{
	u32 self = apic_id(), started = 0;

	for (u32 id = 0; id < n && id < AP_MAX + 1; id++) {
		if (id == self)
			continue;
		if (smp_start_ap(id, fn))
			started++;
		else
			printf("INFO: AP with APIC ID %u did not start\n", id);
	}
	return started;
}
