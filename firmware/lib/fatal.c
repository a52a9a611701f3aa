#include "lib/fatal.h"
#include <cg/arch_base.h>
#include "lib/fmt.h"
#include "lib/log.h"
#include <stdarg.h>

#define FATAL_NOBODY 0xFFFFFFFFu

static u32 fatal_owner = FATAL_NOBODY;

bool fatal_begin(void)
{
	u32 me = arch_cpu_index();
	u32 expected = FATAL_NOBODY;
	if (!__atomic_compare_exchange_n(&fatal_owner, &expected, me, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE)) {
		if (expected == me)
			kprintf("FATAL: cpu %u faulted again while reporting; halted\n", me);
		arch_halt_forever();
	}
	arch_stop_others();
	/* A stopped CPU may have died holding the output lock. */
	log_force_unlock();
	return true;
}

bool fatal_stopping(void)
{
	return __atomic_load_n(&fatal_owner, __ATOMIC_ACQUIRE) != FATAL_NOBODY;
}

void fatal_end(void)
{
	kprintf("FATAL: machine stopped; reset it to recover\n");
	arch_halt_forever();
}

void panic(const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	fmt_vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fatal_begin();
	char quoted[300];
	cg_marker("fatal", "cpu=%u kind=panic reason=\"%s\"", arch_cpu_index(),
		  cg_quote(quoted, sizeof(quoted), msg));
	kprintf("FATAL: cpu %u: panic: %s\n", arch_cpu_index(), msg);
	fatal_end();
}
