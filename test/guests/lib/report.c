/* Check reporting and exit, in the shape kvm-unit-tests uses, so a harness
 * can parse PASS/FAIL/SKIP lines and one SUMMARY line. */
#include "guest.h"
#include "internal.h"
#include <abi/hypercall.h>

#define DEBUG_EXIT_PORT 0xF4

static u32 tests, failures, skipped;

void report(bool ok, const char *fmt, ...)
{
	va_list ap;

	__atomic_fetch_add(&tests, 1, __ATOMIC_RELAXED);
	if (!ok)
		__atomic_fetch_add(&failures, 1, __ATOMIC_RELAXED);
	va_start(ap, fmt);
	console_vprint(ok ? "PASS: " : "FAIL: ", fmt, ap, "\n");
	va_end(ap);
}

void report_skip(const char *fmt, ...)
{
	va_list ap;

	__atomic_fetch_add(&skipped, 1, __ATOMIC_RELAXED);
	va_start(ap, fmt);
	console_vprint("SKIP: ", fmt, ap, "\n");
	va_end(ap);
}

void report_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	console_vprint("INFO: ", fmt, ap, "\n");
	va_end(ap);
}

int report_summary(void)
{
	printf("SUMMARY: %u tests, %u unexpected failures", tests, failures);
	if (skipped)
		printf(", %u skipped", skipped);
	printf("\n");
	return failures ? 1 : 0;
}

void exit(int code)
{
	/* 4-byte write: isa-debug-exit is configured with iosize=4. */
	outl(DEBUG_EXIT_PORT, (u32)code);
	for (;;)
		__asm__ volatile("cli; hlt");
}

bool on_crossguard(void)
{
	static int cached = -1;

	if (cached < 0) {
		bool hv = cpuid(1, 0).ecx & (1u << 31);
		struct cpuid_regs r = cpuid(0x40000000, 0);
		/* Leaf 0x4000_0000 is only meaningful with the hypervisor bit. */
		cached = hv && r.ebx == 0x736f7243 && r.ecx == 0x61754773 && r.edx == 0x4d566472;
	}
	return cached;
}

void relax(void)
{
	static u32 steps;

	pause();
	/* A yield per step would make every wait a stream of VM exits; one in
	 * 64 still lets a vCPU sharing our physical CPU make progress. The
	 * counter is shared and racy on purpose: it only sets a rate. */
	if ((++steps & 63) == 0 && on_crossguard()) {
		u32 a = HC_YIELD;
		__asm__ volatile("vmcall" : "+a"(a) : : "memory");
	}
}

void delay(u32 n)
{
	while (n--)
		pause();
}

bool wait_until(volatile u32 *p, u32 value)
{
	for (u32 i = 0; i < SPIN_LIMIT; i++) {
		if (__atomic_load_n(p, __ATOMIC_SEQ_CST) >= value)
			return true;
		relax();
	}
	return false;
}
