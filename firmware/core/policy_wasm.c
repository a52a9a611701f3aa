/* WebAssembly scheduler policies: each firmware/policy module, compiled to
 * C by wasm2c (build/policy/<name>.c) and run by the monitor's runtime
 * (firmware/policy/rt), wrapped as a struct sched_ops. Every call into a
 * module is guarded: a trap or a used-up fuel budget comes back as an
 * error code, the wrapper records it, and the scheduler core (which holds
 * sched_lock around every call) switches to the round-robin. */
#include "core/sched_ops.h"
#include "core/virt.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "abi/policy_abi.h"
#include "policies.h" /* generated: #includes every module, POLICY_LIST(X) */
#include <cg/string.h>
#include <wasm-rt.h>

/* Guard windows (wasm-rt.h, WASM_RT_GUARD_REGION): each policy's linear
 * memory is mapped at the start of its own 16 GiB window, the rest of
 * which stays unmapped, so the generated code checks no bounds: an
 * out-of-bounds access page-faults, and the fault handler resumes at
 * wasm_rt_trap_oob(), which unwinds the guarded call like any other trap.
 * The windows sit in the last 512 GiB slot of the lower canonical half
 * (PML4 entry 255), far above any RAM the identity map covers. */
#define WP_WINDOW_BASE 0x00007F8000000000ULL
#define WP_WINDOWS 32 /* 32 x 16 GiB: the whole PML4 slot */

/* Fuel for one policy call: loop iterations plus function calls. A pick
 * over 256 vCPUs needs a few thousand; this leaves a wide margin and still
 * stops a runaway loop within a millisecond or so. */
#define POLICY_FUEL 200000
#define POLICY_ARENA_PAGES POLICY_MEMORY_PAGES_MAX
#define POLICY_ARENA_ELEMS 1024

/* OP_DECIDE: pick_next then pick_slice in one guarded call (the slice in
 * the call's `c`): what the core asks for at every scheduling decision. */
enum wp_op {
	OP_INIT, OP_ADD, OP_REMOVE, OP_WAKE, OP_BLOCK, OP_RAN, OP_PICK, OP_SLICE, OP_TICK, OP_PARAM,
	OP_DECIDE,
};

/* The exports every module has, with the instance as an opaque pointer
 * (wasm2c's signatures differ only in the instance type). */
struct wp_exports {
	void (*init_module)(void);
	void (*instantiate)(void *);
	void (*free)(void *);
	u32 (*init)(void *, u32, u64);
	u32 (*vcpu_add)(void *, u32, u32, u32, u32, u32);
	void (*vcpu_remove)(void *, u32);
	u32 (*vcpu_wake)(void *, u32, u64);
	void (*vcpu_block)(void *, u32, u64);
	void (*vcpu_ran)(void *, u32, u32, u64, u64);
	u32 (*pick_next)(void *, u32, u64);
	u64 (*pick_slice)(void *, u32);
	u32 (*on_tick)(void *, u32, u64);
	u32 (*set_param)(void *, u32, u32, u64);
};

struct wasm_policy {
	const char *name;
	const struct wp_exports *x;
	void *instance;
	struct wasm_rt_arena arena;
	u64 arena_phys;
	u64 window; /* its guard window's address, 0 until its first memory */
	bool ready;
	const char *fault;
};

struct wp_call {
	struct wasm_policy *p;
	enum wp_op op;
	u64 a, b, c, d, e;
	u64 ret;
};

static void wp_dispatch(void *ctx)
{
	struct wp_call *k = ctx;
	const struct wp_exports *x = k->p->x;
	void *in = k->p->instance;
	switch (k->op) {
	case OP_INIT:
		k->ret = (s32)x->init(in, (u32)k->a, k->b);
		break;
	case OP_ADD:
		k->ret = (s32)x->vcpu_add(in, (u32)k->a, (u32)k->b, (u32)k->c, (u32)k->d, (u32)k->e);
		break;
	case OP_REMOVE:
		x->vcpu_remove(in, (u32)k->a);
		break;
	case OP_WAKE:
		k->ret = (s32)x->vcpu_wake(in, (u32)k->a, k->b);
		break;
	case OP_BLOCK:
		x->vcpu_block(in, (u32)k->a, k->b);
		break;
	case OP_RAN:
		x->vcpu_ran(in, (u32)k->a, (u32)k->b, k->c, k->d);
		break;
	case OP_PICK:
		k->ret = (s32)x->pick_next(in, (u32)k->a, k->b);
		break;
	case OP_SLICE:
		k->ret = x->pick_slice(in, (u32)k->a);
		break;
	case OP_DECIDE:
		k->ret = (s32)x->pick_next(in, (u32)k->a, k->b);
		k->c = x->pick_slice(in, (u32)k->a);
		break;
	case OP_TICK:
		k->ret = (s32)x->on_tick(in, (u32)k->a, k->b);
		break;
	case OP_PARAM:
		k->ret = (s32)x->set_param(in, (u32)k->a, (u32)k->b, k->c);
		break;
	}
}

static void wp_instantiate(void *ctx)
{
	struct wasm_policy *p = ctx;
	p->x->instantiate(p->instance);
}

/* wp_map: the arena's mapper: the policy's memory at the start of its
 * window (the same pages every time it is instantiated again). */
static void *wp_map(void *ctx, void *data, size_t bytes)
{
	static u32 windows_used;
	struct wasm_policy *p = ctx;

	if (!p->window) {
		if (windows_used == WP_WINDOWS)
			return NULL;
		if (!windows_used)
			arch_set_fault_window(WP_WINDOW_BASE,
					      WP_WINDOW_BASE + WP_WINDOWS * WASM_RT_GUARD_WINDOW_BYTES,
					      wasm_rt_trap_oob);
		p->window = WP_WINDOW_BASE + windows_used++ * WASM_RT_GUARD_WINDOW_BYTES;
	}
	if (arch_map_window(p->window, (u64)(uintptr_t)data, bytes))
		return NULL;
	return (void *)(uintptr_t)p->window;
}

/* wp_start: a fresh instance (first use, or after a fault). */
static bool wp_start(struct wasm_policy *p)
{
	if (!p->arena_phys) {
		u64 bytes = WASM_RT_ARENA_BYTES(POLICY_ARENA_PAGES, POLICY_ARENA_ELEMS);
		p->arena_phys = mem_alloc_pages(ALIGN_UP(bytes, PAGE_SIZE) / PAGE_SIZE);
		if (!p->arena_phys) {
			p->fault = "no-memory";
			return false;
		}
		wasm_rt_arena_init(&p->arena, mem_ptr(p->arena_phys), bytes);
		wasm_rt_arena_set_mapper(&p->arena, wp_map, p);
		if (!wasm_rt_is_initialized())
			wasm_rt_init();
		p->x->init_module();
	}
	wasm_rt_arena_reset(&p->arena);
	wasm_rt_arena_select(&p->arena);
	int trap = wasm_rt_call_guarded(wp_instantiate, p);
	p->ready = trap == 0;
	p->fault = trap ? wasm_rt_trap_name(trap) : NULL;
	return p->ready;
}

/* wp_run: one guarded call; false (the policy marked faulted) on a trap. */
static bool wp_run(struct wasm_policy *p, struct wp_call *k)
{
	wasm_rt_arena_select(&p->arena);
	wasm_rt_set_fuel_limit(POLICY_FUEL);
	int trap = wasm_rt_call_guarded(wp_dispatch, k);
	if (trap) {
		p->fault = wasm_rt_trap_name(trap);
		p->ready = false;
	}
	return !trap;
}

static u64 wp_call(struct wasm_policy *p, enum wp_op op, u64 a, u64 b, u64 c, u64 d, u64 e)
{
	if (op == OP_INIT && !wp_start(p))
		return (u64)(s64)POLICY_EINVAL;
	if (!p->ready)
		return (u64)-1;
	struct wp_call k = { p, op, a, b, c, d, e, 0 };
	if (!wp_run(p, &k))
		return op == OP_SLICE ? 0 : (u64)-1;
	return k.ret;
}

/* wp_decide: sched_ops.pick: idle until kicked (-1, slice 0) on a trap. */
static int wp_decide(struct wasm_policy *p, u32 cpu, u64 now, u64 *slice)
{
	struct wp_call k = { p, OP_DECIDE, cpu, now, 0, 0, 0, 0 };
	*slice = 0;
	if (!p->ready || !wp_run(p, &k))
		return -1;
	*slice = k.c;
	return (s32)k.ret;
}

#define WP_DEFINE(n)                                                                               \
	static Z_##n##_instance_t n##_instance;                                                    \
	static const struct wp_exports n##_exports = {                                             \
		(void (*)(void))Z_##n##_init_module,                                               \
		(void (*)(void *))(void (*)(void))Z_##n##_instantiate,                             \
		(void (*)(void *))(void (*)(void))Z_##n##_free,                                    \
		(u32(*)(void *, u32, u64))(void (*)(void))Z_##n##Z_init,                           \
		(u32(*)(void *, u32, u32, u32, u32, u32))(void (*)(void))Z_##n##Z_vcpu_add,        \
		(void (*)(void *, u32))(void (*)(void))Z_##n##Z_vcpu_remove,                       \
		(u32(*)(void *, u32, u64))(void (*)(void))Z_##n##Z_vcpu_wake,                      \
		(void (*)(void *, u32, u64))(void (*)(void))Z_##n##Z_vcpu_block,                   \
		(void (*)(void *, u32, u32, u64, u64))(void (*)(void))Z_##n##Z_vcpu_ran,           \
		(u32(*)(void *, u32, u64))(void (*)(void))Z_##n##Z_pick_next,                      \
		(u64(*)(void *, u32))(void (*)(void))Z_##n##Z_pick_slice,                          \
		(u32(*)(void *, u32, u64))(void (*)(void))Z_##n##Z_on_tick,                        \
		(u32(*)(void *, u32, u32, u64))(void (*)(void))Z_##n##Z_set_param,                 \
	};                                                                                         \
	static struct wasm_policy n##_policy = { #n, &n##_exports, &n##_instance, { 0 }, 0, 0,    \
						 false, NULL };                                    \
	static int n##_init(u32 c, u64 hz)                                                         \
	{                                                                                          \
		return (s32)wp_call(&n##_policy, OP_INIT, c, hz, 0, 0, 0);                         \
	}                                                                                          \
	static int n##_add(u32 id, u32 vm, u32 w, u32 cap, u32 fl)                                 \
	{                                                                                          \
		return (s32)wp_call(&n##_policy, OP_ADD, id, vm, w, cap, fl);                      \
	}                                                                                          \
	static void n##_remove(u32 id) { wp_call(&n##_policy, OP_REMOVE, id, 0, 0, 0, 0); }       \
	static int n##_wake(u32 id, u64 now)                                                       \
	{                                                                                          \
		return (s32)wp_call(&n##_policy, OP_WAKE, id, now, 0, 0, 0);                       \
	}                                                                                          \
	static void n##_block(u32 id, u64 now) { wp_call(&n##_policy, OP_BLOCK, id, now, 0, 0, 0); } \
	static void n##_ran(u32 id, u32 cpu, u64 ran, u64 now)                                     \
	{                                                                                          \
		wp_call(&n##_policy, OP_RAN, id, cpu, ran, now, 0);                                \
	}                                                                                          \
	static int n##_pick(u32 cpu, u64 now)                                                      \
	{                                                                                          \
		return (s32)wp_call(&n##_policy, OP_PICK, cpu, now, 0, 0, 0);                      \
	}                                                                                          \
	static u64 n##_slice(u32 cpu) { return wp_call(&n##_policy, OP_SLICE, cpu, 0, 0, 0, 0); } \
	static int n##_tick(u32 cpu, u64 now)                                                      \
	{                                                                                          \
		return (s32)wp_call(&n##_policy, OP_TICK, cpu, now, 0, 0, 0);                      \
	}                                                                                          \
	static int n##_param(u32 id, u32 key, s64 v)                                               \
	{                                                                                          \
		return (s32)wp_call(&n##_policy, OP_PARAM, id, key, (u64)v, 0, 0);                 \
	}                                                                                          \
	static const char *n##_fault(void) { return n##_policy.fault; }                           \
	static int n##_decide(u32 cpu, u64 now, u64 *slice)                                        \
	{                                                                                          \
		return wp_decide(&n##_policy, cpu, now, slice);                                    \
	}                                                                                          \
	static const struct sched_ops n##_ops = {                                                  \
		#n, n##_init, n##_add, n##_remove, n##_wake, n##_block, n##_ran,                   \
		n##_pick, n##_slice, n##_tick, n##_param, n##_fault, n##_decide,                   \
	};

POLICY_LIST(WP_DEFINE)

#define WP_ENTRY(n) &n##_ops,
const struct sched_ops *const policy_wasm_list[] = { POLICY_LIST(WP_ENTRY) NULL };
const u32 policy_wasm_count = ARRAY_SIZE(policy_wasm_list) - 1;
