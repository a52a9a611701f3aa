#include "init/cmdline.h"
#include <cg/string.h>

static bool word_is(const char *w, size_t n, const char *lit)
{
	return strlen(lit) == n && !strncmp(w, lit, n);
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The decimal rate after the comma: 1-6 digits, a divisor of 115200 whose
 * quotient (the 16550's divisor latch) fits 16 bits. */
static bool serial_baud(const char *v, size_t n, u32 *baud)
{
	u32 b = 0;
	if (n > 6 || !cg_parse_u32(v, n, &b))
		return false;
	if (!b || b > CMDLINE_SERIAL_BAUD || CMDLINE_SERIAL_BAUD % b ||
	    CMDLINE_SERIAL_BAUD / b > 0xFFFF)
		return false;
	*baud = b;
	return true;
}

bool cmdline_serial(const char *v, size_t n, u16 *port, u32 *baud)
{
	size_t comma = 0;
	while (comma < n && v[comma] != ',')
		comma++;
	u32 p = 0;
	if (comma == 4 && !strncmp(v, "com1", 4)) {
		p = CMDLINE_SERIAL_COM1;
	} else if (comma == 4 && !strncmp(v, "com2", 4)) {
		p = CMDLINE_SERIAL_COM2;
	} else {
		if (comma < 3 || comma > 6 || strncmp(v, "0x", 2))
			return false;
		for (size_t i = 2; i < comma; i++) {
			int d = hex_digit(v[i]);
			if (d < 0)
				return false;
			p = p * 16 + (u32)d;
		}
		if (!p || p > 0xFFF8)
			return false;
	}
	u32 b = CMDLINE_SERIAL_BAUD;
	if (comma < n && !serial_baud(v + comma + 1, n - comma - 1, &b))
		return false;
	*port = (u16)p;
	*baud = b;
	return true;
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
	else if (n >= 10 && !strncmp(w, "cg.serial=", 10)) {
		/* A bad value anywhere keeps the defaults: the line the operator
		 * watches is then the one every monitor starts on. */
		if (o->serial_bad || !cmdline_serial(w + 10, n - 10, &o->serial_port, &o->serial_baud)) {
			o->serial_bad = true;
			o->serial_port = CMDLINE_SERIAL_COM1;
			o->serial_baud = CMDLINE_SERIAL_BAUD;
		}
	} else
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
	opts->serial_port = CMDLINE_SERIAL_COM1;
	opts->serial_baud = CMDLINE_SERIAL_BAUD;
	opts->serial_bad = false;
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
