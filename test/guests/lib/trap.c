/* IDT and exception dispatch. Every vector has a stub (entry.asm) that
 * lands in trap_dispatch; exceptions either resume a catch_exception()
 * caller or end the test, interrupts go to the handler registered for
 * their vector. */
#include "guest.h"
#include "internal.h"

struct idt_gate {
	u16 off_lo, sel;
	u8 zero, type;
	u16 off_hi;
} __attribute__((packed));

struct idt_ptr {
	u16 limit;
	u32 base;
} __attribute__((packed));

#define GATE_INT32 0x8E /* present, DPL 0, 32-bit interrupt gate */

extern const u32 trap_stubs[256];
extern u32 catch_resume, catch_vector, catch_error;
static u32 catch_eflags;

static struct idt_gate idt[256] __attribute__((aligned(8)));
static irq_handler handlers[256];
static trap_handler frame_handlers[256];

void idt_init(void)
{
	for (u32 v = 0; v < 256; v++) {
		idt[v].off_lo = (u16)trap_stubs[v];
		idt[v].off_hi = (u16)(trap_stubs[v] >> 16);
		idt[v].sel = SEL_CODE32;
		idt[v].zero = 0;
		idt[v].type = GATE_INT32;
	}
	idt_load();
}

void idt_load(void)
{
	struct idt_ptr p = { sizeof(idt) - 1, (u32)idt };

	__asm__ volatile("lidt %0" : : "m"(p));
}

bool irq_register(u32 vector, irq_handler h)
{
	if (vector < 32 || vector > 255)
		return false;
	__atomic_store_n(&handlers[vector], h, __ATOMIC_RELEASE);
	return true;
}

bool trap_register(u32 vector, trap_handler h)
{
	if (vector > 255)
		return false;
	__atomic_store_n(&frame_handlers[vector], h, __ATOMIC_RELEASE);
	return true;
}

u32 caught_error_code(void)
{
	return catch_error;
}

u32 caught_eflags(void)
{
	return catch_eflags;
}

/* Called from trap_common with the frame on the interrupted stack. */
void trap_dispatch(struct trap_frame *f);
void trap_dispatch(struct trap_frame *f)
{
	trap_handler fh = __atomic_load_n(&frame_handlers[f->vector], __ATOMIC_ACQUIRE);
	if (fh) {
		fh(f);
		return;
	}
	if (f->vector < 32 && catch_resume) {
		catch_vector = f->vector;
		catch_error = f->error;
		catch_eflags = f->eflags;
		f->eip = catch_resume;
		return;
	}
	irq_handler h = __atomic_load_n(&handlers[f->vector], __ATOMIC_ACQUIRE);
	if (h) {
		h(f->vector);
		return;
	}
	if (f->vector < 32) {
		/* An exception no test expected: report it as a failure and stop,
		 * since returning would fault again forever. */
		report(false, "unexpected exception %u (error 0x%x) at eip 0x%x", f->vector, f->error, f->eip);
		exit(report_summary());
	}
	/* Unregistered interrupt (e.g. the APIC spurious vector 0xFF, which
	 * must not get an EOI): ignore it. */
}

struct msr_op {
	u32 msr;
	u64 val;
};

static void do_rdmsr(void *arg)
{
	struct msr_op *op = arg;

	op->val = rdmsr(op->msr);
}

static void do_wrmsr(void *arg)
{
	struct msr_op *op = arg;

	wrmsr(op->msr, op->val);
}

int rdmsr_safe(u32 msr, u64 *val)
{
	struct msr_op op = { msr, 0 };
	int v = catch_exception(do_rdmsr, &op);

	if (v == NO_EXCEPTION)
		*val = op.val;
	return v;
}

int wrmsr_safe(u32 msr, u64 val)
{
	struct msr_op op = { msr, val };

	return catch_exception(do_wrmsr, &op);
}
