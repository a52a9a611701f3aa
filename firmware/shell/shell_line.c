/* Line editing for the serial shell. A line that outgrows the buffer is
 * marked and later rejected whole rather than cut, so a truncated command
 * never runs; backspace cannot un-overflow it for the same reason. */
#include "shell/shell_line.h"
#include <cg/string.h>

#define CTRL_U 0x15
#define ESC 0x1B

static void redraw(struct shell_line *l, void (*echo)(const char *s))
{
	l->buf[l->len] = 0;
	echo("\r\x1b[K" SHELL_PROMPT);
	echo(l->buf);
}

static void recall(struct shell_line *l, int dir, void (*echo)(const char *s))
{
	u32 pos = l->history_pos;
	if (dir > 0 && pos < l->history_count)
		pos++;
	else if (dir < 0 && pos > 0)
		pos--;
	else
		return;
	l->history_pos = pos;
	if (pos == 0) {
		l->len = 0;
	} else {
		u32 slot = (l->history_next + SHELL_HISTORY - pos) % SHELL_HISTORY;
		l->len = (u32)cg_strlcpy(l->buf, l->history[slot], SHELL_LINE_MAX, SHELL_LINE_MAX);
	}
	l->overflow = false;
	redraw(l, echo);
}

bool shell_feed(struct shell_line *l, int c, void (*echo)(const char *s))
{
	if (l->esc == 1) {
		l->esc = c == '[' ? 2 : 0;
		if (l->esc)
			return false;
	} else if (l->esc == 2) {
		l->esc = 0;
		if (c == 'A' || c == 'B') {
			if (!l->quiet)
				recall(l, c == 'A' ? 1 : -1, echo);
			return false;
		}
		if (c >= 0x40 && c <= 0x7E)
			return false; /* another CSI sequence: ignored whole */
	}
	if (c == '\r' || c == '\n') {
		l->history_pos = 0;
		return true;
	}
	if (c == ESC) {
		l->esc = 1;
		return false;
	}
	if (c == CTRL_U) {
		if (!l->quiet) {
			l->len = 0;
			l->overflow = false;
			redraw(l, echo);
		}
		return false;
	}
	if (c == 0x7F || c == 0x08) {
		if (l->len && !l->overflow) {
			l->len--;
			if (!l->quiet)
				echo("\b \b");
		}
		return false;
	}
	if (c < 0x20 || c > 0x7E)
		return false;
	if (l->len + 1 >= SHELL_LINE_MAX) {
		l->overflow = true;
		return false;
	}
	if (l->len == 0 && c == '@')
		l->quiet = true;
	l->buf[l->len++] = (char)c;
	if (!l->quiet) {
		char s[2] = { (char)c, 0 };
		echo(s);
	}
	return false;
}

void shell_history_add(struct shell_line *l, const char *line)
{
	if (!line[0])
		return;
	if (l->history_count) {
		u32 newest = (l->history_next + SHELL_HISTORY - 1) % SHELL_HISTORY;
		if (!strcmp(l->history[newest], line))
			return;
	}
	cg_strlcpy(l->history[l->history_next], line, SHELL_LINE_MAX, SHELL_LINE_MAX);
	l->history_next = (l->history_next + 1) % SHELL_HISTORY;
	if (l->history_count < SHELL_HISTORY)
		l->history_count++;
}
