/* Token bucket as a virtual clock: see token_bucket.h. */
#include "devices/virtio/token_bucket.h"

void token_bucket_init(struct token_bucket *b, u64 rate, u64 burst_ns, u64 now)
{
	b->rate = rate > TOKEN_BUCKET_RATE_MAX ? TOKEN_BUCKET_RATE_MAX : rate;
	b->burst_ns = burst_ns;
	b->tat = now;
	b->frac = 0;
}

u64 token_bucket_ready_at(const struct token_bucket *b)
{
	if (!b->rate || b->tat <= b->burst_ns)
		return 0;
	return b->tat - b->burst_ns;
}

bool token_bucket_conforms(const struct token_bucket *b, u64 now)
{
	return now >= token_bucket_ready_at(b);
}

void token_bucket_charge(struct token_bucket *b, u64 cost, u64 now)
{
	u64 num, inc;

	if (!b->rate)
		return;
	if (cost > TOKEN_BUCKET_COST_MAX)
		cost = TOKEN_BUCKET_COST_MAX;
	/* An idle bucket starts paying from now: credit is capped at the
	 * burst by the conformance test, not saved up. */
	if (b->tat < now) {
		b->tat = now;
		b->frac = 0;
	}
	/* cost <= 2^34 and frac < rate <= 10^12: no overflow. */
	num = cost * TOKEN_BUCKET_NS_PER_S + b->frac;
	inc = num / b->rate;
	b->frac = num % b->rate;
	b->tat = inc > UINT64_MAX - b->tat ? UINT64_MAX : b->tat + inc;
}
