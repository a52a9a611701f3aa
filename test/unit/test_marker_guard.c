/* Host tests for the "@cg" escape in guest console output
 * (firmware/lib/marker_guard.c): every string over an adversarial
 * alphabet up to 7 bytes, fed byte by byte (so every split across
 * writes), must come out (1) with an escape right before each "@cg",
 * (2) with no line - split at CR or LF, wherever the monitor's own lines
 * could cut in between the pieces one byte releases - that a marker or
 * console-reply parser would take (blanks and "cg> " prompts skipped, as
 * qemu/markers.ts and console/protocol.ts do), and (3) back to the input
 * once the byte before each "@cg" is dropped (a person's reading). Then
 * the replay helpers: where a cut ring may start, where a piece may end. */
#include "check.h"
#include "lib/marker_guard.h"
#include <string.h>

#define MAXLEN 7
#define OUTMAX (MAXLEN * 2 + 8)

/* What a parser sees at the start of line s: blanks and "cg> " prompts
 * skipped (markers.ts trims, protocol.ts tolerates prompts). */
static bool parser_takes(const char *s, size_t n)
{
	size_t i = 0;
	for (;;) {
		while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\v' || s[i] == '\f'))
			i++;
		if (n - i >= 4 && !memcmp(s + i, "cg> ", 4)) {
			i += 4;
			continue;
		}
		break;
	}
	return n - i >= 3 && !memcmp(s + i, "@cg", 3);
}

/* Feed in through a fresh guard; pieces[] records where each release ends. */
static long too_long;

static size_t guard_all(const char *in, size_t n, char *out, size_t *piece_end, size_t *pieces)
{
	struct marker_guard g = { 0 };
	size_t len = 0;
	*pieces = 0;
	for (size_t i = 0; i < n; i++) {
		u32 k = marker_guard_feed(&g, in[i], out + len);
		too_long += k > MARKER_GUARD_OUT_MAX;
		len += k;
		if (k)
			piece_end[(*pieces)++] = len;
	}
	len += marker_guard_end(&g, out + len);
	piece_end[(*pieces)++] = len;
	return len;
}

static bool any_line_taken(const char *out, size_t len, const size_t *piece_end, size_t pieces)
{
	/* Lines as the wire splits them, and also as they would be if the
	 * monitor started a line of its own after any piece. */
	size_t start = 0, p = 0;
	for (size_t i = 0; i <= len; i++) {
		bool cut = i == len || out[i] == '\n' || out[i] == '\r';
		if (cut || (p < pieces && piece_end[p] == i)) {
			if (parser_takes(out + start, i - start))
				return true;
			if (p < pieces && piece_end[p] == i)
				p++;
			start = cut ? i + 1 : i;
		}
	}
	return false;
}

static size_t unescape(const char *out, size_t len, char *back)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		if (out[i] == MARKER_GUARD_ESCAPE && len - i >= 4 && !memcmp(out + i + 1, "@cg", 3))
			continue;
		back[n++] = out[i];
	}
	return n;
}

static void check_exhaustive(void)
{
	static const char alpha[] = { '@', 'c', 'g', '\n', '\r', ' ', '\\', 'x' };
	const size_t a = sizeof(alpha);
	char in[MAXLEN], out[OUTMAX], back[OUTMAX];
	size_t piece_end[OUTMAX], pieces;
	long bad_escape = 0, taken = 0, lossy = 0, total = 0;
	for (size_t n = 0; n <= MAXLEN; n++) {
		size_t combos = 1;
		for (size_t i = 0; i < n; i++)
			combos *= a;
		for (size_t k = 0; k < combos; k++) {
			size_t x = k;
			for (size_t i = 0; i < n; i++, x /= a)
				in[i] = alpha[x % a];
			size_t len = guard_all(in, n, out, piece_end, &pieces);
			total++;
			for (size_t i = 0; i + 3 <= len; i++)
				if (!memcmp(out + i, "@cg", 3) && (i == 0 || out[i - 1] != MARKER_GUARD_ESCAPE))
					bad_escape++;
			if (any_line_taken(out, len, piece_end, pieces))
				taken++;
			size_t bn = unescape(out, len, back);
			if (bn != n || memcmp(back, in, n))
				lossy++;
		}
	}
	CHECK(total > 2000000, "every string up to 7 bytes tried");
	CHECK(too_long == 0, "one byte releases at most four");
	CHECK(bad_escape == 0, "every @cg has the escape right before it");
	CHECK(taken == 0, "no line, however cut, is taken for a marker or reply");
	CHECK(lossy == 0, "dropping the byte before each @cg gives the input back");
}

static size_t feed_str(struct marker_guard *g, const char *s, char *out)
{
	size_t len = 0;
	for (; *s; s++)
		len += marker_guard_feed(g, *s, out + len);
	return len;
}

static void check_cases(void)
{
	struct marker_guard g = { 0 };
	char out[64];
	size_t n = feed_str(&g, "@cg ready cpus=1 vmx=1\r\n", out);
	CHECK(n == 25 && !memcmp(out, "\\@cg ready cpus=1 vmx=1\r\n", 25), "a forged marker is escaped");
	/* Split across writes: "@c" now, "g" in a later write. */
	n = feed_str(&g, "@c", out);
	CHECK(n == 0 && g.held == 2, "'@c' is held");
	n = feed_str(&g, "g-rsp {}", out);
	CHECK(n == 11 && !memcmp(out, "\\@cg-rsp {}", 11), "'g' later completes it, escaped");
	n = feed_str(&g, "root@host:~# ", out);
	CHECK(n == 13 && !memcmp(out, "root@host:~# ", 13), "other '@' text unchanged");
	n = feed_str(&g, "@@cg", out);
	CHECK(n == 5 && !memcmp(out, "@\\@cg", 5), "'@@cg': the second '@' starts the match");
	n = feed_str(&g, "@c@cg", out);
	CHECK(n == 6 && !memcmp(out, "@c\\@cg", 6), "'@c@cg'");
	n = feed_str(&g, "x\r@cg", out);
	CHECK(n == 6 && !memcmp(out, "x\r\\@cg", 6), "after CR");
	n = feed_str(&g, "@c", out);
	n = marker_guard_end(&g, out);
	CHECK(n == 2 && !memcmp(out, "@c", 2) && g.held == 0, "the end releases '@c'");
	n = feed_str(&g, "@CG", out);
	CHECK(n == 3 && !memcmp(out, "@CG", 3), "case matters to the parsers, so to the guard");
}

static void check_replay_helpers(void)
{
	CHECK(marker_guard_resume("cg ready\n[x]", 12) == 9, "resume after the first LF");
	CHECK(marker_guard_resume("ab\r@cg", 6) == 3, "resume after a CR");
	CHECK(marker_guard_resume("@cg ready", 9) == 1, "no line end: skip an '@' whose escape was cut");
	CHECK(marker_guard_resume("cg ready", 8) == 0, "no line end, no '@': from the start");
	CHECK(marker_guard_resume("", 0) == 0, "empty");
	CHECK(marker_guard_cut("abcdef", 6, 8) == 6, "short text: all of it");
	CHECK(marker_guard_cut("abc\\@cg", 7, 4) == 3, "never end a piece on the escape of '@'");
	CHECK(marker_guard_cut("abc\\xcg", 7, 4) == 4, "a plain backslash may end a piece");
	CHECK(marker_guard_cut("ab\\@", 4, 3) == 2, "escape at max - 1");
	CHECK(marker_guard_cut("\\@cg", 4, 2) == 2, "max 2 keeps the pair whole... or moves it");
}

int main(void)
{
	check_cases();
	check_replay_helpers();
	check_exhaustive();
	return check_summary();
}
