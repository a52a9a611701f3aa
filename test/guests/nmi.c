/* nmi: NMIs sent through the local APIC's ICR (delivery mode NMI, SDM
 * Vol. 3A 10.6.1) reach the vector-2 handler of the CPUs they name (self,
 * an APIC ID, the shorthands), with interrupts off or halted, and obey NMI
 * blocking (Vol. 3A 6.7.1): while a CPU runs its NMI handler, further NMIs
 * wait until the handler's IRET, only one of them waits, and a CPU halted
 * in its NMI handler is not woken by one. Needs 2 vCPUs. */
#include "guest.h"
#include "smp.h"

#define IPI_VECTOR 0x48
#define NMI_BURST 100

static volatile u32 count[2];  /* NMIs handled, by APIC ID */
static volatile u32 depth[2], max_depth[2];
static volatile u32 bsp_id, ap_id = ~0u;
static volatile u32 ap_ready, ap_wakeups, ap_halt, ap_halting;
/* One-shot behaviours of the next NMI handler run (see nmi_handler). */
static volatile u32 send_in_handler, inner_count;
static volatile u32 halt_in_handler, in_handler_halted, handler_woke, count_at_wake;
static volatile u32 ipi_count;

static u32 me(void)
{
	return apic_id() == bsp_id ? 0 : 1;
}

static void nmi_handler(struct trap_frame *f)
{
	(void)f;
	u32 i = me();
	u32 d = __atomic_add_fetch(&depth[i], 1, __ATOMIC_SEQ_CST);
	if (d > max_depth[i])
		max_depth[i] = d;
	__atomic_fetch_add(&count[i], 1, __ATOMIC_SEQ_CST);
	if (i == 0 && __atomic_exchange_n(&send_in_handler, 0, __ATOMIC_SEQ_CST)) {
		/* Two more while this one runs: blocked until our IRET, and
		 * only one of them is kept. */
		apic_send(0, ICR_MODE_NMI | ICR_LEVEL_ASSERT | ICR_DEST_SELF);
		apic_send(0, ICR_MODE_NMI | ICR_LEVEL_ASSERT | ICR_DEST_SELF);
		delay(20000);
		inner_count = count[0];
	}
	if (i == 1 && __atomic_exchange_n(&halt_in_handler, 0, __ATOMIC_SEQ_CST)) {
		/* Halt inside the handler until a fixed IPI: an NMI sent now is
		 * blocked and must not end the HLT. */
		__atomic_store_n(&in_handler_halted, 1, __ATOMIC_SEQ_CST);
		sti_hlt();
		cli();
		count_at_wake = count[1];
		__atomic_store_n(&handler_woke, 1, __ATOMIC_SEQ_CST);
	}
	__atomic_sub_fetch(&depth[i], 1, __ATOMIC_SEQ_CST);
}

static void ipi_handler(u32 vector)
{
	(void)vector;
	__atomic_fetch_add(&ipi_count, 1, __ATOMIC_SEQ_CST);
	apic_eoi();
}

/* The AP: interrupts off throughout; spins, or halts when asked. */
static void ap_main(u32 id)
{
	ap_id = id;
	apic_enable();
	__atomic_store_n(&ap_ready, 1, __ATOMIC_SEQ_CST);
	for (;;) {
		if (__atomic_exchange_n(&ap_halt, 0, __ATOMIC_SEQ_CST)) {
			__atomic_store_n(&ap_halting, 1, __ATOMIC_SEQ_CST);
			__asm__ volatile("hlt");
			__atomic_fetch_add(&ap_wakeups, 1, __ATOMIC_SEQ_CST);
		}
		pause();
	}
}

static void self_nmis(void)
{
	cli();
	apic_send(0, ICR_MODE_NMI | ICR_LEVEL_ASSERT | ICR_DEST_SELF | 0x31);
	u32 after = count[0];
	report(after == 1, "self NMI (shorthand) handled before the next instruction, with IF=0 (%u)",
	       after);
	report(!apic_vector_set(APIC_IRR, 0x31) && !apic_vector_set(APIC_ISR, 0x31),
	       "the NMI IPI's vector field requested no interrupt");
	apic_send(bsp_id, ICR_MODE_NMI | ICR_LEVEL_ASSERT);
	report(count[0] == 2, "NMI to its own APIC ID handled once (%u)", count[0]);
	report(max_depth[0] == 1, "no nesting so far");

	send_in_handler = 1;
	apic_send(0, ICR_MODE_NMI | ICR_LEVEL_ASSERT | ICR_DEST_SELF);
	delay(20000);
	report(inner_count == 3, "NMIs sent inside the handler wait for its IRET (count %u inside)",
	       inner_count);
	report(count[0] == 4, "after the IRET exactly one of the two waiting NMIs ran (%u, want 4)",
	       count[0]);
	report(max_depth[0] == 1, "the NMI handler never nested (depth %u)", max_depth[0]);
}

static void ap_nmis(void)
{
	bool ok = apic_send(ap_id, ICR_MODE_NMI | ICR_LEVEL_ASSERT) && wait_until(&count[1], 1);
	report(ok, "NMI to the AP (spinning with IF=0) handled (%u)", count[1]);
	ok = apic_send(0, ICR_MODE_NMI | ICR_LEVEL_ASSERT | ICR_DEST_OTHERS) && wait_until(&count[1], 2);
	report(ok && count[0] == 4, "all-excluding-self reaches the AP only (AP %u, BSP %u)", count[1],
	       count[0]);
	ok = apic_send(0, ICR_MODE_NMI | ICR_LEVEL_ASSERT | ICR_DEST_ALL) && wait_until(&count[1], 3);
	report(ok && count[0] == 5, "all-including-self reaches both (AP %u, BSP %u)", count[1],
	       count[0]);

	/* A burst: each NMI sent as soon as the previous one's handler has
	 * counted it, so mostly while that handler still runs; each must run
	 * once its predecessor's IRET unblocks NMIs. */
	u32 c0 = count[1], lost = 0;
	for (u32 i = 0; i < NMI_BURST; i++) {
		u32 c = count[1];
		apic_send(ap_id, ICR_MODE_NMI | ICR_LEVEL_ASSERT);
		if (!wait_until(&count[1], c + 1)) {
			lost++;
			break;
		}
	}
	report(!lost && count[1] == c0 + NMI_BURST, "a burst of %u NMIs to the AP: each handled once (%u lost)",
	       NMI_BURST, lost);

	/* A halted AP (IF=0: only an NMI can wake it). */
	u32 base = count[1];
	ap_halt = 1;
	wait_until(&ap_halting, 1);
	delay(100000);
	u32 w = ap_wakeups;
	ok = apic_send(ap_id, ICR_MODE_NMI | ICR_LEVEL_ASSERT) && wait_until(&count[1], base + 1) &&
	     wait_until(&ap_wakeups, w + 1);
	report(ok, "NMI wakes an AP halted with IF=0, which goes on after HLT (wakeups %u -> %u)",
	       w, ap_wakeups);

	/* Halted inside its NMI handler: a second NMI is blocked, leaves it
	 * halted, and comes after the handler is woken by an interrupt (and
	 * that interrupt handler's IRET ends NMI blocking). */
	halt_in_handler = 1;
	ok = apic_send(ap_id, ICR_MODE_NMI | ICR_LEVEL_ASSERT) && wait_until(&in_handler_halted, 1);
	report(ok && count[1] == base + 2, "the AP's NMI handler halted (count %u)", count[1] - base);
	delay(50000);
	apic_send(ap_id, ICR_MODE_NMI | ICR_LEVEL_ASSERT);
	delay(200000);
	report(!handler_woke && count[1] == base + 2,
	       "an NMI to a CPU halted in its NMI handler neither wakes it nor runs (woke %u, count %u)",
	       handler_woke, count[1] - base);
	/* The IPI handler's IRET ends NMI blocking (6.7.1): the waiting NMI
	 * runs right then, nested in the halted handler, before it goes on. */
	ok = apic_send_fixed(ap_id, IPI_VECTOR) && wait_until(&handler_woke, 1) &&
	     wait_until(&count[1], base + 3);
	report(ok && count_at_wake == base + 3,
	       "a fixed IPI wakes it, and the blocked NMI runs at that handler's IRET (%u, %u)",
	       count_at_wake - base, count[1] - base);
	delay(100000);
	report(count[1] == base + 3 && max_depth[1] <= 2, "no NMI lost or doubled on the AP (count %u)",
	       count[1] - base);
}

int main(void)
{
	bsp_id = apic_id();
	trap_register(VEC_NMI, nmi_handler);
	irq_register(IPI_VECTOR, ipi_handler);
	apic_enable();
	self_nmis();
	u32 ap = bsp_id == 0 ? 1 : 0;
	if (!smp_start_ap(ap, ap_main) || !wait_until(&ap_ready, 1)) {
		report(false, "AP started (needs -smp 2)");
		return report_summary();
	}
	ap_nmis();
	report(ipi_count == 1, "the fixed IPI ran its handler once (%u)", ipi_count);
	return report_summary();
}
