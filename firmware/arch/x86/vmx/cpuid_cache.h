/* A small cache of finished CPUID answers (exit_cpuid.c keeps two per host
 * CPU, one for each IA32_MISC_ENABLE "limit CPUID maxval" state: one
 * writer, no locks, and each CPU caches what its own CPUID said). Only
 * leaves whose answer is the same for every vCPU and every guest state go
 * in (cpuid_policy_cacheable): a hit replaces the host CPUID, the table's
 * call and the made-up leaves' arithmetic on every later exit, the way KVM
 * answers from the table it built at VM creation. Direct-mapped on the
 * leaf; a collision just refills. Pure: host-tested
 * (test/unit/test_cpuid_cache.c). */
#ifndef X86_VMX_CPUID_CACHE_H
#define X86_VMX_CPUID_CACHE_H

#include <cg/types.h>
#include "arch/x86/cpu_ops.h"

#define CPUID_CACHE_SLOTS 16 /* basic leaves 0-15, extended 0x80000000-7 */

/* No valid flag: an empty slot holds the key of a leaf that another slot
 * takes (cpuid_cache_init), so the hit test is the key compare alone.
 * 32 bytes, aligned: a slot is one shift from its index and never spans
 * two cache lines. */
struct cpuid_cache_slot {
	struct cpuid_regs r; /* first: the slot's address is the answer's */
	u32 leaf, sub;
} __attribute__((aligned(32)));

struct cpuid_cache {
	struct cpuid_cache_slot slot[CPUID_CACHE_SLOTS];
};

/* The slot of leaf: basic leaves by their low bits, extended ones (bit 31)
 * offset by 8, so 0-7 and 0x80000000-7, the leaves guests ask most, never
 * evict one another. */
static inline u32 cpuid_cache_index(u32 leaf)
{
	return (leaf ^ (leaf >> 28)) & (CPUID_CACHE_SLOTS - 1);
}

/* cpuid_cache_init: empty c. Slot i gets the key of leaf i ^ 1 (subleaf
 * 0), which lives in slot i ^ 1: no lookup ever compares against it, so a
 * zeroed slot's leaf 0 is never mistaken for an answer. Before any get. */
static inline void cpuid_cache_init(struct cpuid_cache *c)
{
	for (u32 i = 0; i < CPUID_CACHE_SLOTS; i++)
		c->slot[i] = (struct cpuid_cache_slot){ .leaf = i ^ 1 };
}

/* cpuid_cache_slot_of: the slot where leaf's answers go. */
static inline const struct cpuid_cache_slot *cpuid_cache_slot_of(const struct cpuid_cache *c,
								 u32 leaf)
{
	return &c->slot[cpuid_cache_index(leaf)];
}

/* cpuid_cache_slot_holds: whether s (leaf's slot) holds the answer to
 * (leaf, sub): its r is then that answer. */
static inline bool cpuid_cache_slot_holds(const struct cpuid_cache_slot *s, u32 leaf, u32 sub)
{
	return s->leaf == leaf && s->sub == sub;
}

/* cpuid_cache_get: the cached answer to (leaf, sub), or NULL. The
 * subleaf is part of the key even for leaves that ignore it: a guest
 * asking with another ECX misses once and refills, never gets another
 * subleaf's answer. */
static inline const struct cpuid_regs *cpuid_cache_get(const struct cpuid_cache *c, u32 leaf,
							u32 sub)
{
	const struct cpuid_cache_slot *s = cpuid_cache_slot_of(c, leaf);
	return cpuid_cache_slot_holds(s, leaf, sub) ? &s->r : NULL;
}

/* cpuid_cache_put: remember r as the answer to (leaf, sub); the caller
 * puts only cacheable leaves, into an initialized c. */
static inline void cpuid_cache_put(struct cpuid_cache *c, u32 leaf, u32 sub,
				   const struct cpuid_regs *r)
{
	struct cpuid_cache_slot *s = &c->slot[cpuid_cache_index(leaf)];
	s->leaf = leaf;
	s->sub = sub;
	s->r = *r;
}

#endif
