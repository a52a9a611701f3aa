/* A small cache of finished CPUID answers, one per host CPU (exit_cpuid.c
 * keeps one per CPU: one writer, no locks, and each CPU caches what its
 * own CPUID said). Only leaves whose answer is the same for every vCPU
 * and every guest state go in (cpuid_policy_cacheable): a hit replaces
 * the host CPUID, the table's call and the made-up leaves' arithmetic on
 * every later exit, the way KVM answers from the table it built at VM
 * creation. Direct-mapped on the leaf; a collision just refills. Pure:
 * host-tested (test/unit/test_cpuid_cache.c). */
#ifndef X86_VMX_CPUID_CACHE_H
#define X86_VMX_CPUID_CACHE_H

#include <cg/types.h>
#include "arch/x86/cpu_ops.h"

#define CPUID_CACHE_SLOTS 16 /* basic leaves 0-15, extended 0x80000000-7 */

struct cpuid_cache_slot {
	u64 key; /* leaf | sub << 32 */
	bool valid;
	struct cpuid_regs r;
};

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

/* cpuid_cache_get: the cached answer to (leaf, sub), or NULL. The
 * subleaf is part of the key even for leaves that ignore it: a guest
 * asking with another ECX misses once and refills, never gets another
 * subleaf's answer. */
static inline const struct cpuid_regs *cpuid_cache_get(const struct cpuid_cache *c, u32 leaf,
							u32 sub)
{
	const struct cpuid_cache_slot *s = &c->slot[cpuid_cache_index(leaf)];
	return s->valid && s->key == ((u64)sub << 32 | leaf) ? &s->r : NULL;
}

/* cpuid_cache_put: remember r as the answer to (leaf, sub); the caller
 * puts only cacheable leaves. */
static inline void cpuid_cache_put(struct cpuid_cache *c, u32 leaf, u32 sub,
				   const struct cpuid_regs *r)
{
	struct cpuid_cache_slot *s = &c->slot[cpuid_cache_index(leaf)];
	s->key = (u64)sub << 32 | leaf;
	s->r = *r;
	s->valid = true;
}

#endif
