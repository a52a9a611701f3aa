/* pick_bench: the cost of one scheduling decision of the fair policy on the
 * host, as the monitor pays it, and the same algorithm in plain C.
 *
 *   BENCH policy_decision_wasm2c_ns <v> ns  build/policy/fair.c: wasm2c output
 *                                           of fair.ts, metered, guard mode,
 *                                           called through the runtime
 *   BENCH policy_decision_c_ns <v> ns       fair_ref.c: fair.ts ported to C
 *   BENCH policy_decision_wasm2c_ratio <r> x  the first over the second
 *                                           (goal: 1.3 or less)
 *
 * <v> is one decision: pick_next plus the pick_slice that follows it (the
 * monitor always makes the two calls together; for a wasm policy in one
 * guarded call, sched_ops.pick). The wasm calls go through the same path
 * as in the monitor (firmware/core/policy_wasm.c: wp_decide): select the
 * policy's arena, set the fuel limit (POLICY_FUEL), and run the export in
 * wasm_rt_call_guarded(), whose setjmp, guard chain and fuel reset are part
 * of the real cost; the generated code's depth counter and fuel decrements
 * are counted too. Like the monitor, it is built in guard mode
 * (WASM_RT_GUARD_REGION, firmware/policy/rt/wasm-rt.h): no bounds checks in
 * the generated code; the memory sits at the start of a 16 GiB PROT_NONE
 * reservation (the monitor: an unmapped window in its page tables) and a
 * SIGSEGV there traps OOB (the monitor: its #PF handler). Both
 * implementations are called through a table of function pointers, as the
 * scheduler core calls sched_ops.
 *
 * Scenario: init(8 CPUs, 2 GHz), 64 vCPUs in 8 VMs with mixed weights, no
 * caps, all runnable. One round picks on every CPU at `now` (so each pick
 * sees the other CPUs' vCPUs running), then charges every pick half its
 * slice with vcpu_ran and moves `now` on. Only the picks are timed, with
 * clock_gettime(CLOCK_MONOTONIC) around each round's batch of 8; the same
 * batch with an empty body is timed and subtracted. A repetition is 200000
 * rounds (1.6 M picks); the figures are medians of 5 repetitions, the two
 * implementations' interleaved (a machine shared with other work slows
 * both alike), and the ratio the median of the repetitions' ratios.
 *
 * `pick_bench --count wasm|c` runs one implementation's rounds (after the
 * same set-up, no clocks) through count_batch(), a function of its own, so
 * that `valgrind --tool=callgrind --toggle-collect=count_batch` counts the
 * instructions of the decisions alone: exact and repeatable whatever else
 * the machine runs (count.sh turns them into BENCH lines). The ns figures
 * above move with the load on a shared machine; the counts do not.
 *
 * `pick_bench --check` instead drives both implementations through the same
 * calls (picks, runs, blocks, wakes, ticks, caps, weights, removals, bad
 * arguments, clock jumps, a wrapping TSC and wrapping virtual times; about
 * 330000 steps, well under a second) and exits 1 at the first result that
 * differs, naming the step and the call: fair_ref.c cannot drift from
 * fair.ts unnoticed. Every step also probes pick_slice and on_tick on every
 * CPU, so state that no return value shows yet is compared too.
 *
 * Usage: pick_bench [--check | --count wasm|c] [--rounds N] */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wasm-rt.h"
#include "wasm_guard_host.h" /* test/unit: the window and its SIGSEGV handler */
#include "fair.h"
#include "fair_ref.h"
#include "abi/policy_abi.h"

/* As firmware/core/policy_wasm.c. */
#define POLICY_FUEL 200000
#define POLICY_ARENA_PAGES POLICY_MEMORY_PAGES_MAX
#define POLICY_ARENA_ELEMS 1024

#define BENCH_CPUS 8
#define BENCH_VMS 8
#define BENCH_VCPUS 64
#define BENCH_HZ INT64_C(2000000000)
#define BENCH_ROUNDS 200000
#define BENCH_WARMUP 20000
#define BENCH_REPS 5

/* ---- the wasm2c module, called as the monitor calls it ---- */

static u8 pol_mem[WASM_RT_ARENA_BYTES(POLICY_ARENA_PAGES, POLICY_ARENA_ELEMS)]
	__attribute__((aligned(WASM_RT_ARENA_ALIGN)));
static struct wasm_rt_arena pol_arena;
static Z_fair_instance_t pol;

/* OP_DECIDE: pick_next then pick_slice in one guarded call (slice in c). */
enum wp_op {
	OP_INIT, OP_ADD, OP_REMOVE, OP_WAKE, OP_BLOCK, OP_RAN, OP_PICK, OP_SLICE, OP_TICK, OP_PARAM,
	OP_DECIDE,
};

struct wp_call {
	enum wp_op op;
	u64 a, b, c, d, e;
	u64 ret;
};

static void wp_dispatch(void *ctx)
{
	struct wp_call *k = ctx;

	switch (k->op) {
	case OP_INIT:
		k->ret = (u64)(s64)(s32)Z_fairZ_init(&pol, (u32)k->a, k->b);
		break;
	case OP_ADD:
		k->ret = (u64)(s64)(s32)Z_fairZ_vcpu_add(&pol, (u32)k->a, (u32)k->b, (u32)k->c,
							  (u32)k->d, (u32)k->e);
		break;
	case OP_REMOVE:
		Z_fairZ_vcpu_remove(&pol, (u32)k->a);
		break;
	case OP_WAKE:
		k->ret = (u64)(s64)(s32)Z_fairZ_vcpu_wake(&pol, (u32)k->a, k->b);
		break;
	case OP_BLOCK:
		Z_fairZ_vcpu_block(&pol, (u32)k->a, k->b);
		break;
	case OP_RAN:
		Z_fairZ_vcpu_ran(&pol, (u32)k->a, (u32)k->b, k->c, k->d);
		break;
	case OP_PICK:
		k->ret = (u64)(s64)(s32)Z_fairZ_pick_next(&pol, (u32)k->a, k->b);
		break;
	case OP_SLICE:
		k->ret = Z_fairZ_pick_slice(&pol, (u32)k->a);
		break;
	case OP_DECIDE:
		k->ret = (u64)(s64)(s32)Z_fairZ_pick_next(&pol, (u32)k->a, k->b);
		k->c = Z_fairZ_pick_slice(&pol, (u32)k->a);
		break;
	case OP_TICK:
		k->ret = (u64)(s64)(s32)Z_fairZ_on_tick(&pol, (u32)k->a, k->b);
		break;
	case OP_PARAM:
		k->ret = (u64)(s64)(s32)Z_fairZ_set_param(&pol, (u32)k->a, (u32)k->b, k->c);
		break;
	}
}

static const char *const wp_op_names[] = {
	"init", "vcpu_add", "vcpu_remove", "vcpu_wake", "vcpu_block",
	"vcpu_ran", "pick_next", "pick_slice", "on_tick", "set_param", "pick_next+pick_slice",
};

/* wp_call: one guarded call, as policy_wasm.c's wp_call. The monitor falls
 * back to round-robin on a trap; here a trap is fatal (fair.ts never traps
 * on valid or invalid arguments, and a trap would void the figures). */
static void wp_run(struct wp_call *k)
{
	wasm_rt_arena_select(&pol_arena);
	wasm_rt_set_fuel_limit(POLICY_FUEL);
	int trap = wasm_rt_call_guarded(wp_dispatch, k);
	if (trap) {
		fprintf(stderr, "pick_bench: FATAL: fair.wasm %s trapped: %s\n", wp_op_names[k->op],
			wasm_rt_trap_name(trap));
		exit(1);
	}
}

static u64 wp_call(enum wp_op op, u64 a, u64 b, u64 c, u64 d, u64 e)
{
	struct wp_call k = { op, a, b, c, d, e, 0 };

	wp_run(&k);
	return k.ret;
}

static void wp_instantiate(void *ctx)
{
	(void)ctx;
	Z_fair_instantiate(&pol);
}

static void wp_unguarded(int trap)
{
	fprintf(stderr, "pick_bench: FATAL: trap outside a guarded call: %s\n", wasm_rt_trap_name(trap));
	exit(1);
}

/* wp_start: runtime, arena and one instance of fair, as the monitor's
 * wp_start does at boot. */
static void wp_start(void)
{
	guard_window_install();
	wasm_rt_init();
	wasm_rt_set_unguarded_handler(wp_unguarded);
	Z_fair_init_module();
	wasm_rt_arena_init(&pol_arena, pol_mem, sizeof(pol_mem));
	wasm_rt_arena_set_mapper(&pol_arena, guard_window_map, NULL);
	wasm_rt_arena_select(&pol_arena);
	int trap = wasm_rt_call_guarded(wp_instantiate, NULL);
	if (trap) {
		fprintf(stderr, "pick_bench: FATAL: instantiating fair.wasm trapped: %s\n",
			wasm_rt_trap_name(trap));
		exit(1);
	}
}

static s32 wf_init(s32 n, s64 hz) { return (s32)wp_call(OP_INIT, (u32)n, (u64)hz, 0, 0, 0); }
static s32 wf_add(s32 id, s32 vm, s32 w, s32 cap, s32 fl)
{
	return (s32)wp_call(OP_ADD, (u32)id, (u32)vm, (u32)w, (u32)cap, (u32)fl);
}
static void wf_remove(s32 id) { wp_call(OP_REMOVE, (u32)id, 0, 0, 0, 0); }
static s32 wf_wake(s32 id, s64 now) { return (s32)wp_call(OP_WAKE, (u32)id, (u64)now, 0, 0, 0); }
static void wf_block(s32 id, s64 now) { wp_call(OP_BLOCK, (u32)id, (u64)now, 0, 0, 0); }
static void wf_ran(s32 id, s32 cpu, s64 ran, s64 now)
{
	wp_call(OP_RAN, (u32)id, (u32)cpu, (u64)ran, (u64)now, 0);
}
static s32 wf_pick(s32 cpu, s64 now) { return (s32)wp_call(OP_PICK, (u32)cpu, (u64)now, 0, 0, 0); }
static s64 wf_slice(s32 cpu) { return (s64)wp_call(OP_SLICE, (u32)cpu, 0, 0, 0, 0); }
/* As the monitor's sched_ops.pick of a wasm policy (wp_decide). */
static s32 wf_decide(s32 cpu, s64 now, s64 *slice)
{
	struct wp_call k = { OP_DECIDE, (u32)cpu, (u64)now, 0, 0, 0, 0 };

	wp_run(&k);
	*slice = (s64)k.c;
	return (s32)k.ret;
}

/* The C port has no call overhead to save: the two calls, as the core
 * makes them for a policy without sched_ops.pick. */
static s32 ref_decide(s32 cpu, s64 now, s64 *slice)
{
	s32 id = fair_ref_pick_next(cpu, now);

	*slice = fair_ref_pick_slice(cpu);
	return id;
}
static s32 wf_tick(s32 cpu, s64 now) { return (s32)wp_call(OP_TICK, (u32)cpu, (u64)now, 0, 0, 0); }
static s32 wf_param(s32 id, s32 key, s64 v) { return (s32)wp_call(OP_PARAM, (u32)id, (u32)key, (u64)v, 0, 0); }

/* ---- the two implementations behind one table ---- */

struct pick_ops {
	const char *name;
	s32 (*init)(s32 ncpus, s64 tsc_hz);
	s32 (*vcpu_add)(s32 id, s32 vm, s32 weight, s32 cap, s32 flags);
	void (*vcpu_remove)(s32 id);
	s32 (*vcpu_wake)(s32 id, s64 now);
	void (*vcpu_block)(s32 id, s64 now);
	void (*vcpu_ran)(s32 id, s32 cpu, s64 ran, s64 now);
	s32 (*pick_next)(s32 cpu, s64 now);
	s64 (*pick_slice)(s32 cpu);
	s32 (*on_tick)(s32 cpu, s64 now);
	s32 (*set_param)(s32 id, s32 key, s64 value);
	s32 (*decide)(s32 cpu, s64 now, s64 *slice); /* pick_next + pick_slice */
};

static const struct pick_ops wasm_ops = {
	"wasm2c", wf_init, wf_add, wf_remove, wf_wake, wf_block, wf_ran, wf_pick, wf_slice, wf_tick, wf_param,
	wf_decide,
};

static const struct pick_ops ref_ops = {
	"C", fair_ref_init, fair_ref_vcpu_add, fair_ref_vcpu_remove, fair_ref_vcpu_wake,
	fair_ref_vcpu_block, fair_ref_vcpu_ran, fair_ref_pick_next, fair_ref_pick_slice,
	fair_ref_on_tick, fair_ref_set_param, ref_decide,
};

/* ---- benchmark ---- */

static inline u64 clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000u + (u64)ts.tv_nsec;
}

/* Weights of the 8 VMs; vCPU j of a VM adds j * 10 to its VM's. */
static const s32 bench_weights[BENCH_VMS] = { 100, 256, 50, 1000, 100, 400, 75, 2000 };

/* bench_setup: the scenario's vCPUs, all runnable; exits on an error. */
static void bench_setup(const struct pick_ops *o)
{
	if (o->init(BENCH_CPUS, BENCH_HZ) != 0) {
		fprintf(stderr, "pick_bench: %s: init failed\n", o->name);
		exit(1);
	}
	for (s32 id = 0; id < BENCH_VCPUS; id++) {
		s32 vm = id / (BENCH_VCPUS / BENCH_VMS);
		s32 w = bench_weights[vm] + (id % (BENCH_VCPUS / BENCH_VMS)) * 10;
		if (o->vcpu_add(id, vm, w, 0, 0) != 0) {
			fprintf(stderr, "pick_bench: %s: vcpu_add(%d) failed\n", o->name, id);
			exit(1);
		}
		o->vcpu_wake(id, 0);
	}
}

/* bench_rounds: `rounds` rounds from *now; returns the ns spent in the
 * timed batches (picks and slices only, clock reads included). */
static u64 bench_rounds(const struct pick_ops *o, u32 rounds, s64 *now)
{
	s32 ids[BENCH_CPUS];
	s64 slices[BENCH_CPUS];
	u64 spent = 0;

	for (u32 r = 0; r < rounds; r++) {
		u64 t0 = clock_ns();
		for (s32 cpu = 0; cpu < BENCH_CPUS; cpu++) {
			ids[cpu] = o->decide(cpu, *now, &slices[cpu]);
		}
		u64 t1 = clock_ns();
		spent += t1 - t0;
		s64 step = 1;
		for (s32 cpu = 0; cpu < BENCH_CPUS; cpu++) {
			if (ids[cpu] < 0)
				continue;
			s64 half = slices[cpu] / 2;
			o->vcpu_ran(ids[cpu], cpu, half, *now + half);
			if (half > step)
				step = half;
		}
		*now += step;
	}
	return spent;
}

/* bench_empty: the same timed batches with nothing in them. */
static u64 bench_empty(u32 rounds)
{
	u64 spent = 0;

	for (u32 r = 0; r < rounds; r++) {
		u64 t0 = clock_ns();
		/* The loop stays: the empty asm is opaque to the compiler. */
		for (s32 cpu = 0; cpu < BENCH_CPUS; cpu++)
			__asm__ volatile("" : : "r"(cpu) : "memory");
		u64 t1 = clock_ns();
		spent += t1 - t0;
	}
	return spent;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(v[0]), cmp_double);
	return v[n / 2];
}

struct bench_result {
	double wasm_ns, c_ns; /* medians of ns per pick_next + pick_slice */
	double ratio;         /* median of the repetitions' wasm / C */
};

/* bench: both implementations, repetitions interleaved (wasm2c, C, the
 * empty batch; again), so that load from other processes on the machine
 * falls on both alike; the ratio is taken within each repetition. */
static struct bench_result bench(u32 rounds)
{
	double w[BENCH_REPS], c[BENCH_REPS], r[BENCH_REPS];
	s64 now_w = 0, now_c = 0;

	bench_setup(&wasm_ops);
	bench_setup(&ref_ops);
	bench_rounds(&wasm_ops, BENCH_WARMUP, &now_w);
	bench_rounds(&ref_ops, BENCH_WARMUP, &now_c);
	bench_empty(BENCH_WARMUP);
	for (int rep = 0; rep < BENCH_REPS; rep++) {
		u64 busy_w = bench_rounds(&wasm_ops, rounds, &now_w);
		u64 busy_c = bench_rounds(&ref_ops, rounds, &now_c);
		u64 empty = bench_empty(rounds);
		double per = (double)rounds * BENCH_CPUS;
		w[rep] = ((double)busy_w - (double)empty) / per;
		c[rep] = ((double)busy_c - (double)empty) / per;
		w[rep] = w[rep] > 0 ? w[rep] : 0;
		c[rep] = c[rep] > 0 ? c[rep] : 0;
		r[rep] = c[rep] > 0 ? w[rep] / c[rep] : 0;
	}
	return (struct bench_result){ median(w, BENCH_REPS), median(c, BENCH_REPS),
				      median(r, BENCH_REPS) };
}

/* count_batch: one round's decisions, one per CPU, and nothing else: the
 * only function callgrind counts in --count mode (hence noinline). */
__attribute__((noinline)) static void count_batch(const struct pick_ops *o, s64 now, s32 *ids,
						  s64 *slices)
{
	for (s32 cpu = 0; cpu < BENCH_CPUS; cpu++)
		ids[cpu] = o->decide(cpu, now, &slices[cpu]);
}

/* count: `rounds` rounds of one implementation as bench_rounds runs them,
 * the decisions through count_batch. */
static void count(const struct pick_ops *o, u32 rounds)
{
	s32 ids[BENCH_CPUS];
	s64 slices[BENCH_CPUS];
	s64 now = 0;

	bench_setup(o);
	for (u32 r = 0; r < rounds; r++) {
		count_batch(o, now, ids, slices);
		s64 step = 1;
		for (s32 cpu = 0; cpu < BENCH_CPUS; cpu++) {
			if (ids[cpu] < 0)
				continue;
			s64 half = slices[cpu] / 2;
			o->vcpu_ran(ids[cpu], cpu, half, now + half);
			if (half > step)
				step = half;
		}
		now += step;
	}
	printf("pick_bench --count %s: %u rounds of %d decisions\n", o->name, rounds, BENCH_CPUS);
}

/* ---- equivalence check ---- */

static const char *check_scenario;
static u32 check_step;

/* same: fail unless both implementations returned the same. */
static void same(s64 w, s64 c, const char *fmt, ...)
{
	va_list ap;

	if (w == c)
		return;
	fprintf(stderr, "pick_bench --check: MISMATCH at step %u of scenario %s: ", check_step,
		check_scenario);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " = %lld (wasm2c fair.c) but %lld (fair_ref.c)\n"
		"fair_ref.c no longer follows firmware/policy/fair.ts: port the change\n",
		(long long)w, (long long)c);
	exit(1);
}

/* Both implementations, one call each, results compared. */
static s32 both_init(s32 n, s64 hz)
{
	s32 w = wasm_ops.init(n, hz), c = ref_ops.init(n, hz);
	same(w, c, "init(%d, %lld)", n, (long long)hz);
	return w;
}
static s32 both_add(s32 id, s32 vm, s32 wt, s32 cap, s32 fl)
{
	s32 w = wasm_ops.vcpu_add(id, vm, wt, cap, fl), c = ref_ops.vcpu_add(id, vm, wt, cap, fl);
	same(w, c, "vcpu_add(%d, %d, %d, %d, %#x)", id, vm, wt, cap, fl);
	return w;
}
static void both_remove(s32 id)
{
	wasm_ops.vcpu_remove(id);
	ref_ops.vcpu_remove(id);
}
static s32 both_wake(s32 id, s64 now)
{
	s32 w = wasm_ops.vcpu_wake(id, now), c = ref_ops.vcpu_wake(id, now);
	same(w, c, "vcpu_wake(%d, %lld)", id, (long long)now);
	return w;
}
static void both_block(s32 id, s64 now)
{
	wasm_ops.vcpu_block(id, now);
	ref_ops.vcpu_block(id, now);
}
static void both_ran(s32 id, s32 cpu, s64 ran, s64 now)
{
	wasm_ops.vcpu_ran(id, cpu, ran, now);
	ref_ops.vcpu_ran(id, cpu, ran, now);
}
static s32 both_pick(s32 cpu, s64 now)
{
	s32 w = wasm_ops.pick_next(cpu, now), c = ref_ops.pick_next(cpu, now);
	same(w, c, "pick_next(%d, %lld)", cpu, (long long)now);
	return w;
}
/* The combined call the benchmark times, against the C port's two. */
static s32 both_decide(s32 cpu, s64 now)
{
	s64 ws, cs;
	s32 w = wasm_ops.decide(cpu, now, &ws), c = ref_ops.decide(cpu, now, &cs);
	same(w, c, "decide(%d, %lld) pick", cpu, (long long)now);
	same(ws, cs, "decide(%d, %lld) slice", cpu, (long long)now);
	return w;
}
static s64 both_slice(s32 cpu)
{
	s64 w = wasm_ops.pick_slice(cpu), c = ref_ops.pick_slice(cpu);
	same(w, c, "pick_slice(%d)", cpu);
	return w;
}
static s32 both_tick(s32 cpu, s64 now)
{
	s32 w = wasm_ops.on_tick(cpu, now), c = ref_ops.on_tick(cpu, now);
	same(w, c, "on_tick(%d, %lld)", cpu, (long long)now);
	return w;
}
static s32 both_param(s32 id, s32 key, s64 v)
{
	s32 w = wasm_ops.set_param(id, key, v), c = ref_ops.set_param(id, key, v);
	same(w, c, "set_param(%d, %d, %lld)", id, key, (long long)v);
	return w;
}

/* xorshift64*: the same call sequence on every run. */
static u64 rng_state;

static u64 rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * UINT64_C(2685821657736338717);
}

/* tick: now + d on the wrapping TSC, as the policy's i64 arithmetic sees it. */
static inline s64 tick(s64 now, s64 d)
{
	return (s64)((u64)now + (u64)d);
}

/* rng_below: uniform enough in [0, n). */
static s64 rng_below(s64 n)
{
	return (s64)(rng() % (u64)n);
}

struct check_scenario {
	const char *name;
	s32 ncpus;
	s64 hz;
	s32 nvcpus;        /* ids 0..nvcpus-1 added at the start */
	s32 vm_stride;     /* vm = id / vm_stride * vm_mult */
	s32 vm_mult;
	s64 start;         /* initial `now` (near INT64_MAX: the clock wraps) */
	s32 weight_max;    /* weights 1..weight_max; 0: mixed, up to 10000 */
	s64 ran_max;       /* runs of ran_max/2..ran_max; 0: 0..1.25 slices */
	bool busy;         /* runs never end in a halt (else 1 in 4 does) */
	u32 steps;
	u64 seed;
};

static const struct check_scenario check_scenarios[] = {
	{ .name = "bench-like, caps", .ncpus = 8, .hz = INT64_C(2000000000), .nvcpus = 64,
	  .vm_stride = 8, .vm_mult = 1, .steps = 6000, .seed = 0x9e3779b97f4a7c15u },
	{ .name = "few cpus, sparse vms", .ncpus = 3, .hz = INT64_C(1000000000), .nvcpus = 24,
	  .vm_stride = 3, .vm_mult = 36, .start = 1000, .steps = 6000, .seed = 0x1234567u },
	{ .name = "wrapping clock", .ncpus = 4, .hz = INT64_C(3000000000), .nvcpus = 32,
	  .vm_stride = 4, .vm_mult = 1, .start = INT64_MAX - INT64_C(20000000000),
	  .steps = 6000, .seed = 0xdeadbeefu },
	{ .name = "tiny tsc_hz", .ncpus = 2, .hz = 7, .nvcpus = 12, .vm_stride = 2, .vm_mult = 1,
	  .steps = 3000, .seed = 0xc0ffeeu },
	/* Runs of a few ticks: the virtual-time arithmetic rounds a lot. */
	{ .name = "coarse clock", .ncpus = 4, .hz = 1000, .nvcpus = 40, .vm_stride = 5,
	  .vm_mult = 1, .steps = 6000, .seed = 0xfeedfaceu },
	/* Weight 1 and runs of TIME_MAX or more (clamped): each run adds 2^50
	 * to a virtual time, so they pass INT64_MAX after about 8200 runs
	 * each, and every comparison must go through before(). */
	{ .name = "wrapping virtual time", .ncpus = 2, .hz = INT64_C(1000000000), .nvcpus = 8,
	  .vm_stride = 2, .vm_mult = 1, .weight_max = 1, .ran_max = INT64_C(1) << 41,
	  .busy = true, .steps = 300000, .seed = 0xabad1deau },
};

/* check_run: one scenario. The driver plays the monitor's loop (pick, run
 * part or all of the slice, charge, maybe halt), with wakes from outside,
 * parameter changes, removals and re-adds, clock jumps, and calls a correct
 * monitor would not make (bad ids and CPUs, a pick without the previous
 * vcpu_ran, vcpu_ran on the wrong CPU): both must answer alike. */
static void check_run(const struct check_scenario *sc)
{
	s32 running[POLICY_MAX_CPUS];
	s64 now = sc->start;
	s64 slice_len = sc->hz / 100 > 1 ? sc->hz / 100 : 1;
	s32 span = sc->nvcpus + 4;  /* ids tried: a few never added */
	s32 weight_max = sc->weight_max ? sc->weight_max : 10000;
	s64 ran_max = sc->ran_max ? sc->ran_max : slice_len + slice_len / 4;

	check_scenario = sc->name;
	check_step = 0;
	rng_state = sc->seed;

	/* Refused arguments first; they must leave the state alone. */
	both_init(0, sc->hz);
	both_init(POLICY_MAX_CPUS + 1, sc->hz);
	both_init(sc->ncpus, 0);
	both_init(sc->ncpus, -1);
	if (both_init(sc->ncpus, sc->hz) != 0) {
		fprintf(stderr, "pick_bench --check: init(%d, %lld) refused\n", sc->ncpus, (long long)sc->hz);
		exit(1);
	}
	both_add(-1, 0, 100, 0, 0);
	both_add(POLICY_MAX_VCPUS, 0, 100, 0, 0);
	both_add(0, 256, 100, 0, 0);
	both_add(0, 0, 0, 0, 0);
	both_add(0, 0, 10001, 0, 0);
	both_add(0, 0, 100, 1001, 0);
	both_add(0, 0, 100, 0, 0x100);
	both_add(0, 0, 100, 0, sc->ncpus + 1);
	for (s32 id = 0; id < sc->nvcpus; id++) {
		s32 vm = id / sc->vm_stride * sc->vm_mult;
		s32 cap = vm % 3 == 1 ? (s32)(50 + rng_below(600)) : 0;
		s32 flags = id % 7 == 3 ? (s32)(rng_below(sc->ncpus) + 1) : 0;
		both_add(id, vm, (s32)(1 + rng_below(sc->weight_max ? sc->weight_max : id % 2 ? 10000 : 300)),
			 cap, flags);
		both_add(id, vm, 100, 0, 0); /* already added */
		if (id % 5 != 4)
			both_wake(id, now);
	}
	for (s32 c = 0; c < sc->ncpus; c++)
		running[c] = -1;

	for (check_step = 1; check_step <= sc->steps; check_step++) {
		s32 cpu = (s32)rng_below(sc->ncpus);
		s32 id = (s32)rng_below(span);
		u32 what = (u32)rng_below(100);

		if (what < 45) {
			/* The monitor's loop on one CPU. */
			if (running[cpu] >= 0) {
				s64 ran = sc->ran_max ? ran_max / 2 + rng_below(ran_max / 2 + 1)
						      : rng_below(ran_max + 1);
				now = tick(now, ran);
				both_ran(running[cpu], cpu, ran, now);
				if (!sc->busy && rng_below(4) == 0)
					both_block(running[cpu], now);
				running[cpu] = -1;
			}
			if (rng_below(2)) {
				running[cpu] = both_pick(cpu, now);
				both_slice(cpu);
			} else {
				running[cpu] = both_decide(cpu, now);
			}
		} else if (what < 60) {
			both_tick(cpu, now);
		} else if (what < 75) {
			both_wake(id, now);
		} else if (what < 79) {
			/* Halt from outside, possibly while running. */
			both_block(id, now);
			for (s32 c = 0; c < sc->ncpus; c++)
				if (running[c] == id)
					running[c] = -1;
		} else if (what < 85) {
			static const s32 keys[] = { POLICY_PARAM_WEIGHT, POLICY_PARAM_CAP,
						    POLICY_PARAM_RT_BUDGET, 99 };
			s32 key = keys[rng_below(4)];
			s64 v = rng_below(1100) - 5;
			if (key == POLICY_PARAM_WEIGHT)
				v = rng_below(8) ? 1 + rng_below(weight_max)
						 : rng_below(2) ? -rng_below(3) : 10001 + rng_below(3);
			both_param(id, key, v);
		} else if (what < 87) {
			both_remove(id);
			for (s32 c = 0; c < sc->ncpus; c++)
				if (running[c] == id)
					running[c] = -1;
		} else if (what < 89) {
			s32 vm = (s32)rng_below(300) - 10;
			s32 flags = rng_below(8) == 0 ? (s32)rng_below(sc->ncpus + 2) : 0;
			s32 w = (s32)(rng_below(8) ? 1 + rng_below(weight_max) : 10001 - rng_below(2) * 10001);
			if (both_add(id, vm, w, (s32)rng_below(1050), flags) == 0)
				both_wake(id, now);
		} else if (what < 91) {
			/* Pick again without vcpu_ran: the previous pick is released. */
			running[cpu] = both_pick(cpu, now);
			both_slice(cpu);
		} else if (what < 93) {
			/* vcpu_ran reported on the wrong CPU. */
			if (running[cpu] >= 0) {
				s32 other = (cpu + 1) % sc->ncpus;
				both_ran(running[cpu], other, rng_below(slice_len), now);
				running[cpu] = -1;
			}
		} else if (what < 95) {
			static const s32 bad_cpus[] = { -1, POLICY_MAX_CPUS, INT32_MIN, 0 };
			s32 bad = bad_cpus[rng_below(4)];
			if (bad == 0)
				bad = sc->ncpus;
			both_pick(bad, now);
			both_slice(bad);
			both_tick(bad, now);
			both_ran(id, bad, rng_below(slice_len), now);
			both_wake(-1 - id, now);
			both_param(POLICY_MAX_VCPUS + id, POLICY_PARAM_WEIGHT, 100);
		} else if (what < 97) {
			/* Clock jumps: several cap windows, or up to two slices
			 * backwards (CPUs whose TSCs disagree). */
			now = tick(now, rng_below(2) ? rng_below(sc->hz + 1) : -rng_below(2 * slice_len + 1));
		} else {
			both_ran(id, cpu, rng_below(2) ? -rng_below(1000) : INT64_MAX - rng_below(1000), now);
		}
		now = tick(now, rng_below(slice_len / 20 + 1));
		/* Probes of every CPU's state: its slice, and whether its
		 * current vCPU (fair.ts's CUR) should be preempted. */
		for (s32 c = 0; c < sc->ncpus; c++) {
			both_slice(c);
			both_tick(c, now);
		}
	}
}

static void check(void)
{
	u32 steps = 0;

	for (size_t i = 0; i < ARRAY_SIZE(check_scenarios); i++) {
		check_run(&check_scenarios[i]);
		steps += check_scenarios[i].steps;
	}
	printf("pick_bench --check: fair_ref.c and fair.c (wasm2c) agree on %u steps in %zu scenarios\n",
	       steps, ARRAY_SIZE(check_scenarios));
}

int main(int argc, char **argv)
{
	u32 rounds = BENCH_ROUNDS;
	int do_check = 0;
	const struct pick_ops *count_ops = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--check")) {
			do_check = 1;
		} else if (!strcmp(argv[i], "--count") && i + 1 < argc) {
			i++;
			if (!strcmp(argv[i], "wasm")) {
				count_ops = &wasm_ops;
			} else if (!strcmp(argv[i], "c")) {
				count_ops = &ref_ops;
			} else {
				fprintf(stderr, "pick_bench: --count takes wasm or c, not '%s'\n", argv[i]);
				return 2;
			}
		} else if (!strcmp(argv[i], "--rounds") && i + 1 < argc) {
			rounds = (u32)strtoul(argv[++i], NULL, 0);
		} else {
			fprintf(stderr, "usage: %s [--check | --count wasm|c] [--rounds N]\n", argv[0]);
			return 2;
		}
	}
	if (!rounds)
		rounds = 1;
	wp_start();
	if (do_check) {
		check();
		return 0;
	}
	if (count_ops) {
		count(count_ops, rounds);
		return 0;
	}
	struct bench_result b = bench(rounds);
	printf("BENCH policy_decision_wasm2c_ns %.1f ns\n", b.wasm_ns);
	printf("BENCH policy_decision_c_ns %.1f ns\n", b.c_ns);
	printf("BENCH policy_decision_wasm2c_ratio %.2f x\n", b.ratio);
	return 0;
}
