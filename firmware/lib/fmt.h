/* printf-style formatting into a buffer: %d %i %u %x %X %p %s %c %%, with
 * flags '0' and '-', a width, and the l / ll / z length modifiers. No floats:
 * the monitor is built with -mgeneral-regs-only. */
#ifndef CG_FMT_H
#define CG_FMT_H

#include <cg/types.h>
#include <stdarg.h>

/* fmt_vsnprintf: format into buf (always NUL-terminated when size > 0).
 * Returns the length the full output would have had, like vsnprintf. */
int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

/* fmt_snprintf: fmt_vsnprintf with variadic arguments. */
int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
