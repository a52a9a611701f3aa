/* Port I/O and MMIO loads/stores: the x86 instructions both arch/x86 (its
 * 16550, PIT, local APIC) and the host device drivers (drivers/: PCI
 * config ports, NIC registers) need. Inline, so no call crosses a layer;
 * only monitor code includes it (host tests reach devices through the
 * models' and drivers' environments). MMIO goes through the identity map,
 * whose memory type firmware's MTRRs make uncached for device windows. */
#ifndef CG_HW_IO_H
#define CG_HW_IO_H

#include <cg/types.h>

static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
static inline u8 inb(u16 port)
{
	u8 v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline void outw(u16 port, u16 v) { __asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port)); }
static inline void outl(u16 port, u32 v) { __asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port)); }
static inline u32 inl(u16 port)
{
	u32 v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline u32 mmio_read32(u64 addr) { return *(volatile u32 *)(uintptr_t)addr; }
static inline void mmio_write32(u64 addr, u32 v) { *(volatile u32 *)(uintptr_t)addr = v; }

#endif
