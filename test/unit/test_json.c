/* The console's JSON writer: structure, commas, escaping, and overflow
 * that never writes past the buffer. */
#include "check.h"
#include "lib/json.h"
#include <stdlib.h>
#include <string.h>

static void test_structure(void)
{
	char buf[256];
	struct json j;
	json_init(&j, buf, sizeof(buf));
	json_obj_begin(&j);
	json_kv_u64(&j, "id", 7);
	json_kv_bool(&j, "ok", true);
	json_key(&j, "data");
	json_arr_begin(&j);
	json_obj_begin(&j);
	json_kv_str(&j, "name", "web1");
	json_kv_u64(&j, "vcpus", 2);
	json_obj_end(&j);
	json_obj_begin(&j);
	json_obj_end(&j);
	json_s64(&j, -5);
	json_arr_end(&j);
	json_obj_end(&j);
	CHECK(!strcmp(buf, "{\"id\":7,\"ok\":true,\"data\":[{\"name\":\"web1\",\"vcpus\":2},{},-5]}"),
	      "nested objects and arrays with commas");
	CHECK(!j.overflow, "no overflow");
}

static void test_escaping(void)
{
	char buf[128];
	struct json j;
	json_init(&j, buf, sizeof(buf));
	json_str(&j, "a\"b\\c\n\x01\xff");
	CHECK(!strcmp(buf, "\"a\\\"b\\\\c\\u000a\\u0001\\u00ff\""), "quotes, backslashes, controls, non-ASCII escaped");
}

static void test_overflow(void)
{
	for (size_t size = 1; size < 40; size++) {
		char *buf = malloc(size);
		struct json j;
		json_init(&j, buf, size);
		json_obj_begin(&j);
		json_kv_str(&j, "error", "a long message that cannot fit");
		json_obj_end(&j);
		CHECK(j.overflow && strlen(buf) < size, "overflow remembered, buffer bounded and terminated");
		free(buf);
	}
}

int main(void)
{
	test_structure();
	test_escaping();
	test_overflow();
	return check_summary();
}
