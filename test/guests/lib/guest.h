/* The test-guest library: what every guest kernel in test/guests/ may use.
 *
 * A guest defines `int main(void)`; the library's entry code has already
 * set up a stack, a flat GDT and an IDT, and copied the Multiboot info.
 * main's return value becomes the exit code (see exit()), so a guest
 * normally ends with `return report_summary();`.
 *
 * Nothing here is safe to call from two CPUs at once unless its comment
 * says so; console output and report() are (they take a lock). */
#ifndef GUEST_H
#define GUEST_H

#include "types.h"
#include "cpu.h"

/* GDT selectors (entry.asm). The 16-bit ones let a guest drop to real mode. */
#define SEL_CODE32 0x08
#define SEL_DATA32 0x10
#define SEL_CODE16 0x18
#define SEL_DATA16 0x20

/* Exception vectors (SDM Vol. 3A, 6.3.1). */
#define VEC_DE 0
#define VEC_DB 1
#define VEC_NMI 2
#define VEC_BP 3
#define VEC_UD 6
#define VEC_DF 8
#define VEC_GP 13
#define VEC_PF 14
#define VEC_AC 17
#define NO_EXCEPTION (-1)

/* Defined by each guest. Returns the exit code passed to exit(). */
int main(void);

/* ---- console (serial COM1, port 0x3F8); all take the console lock ---- */
void putc(char c);
/* Writes s as is: unlike libc, no newline is added. */
void puts(const char *s);
/* %d %u %x %s %c and %%, with optional '0' flag and width; "ll" before x
 * prints 64 bits. No floats, no 64-bit decimal (no libgcc here). */
int printf(const char *fmt, ...) PRINTF_LIKE(1, 2);
int vprintf(const char *fmt, va_list ap);

/* ---- reporting, kvm-unit-tests style ---- */
/* Prints "PASS: msg" or "FAIL: msg" and counts the check. */
void report(bool ok, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* Prints "SKIP: msg"; skipped checks are not failures. */
void report_skip(const char *fmt, ...) PRINTF_LIKE(1, 2);
/* Prints "INFO: msg"; not a check. */
void report_info(const char *fmt, ...) PRINTF_LIKE(1, 2);
/* Prints "SUMMARY: N tests, M unexpected failures" (plus ", K skipped"
 * when K > 0). Returns 0 if nothing failed, 1 otherwise. */
int report_summary(void);
/* Ends the VM through isa-debug-exit (port 0xF4): QEMU's exit status is
 * (code << 1) | 1. If the port does nothing, halts forever. */
void exit(int code) NORETURN;
/* True when CPUID leaf 0x40000000 says "CrossGuardVM". Tests gate their
 * crossguard-only checks on it and report_skip them otherwise. */
bool on_crossguard(void);
/* One step of a busy wait: PAUSE, plus (every 64th step) a yield hypercall
 * under crossguard so a vCPU we wait for gets to run. Safe on any CPU. */
void relax(void);
/* Busy-waits n PAUSEs. Only an order of magnitude: there is no calibrated
 * timer (the PIT is not emulated by crossguard). */
void delay(u32 n);
/* Upper bound, in relax() steps, for every "wait until" loop. */
#define SPIN_LIMIT (1u << 24)
/* Waits, in relax() steps (at most SPIN_LIMIT), until *p >= value (a
 * counter another CPU or a handler raises). False on timeout. */
bool wait_until(volatile u32 *p, u32 value);

/* ---- exceptions (trap.c, entry.asm) ---- */
/* Runs fn(arg) and returns the vector of the first exception it raised
 * (execution resumes after the call, fn's remaining code is skipped), or
 * NO_EXCEPTION if it returned normally. One CPU at a time. */
int catch_exception(void (*fn)(void *arg), void *arg);
/* Error code pushed by the exception that catch_exception last caught
 * (0 for vectors without one). */
u32 caught_error_code(void);
/* Reads or writes an MSR, catching the fault: return NO_EXCEPTION on
 * success (with *val set for reads), else the vector (normally VEC_GP). */
int rdmsr_safe(u32 msr, u64 *val);
int wrmsr_safe(u32 msr, u64 val);

/* Caught exceptions' EFLAGS image, as the CPU pushed it (RF, bit 16, is
 * set for faults: SDM Vol 3A 17.3.1.1). */
u32 caught_eflags(void);

/* The frame an interrupt or exception stub leaves (PUSHAD order, then
 * vector and error code, then what the CPU pushed: a same-privilege
 * frame, so no ESP/SS). IRET loads eip, cs and eflags back from it. */
struct trap_frame {
	u32 edi, esi, ebp, esp, ebx, edx, ecx, eax;
	u32 vector, error;
	u32 eip, cs, eflags;
};
/* Frame handler for any vector 0..255, NMI (2) included: sees (and may
 * change) the whole frame, and runs instead of catch_exception, the
 * irq_handler and the unexpected-exception report. NULL removes it. An
 * interrupt's handler sends its own EOI. Safe on any CPU. */
typedef void (*trap_handler)(struct trap_frame *f);
bool trap_register(u32 vector, trap_handler h);

/* Interrupt handler for vectors 32..255, called with interrupts off and
 * expected to send its own EOI. */
typedef void (*irq_handler)(u32 vector);
/* Installs h for vector (32..255) in the shared IDT. Returns false for an
 * exception vector. Safe on any CPU: the IDT is shared, the slot is one
 * word. */
bool irq_register(u32 vector, irq_handler h);
/* Loads the library IDT on the calling CPU (the APs do this on start). */
void idt_load(void);

/* ---- ring 3 (ring3.c, ring3.asm) ---- */
/* Selectors of the GDT rings_init loads: the library's flat ones (above),
 * then these. A conforming code segment keeps the CPL of whoever enters
 * it (an interrupt gate to it from CPL 3 runs the handler at CPL 3, on
 * the interrupted stack). */
#define SEL_UCODE 0x2B      /* ring-3 flat code */
#define SEL_UDATA 0x33      /* ring-3 flat data */
#define SEL_TSS 0x38
#define SEL_CONFORMING 0x40 /* conforming ring-0 flat code */
/* IDT gate types: 32-bit interrupt gate, present, DPL 0 or 3 */
#define GATE_INT_DPL0 0x8E
#define GATE_INT_DPL3 0xEE
/* The DPL 3 gate that ends run_user's code (INT 0x81). */
#define VEC_USER_RETURN 0x81
/* Loads that GDT and a TSS (ESP0: a 4 KiB kernel stack of the library),
 * and installs the INT 0x81 gate. BSP, once, before run_user. */
void rings_init(void);
/* The IDT this CPU uses (SIDT): the library's shared one. */
u8 *idt_base(void);
/* Points IDT entry vec (the shared IDT) at fn through selector sel with
 * gate type. */
void set_gate(u32 vec, void (*fn)(void), u16 sel, u8 type);
/* Runs fn at CPL 3 on user_esp with eflags; fn ends with INT 0x81, and
 * run_user returns (ring 0, its caller's registers and stack back). */
void run_user(void (*fn)(void), u32 user_esp, u32 eflags);

/* ---- Multiboot info (copied at entry, so low memory may be reused) ---- */
struct mb_mmap_entry {
	u64 base, len;
	u32 type; /* 1 = usable RAM */
};
/* Full command line ("<kernel path> <args>"), "" if none was given. */
const char *mb_cmdline(void);
/* mem_upper in KiB (RAM above 1 MiB), 0 if the loader gave no value. */
u32 mb_mem_upper_kb(void);
u32 mb_mem_lower_kb(void);
/* End of the RAM that starts at 1 MiB (from mem_upper), 0 if not given. */
u32 mb_ram_end(void);
/* Number of memory map entries copied (at most 32). */
u32 mb_mmap_count(void);
/* Copies map entry i to *e; false if i is out of range. */
bool mb_mmap_get(u32 i, struct mb_mmap_entry *e);
/* Value of `key=N` on the command line (decimal or 0x-hex), or def when
 * the key is absent or its value does not parse. */
u32 cmdline_uint(const char *key, u32 def);

/* ---- QEMU fw_cfg, legacy I/O interface (selector 0x510, data 0x511) ---- */
#define FWCFG_SIGNATURE 0x0000
#define FWCFG_ID 0x0001
#define FWCFG_RAM_SIZE 0x0003
#define FWCFG_NB_CPUS 0x0005
/* True when key 0 reads "QEMU". */
bool fwcfg_present(void);
/* Selects key and reads len bytes of it into buf (byte by byte, INB). */
void fwcfg_read(u16 key, void *buf, u32 len);
/* vCPU count (key 5), or 0 when fw_cfg is absent. */
u32 fwcfg_cpu_count(void);

/* ---- string.c (gcc may also emit calls to the mem* ones) ---- */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strncmp(const char *a, const char *b, size_t n);

#endif
