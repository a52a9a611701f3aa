/* Host tests for the runtime's guard mode (WASM_RT_GUARD_REGION=1, as the
 * monitor builds it; see firmware/policy/rt/README.md): test/unit/wasm's
 * modules compiled without bounds checks, their memory mapped at the start
 * of a PROT_NONE window, a SIGSEGV in the window turned into the OOB trap
 * (the monitor: an unmapped window in its page tables and its #PF fix-up).
 * Out-of-bounds loads and stores still trap, up to the far end of what a
 * wasm address can reach; memories that could grow, or an arena without a
 * mapper, are refused. */
#include <stdint.h>
#include <string.h>

#include "check.h"

#include "wasm-rt.h"
#include "wasm_guard_host.h"
#include "basic.h"
#include "growable.h"

#if !WASM_RT_GUARD_REGION
#error "test_wasm_guard is built with -DWASM_RT_GUARD_REGION=1"
#endif

struct Z_env_instance_t {
	int unused;
};

void Z_envZ_log(struct Z_env_instance_t *env, u32 code, u64 value)
{
	(void)env;
	(void)code;
	(void)value;
}

static u8 arena_mem[WASM_RT_ARENA_BYTES(16, 64)] __attribute__((aligned(4096)));
static struct wasm_rt_arena arena;
static int maps, refuse_map;

/* The host window's mapper, counted, and able to fail on demand. */
static void *map(void *ctx, void *data, size_t bytes)
{
	maps++;
	return refuse_map ? NULL : guard_window_map(ctx, data, bytes);
}

enum op { OP_INST, OP_INST_GROWABLE, OP_LOAD, OP_LOAD64, OP_STORE };

struct call {
	enum op op;
	Z_basic_instance_t *b;
	Z_growable_instance_t *g;
	u64 a0, a1;
	u64 ret;
};

static struct Z_env_instance_t env;

static void run(void *ctx)
{
	struct call *c = ctx;

	switch (c->op) {
	case OP_INST: Z_basic_instantiate(c->b, &env); break;
	case OP_INST_GROWABLE: Z_growable_instantiate(c->g); break;
	case OP_LOAD: c->ret = Z_basicZ_load(c->b, (u32)c->a0); break;
	case OP_LOAD64: c->ret = Z_basicZ_load64(c->b, (u32)c->a0); break;
	case OP_STORE: Z_basicZ_store(c->b, (u32)c->a0, (u32)c->a1); break;
	}
}

static int call(Z_basic_instance_t *b, enum op op, u64 a0, u64 a1, u64 *ret)
{
	struct call c = { op, b, NULL, a0, a1, 0 };
	int trap = wasm_rt_call_guarded(run, &c);

	if (ret)
		*ret = c.ret;
	return trap;
}

int main(void)
{
	Z_basic_instance_t b;
	Z_growable_instance_t g;
	u64 r;

	guard_window_install();
	wasm_rt_init();
	Z_basic_init_module();
	Z_growable_init_module();
	wasm_rt_arena_init(&arena, arena_mem, sizeof(arena_mem));
	wasm_rt_arena_select(&arena);

	CHECK(call(&b, OP_INST, 0, 0, NULL) == WASM_RT_TRAP_OOM, "no mapper: refused");
	wasm_rt_arena_reset(&arena);
	wasm_rt_arena_set_mapper(&arena, map, NULL);
	refuse_map = 1;
	CHECK(call(&b, OP_INST, 0, 0, NULL) == WASM_RT_TRAP_OOM, "mapper failed: refused");
	refuse_map = 0;
	wasm_rt_arena_reset(&arena);
	{
		struct call c = { OP_INST_GROWABLE, NULL, &g, 0, 0, 0 };
		CHECK(wasm_rt_call_guarded(run, &c) == WASM_RT_TRAP_OOM,
		      "a memory that could grow: refused");
	}
	wasm_rt_arena_reset(&arena);
	maps = 0;
	CHECK(call(&b, OP_INST, 0, 0, NULL) == 0, "instantiated");
	CHECK(maps == 1 && b.w2c_memory.data == guard_window, "memory at the window's start");
	CHECK(b.w2c_memory.backing >= arena_mem &&
	      b.w2c_memory.backing < arena_mem + sizeof(arena_mem), "backed by the arena");

	CHECK(call(&b, OP_STORE, 65532, 0x12345678, NULL) == 0, "last word: stored");
	CHECK(call(&b, OP_LOAD, 65532, 0, &r) == 0 && r == 0x12345678, "last word: loaded");
	CHECK(call(&b, OP_LOAD, 65533, 0, NULL) == WASM_RT_TRAP_OOB, "straddling the end: OOB");
	CHECK(call(&b, OP_LOAD, 65536, 0, NULL) == WASM_RT_TRAP_OOB, "one past: OOB");
	CHECK(call(&b, OP_STORE, 1u << 20, 1, NULL) == WASM_RT_TRAP_OOB, "store far out: OOB");
	CHECK(call(&b, OP_LOAD, 0xFFFFFFFCu, 0, NULL) == WASM_RT_TRAP_OOB, "top of 4 GiB: OOB");
	/* load64 has offset=8: 0xFFFFFFF8 + 8 is 4 GiB, past what an i32 holds. */
	CHECK(call(&b, OP_LOAD64, 0xFFFFFFF8u, 0, NULL) == WASM_RT_TRAP_OOB, "address + offset past 4 GiB: OOB");
	CHECK(guard_window_faults == 5, "each trap came from a fault in the window");
	CHECK(wasm_rt_call_stack_depth == 0, "depth restored");
	CHECK(call(&b, OP_LOAD, 65532, 0, &r) == 0 && r == 0x12345678, "usable after the traps");

	/* Instantiating again maps the same window (the monitor's policies are
	 * re-instantiated after a fault). */
	wasm_rt_arena_reset(&arena);
	CHECK(call(&b, OP_INST, 0, 0, NULL) == 0 && b.w2c_memory.data == guard_window, "again: same window");
	return check_summary();
}
