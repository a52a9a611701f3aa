/* Library-internal interfaces: not for guests. */
#ifndef GUEST_INTERNAL_H
#define GUEST_INTERNAL_H

#include "types.h"

/* Prints prefix, the formatted text and suffix as one unit under the
 * console lock, so lines from several CPUs never interleave. */
void console_vprint(const char *prefix, const char *fmt, va_list ap, const char *suffix);
/* Copies the Multiboot info block; warns when magic is wrong. */
void mb_init(u32 magic, u32 info);
/* Fills and loads the IDT (BSP, once). */
void idt_init(void);

#endif
