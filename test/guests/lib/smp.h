/* Minimal xAPIC driver and AP bring-up for the test guests.
 * The xAPIC is used in MMIO mode at its reset base 0xFEE00000 (SDM Vol. 3A,
 * 10.4); x2APIC is never enabled (crossguard hides it). */
#ifndef GUEST_SMP_H
#define GUEST_SMP_H

#include "types.h"

#define APIC_BASE 0xFEE00000u
#define APIC_ID 0x020
#define APIC_VERSION 0x030
#define APIC_TPR 0x080
#define APIC_EOI 0x0B0
#define APIC_SVR 0x0F0
#define APIC_ISR 0x100
#define APIC_IRR 0x200
#define APIC_ICR_LO 0x300
#define APIC_ICR_HI 0x310
#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360
#define APIC_LVT_TIMER 0x320
#define APIC_TIMER_INITIAL 0x380
#define APIC_TIMER_CURRENT 0x390
#define APIC_TIMER_DIVIDE 0x3E0
#define LVT_PERIODIC (1U << 17)

/* ICR low fields (SDM Vol. 3A, 10.6.1) */
#define ICR_MODE_FIXED (0u << 8)
#define ICR_MODE_NMI (4u << 8)
#define ICR_LOGICAL (1u << 11)
#define ICR_LEVEL_ASSERT (1u << 14)
#define ICR_DEST_SELF (1u << 18)
#define ICR_DEST_ALL (2u << 18)
#define ICR_DEST_OTHERS (3u << 18)

#define AP_MAX 16
/* Physical page the AP trampoline is copied to; the SIPI vector is its
 * page number. Below 1 MiB because APs start in real mode. */
#define AP_TRAMPOLINE 0x8000u

u32 apic_read(u32 reg);
void apic_write(u32 reg, u32 val);
/* This CPU's xAPIC ID (ID register bits 31:24). */
u32 apic_id(void);
/* Software-enables this CPU's APIC (SVR bit 8, spurious vector 0xFF). */
void apic_enable(void);
void apic_eoi(void);
/* Waits for the ICR delivery-status bit to clear. False on timeout. */
bool apic_icr_wait(void);
/* IPIs to one physical destination; each returns apic_icr_wait()'s result. */
bool apic_send_init(u32 dest);
bool apic_send_sipi(u32 dest, u32 page);
bool apic_send_fixed(u32 dest, u32 vector);
/* Any IPI: ICR high gets dest (ignored by the shorthands), ICR low is low
 * (mode, shorthand, vector). */
bool apic_send(u32 dest, u32 low);
/* Whether vector is set in the 256-bit register at reg (ISR or IRR). */
bool apic_vector_set(u32 reg, u32 vector);

/* Timer tests: apic_tick_handler (register it for the timer's vector)
 * counts interrupts in apic_ticks, notes the TSC of the last one in
 * apic_tick_tsc and sends the EOI. One CPU's timer at a time. */
extern volatile u32 apic_ticks;
extern volatile u64 apic_tick_tsc;
void apic_tick_handler(u32 vector);
/* Halts with interrupts on (off again on return) until apic_ticks reaches
 * n or the TSC passes limit; true when it reached n. */
bool apic_tick_wait(u32 n, u64 limit);

/* Entry of an AP: runs in 32-bit protected mode on the AP's own 8 KiB
 * stack, with the library IDT loaded and interrupts off. If it returns,
 * the AP halts with interrupts off. */
typedef void (*ap_entry)(u32 apic_id);

/* Starts the AP with the given APIC ID (INIT, SIPI, SIPI again only if it
 * has not come up) and waits for it to reach C. False on timeout or when
 * AP_MAX APs were already started. */
bool smp_start_ap(u32 apic_id, ap_entry fn);
/* Starts the n-1 APs of an n-CPU VM, assuming APIC IDs 0..n-1 (what QEMU
 * and crossguard assign), skipping the caller's own. Returns how many came
 * up. */
u32 smp_start_all(u32 n, ap_entry fn);
/* APs that have reached C so far. */
u32 smp_online(void);

#endif
