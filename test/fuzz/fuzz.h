/* Shared by the libFuzzer harnesses (test/fuzz/fuzz_<name>.c): the entry
 * point libFuzzer calls, a reader that turns the fuzzer's bytes into
 * fields, and FUZZ_CHECK for invariants. A harness compiles twice: with
 * clang -fsanitize=fuzzer for `make fuzz` and `make fuzz-smoke`, and with
 * the unit tests' compiler and replay_main.c for `make unit-test`, which
 * replays the seed corpora and every saved crash. */
#ifndef CG_TEST_FUZZ_H
#define CG_TEST_FUZZ_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cg/types.h>

/* libFuzzer's entry point: run one input; always returns 0. */
int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

/* A broken invariant is a finding: say which, then abort so libFuzzer
 * saves the input and the replay run fails. */
#define FUZZ_CHECK(cond, msg)                                                       \
	do {                                                                        \
		if (!(cond)) {                                                      \
			fprintf(stderr, "FUZZ INVARIANT %s:%d: %s [%s]\n", __FILE__, \
				__LINE__, (msg), #cond);                            \
			abort();                                                    \
		}                                                                   \
	} while (0)

/* For a harness's own bulk checks (loops over whole buffers): no
 * coverage feedback or comparison tracing there, which would slow every
 * input and teach the fuzzer nothing about the code under test. */
#if defined(__clang__)
#define FUZZ_NO_COVERAGE __attribute__((no_sanitize("coverage"), noinline))
#else
#define FUZZ_NO_COVERAGE
#endif

/* The input, consumed front to back; past its end every field reads 0, so
 * any prefix of an input is itself a valid input. */
struct fuzz_in {
	const u8 *p;
	size_t n;
};

static inline u64 fuzz_take(struct fuzz_in *in, unsigned bytes)
{
	u64 v = 0;

	for (unsigned i = 0; i < bytes; i++) {
		if (in->n) {
			v |= (u64)in->p[0] << (8 * i);
			in->p++;
			in->n--;
		}
	}
	return v;
}

static inline u8 fuzz_u8(struct fuzz_in *in) { return (u8)fuzz_take(in, 1); }
static inline u16 fuzz_u16(struct fuzz_in *in) { return (u16)fuzz_take(in, 2); }
static inline u32 fuzz_u32(struct fuzz_in *in) { return (u32)fuzz_take(in, 4); }
static inline u64 fuzz_u64(struct fuzz_in *in) { return fuzz_take(in, 8); }

/* An exactly-sized heap copy of the next n bytes (fewer if the input ends
 * first; *got says how many), so AddressSanitizer sees any read past
 * them. Free with free(). */
static inline u8 *fuzz_bytes(struct fuzz_in *in, size_t n, size_t *got)
{
	size_t k = n < in->n ? n : in->n;
	u8 *b = malloc(k ? k : 1);

	if (!b)
		abort();
	if (k)
		memcpy(b, in->p, k);
	in->p += k;
	in->n -= k;
	*got = k;
	return b;
}

#endif
