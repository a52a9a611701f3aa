/* The operator shell's line editor, apart from the shell so host tests can
 * drive it without the monitor's console and command table. */
#ifndef CG_SHELL_LINE_H
#define CG_SHELL_LINE_H

#include <cg/types.h>

#define SHELL_LINE_MAX 128

struct shell_line {
	char buf[SHELL_LINE_MAX];
	u32 len;
	bool overflow; /* the line went past SHELL_LINE_MAX: reject it whole */
};

/* shell_feed: one received byte into the line editor (printable ASCII,
 * backspace/DEL, CR or LF ends the line; other control bytes and non-ASCII
 * are dropped). Returns true when a line is complete in l. */
bool shell_feed(struct shell_line *l, int c, void (*echo)(const char *s));

#endif
