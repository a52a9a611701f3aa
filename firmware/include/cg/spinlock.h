/* A test-and-test-and-set spinlock on a u32, built on compiler atomics so the
 * same code runs in the monitor and in host unit tests. */
#ifndef CG_SPINLOCK_H
#define CG_SPINLOCK_H

#include <cg/types.h>

static inline void spin_lock(u32 *l)
{
	while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE)) {
		while (__atomic_load_n(l, __ATOMIC_RELAXED))
			__builtin_ia32_pause();
	}
}

/* spin_trylock: take l if it is free; true when taken. For work that
 * whoever holds the lock does anyway (a poll another CPU is running). */
static inline bool spin_trylock(u32 *l)
{
	return !__atomic_load_n(l, __ATOMIC_RELAXED) && !__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE);
}

static inline void spin_unlock(u32 *l)
{
	__atomic_store_n(l, 0, __ATOMIC_RELEASE);
}

#endif
