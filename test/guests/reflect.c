/* reflect: #DB and #AC raised in the guest reach the guest's own handlers
 * with what the CPU would have given them, though crossguard intercepts
 * both (docs/guest-abi.md): a TF single step (DR6.BS), a data breakpoint
 * (DR6.B0), and #AC from a misaligned read at CPL 3 with CR0.AM and
 * EFLAGS.AC (error code 0). With loop=ac or loop=db on the command line
 * it instead arranges a fault raised while that very fault is delivered
 * (CVE-2015-5307, CVE-2015-8104) and never comes back: on bare hardware
 * that wedges the CPU; under crossguard every attempt is a VM exit, the
 * VM keeps being preempted, and only an operator's `vm stop` ends it.
 * Handlers and ring-3 code: reflect.asm. */
#include "guest.h"

#define CR0_AM (1u << 18)
#define RFLAGS_AC (1u << 18)
#define RFLAGS_RESERVED (1u << 1)
#define DR6_B0 (1u << 0)
#define DR6_BS (1u << 14)

extern volatile u32 db_count, db_dr6, ac_count, ac_error, loop_escaped, user_value;
extern u8 user_buf[16];
void db_handler(void), ac_handler(void), user_misaligned(void);
void user_ac_loop(void), ac_loop_escape(void), db_loop_escape(void);
void run_db_loop(u32 dr0);

static u8 user_stack[4096] __attribute__((aligned(16)));

static bool arg(const char *word)
{
	const char *c = mb_cmdline();
	size_t n = strlen(word);
	for (; *c; c++)
		if (!strncmp(c, word, n) && (c[n] == ' ' || !c[n]))
			return true;
	return false;
}

static void checks(void)
{
	set_gate(VEC_DB, db_handler, 0x08, GATE_INT_DPL0);
	__asm__ volatile("mov %0, %%dr6" : : "r"(0xFFFF0FF0u));
	/* POPF sets TF: the instruction after it single-steps. */
	__asm__ volatile("pushf; orl $0x100, (%%esp); popf; nop" : : : "memory", "cc");
	report(db_count == 1, "TF single step: the guest's #DB handler ran once (%u)", db_count);
	report(db_dr6 & DR6_BS, "DR6.BS set for the single step (DR6 0x%x)", db_dr6);
	report(!(db_dr6 & 0xF), "DR6.B0-B3 clear for the single step");

	static volatile u32 watched;
	__asm__ volatile("mov %0, %%dr0" : : "r"(&watched));
	__asm__ volatile("mov %0, %%dr7" : : "r"(0x000D0401u)); /* L0, write, 4 bytes */
	watched = 5;
	__asm__ volatile("mov %0, %%dr7" : : "r"(0x400u));
	report(db_count == 2, "data breakpoint: the #DB handler ran (%u)", db_count);
	report(db_dr6 & DR6_B0, "DR6.B0 set for breakpoint 0 (DR6 0x%x)", db_dr6);

	set_gate(VEC_AC, ac_handler, 0x08, GATE_INT_DPL0);
	memcpy(user_buf, "\x11\x22\x33\x44\x55\x66\x77\x88", 8);
	run_user(user_misaligned, (u32)(user_stack + sizeof(user_stack)),
		 RFLAGS_AC | RFLAGS_RESERVED);
	if (ac_count == 0 && !on_crossguard()) {
		report_skip("#AC at CPL 3: this CPU model does not check alignment (QEMU TCG)");
		return;
	}
	report(ac_count == 1, "misaligned read at CPL 3 with AM and AC: #AC handler ran once (%u)",
	       ac_count);
	report(ac_error == 0, "#AC error code 0 (0x%x)", ac_error);
	report(user_value == 0x55443322, "the read was retried without AC (0x%x)", user_value);
}

int main(void)
{
	rings_init();
	__asm__ volatile("mov %%cr0, %%eax; or %0, %%eax; mov %%eax, %%cr0" : : "i"(CR0_AM) : "eax");
	if (arg("loop=ac")) {
		set_gate(VEC_AC, ac_loop_escape, SEL_CONFORMING, GATE_INT_DPL0);
		report_info("reflect: entering the #AC loop");
		run_user(user_ac_loop, (u32)(user_stack + sizeof(user_stack)) - 3,
			 RFLAGS_AC | RFLAGS_RESERVED);
		report(!loop_escaped, "#AC raised while delivering #AC never reaches the handler");
	} else if (arg("loop=db")) {
		set_gate(VEC_DB, db_loop_escape, 0x08, GATE_INT_DPL0);
		report_info("reflect: entering the #DB loop");
		run_db_loop((u32)(idt_base() + VEC_DB * 8));
		report(!loop_escaped, "#DB raised while delivering #DB never reaches the handler");
	} else {
		checks();
	}
	return report_summary();
}
