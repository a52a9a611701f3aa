/* The operator shell on the serial line (prompt "cg> "). */
#ifndef CG_SHELL_H
#define CG_SHELL_H

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

/* shell_exec: run one complete line and print its answer. */
void shell_exec(const char *line);

/* shell_run: the shell loop on the boot CPU; never returns. */
NORETURN void shell_run(void);

#endif
