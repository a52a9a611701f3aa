/* Fuzz target: the operator console's line editor (shell/shell_line.c),
 * fed the bytes that arrive on the serial line, completed lines handled
 * as shell.c handles them (history for human lines, state reset).
 * Input: the received bytes, one shell_feed each.
 * Invariants beyond "no crash" (the struct is an exactly-sized heap block):
 *  - len stays below SHELL_LINE_MAX and the history indices in range;
 *  - a completed line that did not overflow holds printable ASCII only,
 *    as does every history entry, always NUL-terminated;
 *  - echo only ever sends printable ASCII, BS, CR and the ESC [ K of a
 *    redraw: no received byte is passed raw to the terminal;
 *  - a machine line ('@' first) is never echoed, from its '@' to its end. */
#include "fuzz.h"
#include "shell/shell_line.h"

static size_t echoed;

static void echo(const char *s)
{
	for (; *s; s++) {
		u8 c = (u8)*s;

		FUZZ_CHECK((c >= 0x20 && c <= 0x7E) || c == '\b' || c == '\r' || c == 0x1B,
			   "echo sent a control or non-ASCII byte");
		if (c == 0x1B)
			FUZZ_CHECK(s[1] == '[' && s[2] == 'K', "echo sent an escape other than erase-line");
		echoed++;
	}
}

static bool printable(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((u8)s[i] < 0x20 || (u8)s[i] > 0x7E)
			return false;
	return true;
}

static void check_state(const struct shell_line *l)
{
	FUZZ_CHECK(l->len < SHELL_LINE_MAX, "line length past the buffer");
	FUZZ_CHECK(l->history_count <= SHELL_HISTORY && l->history_next < SHELL_HISTORY &&
			   l->history_pos <= l->history_count, "history indices");
	FUZZ_CHECK(l->esc <= 2, "escape state");
	for (u32 i = 0; i < l->history_count; i++) {
		const char *h = l->history[(l->history_next + SHELL_HISTORY - 1 - i) % SHELL_HISTORY];
		const char *end = memchr(h, 0, SHELL_LINE_MAX);

		FUZZ_CHECK(end && end > h && printable(h, (size_t)(end - h)), "history entry");
	}
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct shell_line *l = calloc(1, sizeof(*l));
	size_t quiet_mark = 0;

	if (!l)
		abort();
	echoed = 0;
	for (size_t i = 0; i < size; i++) {
		bool was_quiet = l->quiet;
		bool done = shell_feed(l, data[i], echo);

		if (l->quiet && !was_quiet)
			FUZZ_CHECK(echoed == quiet_mark, "the '@' of a machine line was echoed");
		if (l->quiet)
			FUZZ_CHECK(echoed == quiet_mark, "a machine line was echoed");
		check_state(l);
		if (done) {
			l->buf[l->len] = 0;
			if (!l->overflow)
				FUZZ_CHECK(printable(l->buf, l->len), "completed line holds other bytes");
			if (!l->quiet && !l->overflow)
				shell_history_add(l, l->buf);
			l->len = 0;
			l->overflow = false;
			l->quiet = false;
			check_state(l);
		}
		quiet_mark = echoed;
	}
	free(l);
	return 0;
}
