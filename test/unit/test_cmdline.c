/* cmdline: the monitor's own options among the loader's words, unknown and
 * overlong cg. words, separators, and a fixed-seed fuzz against a simple
 * oracle. Command lines and bad-word buffers live in exactly-sized heap
 * copies so AddressSanitizer sees any read or write past them. */
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "init/cmdline.h"

struct parsed {
	int nbad;
	struct cmdline_opts o;
	char bad[64];
};

/* Parse s from a heap copy with a bad buffer of exactly bad_size bytes,
 * copied out to p->bad (which stays "" for bad_size 0). */
static void parse(const char *s, size_t bad_size, struct parsed *p)
{
	char *in = strdup(s);
	char *bad = bad_size ? malloc(bad_size) : NULL;

	if (!in || (bad_size && !bad))
		abort();
	if (bad)
		memset(bad, 'Z', bad_size);
	/* Garbage in opts: the parser must set every field itself. */
	memset(&p->o, 0x5A, sizeof(p->o));
	p->nbad = cmdline_parse(in, &p->o, bad, bad_size);
	p->bad[0] = 0;
	if (bad) {
		/* Terminated inside its own buffer (ASan checks the bounds). */
		size_t len = strnlen(bad, bad_size);
		if (len >= bad_size)
			CHECK(len < bad_size, "bad word NUL-terminated within bad_size");
		memcpy(p->bad, bad, len < bad_size ? len + 1 : 0);
	}
	free(bad);
	free(in);
}

static void test_words(void)
{
	struct parsed p;

	parse("/boot/crossguard.elf cg.test=fault cg.shell=0", 64, &p);
	CHECK(p.nbad == 0 && p.o.test == CMDLINE_TEST_FAULT && !p.o.shell && !strcmp(p.bad, ""),
	      "kernel path first, then options");

	parse("", 64, &p);
	CHECK(p.nbad == 0 && p.o.test == CMDLINE_TEST_NONE && p.o.shell && !p.o.apicv && !p.bad[0],
	      "empty: defaults");
	parse("k cg.apicv=1", 64, &p);
	CHECK(p.nbad == 0 && p.o.apicv && p.o.shell, "cg.apicv=1 turns APIC virtualization on");
	parse("k cg.apicv=1 cg.apicv=0", 64, &p);
	CHECK(p.nbad == 0 && !p.o.apicv, "cg.apicv=0 back off");
	CHECK(p.o.spec == CMDLINE_SPEC_AUTO, "cg.spec defaults to auto");
	parse("k cg.spec=on", 64, &p);
	CHECK(p.nbad == 0 && p.o.spec == CMDLINE_SPEC_ON, "cg.spec=on forces the barriers");
	parse("k cg.spec=off cg.spec=Auto", 64, &p);
	CHECK(p.nbad == 1 && p.o.spec == CMDLINE_SPEC_OFF && !strcmp(p.bad, "cg.spec=Auto"),
	      "cg.spec=off; values are exact words");
	parse("k cg.spec=on cg.spec=auto", 64, &p);
	CHECK(p.nbad == 0 && p.o.spec == CMDLINE_SPEC_AUTO, "cg.spec=auto back to the default");
	parse("  \t \t", 64, &p);
	CHECK(p.nbad == 0 && p.o.test == CMDLINE_TEST_NONE && p.o.shell, "only blanks");
	parse("/boot/cg.elf console=ttyS0 quiet", 64, &p);
	CHECK(p.nbad == 0 && p.o.shell, "foreign words ignored, even containing cg.");

	parse("k cg.foo=1 cg.test=fault cg.bar", 64, &p);
	CHECK(p.nbad == 2 && !strcmp(p.bad, "cg.foo=1") && p.o.test == CMDLINE_TEST_FAULT,
	      "unknown words counted, first reported, parsing continues");
	parse("cg.shell=2 cg.shell=0", 64, &p);
	CHECK(p.nbad == 1 && !strcmp(p.bad, "cg.shell=2") && !p.o.shell, "bad value");
	parse("cg.test=faultx cg.test=faul cg.TEST=fault", 64, &p);
	CHECK(p.nbad == 3 && !strcmp(p.bad, "cg.test=faultx") && p.o.test == CMDLINE_TEST_NONE,
	      "only exact words match");
	parse("cg.", 64, &p);
	CHECK(p.nbad == 1 && !strcmp(p.bad, "cg."), "bare prefix is a bad word");
	parse("cg c g.", 64, &p);
	CHECK(p.nbad == 0, "short words are not options");
	parse("cg.shell=0 cg.shell=1 cg.test=fault cg.test=none", 64, &p);
	CHECK(p.nbad == 0 && p.o.shell && p.o.test == CMDLINE_TEST_NONE, "last word wins");

	parse("k\tcg.shell=0\t\tcg.test=fault\t", 64, &p);
	CHECK(p.nbad == 0 && !p.o.shell && p.o.test == CMDLINE_TEST_FAULT, "tabs separate");
	parse("   cg.shell=0   ", 64, &p);
	CHECK(p.nbad == 0 && !p.o.shell, "leading and trailing blanks");
}

static void test_serial(void)
{
	struct parsed p;

	parse("k", 64, &p);
	CHECK(p.o.serial_port == 0x3F8 && p.o.serial_baud == 115200 && !p.o.serial_bad,
	      "serial defaults to com1 at 115200");
	parse("k cg.serial=com2", 64, &p);
	CHECK(p.nbad == 0 && p.o.serial_port == 0x2F8 && p.o.serial_baud == 115200 && !p.o.serial_bad,
	      "cg.serial=com2");
	parse("k cg.serial=com2 cg.serial=com1,9600", 64, &p);
	CHECK(p.o.serial_port == 0x3F8 && p.o.serial_baud == 9600 && !p.o.serial_bad,
	      "com1 with a rate; the last word wins");
	parse("k cg.serial=0x2e8,57600", 64, &p);
	CHECK(p.o.serial_port == 0x2E8 && p.o.serial_baud == 57600, "hex port and rate");
	parse("k cg.serial=0xE000", 64, &p);
	CHECK(p.o.serial_port == 0xE000 && p.o.serial_baud == 115200, "upper-case hex port");
	parse("k cg.serial=0xfff8,2", 64, &p);
	CHECK(p.o.serial_port == 0xFFF8 && p.o.serial_baud == 2 && !p.o.serial_bad,
	      "highest port, slowest rate (divisor 57600)");

	static const char *const bad[] = {
		"cg.serial=",	      "cg.serial=com3",	      "cg.serial=COM2",
		"cg.serial=com2,",    "cg.serial=com2,0",     "cg.serial=com2,9601",
		"cg.serial=com2,1",   "cg.serial=com2,230400", "cg.serial=com2,1152000",
		"cg.serial=0x",	      "cg.serial=0x0",	      "cg.serial=0xfff9",
		"cg.serial=0x10000",  "cg.serial=0x2fg",      "cg.serial=2f8",
		"cg.serial=com2,96x0", "cg.serial=com1com2",   "cg.serial=com2,,9600",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char line[64];
		snprintf(line, sizeof(line), "k %s", bad[i]);
		parse(line, 64, &p);
		bool ok = p.nbad == 0 && p.o.serial_bad && p.o.serial_port == 0x3F8 &&
			  p.o.serial_baud == 115200;
		if (!ok)
			fprintf(stderr, "cg.serial value accepted: '%s'\n", bad[i]);
		CHECK(ok, "a bad cg.serial value keeps the default");
	}
	parse("k cg.serial=com9 cg.serial=com2", 64, &p);
	CHECK(p.o.serial_bad && p.o.serial_port == 0x3F8, "a bad word is not undone by a later good one");
	parse("k cg.serial=com2 cg.serial=0x", 64, &p);
	CHECK(p.o.serial_bad && p.o.serial_port == 0x3F8 && p.o.serial_baud == 115200,
	      "nor does a good word survive a later bad one");

	u16 port = 1;
	u32 baud = 2;
	CHECK(!cmdline_serial("com2", 3, &port, &baud) && port == 1 && baud == 2,
	      "length bounds the value; failure leaves outputs alone");
	CHECK(cmdline_serial("com2,38400xyz", 10, &port, &baud) && port == 0x2F8 && baud == 38400,
	      "nothing read past n");
}

static void test_bad_buffer(void)
{
	char longw[400];
	struct parsed p;

	memcpy(longw, "k cg.", 5);
	memset(longw + 5, 'x', sizeof(longw) - 6);
	longw[sizeof(longw) - 1] = 0;

	parse(longw, 16, &p);
	CHECK(p.nbad == 1 && strlen(p.bad) == 15 && !strncmp(p.bad, "cg.xxxxxxxxxxxx", 15),
	      "overlong word cut to bad_size-1");
	parse(longw, 1, &p);
	CHECK(p.nbad == 1 && !p.bad[0], "bad_size 1: empty string");
	parse(longw, 0, &p);
	CHECK(p.nbad == 1, "bad_size 0: counted, nothing written");
	parse("cg.a cg.b cg.c", 0, &p);
	CHECK(p.nbad == 3, "bad_size 0: all counted");
	parse("cg.abcdef", 10, &p);
	CHECK(p.nbad == 1 && !strcmp(p.bad, "cg.abcdef"), "exact fit");
	parse("cg.abcdefg", 10, &p);
	CHECK(p.nbad == 1 && !strcmp(p.bad, "cg.abcdef"), "one over");
}

static bool known(const char *w, size_t n)
{
	static const char *const ok[] = { "cg.test=fault", "cg.test=none", "cg.shell=0",
					  "cg.shell=1" };

	for (size_t i = 0; i < ARRAY_SIZE(ok); i++)
		if (strlen(ok[i]) == n && !memcmp(ok[i], w, n))
			return true;
	return false;
}

/* Oracle: split on blanks, count cg. words that are not options. */
static int oracle_bad(const char *s, const char **first, size_t *first_len)
{
	int n = 0;

	*first = NULL;
	*first_len = 0;
	while (*s) {
		size_t len = strcspn(s, " \t");
		if (len >= 3 && !memcmp(s, "cg.", 3) && !known(s, len)) {
			if (!n++) {
				*first = s;
				*first_len = len;
			}
		}
		s += len;
		s += strspn(s, " \t");
	}
	return n;
}

static void fuzz(unsigned rounds)
{
	static const char *const pieces[] = { "cg.", "test=", "shell=", "fault", "none", "0",
					      "1", " ", "\t", "c", "g", ".", "=", "x", "cg.shell=0",
					      "cg.test=fault", "/boot/k" };
	unsigned wrong = 0;

	for (unsigned r = 0; r < rounds; r++) {
		char s[160] = "";
		size_t bad_size = (size_t)check_rand_below(24);
		unsigned k = (unsigned)check_rand_below(20);
		struct parsed p;
		const char *first;
		size_t first_len;

		for (unsigned i = 0; i < k; i++)
			strcat(s, pieces[check_rand_below(ARRAY_SIZE(pieces))]);
		parse(s, bad_size, &p);
		int want = oracle_bad(s, &first, &first_len);
		bool same = p.nbad == want;
		if (bad_size && want) {
			size_t cut = first_len < bad_size - 1 ? first_len : bad_size - 1;
			same = same && strlen(p.bad) == cut && !memcmp(p.bad, first, cut);
		} else if (bad_size) {
			same = same && !p.bad[0];
		}
		if (!same && wrong++ < 5)
			fprintf(stderr, "cmdline mismatch on '%s'\n", s);
	}
	CHECK(wrong == 0, "cmdline agrees with the oracle");
}

int main(void)
{
	test_words();
	test_serial();
	test_bad_buffer();
	fuzz(20000);
	return check_summary();
}
