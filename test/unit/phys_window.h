/* A "physical window" for parser tests: a heap buffer standing for physical
 * addresses [base, base+size). phys_map hands out pointers only inside it,
 * so a parser that follows a bad pointer gets NULL, and AddressSanitizer
 * catches any read past a range the parser did map. */
#ifndef CG_TEST_PHYS_WINDOW_H
#define CG_TEST_PHYS_WINDOW_H

#include <stdlib.h>
#include <string.h>
#include "lib/phys.h"

struct phys_window {
	u8 *buf;
	u64 base;
	u64 size;
	struct phys_access pa;
};

static const void *phys_window_map(const struct phys_access *pa, u64 addr, u64 len)
{
	const struct phys_window *w = pa->ctx;

	if (addr < w->base || addr - w->base > w->size || len > w->size - (addr - w->base))
		return NULL;
	return w->buf + (addr - w->base);
}

static inline void phys_window_open(struct phys_window *w, u64 base, u64 size)
{
	w->buf = calloc(1, size ? size : 1);
	if (!w->buf)
		abort();
	w->base = base;
	w->size = size;
	w->pa.map = phys_window_map;
	w->pa.ctx = w;
}

static inline void phys_window_close(struct phys_window *w)
{
	free(w->buf);
	w->buf = NULL;
}

/* Host pointer for a physical address the test itself knows is inside. */
static inline u8 *phys_window_at(struct phys_window *w, u64 addr)
{
	if (addr < w->base || addr - w->base >= w->size)
		abort();
	return w->buf + (addr - w->base);
}

static inline void put_le16(u8 *p, u16 v)
{
	p[0] = (u8)v;
	p[1] = (u8)(v >> 8);
}

static inline void put_le32(u8 *p, u32 v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (u8)(v >> (8 * i));
}

static inline void put_le64(u8 *p, u64 v)
{
	put_le32(p, (u32)v);
	put_le32(p + 4, (u32)(v >> 32));
}

#endif
