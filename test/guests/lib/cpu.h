/* Single-instruction helpers (port I/O, CPUID, MSRs, control registers).
 * All are static inline: each expands to the one instruction the tests
 * want the hypervisor to see, with nothing else around it. */
#ifndef GUEST_CPU_H
#define GUEST_CPU_H

#include "types.h"

static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outw(u16 port, u16 v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(u16 port, u32 v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }

static inline u8 inb(u16 port)
{
	u8 v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline u16 inw(u16 port)
{
	u16 v;
	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline u32 inl(u16 port)
{
	u32 v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* String I/O: REP INS/OUTS with the count in ECX. The register results
 * (what ECX and ESI/EDI end up as) are what the pio test checks, so they
 * are returned through *left and *end. */
static inline void rep_outsb(u16 port, const void *src, u32 n, u32 *left, const void **end)
{
	__asm__ volatile("cld; rep outsb" : "+S"(src), "+c"(n) : "d"(port) : "memory");
	*left = n;
	*end = src;
}

static inline void rep_insb(u16 port, void *dst, u32 n, u32 *left, void **end)
{
	__asm__ volatile("cld; rep insb" : "+D"(dst), "+c"(n) : "d"(port) : "memory");
	*left = n;
	*end = dst;
}

static inline void rep_insw(u16 port, void *dst, u32 n, u32 *left, void **end)
{
	__asm__ volatile("cld; rep insw" : "+D"(dst), "+c"(n) : "d"(port) : "memory");
	*left = n;
	*end = dst;
}

static inline void rep_insl(u16 port, void *dst, u32 n, u32 *left, void **end)
{
	__asm__ volatile("cld; rep insl" : "+D"(dst), "+c"(n) : "d"(port) : "memory");
	*left = n;
	*end = dst;
}

struct cpuid_regs {
	u32 eax, ebx, ecx, edx;
};

static inline struct cpuid_regs cpuid(u32 leaf, u32 subleaf)
{
	struct cpuid_regs r;
	__asm__ volatile("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx) : "a"(leaf), "c"(subleaf));
	return r;
}

/* RDMSR/WRMSR fault with #GP on a refused MSR: call them inside
 * catch_exception() (or use rdmsr_safe/wrmsr_safe) when that may happen. */
static inline u64 rdmsr(u32 msr)
{
	u32 lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((u64)hi << 32) | lo;
}

static inline void wrmsr(u32 msr, u64 v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((u32)v), "d"((u32)(v >> 32)) : "memory");
}

static inline u64 rdtsc(void)
{
	u32 lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}

static inline u32 read_cr0(void)
{
	u32 v;
	__asm__ volatile("mov %%cr0, %0" : "=r"(v));
	return v;
}

static inline u32 read_cr4(void)
{
	u32 v;
	__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

static inline void write_cr4(u32 v) { __asm__ volatile("mov %0, %%cr4" : : "r"(v) : "memory"); }

static inline void cli(void) { __asm__ volatile("cli" : : : "memory"); }
static inline void sti(void) { __asm__ volatile("sti" : : : "memory"); }
static inline void pause(void) { __asm__ volatile("pause" : : : "memory"); }
/* STI's one-instruction interrupt shadow makes "sti; hlt" race-free: an
 * interrupt that is already pending wakes the HLT instead of being taken
 * between the two instructions and lost. */
static inline void sti_hlt(void) { __asm__ volatile("sti; hlt" : : : "memory"); }

static inline u32 mmio_read32(uptr addr) { return *(volatile u32 *)addr; }
static inline void mmio_write32(uptr addr, u32 v) { *(volatile u32 *)addr = v; }

#endif
