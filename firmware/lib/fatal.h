/* The one way the monitor dies: print a FATAL report (with an "@cg fatal"
 * marker first, for programs) and stop every CPU. No reboot: a lab operator
 * must be able to read the dump. */
#ifndef CG_FATAL_H
#define CG_FATAL_H

#include <cg/types.h>

/* fatal_begin: claim the fatal path for this CPU and stop the others.
 * Returns true for the first claimant; a CPU that loses the race, or
 * faults again inside its own report, halts here and never returns. */
bool fatal_begin(void);

/* fatal_stopping: true once the machine is being stopped (NMIs then mean
 * "halt", not a hardware error). */
bool fatal_stopping(void);

/* fatal_end: halt this CPU for good after the report. */
NORETURN void fatal_end(void);

/* panic: a broken invariant in the monitor; fmt names the function. */
NORETURN void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
