/* fair_ref: a C port of the fair policy, firmware/policy/fair.ts, kept only
 * as a yardstick: pick_bench.c times its pick_next against the wasm2c build
 * of fair.ts (BENCH policy_decision_c_ns). It is not used by the monitor.
 *
 * KEEP IN STEP WITH firmware/policy/fair.ts (and lib/util.ts, lib/abi.ts):
 * same state, same integer arithmetic, same pick rule, same results for
 * every call. `pick_bench --check` (run by `make pick-bench` before it
 * measures) drives both through the same calls, with blocks, wakes, caps
 * and bad arguments, and fails at the first result that differs. A change
 * to fair.ts without the same change here fails that check.
 *
 * How the wasm semantics are kept: i32/i64 are s32/s64; wasm additions,
 * subtractions and multiplications wrap, so the ones that may overflow go
 * through w_add/w_sub/w_mul (two's complement on u64, no C undefined
 * behaviour); i64.div_s truncates toward zero like C's `/`, and no divisor
 * here can be 0 or -1 (weights are 1..10000, window >= 1). The wasm module
 * keeps its tables in linear memory; here they are plain arrays, indexed
 * only with ids, VMs and CPUs that fair.ts has already range-checked. */
#include <string.h>

#include "fair_ref.h"
#include "abi/policy_abi.h"

/* lib/abi.ts values that policy_abi.h does not define. */
#define FAIR_MAX_VMS 256
#define FAIR_WEIGHT_MAX 10000
#define FAIR_CAP_MAX 1000
#define FAIR_TIME_MAX ((s64)1 << 40)
#define FAIR_NOMINAL ((s64)1024)

#define V POLICY_MAX_VCPUS
#define M FAIR_MAX_VMS
#define C POLICY_MAX_CPUS

static inline s64 w_add(s64 a, s64 b) { return (s64)((u64)a + (u64)b); }
static inline s64 w_sub(s64 a, s64 b) { return (s64)((u64)a - (u64)b); }
static inline s64 w_mul(s64 a, s64 b) { return (s64)((u64)a * (u64)b); }
static inline s64 min64(s64 a, s64 b) { return a < b ? a : b; }
static inline s64 max64(s64 a, s64 b) { return a > b ? a : b; }
/* lib/util.ts before(): a earlier than b on a wrapping clock. */
static inline bool before(s64 a, s64 b) { return w_sub(a, b) < 0; }

/* The tables of fair.ts's linear memory, zeroed by init. */
static struct {
	/* per vCPU */
	s64 vr[V];
	s64 picked_at[V];
	s32 present[V];
	s32 runnable[V];
	s32 running_on[V];
	s32 vm_of[V];
	s32 weight[V];
	s32 pref[V];
	/* per VM */
	s64 used[M];
	s64 inflight[M];
	s32 cap[M];
	/* per CPU */
	s64 slice[C];
	s32 cur[C];
	s32 idle[C];
} t;

/* fair.ts's globals. */
static s32 ncpus;
static s64 slice_len;
static s64 window;
static s64 win_start;
static bool win_started;
static s64 granularity;
static s64 min_vr;
static s32 capped_vms;
static s32 hi;

/* ---- lib/util.ts ---- */

static inline s32 flags_cpu(s32 flags)
{
	return ((flags >> POLICY_FLAG_CPU_SHIFT) & POLICY_FLAG_CPU_MASK) - 1;
}

static s32 check_add(s32 id, s32 vm, s32 weight, s32 cap, s32 flags, s32 n)
{
	if (n <= 0)
		return POLICY_EINVAL;
	if (id >= POLICY_MAX_VCPUS)
		return POLICY_ENOSPC;
	if (id < 0 || vm < 0 || vm >= FAIR_MAX_VMS)
		return POLICY_EINVAL;
	if (weight < 1 || weight > FAIR_WEIGHT_MAX)
		return POLICY_EINVAL;
	if (cap < 0 || cap > FAIR_CAP_MAX)
		return POLICY_EINVAL;
	if ((flags & ~(POLICY_FLAG_CPU_MASK << POLICY_FLAG_CPU_SHIFT)) != 0)
		return POLICY_EINVAL;
	if (flags_cpu(flags) >= n)
		return POLICY_EINVAL;
	return 0;
}

static inline bool valid_cpu(s32 cpu, s32 n)
{
	return cpu >= 0 && cpu < n && cpu < POLICY_MAX_CPUS;
}

static inline bool valid_id(s32 id)
{
	return id >= 0 && id < POLICY_MAX_VCPUS;
}

static s32 check_init(s32 n, s64 tsc_hz)
{
	if (n < 1 || n > POLICY_MAX_CPUS || tsc_hz <= 0)
		return POLICY_EINVAL;
	return 0;
}

/* ---- fair.ts ---- */

s32 fair_ref_init(s32 n, s64 tsc_hz)
{
	s32 err = check_init(n, tsc_hz);

	if (err != 0)
		return err;
	memset(&t, 0, sizeof(t));
	for (s32 i = 0; i < V; i++)
		t.running_on[i] = -1;
	for (s32 c = 0; c < C; c++)
		t.cur[c] = -1;
	ncpus = n;
	slice_len = max64(tsc_hz / 100, 1);
	window = max64(tsc_hz / 10, 1);
	granularity = max64(tsc_hz / 1000, 1);
	win_start = 0;
	win_started = false;
	min_vr = 0;
	capped_vms = 0;
	hi = 0;
	return 0;
}

static void set_cap(s32 vm, s32 cap)
{
	s32 old = t.cap[vm];

	if (old == 0 && cap != 0)
		capped_vms++;
	if (old != 0 && cap == 0)
		capped_vms--;
	t.cap[vm] = cap;
}

s32 fair_ref_vcpu_add(s32 id, s32 vm, s32 weight, s32 cap, s32 flags)
{
	s32 err = check_add(id, vm, weight, cap, flags, ncpus);

	if (err != 0)
		return err;
	if (t.present[id] != 0)
		return POLICY_EINVAL;
	t.present[id] = 1;
	if (id >= hi)
		hi = id + 1;
	t.runnable[id] = 0;
	t.running_on[id] = -1;
	t.vm_of[id] = vm;
	t.weight[id] = weight;
	t.pref[id] = flags_cpu(flags);
	t.vr[id] = min_vr;
	set_cap(vm, cap);
	return 0;
}

void fair_ref_vcpu_remove(s32 id)
{
	if (!valid_id(id) || t.present[id] == 0)
		return;
	s32 cpu = t.running_on[id];
	if (cpu >= 0 && t.cur[cpu] == id)
		t.cur[cpu] = -1;
	t.present[id] = 0;
	t.runnable[id] = 0;
	t.running_on[id] = -1;
}

static inline s64 budget(s32 cap)
{
	return w_mul(window, (s64)cap) / 1000;
}

/* refill: turn the cap window over if now is past its end; overshoot
 * carries into the next window. */
static void refill(s64 now)
{
	if (!win_started) {
		win_start = now;
		win_started = true;
		return;
	}
	if (w_sub(now, win_start) < window)
		return;
	s64 k = w_sub(now, win_start) / window;
	win_start = w_add(win_start, w_mul(k, window));
	for (s32 vm = 0; vm < M; vm++) {
		s32 cap = t.cap[vm];
		if (cap == 0) {
			t.used[vm] = 0;
			continue;
		}
		t.used[vm] = max64(w_sub(t.used[vm], w_mul(k, budget(cap))), 0);
	}
}

/* inflight: each VM's run time since its running vCPUs were picked. */
static void inflight(s64 now)
{
	if (capped_vms == 0)
		return;
	for (s32 vm = 0; vm < M; vm++)
		t.inflight[vm] = 0;
	for (s32 i = 0; i < hi; i++) {
		if (t.running_on[i] < 0)
			continue;
		s32 vm = t.vm_of[i];
		t.inflight[vm] = w_add(t.inflight[vm], max64(w_sub(now, t.picked_at[i]), 0));
	}
}

static s64 budget_left(s32 vm)
{
	s32 cap = t.cap[vm];

	if (cap == 0)
		return FAIR_TIME_MAX;
	return w_sub(w_sub(budget(cap), t.used[vm]), t.inflight[vm]);
}

static inline bool allowed(s32 id, s32 cpu)
{
	s32 pref = t.pref[id];

	return pref < 0 || pref == cpu;
}

static inline s64 to_vr(s64 ran, s32 id)
{
	return min64(max64(ran, 0), FAIR_TIME_MAX) * FAIR_NOMINAL / (s64)t.weight[id];
}

static s64 vr_now(s32 id, s64 now)
{
	return w_add(t.vr[id], to_vr(w_sub(now, t.picked_at[id]), id));
}

s32 fair_ref_pick_next(s32 cpu, s64 now)
{
	if (!valid_cpu(cpu, ncpus))
		return POLICY_EINVAL;
	refill(now);
	s32 prev = t.cur[cpu];
	if (prev >= 0 && t.running_on[prev] == cpu)
		t.running_on[prev] = -1;
	inflight(now);

	s32 best = -1;
	s64 best_vr = 0;
	bool throttled = false;
	bool have_min = false;
	s64 lowest = 0;
	for (s32 i = 0; i < hi; i++) {
		if (t.runnable[i] == 0)
			continue;
		s64 vr = t.vr[i];
		if (!have_min || before(vr, lowest))
			lowest = vr;
		have_min = true;
		if (t.running_on[i] >= 0 || !allowed(i, cpu))
			continue;
		if (budget_left(t.vm_of[i]) <= 0) {
			throttled = true;
			continue;
		}
		if (best < 0 || before(vr, best_vr)) {
			best = i;
			best_vr = vr;
		}
	}
	if (have_min && before(min_vr, lowest))
		min_vr = lowest;

	if (best < 0) {
		t.cur[cpu] = -1;
		t.idle[cpu] = 1;
		t.slice[cpu] = throttled ? max64(w_sub(w_add(win_start, window), now), 1) : 0;
		return -1;
	}
	t.running_on[best] = cpu;
	t.picked_at[best] = now;
	t.cur[cpu] = best;
	t.idle[cpu] = 0;
	t.slice[cpu] = max64(min64(slice_len, budget_left(t.vm_of[best])), 1);
	return best;
}

s64 fair_ref_pick_slice(s32 cpu)
{
	if (!valid_cpu(cpu, ncpus))
		return 0;
	return t.slice[cpu];
}

void fair_ref_vcpu_ran(s32 id, s32 cpu, s64 ran, s64 now)
{
	if (!valid_id(id) || t.present[id] == 0)
		return;
	refill(now);
	s64 r = min64(max64(ran, 0), FAIR_TIME_MAX);
	t.vr[id] = w_add(t.vr[id], to_vr(r, id));
	s32 vm = t.vm_of[id];
	if (t.cap[vm] != 0)
		t.used[vm] = w_add(t.used[vm], r);
	t.running_on[id] = -1;
	if (valid_cpu(cpu, ncpus) && t.cur[cpu] == id)
		t.cur[cpu] = -1;
}

void fair_ref_vcpu_block(s32 id, s64 now)
{
	(void)now;
	if (!valid_id(id) || t.present[id] == 0)
		return;
	t.runnable[id] = 0;
	s32 cpu = t.running_on[id];
	if (cpu >= 0) {
		if (t.cur[cpu] == id)
			t.cur[cpu] = -1;
		t.running_on[id] = -1;
	}
}

s32 fair_ref_vcpu_wake(s32 id, s64 now)
{
	if (!valid_id(id) || t.present[id] == 0)
		return POLICY_EINVAL;
	if (t.runnable[id] != 0)
		return -1;
	t.runnable[id] = 1;
	refill(now);
	s64 floor = w_sub(min_vr, to_vr(slice_len, id));
	if (before(t.vr[id], floor))
		t.vr[id] = floor;
	inflight(now);
	if (budget_left(t.vm_of[id]) <= 0)
		return -1;

	for (s32 c = 0; c < ncpus; c++) {
		if (t.idle[c] != 0 && allowed(id, c)) {
			t.idle[c] = 0;
			return c;
		}
	}
	s64 mine = w_add(t.vr[id], to_vr(granularity, id));
	s32 victim = -1;
	s64 victim_vr = 0;
	for (s32 c = 0; c < ncpus; c++) {
		s32 cur = t.cur[c];
		if (cur < 0 || !allowed(id, c))
			continue;
		s64 theirs = vr_now(cur, now);
		if (before(mine, theirs) && (victim < 0 || before(victim_vr, theirs))) {
			victim = c;
			victim_vr = theirs;
		}
	}
	return victim;
}

s32 fair_ref_on_tick(s32 cpu, s64 now)
{
	if (!valid_cpu(cpu, ncpus))
		return 0;
	s32 id = t.cur[cpu];
	if (id < 0)
		return 0;
	refill(now);
	if (w_sub(now, t.picked_at[id]) >= t.slice[cpu])
		return 1;
	s32 vm = t.vm_of[id];
	if (t.cap[vm] == 0)
		return 0;
	inflight(now);
	return budget_left(vm) <= 0 ? 1 : 0;
}

s32 fair_ref_set_param(s32 id, s32 key, s64 value)
{
	if (!valid_id(id) || t.present[id] == 0)
		return POLICY_EINVAL;
	if (key == POLICY_PARAM_WEIGHT) {
		if (value < 1 || value > FAIR_WEIGHT_MAX)
			return POLICY_EINVAL;
		t.weight[id] = (s32)value;
		return 0;
	}
	if (key == POLICY_PARAM_CAP) {
		if (value < 0 || value > FAIR_CAP_MAX)
			return POLICY_EINVAL;
		set_cap(t.vm_of[id], (s32)value);
		return 0;
	}
	return POLICY_EINVAL;
}
