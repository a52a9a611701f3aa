/* Minimal host test harness: CHECK counts, check_summary prints the one
 * line the build greps ("<N> passed, <M> failed") and gives the exit status.
 * Also a fixed-seed generator so fuzz loops replay identically. */
#ifndef CG_TEST_CHECK_H
#define CG_TEST_CHECK_H

#include <stdint.h>
#include <stdio.h>

static int check_passed;
static int check_failed;

#define CHECK(cond, msg)                                                      \
	do {                                                                  \
		if (cond) {                                                   \
			check_passed++;                                       \
		} else {                                                      \
			check_failed++;                                       \
			fprintf(stderr, "FAIL %s:%d: %s [%s]\n", __FILE__,    \
				__LINE__, (msg), #cond);                      \
		}                                                             \
	} while (0)

static inline int check_summary(void)
{
	printf("%d passed, %d failed\n", check_passed, check_failed);
	return check_failed ? 1 : 0;
}

/* xorshift64*: deterministic, good enough to shake parsers. */
static uint64_t check_rng_state = 0x9E3779B97F4A7C15ULL;

static inline uint64_t check_rand(void)
{
	uint64_t x = check_rng_state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	check_rng_state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

/* Uniform-enough value in [0, n); n must be nonzero. */
static inline uint64_t check_rand_below(uint64_t n)
{
	return check_rand() % n;
}

#endif
