#include "init/cmdline.h"
#include <cg/string.h>

static bool word_is(const char *w, size_t n, const char *lit)
{
	return strlen(lit) == n && !strncmp(w, lit, n);
}

static bool cmdline_word(const char *w, size_t n, struct cmdline_opts *o)
{
	if (word_is(w, n, "cg.test=fault"))
		o->test = CMDLINE_TEST_FAULT;
	else if (word_is(w, n, "cg.test=none"))
		o->test = CMDLINE_TEST_NONE;
	else if (word_is(w, n, "cg.shell=0"))
		o->shell = false;
	else if (word_is(w, n, "cg.shell=1"))
		o->shell = true;
	else if (word_is(w, n, "cg.apicv=0"))
		o->apicv = false;
	else if (word_is(w, n, "cg.apicv=1"))
		o->apicv = true;
	else if (word_is(w, n, "cg.spec=auto"))
		o->spec = CMDLINE_SPEC_AUTO;
	else if (word_is(w, n, "cg.spec=on"))
		o->spec = CMDLINE_SPEC_ON;
	else if (word_is(w, n, "cg.spec=off"))
		o->spec = CMDLINE_SPEC_OFF;
	else
		return false;
	return true;
}

int cmdline_parse(const char *s, struct cmdline_opts *opts, char *bad, size_t bad_size)
{
	int nbad = 0;
	opts->test = CMDLINE_TEST_NONE;
	opts->shell = true;
	opts->apicv = false;
	opts->spec = CMDLINE_SPEC_AUTO;
	if (bad_size)
		bad[0] = 0;
	while (*s) {
		while (*s == ' ' || *s == '\t')
			s++;
		const char *w = s;
		while (*s && *s != ' ' && *s != '\t')
			s++;
		size_t n = (size_t)(s - w);
		if (n < 3 || strncmp(w, "cg.", 3))
			continue;
		if (!cmdline_word(w, n, opts)) {
			if (!nbad++)
				cg_strlcpy(bad, w, n, bad_size);
		}
	}
	return nbad;
}
