/* A small JSON writer for the console's machine replies: one object or
 * array into a fixed buffer, ASCII only (other bytes escaped \u00XX). An
 * overflow is remembered, never written past the buffer. */
#ifndef CG_JSON_H
#define CG_JSON_H

#include <cg/types.h>

#define JSON_DEPTH_MAX 8

struct json {
	char *buf;
	size_t size;
	size_t len;
	u32 depth;
	u32 first;     /* bit d: nothing written yet at depth d */
	bool after_key;
	bool overflow;
};

/* json_init: start writing into buf (size bytes, NUL-terminated always). */
void json_init(struct json *j, char *buf, size_t size);

/* Structure and values; a value inside an object must follow json_key. */
void json_obj_begin(struct json *j);
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j);
void json_arr_end(struct json *j);
void json_key(struct json *j, const char *key);
void json_str(struct json *j, const char *s);
void json_u64(struct json *j, u64 v);
void json_s64(struct json *j, s64 v);
void json_bool(struct json *j, bool v);

/* json_kv_*: json_key then the value. */
void json_kv_str(struct json *j, const char *key, const char *s);
void json_kv_u64(struct json *j, const char *key, u64 v);
void json_kv_bool(struct json *j, const char *key, bool v);

#endif
