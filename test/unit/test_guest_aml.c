/* guest_aml: exact bytes for names, integers, strings and EISA IDs; the
 * PkgLength encoding at every size boundary (1, 2, 3 bytes), nested;
 * resource descriptors with their End Tag checksum; measure mode equal to
 * the real output; too-small exact heap buffers (-CG_ENOMEM, nothing
 * written past them: AddressSanitizer); malformed requests (-CG_EINVAL). */
#include <stdlib.h>
#include <string.h>
#include <cg/errno.h>
#include "check.h"
#include "loader/guest_aml.h"

static u8 out[0x40000];

static bool bytes_are(const struct aml *a, const u8 *expect, size_t n)
{
	return aml_finish(a) == (int)n && !memcmp(a->buf, expect, n);
}

static void check_names(void)
{
	struct aml a;

	aml_init(&a, out, sizeof(out));
	aml_name(&a, "_HID");
	CHECK(bytes_are(&a, (const u8 *)"\x08_HID", 5), "single segment");

	aml_init(&a, out, sizeof(out));
	aml_name(&a, "\\_S5");
	CHECK(bytes_are(&a, (const u8 *)"\x08\\_S5_", 6), "root, padded with _");

	aml_init(&a, out, sizeof(out));
	aml_name(&a, "\\_SB.PCI0");
	CHECK(bytes_are(&a, (const u8 *)"\x08\\\x2E_SB_PCI0", 11), "dual name prefix");

	aml_init(&a, out, sizeof(out));
	aml_name(&a, "^A.B.C");
	CHECK(bytes_are(&a, (const u8 *)"\x08^\x2F\x03" "A___B___C___", 16), "parent, multi name");

	aml_init(&a, out, sizeof(out));
	aml_name(&a, "\\");
	CHECK(bytes_are(&a, (const u8 *)"\x08\\\x00", 3), "root alone: NullName");

	static const char *const bad[] = { "", "1ABC", "ABCDE", "A..B", "A.", ".A", "ab", "A-B", NULL };
	for (int i = 0; bad[i]; i++) {
		aml_init(&a, out, sizeof(out));
		aml_name(&a, bad[i]);
		CHECK(aml_finish(&a) == -CG_EINVAL, bad[i]);
	}
	aml_init(&a, out, sizeof(out));
	aml_name(&a, NULL);
	CHECK(aml_finish(&a) == -CG_EINVAL, "NULL name");
}

static void check_data(void)
{
	struct aml a;
	static const struct {
		u64 v;
		const char *bytes;
		size_t n;
	} ints[] = {
		{ 0, "\x00", 1 },
		{ 1, "\x01", 1 },
		{ 2, "\x0A\x02", 2 },
		{ 0xFF, "\x0A\xFF", 2 },
		{ 0x100, "\x0B\x00\x01", 3 },
		{ 0xFFFF, "\x0B\xFF\xFF", 3 },
		{ 0x10000, "\x0C\x00\x00\x01\x00", 5 },
		{ 0xFFFFFFFF, "\x0C\xFF\xFF\xFF\xFF", 5 },
		{ 0x100000000ULL, "\x0E\x00\x00\x00\x00\x01\x00\x00\x00", 9 },
		{ 0x0123456789ABCDEFULL, "\x0E\xEF\xCD\xAB\x89\x67\x45\x23\x01", 9 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(ints); i++) {
		aml_init(&a, out, sizeof(out));
		aml_int(&a, ints[i].v);
		CHECK(bytes_are(&a, (const u8 *)ints[i].bytes, ints[i].n), "integer encoding");
	}

	aml_init(&a, out, sizeof(out));
	aml_string(&a, "Hi");
	CHECK(bytes_are(&a, (const u8 *)"\x0DHi\x00", 4), "string");
	aml_init(&a, out, sizeof(out));
	aml_string(&a, "\xC3\xA9");
	CHECK(aml_finish(&a) == -CG_EINVAL, "non-ASCII string");

	/* PNP0A03 -> 0x030AD041, PNP0501 -> 0x0105D041, PNP0B00 -> 0x000BD041:
	 * the values ASL compilers emit for EISAID(). */
	static const struct {
		const char *id;
		u32 v;
	} ids[] = { { "PNP0A03", 0x030AD041 }, { "PNP0501", 0x0105D041 }, { "PNP0B00", 0x000BD041 },
		    { "ABC1234", 0x34124304 } };
	for (size_t i = 0; i < ARRAY_SIZE(ids); i++) {
		u8 e[5] = { 0x0C, (u8)ids[i].v, (u8)(ids[i].v >> 8), (u8)(ids[i].v >> 16),
			    (u8)(ids[i].v >> 24) };
		aml_init(&a, out, sizeof(out));
		aml_eisaid(&a, ids[i].id);
		CHECK(bytes_are(&a, e, 5), ids[i].id);
	}
	static const char *const bad_ids[] = { "PNP0A0", "PNP0A033", "pnp0A03", "PNP0a03", "P1P0A03",
					       "PNP0G03", NULL };
	for (int i = 0; bad_ids[i]; i++) {
		aml_init(&a, out, sizeof(out));
		aml_eisaid(&a, bad_ids[i]);
		CHECK(aml_finish(&a) == -CG_EINVAL, bad_ids[i]);
	}
}

/* Decode the PkgLength at p: its value and how many bytes it took. */
static u32 pkglen(const u8 *p, u32 *bytes)
{
	u32 n = (p[0] >> 6) + 1;
	u32 v = n == 1 ? (u32)(p[0] & 0x3F) : (u32)(p[0] & 0x0F);

	for (u32 i = 1; i < n; i++)
		v |= (u32)p[i] << (4 + 8 * (i - 1));
	*bytes = n;
	return v;
}

/* A package of count Zero elements: PackageOp PkgLength NumElements
 * ZeroOp*count. The PkgLength must count itself, NumElements and the body. */
static void check_pkglength(void)
{
	/* Body sizes around each boundary: PkgLength (with its own bytes)
	 * <= 0x3F one byte, <= 0xFFF two, <= 0xFFFFF three. */
	static const u32 sizes[] = { 0, 1, 60, 61, 62, 63, 64, 200, 0xFFB, 0xFFC, 0xFFD, 0xFFE,
				     0x10000, 0x2FFFF };
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		struct aml a;
		u32 body = sizes[i]; /* bytes after the PkgLength: NumElements + zeros */
		u32 n_expect = body + 1 <= 0x3F ? 1 : body + 2 <= 0xFFF ? 2 : body + 3 <= 0xFFFFF ? 3 : 4;

		if (!body)
			continue;
		aml_init(&a, out, sizeof(out));
		aml_package(&a, (u8)(body - 1));
		for (u32 k = 0; k < body - 1; k++)
			aml_int(&a, 0);
		aml_close(&a);
		int len = aml_finish(&a);
		u32 nb = 0, v = pkglen(out + 1, &nb);
		CHECK(len == (int)(1 + n_expect + body), "package length");
		CHECK(out[0] == 0x12 && nb == n_expect, "PkgLength byte count");
		CHECK(v == n_expect + body, "PkgLength value counts itself and the body");
		CHECK(n_expect == 1 || (out[1] & 0x30) == 0, "multi-byte lead: bits 5:4 zero");
		CHECK(out[1 + nb] == (u8)(body - 1), "NumElements after the PkgLength");
	}

	/* Nested: an inner scope growing past one byte moves the outer body. */
	struct aml a;
	aml_init(&a, out, sizeof(out));
	aml_scope(&a, "\\_SB");
	aml_device(&a, "DEV0");
	for (int k = 0; k < 40; k++) {
		aml_name(&a, "_UID");
		aml_int(&a, (u64)k + 2);
	}
	aml_close(&a);
	aml_name(&a, "_STA");
	aml_int(&a, 0xF);
	aml_close(&a);
	int len = aml_finish(&a);
	u32 nb, outer = pkglen(out + 1, &nb);
	CHECK(len > 0 && out[0] == 0x10 && 1 + outer == (u32)len, "scope spans everything");
	const u8 *dev = out + 1 + nb + 5; /* after "\_SB_" */
	u32 nd, inner = pkglen(dev + 2, &nd);
	CHECK(dev[0] == 0x5B && dev[1] == 0x82, "DeviceOp");
	CHECK(nd == 2 && inner == 2 + 4 + 40 * 7, "device PkgLength: 2 bytes");
	CHECK(!memcmp(dev + 2 + nd, "DEV0", 4), "device name after its PkgLength");
	CHECK(!memcmp(dev + 2 + inner, "\x08_STA\x0A\x0F", 7), "after the device: _STA");

	aml_init(&a, out, sizeof(out));
	aml_close(&a);
	CHECK(aml_finish(&a) == -CG_EINVAL, "close without open");
	aml_init(&a, out, sizeof(out));
	aml_scope(&a, "\\_SB");
	CHECK(aml_finish(&a) == -CG_EINVAL, "scope left open");
	aml_init(&a, out, sizeof(out));
	for (int k = 0; k <= AML_MAX_DEPTH; k++)
		aml_package(&a, 1);
	CHECK(aml_finish(&a) == -CG_EINVAL, "too deep");
}

static void check_resources(void)
{
	struct aml a;
	struct aml_res r;
	static const u8 expect[] = {
		0x11, 0x20, 0x0A, 0x1D,                      /* Buffer, PkgLength 32, size 29 */
		0x47, 0x01, 0xF8, 0x03, 0xF8, 0x03, 0x01, 0x08, /* IO (Decode16, 0x3F8, 0x3F8, 1, 8) */
		0x22, 0x10, 0x00,                            /* IRQNoFlags () {4} */
		0x88, 0x0D, 0x00, 0x02, 0x0C, 0x00,          /* WordBusNumber ... */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,
		0x79, 0x00,                                  /* End Tag, checksum */
	};
	u8 sum = 0;

	aml_init(&a, out, sizeof(out));
	aml_res_init(&r);
	aml_res_io(&r, 0x3F8, 0x3F8, 1, 8);
	aml_res_irq(&r, 4);
	aml_res_bus(&r, 0, 0);
	aml_resources(&a, &r);
	int len = aml_finish(&a);
	CHECK(len == (int)sizeof(expect), "template length");
	for (size_t i = 4; i < sizeof(expect) - 1; i++)
		sum = (u8)(sum + out[i]);
	CHECK((u8)(sum + out[sizeof(expect) - 1]) == 0, "End Tag checksum: template sums to 0");
	CHECK(len == (int)sizeof(expect) && !memcmp(out, expect, sizeof(expect) - 1),
	      "descriptor bytes");

	aml_init(&a, out, sizeof(out));
	aml_res_init(&r);
	aml_res_io_window(&r, 0xC000, 0xFFFF);
	aml_res_mem_window(&r, 0xE0000000, 0xFEBFFFFF);
	aml_resources(&a, &r);
	CHECK(aml_finish(&a) == 4 + 16 + 26 + 2, "WordIO + DWordMemory + End Tag");
	const u8 *w = out + 4, *d = out + 20;
	CHECK(w[0] == 0x88 && w[3] == 1 && w[4] == 0x0C && w[5] == 3, "WordIO type, flags");
	CHECK(w[8] == 0x00 && w[9] == 0xC0 && w[10] == 0xFF && w[11] == 0xFF, "WordIO min, max");
	CHECK(w[14] == 0x00 && w[15] == 0x40, "WordIO length 0x4000");
	CHECK(d[0] == 0x87 && d[1] == 23 && d[3] == 0 && d[4] == 0x0C && d[5] == 1,
	      "DWordMemory type, flags");
	CHECK(!memcmp(d + 10, "\x00\x00\x00\xE0\xFF\xFF\xBF\xFE", 8), "DWordMemory min, max");
	CHECK(!memcmp(d + 22, "\x00\x00\xC0\x1E", 4), "DWordMemory length 0x1EC00000");

	aml_init(&a, out, sizeof(out));
	aml_res_init(&r);
	aml_res_irq(&r, 16);
	aml_resources(&a, &r);
	CHECK(aml_finish(&a) == -CG_EINVAL, "IRQ 16 has no IRQ descriptor bit");
	aml_init(&a, out, sizeof(out));
	aml_res_init(&r);
	for (int k = 0; k < AML_RES_MAX / 8 + 1; k++)
		aml_res_io(&r, 0, 0, 1, 1);
	aml_resources(&a, &r);
	CHECK(aml_finish(&a) == -CG_EINVAL, "template overflow");
}

/* Something of every kind, for the measure and buffer-size checks. */
static void emit_sample(struct aml *a)
{
	struct aml_res r;

	aml_name(a, "\\_S5");
	aml_package(a, 2);
	aml_int(a, 5);
	aml_int(a, 5);
	aml_close(a);
	aml_scope(a, "\\_SB");
	aml_device(a, "COM1");
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0501");
	aml_name(a, "_STR");
	aml_string(a, "a serial port with a description long enough for a 2-byte PkgLength");
	aml_name(a, "_CRS");
	aml_res_init(&r);
	aml_res_io(&r, 0x3F8, 0x3F8, 1, 8);
	aml_res_irq(&r, 4);
	aml_resources(a, &r);
	aml_close(a);
	aml_close(a);
}

static void check_sizes(void)
{
	struct aml a;
	int need;

	aml_init(&a, NULL, 0);
	emit_sample(&a);
	need = aml_finish(&a);
	aml_init(&a, out, sizeof(out));
	emit_sample(&a);
	CHECK(need > 64 && aml_finish(&a) == need, "measure == emit");

	int bad = 0;
	for (int n = 0; n < need; n++) {
		u8 *b = malloc(n ? (size_t)n : 1);
		if (!b)
			abort();
		aml_init(&a, b, (size_t)n);
		emit_sample(&a);
		bad += aml_finish(&a) != -CG_ENOMEM;
		free(b);
	}
	CHECK(!bad, "every short buffer: -CG_ENOMEM, nothing past it");
	u8 *b = malloc((size_t)need);
	if (!b)
		abort();
	aml_init(&a, b, (size_t)need);
	emit_sample(&a);
	CHECK(aml_finish(&a) == need && !memcmp(b, out, (size_t)need), "exact buffer: same bytes");
	free(b);
}

int main(void)
{
	check_names();
	check_data();
	check_pkglength();
	check_resources();
	check_sizes();
	return check_summary();
}
