#include "lib/json.h"
#include "lib/fmt.h"

static void put(struct json *j, char c)
{
	if (j->len + 1 < j->size)
		j->buf[j->len++] = c;
	else
		j->overflow = true;
	j->buf[j->len < j->size ? j->len : j->size - 1] = 0;
}

static void puts_raw(struct json *j, const char *s)
{
	while (*s)
		put(j, *s++);
}

/* Separator before a value or key at the current depth. */
static void sep(struct json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->depth && !(j->first & (1U << j->depth)))
		put(j, ',');
	j->first &= ~(1U << j->depth);
}

void json_init(struct json *j, char *buf, size_t size)
{
	j->buf = buf;
	j->size = size;
	j->len = 0;
	j->depth = 0;
	j->first = 1;
	j->after_key = false;
	j->overflow = false;
	if (size)
		buf[0] = 0;
}

static void open(struct json *j, char c)
{
	sep(j);
	put(j, c);
	if (j->depth + 1 < JSON_DEPTH_MAX) {
		j->depth++;
		j->first |= 1U << j->depth;
	} else {
		j->overflow = true;
	}
}

static void close(struct json *j, char c)
{
	if (j->depth)
		j->depth--;
	put(j, c);
}

void json_obj_begin(struct json *j) { open(j, '{'); }
void json_obj_end(struct json *j) { close(j, '}'); }
void json_arr_begin(struct json *j) { open(j, '['); }
void json_arr_end(struct json *j) { close(j, ']'); }

static void quoted(struct json *j, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	put(j, '"');
	for (; *s; s++) {
		u8 c = (u8)*s;
		if (c == '"' || c == '\\') {
			put(j, '\\');
			put(j, (char)c);
		} else if (c < 0x20 || c >= 0x7F) {
			puts_raw(j, "\\u00");
			put(j, hex[c >> 4]);
			put(j, hex[c & 15]);
		} else {
			put(j, (char)c);
		}
	}
	put(j, '"');
}

void json_key(struct json *j, const char *key)
{
	sep(j);
	quoted(j, key);
	put(j, ':');
	j->after_key = true;
}

void json_str(struct json *j, const char *s)
{
	sep(j);
	quoted(j, s);
}

void json_u64(struct json *j, u64 v)
{
	char b[24];
	sep(j);
	fmt_snprintf(b, sizeof(b), "%lu", v);
	puts_raw(j, b);
}

void json_s64(struct json *j, s64 v)
{
	char b[24];
	sep(j);
	fmt_snprintf(b, sizeof(b), "%ld", v);
	puts_raw(j, b);
}

void json_bool(struct json *j, bool v)
{
	sep(j);
	puts_raw(j, v ? "true" : "false");
}

void json_kv_str(struct json *j, const char *key, const char *s)
{
	json_key(j, key);
	json_str(j, s);
}

void json_kv_u64(struct json *j, const char *key, u64 v)
{
	json_key(j, key);
	json_u64(j, v);
}

void json_kv_bool(struct json *j, const char *key, bool v)
{
	json_key(j, key);
	json_bool(j, v);
}
