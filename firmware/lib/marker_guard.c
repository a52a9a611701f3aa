/* The "@cg" escape in guest console output (marker_guard.h): a three-state
 * matcher over one stream. Holding the partial match ("@", "@c") instead
 * of escaping every "@" keeps ordinary text such as "root@host" as the
 * guest wrote it. */
#include "lib/marker_guard.h"

u32 marker_guard_feed(struct marker_guard *g, char c, char *out)
{
	static const char prefix[] = "@c";
	u32 n = 0;
	if (g->held == 2 && c == 'g') {
		out[n++] = MARKER_GUARD_ESCAPE;
		out[n++] = '@';
		out[n++] = 'c';
		out[n++] = 'g';
		g->held = 0;
		return n;
	}
	if (g->held == 1 && c == 'c') {
		g->held = 2;
		return 0;
	}
	/* The partial match is broken: release it, then look at c afresh. */
	for (u32 i = 0; i < g->held; i++)
		out[n++] = prefix[i];
	g->held = 0;
	if (c == '@')
		g->held = 1;
	else
		out[n++] = c;
	return n;
}

u32 marker_guard_end(struct marker_guard *g, char *out)
{
	u32 n = 0;
	if (g->held >= 1)
		out[n++] = '@';
	if (g->held == 2)
		out[n++] = 'c';
	g->held = 0;
	return n;
}

u32 marker_guard_resume(const char *s, u32 n)
{
	for (u32 i = 0; i < n; i++)
		if (s[i] == '\n' || s[i] == '\r')
			return i + 1;
	return n && s[0] == '@' ? 1 : 0;
}

u32 marker_guard_cut(const char *s, u32 n, u32 max)
{
	if (n <= max)
		return n;
	/* An escape followed by its "@" straddles the cut: stop before it. */
	if (s[max - 1] == MARKER_GUARD_ESCAPE && s[max] == '@')
		return max - 1;
	return max;
}
