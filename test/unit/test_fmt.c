/* fmt: every conversion, flags, widths, length modifiers, extremes and
 * truncation, then a fixed-seed comparison against the host C library's
 * snprintf for the subset where the two promise the same output. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "lib/fmt.h"

/* Same as fmt_snprintf but without the printf attribute, for formats the
 * compiler would rightly reject (unknown conversions, a trailing %). */
static int fmt_raw(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fmt_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

/* Format into a roomy buffer and compare text and return value. */
#define EXPECT(want, ...)                                                     \
	do {                                                                  \
		char b_[128];                                                 \
		int n_ = fmt_snprintf(b_, sizeof(b_), __VA_ARGS__);           \
		CHECK(!strcmp(b_, want) && n_ == (int)strlen(want), want);    \
	} while (0)

static void test_conversions(void)
{
	const char *volatile null_str = NULL;

	EXPECT("42 -42 0", "%d %d %d", 42, -42, 0);
	EXPECT("7 -7", "%i %i", 7, -7);
	EXPECT("-2147483648 2147483647", "%d %d", INT_MIN, INT_MAX);
	EXPECT("4294967295", "%u", UINT_MAX);
	EXPECT("deadbeef DEADBEEF", "%x %X", 0xDEADBEEFu, 0xDEADBEEFu);
	EXPECT("0", "%x", 0u);
	EXPECT("hello", "%s", "hello");
	EXPECT("(null)", "%s", null_str);
	EXPECT("", "%s", "");
	EXPECT("A", "%c", 'A');
	EXPECT("100%", "100%%");
	EXPECT("0x00000000deadbeef", "%p", (void *)0xDEADBEEFul);
	EXPECT("0x0000000000000000", "%p", NULL);
	EXPECT("0xffffffffffffffff", "%p", (void *)~0ul);
	EXPECT("plain text", "plain text");
	EXPECT("", "%s", "");

	/* Length modifiers: l, ll and z all take 64 bits here. */
	EXPECT("-9223372036854775808", "%ld", (long)INT64_MIN);
	EXPECT("-9223372036854775808", "%lld", (long long)INT64_MIN);
	EXPECT("9223372036854775807", "%lld", (long long)INT64_MAX);
	EXPECT("18446744073709551615", "%lu", (unsigned long)UINT64_MAX);
	EXPECT("18446744073709551615", "%llu", (unsigned long long)UINT64_MAX);
	EXPECT("ffffffffffffffff", "%lx", (unsigned long)UINT64_MAX);
	EXPECT("FEDCBA9876543210", "%llX", 0xFEDCBA9876543210ull);
	EXPECT("18446744073709551615", "%zu", (size_t)SIZE_MAX);
	EXPECT("1000", "%zx", (size_t)0x1000);
	EXPECT("-5", "%zd", (ssize_t)-5);
	/* Without l, only 32 bits are taken. */
	EXPECT("-1", "%d", -1);
	EXPECT("ffffffff", "%x", 0xFFFFFFFFu);

	/* Widths and flags. */
	EXPECT("   42", "%5d", 42);
	EXPECT("00042", "%05d", 42);
	EXPECT("-0042", "%05d", -42);
	EXPECT("  -42", "%5d", -42);
	EXPECT("42   |", "%-5d|", 42);
	EXPECT("-42  |", "%-5d|", -42);
	EXPECT("123456", "%3d", 123456);
	EXPECT("0000beef", "%08x", 0xBEEFu);
	EXPECT("00000000fee00000", "%016lx", 0xFEE00000ul);
	EXPECT("   hi|hi   |", "%5s|%-5s|", "hi", "hi");
	EXPECT("toolong", "%3s", "toolong");
	EXPECT("  help     list", "  %-8s %s", "help", "list");
	EXPECT("00000", "%05u", 0u);
	EXPECT("-9223372036854775808", "%020lld", (long long)INT64_MIN);
	EXPECT("-0009223372036854775808", "%023lld", (long long)INT64_MIN);

	/* Formats the compiler would reject: passed through as text. */
	char b[32];
	CHECK(fmt_raw(b, sizeof(b), "%-05d|%0-5d|", 42, 42) == 12 && !strcmp(b, "42   |42   |"),
	      "'-' beats '0'");
	CHECK(fmt_raw(b, sizeof(b), "a%qb") == 4 && !strcmp(b, "a%qb"), "unknown conversion kept");
	CHECK(fmt_raw(b, sizeof(b), "abc%") == 3 && !strcmp(b, "abc"), "trailing % dropped");
	CHECK(fmt_raw(b, sizeof(b), "%05") == 0 && !strcmp(b, ""), "trailing flags dropped");
}

static void test_truncation(void)
{
	char b[16];

	memset(b, 'X', sizeof(b));
	CHECK(fmt_snprintf(b, 0, "%s", "hello") == 5 && b[0] == 'X', "size 0 writes nothing");
	CHECK(fmt_snprintf(NULL, 0, "%d", 12345) == 5, "size 0 with NULL buffer measures");
	CHECK(fmt_snprintf(b, 1, "%s", "hello") == 5 && b[0] == 0 && b[1] == 'X',
	      "size 1: only the NUL");
	CHECK(fmt_snprintf(b, 4, "%s", "hello") == 5 && !strcmp(b, "hel") && b[4] == 'X',
	      "cut to size-1 and terminated");
	CHECK(fmt_snprintf(b, 6, "%s", "hello") == 5 && !strcmp(b, "hello"), "exact fit");
	CHECK(fmt_snprintf(b, 5, "%s", "hello") == 5 && !strcmp(b, "hell"), "one short");
	CHECK(fmt_snprintf(b, 3, "%-10d|", 7) == 11 && !strcmp(b, "7 "), "padding counts");

	/* Exactly-sized heap buffers: ASan sees any write past size. */
	for (size_t size = 0; size <= 24; size++) {
		char *h = malloc(size ? size : 1);
		int n = fmt_snprintf(h, size, "%lld|%s|%08x", (long long)INT64_MIN, "ab", 0x12u);

		CHECK(n == 32 && (!size || (strlen(h) == size - 1 &&
					    !strncmp(h, "-9223372036854775808|ab|00000012", size - 1))),
		      "heap truncation");
		free(h);
	}
}

/* Build a random spec from the shared subset and compare with snprintf. */
static void fuzz_against_libc(unsigned rounds)
{
	static const char *const flags[] = { "", "0", "-", "-0", "0-" };
	static const char *const lens[] = { "", "l", "ll", "z" };
	static const char convs[] = "diuxXs";
	static const char *const strs[] = { "", "a", "monitor", "0123456789abcdefghij" };
	unsigned mismatches = 0;

	for (unsigned r = 0; r < rounds; r++) {
		char spec[32], want[96], got[96];
		char conv = convs[check_rand_below(sizeof(convs) - 1)];
		const char *fl = flags[check_rand_below(5)];
		unsigned width = (unsigned)check_rand_below(26);
		const char *len = conv == 's' ? "" : lens[check_rand_below(4)];
		size_t size = (size_t)check_rand_below(sizeof(got) + 1);
		u64 v = check_rand() >> check_rand_below(64);
		int a, b;

		/* '0' with %s is undefined in C: keep it out of the oracle. */
		if (conv == 's' && strchr(fl, '0'))
			fl = "-";
		if (width)
			snprintf(spec, sizeof(spec), "<%%%s%u%s%c>", fl, width, len, conv);
		else
			snprintf(spec, sizeof(spec), "<%%%s%s%c>", fl, len, conv);
		memset(got, 'X', sizeof(got));
		if (conv == 's') {
			const char *s = strs[check_rand_below(4)];
			a = snprintf(want, sizeof(want), spec, s);
			b = fmt_raw(got, size, spec, s);
		} else if (!*len) {
			a = snprintf(want, sizeof(want), spec, (unsigned)v);
			b = fmt_raw(got, size, spec, (unsigned)v);
		} else {
			a = snprintf(want, sizeof(want), spec, (unsigned long)v);
			b = fmt_raw(got, size, spec, (unsigned long)v);
		}
		bool same = a == b;
		if (size)
			same = same && strlen(got) == ((size_t)a < size ? (size_t)a : size - 1) &&
			       !strncmp(got, want, size - 1);
		if (size < sizeof(got))
			same = same && got[size] == 'X';
		if (!same && mismatches++ < 5)
			fprintf(stderr, "fmt mismatch: spec %s size %zu: libc '%s' fmt '%s'\n", spec,
				size, want, size ? got : "");
	}
	CHECK(mismatches == 0, "fmt agrees with libc snprintf on the shared subset");
}

int main(void)
{
	test_conversions();
	test_truncation();
	fuzz_against_libc(20000);
	return check_summary();
}
