/* What keeps a guest from writing a line that programs would take for the
 * monitor's: every "@cg" in a guest's console output reaches the operator
 * line as "\@cg" (docs/markers.md, "Guest output"). Markers and console
 * replies are recognised only where "@cg" starts a line, after blanks or a
 * "cg> " prompt at most, so a byte that is neither right before the "@"
 * disarms every such line, wherever CR, LF or the monitor's own lines
 * split the guest's text. A person reads the text back by dropping the
 * backslash. Pure: the state is one small struct per output stream. */
#ifndef CG_MARKER_GUARD_H
#define CG_MARKER_GUARD_H

#include <cg/types.h>

#define MARKER_GUARD_ESCAPE '\\'
#define MARKER_GUARD_OUT_MAX 4 /* the most one byte can release: "\@cg" */

struct marker_guard {
	u8 held; /* bytes of "@cg" seen and not yet released: 0, 1 or 2 */
};

/* marker_guard_feed: the next guest byte c of g's stream. Writes what may
 * go out now to out (0 to MARKER_GUARD_OUT_MAX bytes; an "@" or "@c" is
 * held until the byte after it shows whether it starts "@cg") and returns
 * the count. What one call returns must reach the line in one piece: a
 * monitor line between the escape and the "@" would start a line with
 * "@cg". */
u32 marker_guard_feed(struct marker_guard *g, char c, char *out);

/* marker_guard_end: the stream ends (the VM ended): writes the held bytes
 * to out (at most 2) and returns their count; g starts afresh. */
u32 marker_guard_end(struct marker_guard *g, char *out);

/* marker_guard_resume: where replay of guarded text s (n bytes) that was
 * cut at an arbitrary byte may start: after its first line end (CR or LF)
 * when it has one, else past a leading "@" (whose escape was cut off),
 * else 0. Returns an offset <= n. */
u32 marker_guard_resume(const char *s, u32 n);

/* marker_guard_cut: how many of guarded text s's n bytes to send in a
 * piece of at most max (>= 2) so the piece never ends between an escape
 * and its "@". Returns 1..max when n > 0, else 0. */
u32 marker_guard_cut(const char *s, u32 n, u32 max);

#endif
