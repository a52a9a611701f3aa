/* 64-bit unsigned division for the 32-bit test guests, which link no
 * libgcc (so a plain u64 '/' would not link): shift and subtract. */
#ifndef GUEST_DIV64_H
#define GUEST_DIV64_H

#include "types.h"

/* n / d, and n % d in *rem when rem is not NULL. d == 0 gives ~0 (no trap:
 * a guest measuring a rate over a zero interval gets an absurd number, not
 * a #DE). */
static inline u64 udiv64(u64 n, u64 d, u64 *rem)
{
	if (d == 0) {
		if (rem)
			*rem = 0;
		return ~0ull;
	}
	u64 q = 0, r = 0;
	for (int i = 63; i >= 0; i--) {
		r = (r << 1) | ((n >> i) & 1);
		if (r >= d) {
			r -= d;
			q |= 1ull << i;
		}
	}
	if (rem)
		*rem = r;
	return q;
}

#endif
