/* Line editing for the serial shell. A line that outgrows the buffer is
 * marked and later rejected whole rather than cut, so a truncated command
 * never runs; backspace cannot un-overflow it for the same reason. */
#include "shell_line.h"

bool shell_feed(struct shell_line *l, int c, void (*echo)(const char *s))
{
	if (c == '\r' || c == '\n')
		return true;
	if (c == 0x7F || c == 0x08) {
		if (l->len && !l->overflow) {
			l->len--;
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
	l->buf[l->len++] = (char)c;
	char s[2] = { (char)c, 0 };
	echo(s);
	return false;
}
