/* A token bucket kept as a virtual clock (the "generic cell rate"
 * formulation): instead of a token count that a timer refills, the bucket
 * remembers tat, the time at which everything charged so far would have
 * been paid for at the configured rate. A charge conforms while tat is at
 * most burst_ns ahead of now; each charge pushes tat by cost / rate
 * seconds. The long-run rate is exact (the division remainder is carried),
 * an idle bucket never saves more than burst_ns worth of credit, and a
 * charge larger than the whole burst is still admitted once the bucket is
 * full (the debt then delays what follows), so no request waits forever.
 *
 * Pure integer arithmetic on nanosecond timestamps from the caller, so
 * host tests drive it with a fake clock. Not locked: the owner serialises. */
#ifndef CG_TOKEN_BUCKET_H
#define CG_TOKEN_BUCKET_H

#include <cg/types.h>

#define TOKEN_BUCKET_NS_PER_S 1000000000ull
/* Largest rate accepted (units per second): 10^12, the toolchain's
 * bytes_per_s ceiling. */
#define TOKEN_BUCKET_RATE_MAX 1000000000000ull
/* Largest cost of one charge; bigger costs are charged as this much. With
 * it, cost * 10^9 + remainder stays below 2^64. */
#define TOKEN_BUCKET_COST_MAX (1ull << 34)

struct token_bucket {
	u64 rate;	/* units per second; 0: unlimited (always conforms) */
	u64 burst_ns;	/* how far ahead of now tat may run and still admit */
	u64 tat;	/* theoretical arrival time, ns */
	u64 frac;	/* remainder of the last cost * 10^9 / rate, < rate */
};

/* token_bucket_init: a full bucket of rate units per second (0 =
 * unlimited, above TOKEN_BUCKET_RATE_MAX clamped to it) tolerating bursts
 * of burst_ns, as of time now. */
void token_bucket_init(struct token_bucket *b, u64 rate, u64 burst_ns, u64 now);

/* token_bucket_ready_at: the earliest time a charge conforms (0 when it
 * conforms at any time: unlimited, or never charged beyond the burst). */
u64 token_bucket_ready_at(const struct token_bucket *b);

/* token_bucket_conforms: whether a charge at now would be admitted. */
bool token_bucket_conforms(const struct token_bucket *b, u64 now);

/* token_bucket_charge: take cost units at now (whether or not it
 * conforms: the caller checked). No-op for an unlimited bucket. */
void token_bucket_charge(struct token_bucket *b, u64 cost, u64 now);

#endif
