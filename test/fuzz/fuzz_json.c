/* Fuzz target: the console's JSON writer (lib/json.c), which puts
 * guest-influenced strings (VM names, console text) into machine replies.
 * Input: the buffer size (2 bytes: 1..4096), then a program of writer
 * calls, one byte each plus operands (string lengths and bytes, numbers).
 * The program is kept well formed (keys before values in objects, every
 * container closed at the end) and runs twice: into a buffer of the size
 * given and into a 64 KiB one.
 * Invariants beyond "no crash" (both buffers are exactly-sized heap blocks):
 *  - the text is NUL-terminated, len < size and strlen(buf) == len;
 *  - a small buffer holds a prefix of the large one's text, and says
 *    overflow exactly when the whole text did not fit;
 *  - without overflow, the text is valid JSON, ASCII only, whose tokens
 *    (strings unescaped, numbers, booleans, brackets) are the calls made. */
#include <inttypes.h>
#include "fuzz.h"
#include "lib/json.h"

#define BIG (64 * 1024)
#define TOKENS_MAX 4096

/* One expected token: kind ('{', '}', '[', ']', 'k' key, 's' string,
 * 'u', 'i' numbers, 'b' bool) and its value. */
struct tok {
	char kind;
	char s[64];
	u64 v;
};

static struct tok want[TOKENS_MAX];
static u32 nwant;

static void expect(char kind, const char *s, u64 v)
{
	if (nwant < TOKENS_MAX) {
		want[nwant].kind = kind;
		snprintf(want[nwant].s, sizeof(want[nwant].s), "%s", s ? s : "");
		want[nwant].v = v;
	}
	nwant++;
}

static void close_one(struct json *j, char kind, bool rec)
{
	if (kind == '{')
		json_obj_end(j);
	else
		json_arr_end(j);
	if (rec)
		expect(kind == '{' ? '}' : ']', NULL, 0);
}

/* Runs the program in in on j; records the expected tokens when rec. */
static void run(struct json *j, struct fuzz_in in, bool rec)
{
	char stack[16]; /* container kinds opened, '{' or '[' */
	u32 depth = 0, ops = 0;

	while (in.n && ops++ < 512) {
		u8 op = fuzz_u8(&in);
		char str[64];
		u8 n = fuzz_u8(&in) % sizeof(str);
		bool in_obj = depth && stack[depth - 1] == '{';

		for (u8 i = 0; i < n; i++) {
			u8 c = fuzz_u8(&in);

			str[i] = (char)(c ? c : 'z'); /* no NUL inside */
		}
		str[n] = 0;
		if (op % 8 == 2) {
			if (depth)
				close_one(j, stack[--depth], rec);
			continue;
		}
		if (!depth && ops > 1)
			break; /* one top-level value */
		if (in_obj) {
			json_key(j, str);
			if (rec)
				expect('k', str, 0);
		}
		/* Too deep for the harness's stack: a string instead. */
		if (op % 8 < 2 && depth == sizeof(stack))
			op = 3;
		switch (op % 8) {
		case 0:
		case 1:
			stack[depth++] = op % 8 ? '[' : '{';
			if (op % 8)
				json_arr_begin(j);
			else
				json_obj_begin(j);
			if (rec)
				expect(op % 8 ? '[' : '{', NULL, 0);
			break;
		case 3:
			json_str(j, str);
			if (rec)
				expect('s', str, 0);
			break;
		case 4: {
			u64 v = fuzz_u64(&in);
			json_u64(j, v);
			if (rec)
				expect('u', NULL, v);
			break;
		}
		case 5: {
			u64 v = fuzz_u64(&in);
			json_s64(j, (s64)v);
			if (rec)
				expect('i', NULL, v);
			break;
		}
		default:
			json_bool(j, op & 8);
			if (rec)
				expect('b', NULL, !!(op & 8));
			break;
		}
	}
	while (depth)
		close_one(j, stack[--depth], rec);
}

/* ---- a strict reader for the writer's output ---- */

struct reader {
	const char *p;
	u32 k; /* next expected token */
};

static void next_tok(struct reader *r, char kind)
{
	FUZZ_CHECK(r->k < nwant && r->k < TOKENS_MAX, "more tokens than calls");
	FUZZ_CHECK(want[r->k].kind == kind, "token of another kind than the call");
	r->k++;
}

static void read_string(struct reader *r, char kind)
{
	char out[64];
	size_t n = 0;

	FUZZ_CHECK(*r->p == '"', "string does not start with a quote");
	r->p++;
	while (*r->p != '"') {
		u8 c = (u8)*r->p++;

		FUZZ_CHECK(c >= 0x20 && c < 0x7F, "raw control or non-ASCII byte in a string");
		if (c == '\\') {
			c = (u8)*r->p++;
			if (c == 'u') {
				unsigned v;

				FUZZ_CHECK(sscanf(r->p, "%4x", &v) == 1 && v < 0x100, "bad \\u escape");
				r->p += 4;
				c = (u8)v;
			} else {
				FUZZ_CHECK(c == '"' || c == '\\', "unexpected escape");
			}
		}
		FUZZ_CHECK(n < sizeof(out) - 1, "string longer than written");
		out[n++] = (char)c;
	}
	r->p++;
	out[n] = 0;
	next_tok(r, kind);
	FUZZ_CHECK(!strcmp(out, want[r->k - 1].s), "string differs from what was written");
}

static void read_value(struct reader *r);

static void read_container(struct reader *r, char open, char close)
{
	bool first = true;

	next_tok(r, open);
	r->p++;
	while (*r->p != close) {
		if (!first) {
			FUZZ_CHECK(*r->p == ',', "missing comma");
			r->p++;
		}
		first = false;
		if (open == '{') {
			read_string(r, 'k');
			FUZZ_CHECK(*r->p == ':', "missing colon");
			r->p++;
		}
		read_value(r);
	}
	r->p++;
	next_tok(r, close);
}

static void read_value(struct reader *r)
{
	char *end;

	if (*r->p == '{') {
		read_container(r, '{', '}');
	} else if (*r->p == '[') {
		read_container(r, '[', ']');
	} else if (*r->p == '"') {
		read_string(r, 's');
	} else if (!strncmp(r->p, "true", 4) || !strncmp(r->p, "false", 5)) {
		bool v = *r->p == 't';

		r->p += v ? 4 : 5;
		next_tok(r, 'b');
		FUZZ_CHECK(want[r->k - 1].v == v, "boolean differs");
	} else if (*r->p == '-') {
		s64 v = strtoll(r->p, &end, 10);

		FUZZ_CHECK(end > r->p + 1, "bad number");
		r->p = end;
		next_tok(r, 'i');
		FUZZ_CHECK((u64)v == want[r->k - 1].v, "number differs");
	} else {
		FUZZ_CHECK(*r->p >= '0' && *r->p <= '9', "not a JSON value");
		u64 v = strtoull(r->p, &end, 10);

		r->p = end;
		FUZZ_CHECK(r->k < nwant, "more tokens than calls");
		/* A non-negative s64 prints like a u64. */
		next_tok(r, want[r->k].kind == 'i' ? 'i' : 'u');
		FUZZ_CHECK(v == want[r->k - 1].v, "number differs");
	}
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_in in = { data, size };
	size_t small_size = 1 + fuzz_u16(&in) % 4096;
	char *small = malloc(small_size), *big = malloc(BIG);
	struct json js, jb;

	if (!small || !big)
		abort();
	nwant = 0;
	json_init(&js, small, small_size);
	run(&js, in, false);
	json_init(&jb, big, BIG);
	run(&jb, in, true);

	FUZZ_CHECK(js.len < small_size && small[js.len] == 0 && strlen(small) == js.len, "small buffer text");
	FUZZ_CHECK(jb.len < BIG && big[jb.len] == 0 && strlen(big) == jb.len, "big buffer text");
	FUZZ_CHECK(!memcmp(small, big, js.len), "small text is not a prefix");
	if (!jb.overflow)
		FUZZ_CHECK(js.overflow == (jb.len >= small_size), "overflow flag wrong");
	if (!jb.overflow && nwant <= TOKENS_MAX && nwant) {
		struct reader r = { big, 0 };

		read_value(&r);
		FUZZ_CHECK(*r.p == 0, "text after the value");
		FUZZ_CHECK(r.k == nwant, "fewer tokens than calls");
	}
	free(small);
	free(big);
	return 0;
}
