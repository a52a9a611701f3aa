/* pcid: process-context identifiers as a CPU without them behaves (SDM
 * Vol 3A 4.10.1; crossguard does not offer PCID): CPUID.1:ECX.PCID reads
 * 0, and MOV to CR4 that sets PCIDE raises #GP, in 64-bit mode too (the
 * only mode where a CPU with PCIDs takes it). INVPCID (Vol 2A) runs where
 * CPUID.(7,0):EBX.INVPCID offers it, with its own #GP rules for a CPU
 * whose CR4.PCIDE is 0, and raises #UD where it does not. */
#include "guest.h"
#include "long_mode.h"

#define CR4_PCIDE (1u << 17)
#define CPUID1_ECX_PCID (1u << 17)
#define CPUID7_EBX_INVPCID (1u << 10)
#define GATE_INT64 0x8Eull /* present, DPL 0, 64-bit interrupt gate */

/* What lm_set_cr4 (pcid.asm) reads and writes; offsets fixed there. */
struct cr4_try {
	u32 set;
	s32 vector;
	u32 cr4;
} __attribute__((packed));

void lm_set_cr4(struct cr4_try *t);
void lm_trap_ud(void);
void lm_trap_gp(void);
void lm_trap_pf(void);

static u64 pml4[512] __attribute__((aligned(4096)));
static u64 pdpt[512] __attribute__((aligned(4096)));
static u64 pd[512] __attribute__((aligned(4096)));
static u64 idt64[2 * 32] __attribute__((aligned(16)));
static struct {
	u16 limit;
	u64 base;
} __attribute__((packed)) idtr64;

/* A 64-bit interrupt gate (SDM Vol 3A 6.14.1) for vector to fn. */
static void gate(u32 vector, void (*fn)(void))
{
	u32 a = (u32)fn;
	idt64[2 * vector] = (a & 0xFFFFu) | ((u64)LM_SEL_CODE64 << 16) | (GATE_INT64 << 40) |
			    ((u64)(a >> 16) << 48);
	idt64[2 * vector + 1] = 0; /* offset 63:32 */
}

static void set_pcide32(void *arg)
{
	(void)arg;
	write_cr4(read_cr4() | CR4_PCIDE);
}

static struct {
	u64 pcid;
	u64 addr;
} __attribute__((aligned(16))) desc;
static u32 inv_type;

static void do_invpcid(void *arg)
{
	(void)arg;
	/* 66 0F 38 82 /r: INVPCID r32, m128 */
	__asm__ volatile("invpcid %0, %1" : : "m"(desc), "r"(inv_type) : "memory");
}

static int invpcid(u32 type, u64 pcid, u64 addr)
{
	inv_type = type;
	desc.pcid = pcid;
	desc.addr = addr;
	return catch_exception(do_invpcid, NULL);
}

int main(void)
{
	bool pcid = cpuid(1, 0).ecx & CPUID1_ECX_PCID;
	bool inv = cpuid(0, 0).eax >= 7 && (cpuid(7, 0).ebx & CPUID7_EBX_INVPCID);
	if (on_crossguard())
		report(!pcid, "CPUID.1:ECX.PCID reads 0");
	else
		report_info("CPUID.1:ECX.PCID = %d", pcid);

	int v = catch_exception(set_pcide32, NULL);
	report(v == VEC_GP && !(read_cr4() & CR4_PCIDE), "CR4.PCIDE in 32-bit protected mode: #GP (vector %d)", v);

	lm_map_low_1g(pml4, pdpt, pd);
	gate(VEC_UD, lm_trap_ud);
	gate(VEC_GP, lm_trap_gp);
	gate(VEC_PF, lm_trap_pf);
	idtr64.limit = sizeof(idt64) - 1;
	idtr64.base = (u32)idt64;
	struct cr4_try t = { CR4_PCIDE, -1, 0 };
	struct lm_call c = { (u32)pml4, (u32)lm_set_cr4, (u32)&t, (u32)&idtr64 };
	long_mode_call(&c);
	if (!pcid)
		report(t.vector == VEC_GP && !(t.cr4 & CR4_PCIDE),
		       "CR4.PCIDE in 64-bit mode without PCID: #GP (vector %d, CR4 0x%x)", t.vector, t.cr4);
	else
		report(t.vector == -1 && (t.cr4 & CR4_PCIDE), "CR4.PCIDE in 64-bit mode with PCID: taken");
	t.set = 0;
	t.vector = -1;
	long_mode_call(&c);
	report(t.vector == -1, "a MOV to CR4 of its own value in 64-bit mode: no fault (vector %d)", t.vector);

	if (!inv) {
		v = invpcid(2, 0, 0);
		report(v == VEC_UD, "INVPCID not offered: #UD (vector %d)", v);
		return report_summary();
	}
	/* Types 0-3 for PCID 0 run; with CR4.PCIDE 0 a type 0 or 1 for
	 * another PCID is #GP, as is a type above 3. */
	static const struct {
		u32 type;
		u64 pcid, addr;
		int want;
		const char *what;
	} cases[] = {
		{ 0, 0, 0x100000, NO_EXCEPTION, "type 0 (one address, PCID 0) runs" },
		{ 1, 0, 0, NO_EXCEPTION, "type 1 (PCID 0) runs" },
		{ 2, 0, 0, NO_EXCEPTION, "type 2 (all, with globals) runs" },
		{ 3, 0, 0, NO_EXCEPTION, "type 3 (all but globals) runs" },
		{ 4, 0, 0, VEC_GP, "type 4: #GP" },
		{ 1, 1, 0, VEC_GP, "PCID 1 with CR4.PCIDE 0: #GP" },
	};
	for (u32 i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		v = invpcid(cases[i].type, cases[i].pcid, cases[i].addr);
		report(v == cases[i].want, "INVPCID %s (vector %d)", cases[i].what, v);
	}
	return report_summary();
}
