/* The monitor's WebAssembly runtime (see wasm-rt.h): arena allocation of
 * linear memories and tables, signature registry, traps unwound with the
 * runtime's own setjmp/longjmp, fuel and stack metering state. */
#include <stdarg.h>

#include <cg/string.h>

#include "wasm-rt.h"
#include "wasm_rt_jmp.h"

uint32_t wasm_rt_call_stack_depth;
uint64_t wasm_rt_fuel_left = UINT64_MAX;
uintptr_t wasm_rt_stack_floor;

/* One active wasm_rt_call_guarded(); they chain when calls nest. */
struct wasm_rt_guard {
	struct wasm_rt_jmp_buf jb;
	struct wasm_rt_guard *prev;
	uint32_t depth;            /* wasm_rt_call_stack_depth at entry */
};

struct wasm_rt_sig {
	uint8_t nparams, nresults;
	uint8_t type[WASM_RT_MAX_SIG_TYPES];
};

static bool rt_initialized;
static struct wasm_rt_guard *rt_guard;
static struct wasm_rt_arena *rt_arena;
static void (*rt_unguarded)(int trap);
static uint64_t rt_fuel_limit;
static uint64_t rt_fuel_start;
static size_t rt_stack_limit;
static struct wasm_rt_sig rt_sigs[WASM_RT_MAX_FUNC_TYPES];
static uint32_t rt_nsigs;

static const char *const rt_trap_names[WASM_RT_TRAP_COUNT] = {
	[WASM_RT_TRAP_NONE] = "none",
	[WASM_RT_TRAP_OOB] = "oob",
	[WASM_RT_TRAP_INT_OVERFLOW] = "int_overflow",
	[WASM_RT_TRAP_DIV_BY_ZERO] = "div_by_zero",
	[WASM_RT_TRAP_INVALID_CONVERSION] = "invalid_conversion",
	[WASM_RT_TRAP_UNREACHABLE] = "unreachable",
	[WASM_RT_TRAP_CALL_INDIRECT] = "call_indirect",
	[WASM_RT_TRAP_UNCAUGHT_EXCEPTION] = "uncaught_exception",
	[WASM_RT_TRAP_EXHAUSTION] = "exhaustion",
	[WASM_RT_TRAP_OOM] = "oom",
	[WASM_RT_TRAP_BUDGET] = "budget",
	[WASM_RT_TRAP_RUNTIME] = "runtime",
};

const char *wasm_rt_trap_name(int trap)
{
	if (trap < 0 || trap >= WASM_RT_TRAP_COUNT)
		return "unknown";
	return rt_trap_names[trap];
}

const char *wasm_rt_strerror(wasm_rt_trap_t trap)
{
	return wasm_rt_trap_name((int)trap);
}

void wasm_rt_init(void)
{
	rt_initialized = true;
}

bool wasm_rt_is_initialized(void)
{
	return rt_initialized;
}

void wasm_rt_free(void)
{
	rt_nsigs = 0;
	rt_initialized = false;
}

void wasm_rt_set_unguarded_handler(void (*h)(int trap))
{
	rt_unguarded = h;
}

void wasm_rt_trap(wasm_rt_trap_t trap)
{
	int code = trap == WASM_RT_TRAP_NONE ? WASM_RT_TRAP_RUNTIME : (int)trap;

	if (rt_guard)
		wasm_rt_longjmp(&rt_guard->jb, code);
	if (rt_unguarded)
		rt_unguarded(code);
	for (;;)
		__builtin_trap();
}

/* Called by the assert()/abort() shims in include/. */
void wasm_rt_assert_failed(const char *expr) __attribute__((noreturn));
void wasm_rt_assert_failed(const char *expr)
{
	(void)expr;
	wasm_rt_trap(WASM_RT_TRAP_RUNTIME);
}

void wasm_rt_fuel_out(void)
{
	wasm_rt_fuel_left = 0;
	wasm_rt_trap(WASM_RT_TRAP_BUDGET);
}

void wasm_rt_trap_oob(void)
{
	wasm_rt_trap(WASM_RT_TRAP_OOB);
}

void wasm_rt_abort(void) __attribute__((noreturn));
void wasm_rt_abort(void)
{
	wasm_rt_trap(WASM_RT_TRAP_RUNTIME);
}

/* ---- guarded calls and metering ---- */

void wasm_rt_set_fuel_limit(uint64_t units)
{
	rt_fuel_limit = units;
}

void wasm_rt_set_stack_limit(size_t bytes)
{
	rt_stack_limit = bytes;
}

uint64_t wasm_rt_fuel_used(void)
{
	return rt_fuel_start - wasm_rt_fuel_left;
}

int wasm_rt_call_guarded(void (*fn)(void *ctx), void *ctx)
{
	struct wasm_rt_guard g;
	int trap;

	g.prev = rt_guard;
	g.depth = wasm_rt_call_stack_depth;
	if (!g.prev) {
		/* Outermost call: a fresh budget and stack floor. */
		rt_fuel_start = rt_fuel_limit ? rt_fuel_limit : UINT64_MAX;
		wasm_rt_fuel_left = rt_fuel_start;
		wasm_rt_stack_floor = 0;
		if (rt_stack_limit) {
			uintptr_t sp = wasm_rt_stack_pointer();

			wasm_rt_stack_floor = sp > rt_stack_limit ? sp - rt_stack_limit : 0;
		}
	}
	/* g lives in memory (its address escapes), so nothing that changes
	 * after setjmp needs to be volatile. */
	trap = wasm_rt_setjmp(&g.jb);
	if (trap == 0) {
		rt_guard = &g;
		fn(ctx);
	} else {
		wasm_rt_call_stack_depth = g.depth;
	}
	rt_guard = g.prev;
	if (!g.prev)
		wasm_rt_stack_floor = 0;
	return trap;
}

/* ---- arena ---- */

void wasm_rt_arena_init(struct wasm_rt_arena *a, void *base, size_t bytes)
{
	a->base = base;
	a->size = bytes;
	a->used = 0;
	a->map = NULL;
	a->map_ctx = NULL;
}

void wasm_rt_arena_set_mapper(struct wasm_rt_arena *a, wasm_rt_memory_mapper_t map, void *ctx)
{
	a->map = map;
	a->map_ctx = ctx;
}

void wasm_rt_arena_reset(struct wasm_rt_arena *a)
{
	a->used = 0;
}

struct wasm_rt_arena *wasm_rt_arena_select(struct wasm_rt_arena *a)
{
	struct wasm_rt_arena *prev = rt_arena;

	rt_arena = a;
	return prev;
}

/* arena_alloc: bytes from the current arena, aligned to `align` (a power
 * of two); traps OOM. */
static void *arena_alloc(size_t bytes, uintptr_t align)
{
	struct wasm_rt_arena *a = rt_arena;
	uintptr_t start, end;

	if (!a)
		wasm_rt_trap(WASM_RT_TRAP_OOM);
	start = ALIGN_UP((uintptr_t)a->base + a->used, align);
	end = (uintptr_t)a->base + a->size;
	if (start < (uintptr_t)a->base || start > end || bytes > end - start)
		wasm_rt_trap(WASM_RT_TRAP_OOM);
	a->used = start + bytes - (uintptr_t)a->base;
	return (void *)start;
}

/* arena_release: give [p, p + bytes) back if it is the current arena's last
 * allocation; otherwise it stays used until wasm_rt_arena_reset(). */
static void arena_release(void *p, size_t bytes)
{
	struct wasm_rt_arena *a = rt_arena;
	uintptr_t u = (uintptr_t)p;

	if (!a || !p)
		return;
	if (u >= (uintptr_t)a->base && u + bytes == (uintptr_t)a->base + a->used)
		a->used = u - (uintptr_t)a->base;
}

/* ---- memories ---- */

void wasm_rt_allocate_memory(wasm_rt_memory_t *mem, uint32_t initial_pages,
			     uint32_t max_pages)
{
	uint32_t cap = max_pages < WASM_RT_MAX_PAGES ? max_pages : WASM_RT_MAX_PAGES;

	if (initial_pages > cap)
		wasm_rt_trap(WASM_RT_TRAP_OOM);
	mem->backing = arena_alloc((size_t)cap * WASM_RT_PAGE_SIZE, WASM_RT_MEMORY_ALIGN);
	mem->data = mem->backing;
#if WASM_RT_GUARD_REGION
	/* The generated code checks no bounds: everything past the memory
	 * must fault, so the window maps exactly the memory (no growth). */
	if (initial_pages != cap || !rt_arena->map)
		wasm_rt_trap(WASM_RT_TRAP_OOM);
	mem->data = rt_arena->map(rt_arena->map_ctx, mem->backing,
				  (size_t)cap * WASM_RT_PAGE_SIZE);
	if (!mem->data)
		wasm_rt_trap(WASM_RT_TRAP_OOM);
#endif
	mem->pages = initial_pages;
	mem->max_pages = cap;
	mem->size = initial_pages * WASM_RT_PAGE_SIZE;
	memset(mem->data, 0, mem->size);
}

uint32_t wasm_rt_grow_memory(wasm_rt_memory_t *mem, uint32_t delta)
{
	uint32_t old = mem->pages;

	if ((uint64_t)old + delta > mem->max_pages)
		return UINT32_MAX;
	memset(mem->data + mem->size, 0, (size_t)delta * WASM_RT_PAGE_SIZE);
	mem->pages = old + delta;
	mem->size = mem->pages * WASM_RT_PAGE_SIZE;
	return old;
}

void wasm_rt_free_memory(wasm_rt_memory_t *mem)
{
	arena_release(mem->backing, (size_t)mem->max_pages * WASM_RT_PAGE_SIZE);
	mem->data = mem->backing = NULL;
	mem->pages = mem->max_pages = mem->size = 0;
}

/* ---- tables ---- */

/* table_cap: entries to reserve for a table; traps OOM if too many. */
static uint32_t table_cap(uint32_t elements, uint32_t max_elements)
{
	uint32_t cap = max_elements < WASM_RT_MAX_TABLE_ELEMS ? max_elements
							       : WASM_RT_MAX_TABLE_ELEMS;

	if (elements > cap)
		wasm_rt_trap(WASM_RT_TRAP_OOM);
	return cap;
}

/* The two table kinds differ only in their element type and null value. */
#define WASM_RT_TABLE_OPS(kind, null)                                                        \
	void wasm_rt_allocate_##kind##_table(wasm_rt_##kind##_table_t *t, uint32_t elements, \
					     uint32_t max_elements)                          \
	{                                                                                    \
		uint32_t cap = table_cap(elements, max_elements);                            \
		t->data = arena_alloc((size_t)cap * sizeof(*t->data), WASM_RT_ARENA_ALIGN);                       \
		t->max_size = cap;                                                           \
		t->size = elements;                                                          \
		for (uint32_t i = 0; i < elements; i++)                                      \
			t->data[i] = null;                                                   \
	}                                                                                    \
	void wasm_rt_free_##kind##_table(wasm_rt_##kind##_table_t *t)                        \
	{                                                                                    \
		arena_release(t->data, (size_t)t->max_size * sizeof(*t->data));              \
		t->data = NULL;                                                              \
		t->max_size = t->size = 0;                                                   \
	}                                                                                    \
	uint32_t wasm_rt_grow_##kind##_table(wasm_rt_##kind##_table_t *t, uint32_t delta,    \
					     wasm_rt_##kind##_t init)                        \
	{                                                                                    \
		uint32_t old = t->size;                                                      \
		if ((uint64_t)old + delta > t->max_size)                                     \
			return UINT32_MAX;                                                   \
		for (uint32_t i = old; i < old + delta; i++)                                 \
			t->data[i] = init;                                                   \
		t->size = old + delta;                                                       \
		return old;                                                                  \
	}

WASM_RT_TABLE_OPS(funcref, wasm_rt_funcref_null_value)
WASM_RT_TABLE_OPS(externref, wasm_rt_externref_null_value)

/* ---- signatures ---- */

uint32_t wasm_rt_register_func_type(uint32_t params, uint32_t results, ...)
{
	struct wasm_rt_sig sig;
	va_list ap;

	if (params + (uint64_t)results > WASM_RT_MAX_SIG_TYPES)
		wasm_rt_trap(WASM_RT_TRAP_RUNTIME);
	memset(&sig, 0, sizeof(sig));
	sig.nparams = (uint8_t)params;
	sig.nresults = (uint8_t)results;
	va_start(ap, results);
	for (uint32_t i = 0; i < params + results; i++)
		sig.type[i] = (uint8_t)va_arg(ap, int);
	va_end(ap);

	for (uint32_t i = 0; i < rt_nsigs; i++) {
		if (!memcmp(&rt_sigs[i], &sig, sizeof(sig)))
			return i + 1;    /* ids start at 1: 0 never matches */
	}
	if (rt_nsigs == WASM_RT_MAX_FUNC_TYPES)
		wasm_rt_trap(WASM_RT_TRAP_RUNTIME);
	rt_sigs[rt_nsigs] = sig;
	return ++rt_nsigs;
}
