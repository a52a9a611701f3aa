/* The policies this image carries: the WebAssembly ones built from
 * firmware/policy/ (policy_wasm.c), then the built-in round-robin. */
#include "core/sched_ops.h"
#include <cg/string.h>

extern const struct sched_ops *const policy_wasm_list[];
extern const u32 policy_wasm_count;

const struct sched_ops *sched_policy_at(u32 i)
{
	if (i < policy_wasm_count)
		return policy_wasm_list[i];
	return i == policy_wasm_count ? &sched_rr_ops : NULL;
}

const struct sched_ops *sched_policy_find(const char *name)
{
	const struct sched_ops *p;
	for (u32 i = 0; (p = sched_policy_at(i)); i++)
		if (!strcmp(p->name, name))
			return p;
	return NULL;
}

const struct sched_ops *sched_policy_default(void)
{
	return sched_policy_at(0);
}
