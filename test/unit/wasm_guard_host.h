/* Guard mode's window on a Linux host (firmware/policy/rt/README.md), for
 * test_wasm_guard.c and the pick bench: the memory's pages at the start of
 * a 16 GiB PROT_NONE reservation, and a SIGSEGV handler that turns a fault
 * in it into wasm_rt_trap_oob() (the monitor: an unmapped window in its
 * page tables, and its #PF fix-up). One window per process. */
#ifndef CG_TEST_WASM_GUARD_HOST_H
#define CG_TEST_WASM_GUARD_HOST_H

#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "wasm-rt.h"

static uint8_t *guard_window;
static int guard_window_faults; /* SIGSEGVs in the window so far */

/* guard_window_map: a wasm_rt_memory_mapper_t. The window gets its own
 * pages (nothing else reads the arena's); NULL if mmap fails. */
static inline void *guard_window_map(void *ctx, void *data, size_t bytes)
{
	(void)ctx;
	(void)data;
	if (!guard_window) {
		void *w = mmap(NULL, WASM_RT_GUARD_WINDOW_BYTES, PROT_NONE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (w == MAP_FAILED)
			return NULL;
		guard_window = w;
	}
	return mprotect(guard_window, bytes, PROT_READ | PROT_WRITE) ? NULL : guard_window;
}

static inline void guard_window_segv(int sig, siginfo_t *si, void *uc)
{
	uintptr_t a = (uintptr_t)si->si_addr, w = (uintptr_t)guard_window;

	(void)uc;
	if (w && a >= w && a - w < WASM_RT_GUARD_WINDOW_BYTES) {
		guard_window_faults++;
		wasm_rt_trap_oob(); /* SA_NODEFER: leaving by longjmp is fine */
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

/* guard_window_install: the SIGSEGV handler; anything outside the window
 * still kills the process. */
static inline void guard_window_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = guard_window_segv;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigaction(SIGSEGV, &sa, NULL);
}

#endif
