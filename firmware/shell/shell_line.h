/* The operator shell's line editor, apart from the shell so host tests can
 * drive it without the monitor's console and command table. */
#ifndef CG_SHELL_LINE_H
#define CG_SHELL_LINE_H

#include <cg/types.h>

#define SHELL_LINE_MAX 128 /* CONSOLE_LINE_MAX + NUL */
#define SHELL_HISTORY 16
#define SHELL_PROMPT "cg> "

struct shell_line {
	char buf[SHELL_LINE_MAX];
	u32 len;
	bool overflow; /* the line went past SHELL_LINE_MAX: reject it whole */
	bool quiet;    /* a machine line ('@' first): nothing is echoed */
	u8 esc;        /* escape-sequence state: 0, ESC seen, ESC [ seen */
	char history[SHELL_HISTORY][SHELL_LINE_MAX];
	u32 history_count; /* lines stored (at most SHELL_HISTORY) */
	u32 history_next;  /* slot the next line goes to */
	u32 history_pos;   /* 0: editing a new line; k: showing the k-th newest */
};

/* shell_feed: one received byte into the line editor: printable ASCII is
 * added and echoed; backspace/DEL erases; Ctrl-U clears the line; ESC [ A
 * and ESC [ B recall older and newer history lines; CR or LF ends the
 * line. Other control bytes and non-ASCII are dropped. A line whose first
 * byte is '@' is a machine request: it is never echoed. Returns true when a
 * line is complete in l (the caller resets len, overflow and quiet). */
bool shell_feed(struct shell_line *l, int c, void (*echo)(const char *s));

/* shell_history_add: remember a completed line (empty lines and repeats of
 * the newest entry are not stored). */
void shell_history_add(struct shell_line *l, const char *line);

#endif
