/* shell_line: the serial line editor. Printable input, backspace and DEL,
 * overflow (the buffer is never overrun and the line is rejected whole),
 * dropped control and non-ASCII bytes, and CR/LF ending a line. The
 * struct lives in an exactly-sized heap block, and a write past buf would
 * also land on len, which every test checks. */
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "shell/shell_line.h"

static char echoed[1024];
static size_t echoed_len;

static void echo(const char *s)
{
	size_t n = strlen(s);

	if (echoed_len + n < sizeof(echoed)) {
		memcpy(echoed + echoed_len, s, n + 1);
		echoed_len += n;
	}
}

static struct shell_line *line_new(void)
{
	struct shell_line *l = calloc(1, sizeof(*l));

	if (!l)
		abort();
	echoed_len = 0;
	echoed[0] = 0;
	return l;
}

/* Feed each byte of s; true if any of them completed the line. */
static bool feed(struct shell_line *l, const char *s)
{
	bool done = false;

	for (; *s; s++)
		done |= shell_feed(l, (unsigned char)*s, echo);
	return done;
}

static bool line_is(const struct shell_line *l, const char *want)
{
	return l->len == strlen(want) && !memcmp(l->buf, want, l->len);
}

static void test_printable(void)
{
	struct shell_line *l = line_new();

	CHECK(!feed(l, "help me"), "printable bytes do not end the line");
	CHECK(line_is(l, "help me") && !l->overflow, "printable bytes stored");
	CHECK(!strcmp(echoed, "help me"), "printable bytes echoed");
	CHECK(shell_feed(l, '\r', echo) && line_is(l, "help me"), "CR ends the line");
	CHECK(shell_feed(l, '\n', echo), "LF ends the line");
	CHECK(!strcmp(echoed, "help me"), "CR/LF not echoed by the editor");
	CHECK(!feed(l, " ~") && line_is(l, "help me ~"), "space and tilde are printable");
	free(l);

	l = line_new();
	CHECK(shell_feed(l, '\n', echo) && l->len == 0, "empty line completes");
	free(l);
}

static void test_backspace(void)
{
	struct shell_line *l = line_new();

	CHECK(!shell_feed(l, 0x08, echo) && l->len == 0 && !echoed[0], "BS on empty line");
	CHECK(!shell_feed(l, 0x7F, echo) && l->len == 0 && !echoed[0], "DEL on empty line");
	feed(l, "abc");
	echoed_len = 0;
	echoed[0] = 0;
	CHECK(!shell_feed(l, 0x7F, echo) && line_is(l, "ab"), "DEL removes one");
	CHECK(!strcmp(echoed, "\b \b"), "DEL erases on the terminal");
	CHECK(!shell_feed(l, 0x08, echo) && line_is(l, "a"), "BS removes one");
	echoed_len = 0;
	echoed[0] = 0;
	feed(l, "\x08\x08\x7f");
	CHECK(l->len == 0, "extra erases stop at empty");
	CHECK(!strcmp(echoed, "\b \b"), "only real erases echo");
	feed(l, "xy\x7fz");
	CHECK(line_is(l, "xz"), "typing after erase");
	free(l);
}

static void test_overflow(void)
{
	struct shell_line *l = line_new();
	char want[SHELL_LINE_MAX];

	for (u32 i = 0; i < SHELL_LINE_MAX - 1; i++) {
		want[i] = (char)('a' + i % 26);
		shell_feed(l, want[i], echo);
	}
	CHECK(l->len == SHELL_LINE_MAX - 1 && !l->overflow, "MAX-1 bytes fit (room for the NUL)");
	CHECK(!memcmp(l->buf, want, SHELL_LINE_MAX - 1), "full line intact");
	CHECK(!shell_feed(l, 'X', echo) && l->overflow, "one more overflows");
	for (int i = 0; i < 500; i++)
		shell_feed(l, 'Y', echo);
	CHECK(l->len == SHELL_LINE_MAX - 1 && !memcmp(l->buf, want, SHELL_LINE_MAX - 1),
	      "overflow never writes past the buffer");
	CHECK(echoed_len == SHELL_LINE_MAX - 1, "overflowing bytes not echoed");
	CHECK(!shell_feed(l, 0x7F, echo) && l->len == SHELL_LINE_MAX - 1 && l->overflow,
	      "erase cannot rescue an overflowed line");
	CHECK(shell_feed(l, '\r', echo) && l->overflow, "CR ends an overflowed line");
	free(l);
}

static void test_dropped(void)
{
	struct shell_line *l = line_new();
	static const int drop[] = { 0x00, 0x01, 0x07, 0x09, 0x0B, 0x0C, 0x1B, 0x1F,
				    0x80, 0x9B, 0xC3, 0xFF, -1, 0x100, 0x17F };

	feed(l, "ok");
	for (size_t i = 0; i < ARRAY_SIZE(drop); i++)
		CHECK(!shell_feed(l, drop[i], echo) && line_is(l, "ok"), "control/non-ASCII dropped");
	CHECK(!strcmp(echoed, "ok"), "dropped bytes not echoed");
	/* Cursor keys are escape sequences, consumed whole; with no history,
	 * cursor up changes nothing. */
	feed(l, "\x1b[A\x1b[C");
	CHECK(line_is(l, "ok"), "escape sequences consumed whole");
	free(l);
}

static void test_history(void)
{
	struct shell_line *l = line_new();
	shell_history_add(l, "first");
	shell_history_add(l, "second");
	shell_history_add(l, "second");
	shell_history_add(l, "");
	CHECK(l->history_count == 2, "repeats and empty lines are not stored");
	feed(l, "\x1b[A");
	CHECK(line_is(l, "second"), "up recalls the newest");
	feed(l, "\x1b[A");
	CHECK(line_is(l, "first"), "up again recalls the older");
	feed(l, "\x1b[A");
	CHECK(line_is(l, "first"), "up past the oldest stays");
	feed(l, "\x1b[B\x1b[B");
	CHECK(line_is(l, ""), "down past the newest gives an empty line");
	feed(l, "abc\x15");
	CHECK(line_is(l, ""), "Ctrl-U clears the line");
	for (int i = 0; i < 40; i++) {
		char b[8] = { 'c', (char)('a' + i % 26), (char)('a' + i / 26), 0 };
		shell_history_add(l, b);
	}
	CHECK(l->history_count == SHELL_HISTORY, "history keeps the newest 16");
	free(l);
}

static void test_machine_line(void)
{
	struct shell_line *l = line_new();
	echoed_len = 0;
	echoed[0] = 0;
	feed(l, "@cg-req 1 hello");
	CHECK(l->quiet && line_is(l, "@cg-req 1 hello"), "a machine line is collected");
	CHECK(echoed_len == 0, "and never echoed");
	free(l);
}

int main(void)
{
	test_printable();
	test_backspace();
	test_overflow();
	test_dropped();
	test_history();
	test_machine_line();
	return check_summary();
}
