/* Per-CPU architectural state. GS base points at the CPU's struct percpu so
 * this_percpu() is one load, on every CPU. */
#ifndef X86_PERCPU_H
#define X86_PERCPU_H

#include <cg/types.h>
#include <cg/arch_base.h>

/* 64-bit TSS (SDM Vol 3A 8.7) */
struct tss64 {
	u32 reserved0;
	u64 rsp[3];
	u64 reserved1;
	u64 ist[7];
	u64 reserved2;
	u16 reserved3;
	u16 iomap_base;
} PACKED;

enum ist_slot { IST_DOUBLE_FAULT = 1, IST_NMI = 2, IST_MACHINE_CHECK = 3 };

struct percpu {
	struct percpu *self; /* must stay first: this_percpu() reads %gs:0 */
	u32 index;
	u32 apic_id;
	u64 stack_top;
	struct tss64 tss;
	u64 vmxon_phys;
	u32 fatal_depth;
	u8 spec_flags;       /* SPEC_F_* (vmx/spec_ctrl.h): read by the VMX stubs */
};

extern struct percpu percpu_table[CG_MAX_CPUS];

static inline struct percpu *this_percpu(void)
{
	struct percpu *p;
	__asm__ volatile("mov %%gs:0, %0" : "=r"(p));
	return p;
}

/* percpu_install: set GS base to index's slot and fill its identity. */
void percpu_install(u32 index, u32 apic_id, u64 stack_top);

/* gdt_load_cpu: build (once) the GDT, give this CPU its TSS with IST stacks
 * taken from ist_stacks (3 stacks of IST_STACK_SIZE, top addresses), load
 * GDTR, segments and TR. */
#define IST_STACK_SIZE 8192
void gdt_load_cpu(struct percpu *pc, const u64 ist_tops[3]);

/* idt_load: build (once) and load the IDT with the trap stubs. */
void idt_load(void);

#define GDT_KERNEL_CODE 0x08
#define GDT_KERNEL_DATA 0x10
#define GDT_TSS_BASE    0x18

#endif
