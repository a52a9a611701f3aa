/* Host tests for the monitor's WebAssembly runtime (firmware/policy/rt):
 * modules from test/unit/wasm/ (.wat), turned into C by wat2wasm + wasm2c
 * and metered by wasm2c-meter.sed at build time (see unit.mk), run through
 * wasm_rt_call_guarded(): right values, traps with the right code and no
 * crash, the runtime usable after a trap, limits on depth, stack, fuel,
 * memory growth and arena size, and instances that do not share memory. */
#include <stdint.h>
#include <string.h>

#include "check.h"

#include "wasm-rt.h"
#include "basic.h"
#include "growable.h"
#include "toobig.h"

/* The import env.log, as the monitor would provide it. */
struct Z_env_instance_t {
	int nlogs;
	u32 code;
	u64 value;
	int trap_on_log;       /* nonzero: trap from the host side */
};

void Z_envZ_log(struct Z_env_instance_t *env, u32 code, u64 value)
{
	env->nlogs++;
	env->code = code;
	env->value = value;
	if (env->trap_on_log)
		wasm_rt_trap(WASM_RT_TRAP_UNREACHABLE);
}

static u8 arena_a_mem[WASM_RT_ARENA_BYTES(16, 64)] __attribute__((aligned(64)));
static u8 arena_b_mem[WASM_RT_ARENA_BYTES(16, 64)] __attribute__((aligned(64)));
/* Room for exactly one instance of basic (1 page, 3 table entries). */
static u8 arena_c_mem[WASM_RT_ARENA_BYTES(1, 3)] __attribute__((aligned(64)));
static struct wasm_rt_arena arena_a, arena_b, arena_c;

/* One call into a module, described as data so wasm_rt_call_guarded() can
 * run it through a plain function pointer. */
enum op {
	OP_INST_BASIC, OP_INST_GROWABLE, OP_INST_TOOBIG,
	OP_ADD, OP_CALLS, OP_PICK, OP_LOAD, OP_LOAD64, OP_STORE, OP_FILL, OP_TRAP,
	OP_REC, OP_DIV, OP_REMU64, OP_ICALL, OP_GROW, OP_SIZE, OP_SUM, OP_SPIN,
	OP_FIB, OP_G_GROW, OP_G_STORE, OP_G_LOAD, OP_NESTED,
};

struct call {
	enum op op;
	Z_basic_instance_t *b;
	Z_growable_instance_t *g;
	Z_toobig_instance_t *t;
	struct Z_env_instance_t *env;
	u64 a0, a1, a2;
	u64 ret;
};

static int guarded(struct call *c);

static void run(void *ctx)
{
	struct call *c = ctx;

	switch (c->op) {
	case OP_INST_BASIC: Z_basic_instantiate(c->b, c->env); break;
	case OP_INST_GROWABLE: Z_growable_instantiate(c->g); break;
	case OP_INST_TOOBIG: Z_toobig_instantiate(c->t); break;
	case OP_ADD: c->ret = Z_basicZ_add(c->b, (u32)c->a0, (u32)c->a1); break;
	case OP_CALLS: c->ret = Z_basicZ_calls(c->b); break;
	case OP_PICK: c->ret = Z_basicZ_pick_next(c->b, (u32)c->a0, c->a1); break;
	case OP_LOAD: c->ret = Z_basicZ_load(c->b, (u32)c->a0); break;
	case OP_LOAD64: c->ret = Z_basicZ_load64(c->b, (u32)c->a0); break;
	case OP_STORE: Z_basicZ_store(c->b, (u32)c->a0, (u32)c->a1); break;
	case OP_FILL: Z_basicZ_fill(c->b, (u32)c->a0, (u32)c->a1, (u32)c->a2); break;
	case OP_TRAP: Z_basicZ_trap(c->b); break;
	case OP_REC: c->ret = Z_basicZ_rec(c->b, (u32)c->a0); break;
	case OP_DIV: c->ret = Z_basicZ_div(c->b, (u32)c->a0, (u32)c->a1); break;
	case OP_REMU64: c->ret = Z_basicZ_remu64(c->b, c->a0, c->a1); break;
	case OP_ICALL: c->ret = Z_basicZ_icall(c->b, (u32)c->a0, (u32)c->a1); break;
	case OP_GROW: c->ret = Z_basicZ_grow(c->b, (u32)c->a0); break;
	case OP_SIZE: c->ret = Z_basicZ_size(c->b); break;
	case OP_SUM: c->ret = Z_basicZ_sum(c->b, (u32)c->a0); break;
	case OP_SPIN: Z_basicZ_spin(c->b); break;
	case OP_FIB: c->ret = Z_basicZ_fib(c->b, (u32)c->a0); break;
	case OP_G_GROW: c->ret = Z_growableZ_grow(c->g, (u32)c->a0); break;
	case OP_G_STORE: Z_growableZ_store(c->g, (u32)c->a0, (u32)c->a1); break;
	case OP_G_LOAD: c->ret = Z_growableZ_load(c->g, (u32)c->a0); break;
	case OP_NESTED: {
		/* A trap in an inner guarded call must not end the outer one. */
		struct call in = *c;

		in.op = OP_TRAP;
		c->a2 = (u64)guarded(&in);
		c->ret = Z_basicZ_add(c->b, (u32)c->a0, (u32)c->a1);
		break;
	}
	}
}

static int guarded(struct call *c)
{
	c->ret = 0xDEADBEEF;
	return wasm_rt_call_guarded(run, c);
}

/* call_b: one guarded call on instance b; returns the trap code. */
static int call_b(Z_basic_instance_t *b, enum op op, u64 a0, u64 a1, u64 *ret)
{
	struct call c = { .op = op, .b = b, .a0 = a0, .a1 = a1 };
	int trap = guarded(&c);

	if (ret)
		*ret = c.ret;
	return trap;
}

static void test_names(void)
{
	CHECK(!strcmp(wasm_rt_trap_name(WASM_RT_TRAP_OOB), "oob"), "oob name");
	CHECK(!strcmp(wasm_rt_trap_name(WASM_RT_TRAP_EXHAUSTION), "exhaustion"), "exhaustion");
	CHECK(!strcmp(wasm_rt_trap_name(WASM_RT_TRAP_BUDGET), "budget"), "budget name");
	CHECK(!strcmp(wasm_rt_trap_name(-1), "unknown"), "negative code");
	CHECK(!strcmp(wasm_rt_trap_name(WASM_RT_TRAP_COUNT), "unknown"), "past the end");
	for (int i = 0; i < WASM_RT_TRAP_COUNT; i++)
		CHECK(wasm_rt_trap_name(i) && strcmp(wasm_rt_trap_name(i), "unknown"), "all named");
	CHECK(wasm_rt_strerror(WASM_RT_TRAP_DIV_BY_ZERO) == wasm_rt_trap_name(3), "strerror alias");
}

static void test_func_types(void)
{
	u32 a = wasm_rt_register_func_type(1, 1, WASM_RT_I32, WASM_RT_I32);
	u32 b = wasm_rt_register_func_type(1, 1, WASM_RT_I64, WASM_RT_I32);
	u32 c = wasm_rt_register_func_type(0, 2, WASM_RT_I32, WASM_RT_I32);
	u32 d = wasm_rt_register_func_type(2, 0, WASM_RT_I32, WASM_RT_I32);

	CHECK(a && b && c && d, "ids are nonzero");
	CHECK(a != b && c != d && a != c, "distinct signatures, distinct ids");
	CHECK(wasm_rt_register_func_type(1, 1, WASM_RT_I32, WASM_RT_I32) == a, "same id");
}

static void test_basic(Z_basic_instance_t *b, struct Z_env_instance_t *env)
{
	u64 r;

	CHECK(call_b(b, OP_ADD, 2, 40, &r) == 0 && r == 42, "add");
	CHECK(call_b(b, OP_ADD, 0xFFFFFFFF, 1, &r) == 0 && r == 0, "add wraps");
	CHECK(call_b(b, OP_CALLS, 0, 0, &r) == 0 && r == 2, "global kept between calls");
	CHECK(call_b(b, OP_PICK, 3, 0x100000004ull, &r) == 0 && r == 7, "i64 argument");
	CHECK(call_b(b, OP_LOAD, 16, 0, &r) == 0 && r == 0x6c6c6568, "data segment");
	CHECK(call_b(b, OP_STORE, 100, 0x12345678, NULL) == 0, "store");
	CHECK(call_b(b, OP_LOAD, 100, 0, &r) == 0 && r == 0x12345678, "load back");
	CHECK(Z_basicZ_memory(b)->data[100] == 0x78, "memory export, little endian");
	CHECK(call_b(b, OP_LOAD64, 92, 0, &r) == 0 && r == 0x12345678, "i64 load offset");
	CHECK(call_b(b, OP_DIV, (u32)-42, 5, &r) == 0 && (s32)r == -8, "div_s");
	CHECK(call_b(b, OP_REMU64, 1000000000007ull, 1000, &r) == 0 && r == 7, "rem_u i64");
	CHECK(call_b(b, OP_ICALL, 0, 5, &r) == 0 && r == 6, "call_indirect 0");
	CHECK(call_b(b, OP_ICALL, 1, 5, &r) == 0 && r == 10, "call_indirect 1");
	CHECK(call_b(b, OP_SIZE, 0, 0, &r) == 0 && r == 1, "memory.size");
	CHECK(call_b(b, OP_REC, 150, 0, &r) == 0 && r == 150, "recursion within the limit");
	CHECK(call_b(b, OP_FIB, 15, 0, &r) == 0 && r == 610, "fib");
	CHECK(wasm_rt_call_stack_depth == 0, "depth back to 0");

	env->nlogs = 0;
	CHECK(call_b(b, OP_SUM, 10, 0, &r) == 0 && r == 55, "loop");
	CHECK(env->nlogs == 1 && env->code == 1 && env->value == 55, "import called");
}

static void test_traps(Z_basic_instance_t *b, struct Z_env_instance_t *env)
{
	u64 r;

	CHECK(call_b(b, OP_LOAD, 65532, 0, &r) == 0, "last word in bounds");
	CHECK(call_b(b, OP_LOAD, 65533, 0, &r) == WASM_RT_TRAP_OOB, "straddling load traps");
	CHECK(r == 0xDEADBEEF, "no result after a trap");
	CHECK(call_b(b, OP_LOAD, 65536, 0, NULL) == WASM_RT_TRAP_OOB, "load past the end");
	CHECK(call_b(b, OP_LOAD, 0xFFFFFFFF, 0, NULL) == WASM_RT_TRAP_OOB, "load at 4 GiB - 1");
	CHECK(call_b(b, OP_LOAD64, 0xFFFFFFFC, 0, NULL) == WASM_RT_TRAP_OOB, "offset past 4 GiB");
	CHECK(call_b(b, OP_STORE, 65536, 1, NULL) == WASM_RT_TRAP_OOB, "store past the end");
	{
		struct call c = { .op = OP_FILL, .b = b, .a0 = 65000, .a1 = 0xAA, .a2 = 1000 };

		CHECK(guarded(&c) == WASM_RT_TRAP_OOB, "memory.fill past the end");
	}
	CHECK(call_b(b, OP_ADD, 1, 1, &r) == 0 && r == 2, "usable after OOB");
	CHECK(call_b(b, OP_LOAD, 100, 0, &r) == 0 && r == 0x12345678, "memory kept after OOB");

	CHECK(call_b(b, OP_TRAP, 0, 0, NULL) == WASM_RT_TRAP_UNREACHABLE, "unreachable");
	CHECK(call_b(b, OP_DIV, 1, 0, NULL) == WASM_RT_TRAP_DIV_BY_ZERO, "div by zero");
	CHECK(call_b(b, OP_REMU64, 1, 0, NULL) == WASM_RT_TRAP_DIV_BY_ZERO, "rem i64 by zero");
	CHECK(call_b(b, OP_DIV, 0x80000000, (u32)-1, NULL) == WASM_RT_TRAP_INT_OVERFLOW,
	      "INT_MIN / -1");
	CHECK(call_b(b, OP_ICALL, 3, 5, NULL) == WASM_RT_TRAP_CALL_INDIRECT, "index past table");
	CHECK(call_b(b, OP_ICALL, 2, 5, NULL) == WASM_RT_TRAP_CALL_INDIRECT, "wrong signature");

	CHECK(call_b(b, OP_REC, WASM_RT_MAX_CALL_STACK_DEPTH - 2, 0, &r) == 0, "just below limit");
	CHECK(call_b(b, OP_REC, 100000, 0, NULL) == WASM_RT_TRAP_EXHAUSTION, "deep recursion");
	CHECK(wasm_rt_call_stack_depth == 0, "depth restored after the trap");
	CHECK(call_b(b, OP_REC, 150, 0, &r) == 0 && r == 150, "recursion works again");

	env->trap_on_log = 1;
	CHECK(call_b(b, OP_SUM, 3, 0, NULL) == WASM_RT_TRAP_UNREACHABLE, "trap from an import");
	env->trap_on_log = 0;
	CHECK(call_b(b, OP_SUM, 3, 0, &r) == 0 && r == 6, "import fine again");

	{
		struct call c = { .op = OP_NESTED, .b = b, .a0 = 20, .a1 = 22 };

		CHECK(guarded(&c) == 0 && c.ret == 42, "outer call survives inner trap");
		CHECK(c.a2 == WASM_RT_TRAP_UNREACHABLE, "inner call saw the trap");
	}
	CHECK(wasm_rt_call_stack_depth == 0, "depth 0 at the end");
}

static void test_grow(Z_basic_instance_t *b)
{
	Z_growable_instance_t g;
	struct call c = { .g = &g };
	u64 r;

	CHECK(call_b(b, OP_GROW, 1, 0, &r) == 0 && r == 0xFFFFFFFF, "grow past max: -1");
	CHECK(call_b(b, OP_GROW, 0, 0, &r) == 0 && r == 1, "grow 0: old size");
	CHECK(call_b(b, OP_SIZE, 0, 0, &r) == 0 && r == 1, "size unchanged");

	wasm_rt_arena_select(&arena_b);
	c.op = OP_INST_GROWABLE;
	CHECK(guarded(&c) == 0, "instantiate growable");
	CHECK(g.w2c_M0.max_pages == WASM_RT_MAX_PAGES, "no maximum: clamped to 16");
	c.op = OP_G_STORE, c.a0 = 65536, c.a1 = 7;
	CHECK(guarded(&c) == WASM_RT_TRAP_OOB, "second page absent before grow");
	c.op = OP_G_GROW, c.a0 = 15;
	CHECK(guarded(&c) == 0 && c.ret == 1, "grow to 16 pages");
	c.op = OP_G_LOAD, c.a0 = 16 * 65536 - 4;
	CHECK(guarded(&c) == 0 && c.ret == 0, "grown memory is zero");
	c.op = OP_G_STORE, c.a0 = 65536, c.a1 = 7;
	CHECK(guarded(&c) == 0, "second page present");
	c.op = OP_G_GROW, c.a0 = 1;
	CHECK(guarded(&c) == 0 && c.ret == 0xFFFFFFFF, "17th page refused");
	c.op = OP_G_GROW, c.a0 = 0x10000;
	CHECK(guarded(&c) == 0 && c.ret == 0xFFFFFFFF, "huge grow refused");
	Z_growable_free(&g);
	CHECK(arena_b.used == 0, "free gives the arena back (LIFO)");
	wasm_rt_arena_select(&arena_a);
}

static void test_instances(struct Z_env_instance_t *env)
{
	Z_basic_instance_t x, y;
	struct call c = { .op = OP_INST_BASIC, .env = env };
	u64 r;

	wasm_rt_arena_select(&arena_c);
	c.b = &x;
	CHECK(guarded(&c) == 0, "instance x");
	c.b = &y;
	CHECK(guarded(&c) == WASM_RT_TRAP_OOM, "arena too small for a second instance");
	wasm_rt_arena_select(&arena_a);
	wasm_rt_arena_reset(&arena_a);
	CHECK(guarded(&c) == 0, "instance y in its own arena");
	CHECK(x.w2c_memory.data != y.w2c_memory.data, "separate memories");

	CHECK(call_b(&x, OP_STORE, 200, 0x1111, NULL) == 0, "store in x");
	CHECK(call_b(&y, OP_LOAD, 200, 0, &r) == 0 && r == 0, "y does not see it");
	CHECK(call_b(&y, OP_STORE, 200, 0x2222, NULL) == 0, "store in y");
	CHECK(call_b(&x, OP_LOAD, 200, 0, &r) == 0 && r == 0x1111, "x keeps its own");
	CHECK(call_b(&x, OP_ADD, 1, 2, NULL) == 0 && call_b(&x, OP_CALLS, 0, 0, &r) == 0 &&
		      r == 1, "globals per instance");
	CHECK(call_b(&y, OP_CALLS, 0, 0, &r) == 0 && r == 0, "y's global untouched");

	/* Re-instantiate after a fault: free, then instantiate again. */
	CHECK(call_b(&y, OP_TRAP, 0, 0, NULL) == WASM_RT_TRAP_UNREACHABLE, "y faults");
	Z_basic_free(&y);
	CHECK(arena_a.used == 0, "y's arena empty again");
	CHECK(guarded(&c) == 0, "y re-instantiated");
	CHECK(call_b(&y, OP_LOAD, 200, 0, &r) == 0 && r == 0, "fresh memory after re-instantiate");
	CHECK(call_b(&y, OP_LOAD, 16, 0, &r) == 0 && r == 0x6c6c6568, "data segment again");
	Z_basic_free(&y);
	wasm_rt_arena_select(&arena_c);
	Z_basic_free(&x);
	CHECK(arena_c.used == 0, "x's arena empty again");
	wasm_rt_arena_select(&arena_b);

	{
		Z_toobig_instance_t t;
		struct call ct = { .op = OP_INST_TOOBIG, .t = &t };

		CHECK(guarded(&ct) == WASM_RT_TRAP_OOM, "17 pages refused");
		CHECK(arena_b.used == 0, "nothing allocated for it");
	}
	wasm_rt_arena_select(NULL);
	c.b = &x;
	CHECK(guarded(&c) == WASM_RT_TRAP_OOM, "no arena selected: OOM");
	wasm_rt_arena_select(&arena_a);
}

static void test_meter(Z_basic_instance_t *b)
{
	u64 r;

	wasm_rt_set_fuel_limit(1000);
	CHECK(call_b(b, OP_SPIN, 0, 0, NULL) == WASM_RT_TRAP_BUDGET, "infinite loop stopped");
	CHECK(wasm_rt_fuel_used() == 1000, "whole budget used");
	CHECK(call_b(b, OP_SUM, 10, 0, &r) == 0 && r == 55, "short loop within budget");
	CHECK(wasm_rt_fuel_used() > 10 && wasm_rt_fuel_used() < 20, "loop cost ~ iterations");
	CHECK(call_b(b, OP_FIB, 30, 0, NULL) == WASM_RT_TRAP_BUDGET,
	      "exponential recursion without loops stopped");
	CHECK(wasm_rt_call_stack_depth == 0, "depth restored after budget trap");
	wasm_rt_set_fuel_limit(0);
	CHECK(call_b(b, OP_FIB, 20, 0, &r) == 0 && r == 6765, "unlimited again");

	wasm_rt_set_stack_limit(1024);
	CHECK(call_b(b, OP_REC, 150, 0, NULL) == WASM_RT_TRAP_EXHAUSTION,
	      "stack budget hit before the depth limit");
	CHECK(call_b(b, OP_REC, 2, 0, &r) == 0 && r == 2, "shallow call fits");
	wasm_rt_set_stack_limit(0);
	CHECK(call_b(b, OP_REC, 150, 0, &r) == 0 && r == 150, "no stack limit again");
}

static void test_uninitialized(void)
{
	Z_basic_instance_t x;
	struct call c = { .op = OP_INST_BASIC, .b = &x };

	wasm_rt_free();
	CHECK(!wasm_rt_is_initialized(), "runtime freed");
	CHECK(guarded(&c) == WASM_RT_TRAP_RUNTIME, "instantiate asserts init: trap");
	wasm_rt_init();
}

int main(void)
{
	Z_basic_instance_t inst;
	struct Z_env_instance_t env = { 0 };
	struct call c = { .op = OP_INST_BASIC, .b = &inst, .env = &env };

	wasm_rt_arena_init(&arena_a, arena_a_mem, sizeof(arena_a_mem));
	wasm_rt_arena_init(&arena_b, arena_b_mem, sizeof(arena_b_mem));
	wasm_rt_arena_init(&arena_c, arena_c_mem, sizeof(arena_c_mem));
	wasm_rt_init();
	CHECK(wasm_rt_is_initialized(), "initialized");
	Z_basic_init_module();
	Z_growable_init_module();
	Z_toobig_init_module();
	test_names();
	test_func_types();

	wasm_rt_arena_select(&arena_a);
	CHECK(guarded(&c) == 0, "instantiate basic");
	test_basic(&inst, &env);
	test_traps(&inst, &env);
	test_grow(&inst);
	test_meter(&inst);
	Z_basic_free(&inst);
	CHECK(arena_a.used == 0, "basic freed");
	test_instances(&env);
	test_uninitialized();
	return check_summary();
}
