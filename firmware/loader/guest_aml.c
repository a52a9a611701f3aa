/* AML emitter (guest_aml.h). Encodings from ACPI 6.0: 20.2.2 name
 * objects, 20.2.3 data objects, 20.2.4 package length, 20.2.5 term
 * objects; resource descriptors 6.4.2.5 (IRQ), 6.4.2.6 (I/O port), 6.4.2.9
 * (End Tag), 6.4.3.5.2 (DWord address space), 6.4.3.5.3 (Word address
 * space). Multi-byte fields are little-endian. */
#include "loader/guest_aml.h"
#include <cg/errno.h>
#include <cg/string.h>

/* 20.3 opcodes and 20.2.2 name prefixes */
#define AML_ZERO_OP 0x00
#define AML_ONE_OP 0x01
#define AML_NAME_OP 0x08
#define AML_BYTE_PREFIX 0x0A
#define AML_WORD_PREFIX 0x0B
#define AML_DWORD_PREFIX 0x0C
#define AML_STRING_PREFIX 0x0D
#define AML_QWORD_PREFIX 0x0E
#define AML_SCOPE_OP 0x10
#define AML_BUFFER_OP 0x11
#define AML_PACKAGE_OP 0x12
#define AML_DUAL_NAME_PREFIX 0x2E
#define AML_MULTI_NAME_PREFIX 0x2F
#define AML_EXT_OP_PREFIX 0x5B
#define AML_DEVICE_OP 0x82       /* after AML_EXT_OP_PREFIX */
#define AML_ROOT_CHAR '\\'
#define AML_PARENT_PREFIX_CHAR '^'
#define AML_NULL_NAME 0x00
#define AML_NAME_SEGS_MAX 255     /* MultiNamePrefix SegCount is a byte */
#define AML_PKG_LENGTH_MAX 0x0FFFFFFF /* 28 bits (20.2.4) */

/* 6.4 resource descriptor tags */
#define RES_IRQ_NO_FLAGS 0x22     /* small item 0x04, length 2 */
#define RES_IO 0x47               /* small item 0x08, length 7 */
#define RES_IO_DECODE16 0x01
#define RES_END_TAG 0x79          /* small item 0x0F, length 1 */
#define RES_DWORD_SPACE 0x87
#define RES_DWORD_SPACE_LEN 23
#define RES_WORD_SPACE 0x88
#define RES_WORD_SPACE_LEN 13
#define RES_TYPE_MEMORY 0
#define RES_TYPE_IO 1
#define RES_TYPE_BUS 2
/* General flags: bit 0 clear = ResourceProducer, bit 1 clear = PosDecode,
 * bit 2 _MIF (MinFixed), bit 3 _MAF (MaxFixed). */
#define RES_GEN_PRODUCER_FIXED 0x0C
#define RES_IO_ENTIRE_RANGE 0x03  /* _RNG: ISA and non-ISA ranges */
#define RES_MEM_RW_UNCACHED 0x01  /* _RW set, _MEM = non-cacheable */

static void aml_byte(struct aml *a, u8 v)
{
	if (a->buf && a->len < a->size)
		a->buf[a->len] = v;
	else if (a->buf)
		a->overflow = true;
	a->len++;
}

static void aml_le(struct aml *a, u64 v, u32 bytes)
{
	for (u32 i = 0; i < bytes; i++)
		aml_byte(a, (u8)(v >> (8 * i)));
}

void aml_init(struct aml *a, u8 *buf, size_t size)
{
	memset(a, 0, sizeof(*a));
	a->buf = buf;
	a->size = buf ? size : 0;
}

int aml_finish(const struct aml *a)
{
	if (a->bad || a->depth)
		return -CG_EINVAL;
	if (a->overflow || a->len > 0x7FFFFFFF)
		return -CG_ENOMEM;
	return (int)a->len;
}

static bool aml_name_char(char c, bool lead)
{
	return (c >= 'A' && c <= 'Z') || c == '_' || (!lead && c >= '0' && c <= '9');
}

/* NameString (20.2.2) for an ASL path. */
static void aml_name_string(struct aml *a, const char *path)
{
	const char *p = path;
	u32 segs = 0;

	if (!p) {
		a->bad = true;
		return;
	}
	if (*p == AML_ROOT_CHAR) {
		aml_byte(a, AML_ROOT_CHAR);
		p++;
	} else {
		while (*p == AML_PARENT_PREFIX_CHAR)
			aml_byte(a, (u8)*p++);
	}
	/* Check every segment before emitting the prefix that counts them. */
	for (const char *q = p; *q; segs++) {
		u32 n = 0;
		while (q[n] && q[n] != '.') {
			if (!aml_name_char(q[n], n == 0) || n == 4) {
				a->bad = true;
				return;
			}
			n++;
		}
		if (!n || (q[n] == '.' && !q[n + 1])) {
			a->bad = true;
			return;
		}
		q += n + (q[n] == '.');
	}
	if (segs == 0) {
		if (p == path) /* a relative name needs a segment */
			a->bad = true;
		aml_byte(a, AML_NULL_NAME);
		return;
	}
	if (segs > AML_NAME_SEGS_MAX) {
		a->bad = true;
		return;
	}
	if (segs == 2) {
		aml_byte(a, AML_DUAL_NAME_PREFIX);
	} else if (segs > 2) {
		aml_byte(a, AML_MULTI_NAME_PREFIX);
		aml_byte(a, (u8)segs);
	}
	while (*p) {
		u32 n = 0;
		for (; p[n] && p[n] != '.'; n++)
			aml_byte(a, (u8)p[n]);
		for (u32 pad = n; pad < 4; pad++)
			aml_byte(a, '_');
		p += n;
		if (*p == '.')
			p++;
	}
}

/* A PkgLength placeholder of one byte; aml_close fills it in. */
static void aml_open(struct aml *a)
{
	if (a->depth == AML_MAX_DEPTH) {
		a->bad = true;
		return;
	}
	a->open[a->depth++] = a->len;
	aml_byte(a, 0);
}

void aml_close(struct aml *a)
{
	if (!a->depth) {
		a->bad = true;
		return;
	}
	size_t at = a->open[--a->depth];
	size_t body = a->len - at - 1;
	u32 n = body + 1 <= 0x3F ? 1 : body + 2 <= 0xFFF ? 2 : body + 3 <= 0xFFFFF ? 3 : 4;
	u64 total = body + n;

	if (total > AML_PKG_LENGTH_MAX) {
		a->bad = true;
		return;
	}
	size_t end = a->len + n - 1;
	if (a->buf && !a->overflow && end <= a->size) {
		u8 *p = a->buf + at;
		memmove(p + n, p + 1, body);
		if (n == 1) {
			p[0] = (u8)total;
		} else {
			/* Lead byte: bits 7:6 = bytes that follow, 3:0 = low nibble. */
			p[0] = (u8)((n - 1) << 6 | (total & 0xF));
			for (u32 i = 1; i < n; i++)
				p[i] = (u8)(total >> (4 + 8 * (i - 1)));
		}
	} else if (a->buf) {
		a->overflow = true;
	}
	a->len = end;
}

void aml_scope(struct aml *a, const char *path)
{
	aml_byte(a, AML_SCOPE_OP);
	aml_open(a);
	aml_name_string(a, path);
}

void aml_device(struct aml *a, const char *path)
{
	aml_byte(a, AML_EXT_OP_PREFIX);
	aml_byte(a, AML_DEVICE_OP);
	aml_open(a);
	aml_name_string(a, path);
}

void aml_package(struct aml *a, u8 count)
{
	aml_byte(a, AML_PACKAGE_OP);
	aml_open(a);
	aml_byte(a, count);
}

void aml_name(struct aml *a, const char *path)
{
	aml_byte(a, AML_NAME_OP);
	aml_name_string(a, path);
}

void aml_int(struct aml *a, u64 v)
{
	if (v == 0) {
		aml_byte(a, AML_ZERO_OP);
	} else if (v == 1) {
		aml_byte(a, AML_ONE_OP);
	} else if (v <= 0xFF) {
		aml_byte(a, AML_BYTE_PREFIX);
		aml_byte(a, (u8)v);
	} else if (v <= 0xFFFF) {
		aml_byte(a, AML_WORD_PREFIX);
		aml_le(a, v, 2);
	} else if (v <= 0xFFFFFFFF) {
		aml_byte(a, AML_DWORD_PREFIX);
		aml_le(a, v, 4);
	} else {
		aml_byte(a, AML_QWORD_PREFIX);
		aml_le(a, v, 8);
	}
}

void aml_string(struct aml *a, const char *s)
{
	if (!s) {
		a->bad = true;
		return;
	}
	aml_byte(a, AML_STRING_PREFIX);
	for (; *s; s++) {
		if ((u8)*s > 0x7F)
			a->bad = true;
		aml_byte(a, (u8)*s);
	}
	aml_byte(a, 0);
}

static int aml_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void aml_eisaid(struct aml *a, const char *id)
{
	u32 v = 0;

	if (!id || strnlen(id, 8) != 7) {
		a->bad = true;
		return;
	}
	/* Three letters of 5 bits ('A' = 1) in bits 14:0 of a big-endian
	 * 16-bit vendor code, then four hex digits of product, big-endian. */
	u32 vendor = 0;
	for (int i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z') {
			a->bad = true;
			return;
		}
		vendor = vendor << 5 | (u32)(id[i] - 0x40);
	}
	u32 product = 0;
	for (int i = 3; i < 7; i++) {
		int h = aml_hex(id[i]);
		if (h < 0) {
			a->bad = true;
			return;
		}
		product = product << 4 | (u32)h;
	}
	v = (vendor >> 8) | (vendor & 0xFF) << 8 | (product >> 8) << 16 | (product & 0xFF) << 24;
	aml_byte(a, AML_DWORD_PREFIX);
	aml_le(a, v, 4);
}

static void res_byte(struct aml_res *r, u8 v)
{
	if (r->len < AML_RES_MAX)
		r->b[r->len++] = v;
	else
		r->bad = true;
}

static void res_le(struct aml_res *r, u64 v, u32 bytes)
{
	for (u32 i = 0; i < bytes; i++)
		res_byte(r, (u8)(v >> (8 * i)));
}

void aml_res_init(struct aml_res *r)
{
	memset(r, 0, sizeof(*r));
}

void aml_res_io(struct aml_res *r, u16 min, u16 max, u8 align, u8 len)
{
	res_byte(r, RES_IO);
	res_byte(r, RES_IO_DECODE16);
	res_le(r, min, 2);
	res_le(r, max, 2);
	res_byte(r, align);
	res_byte(r, len);
}

void aml_res_irq(struct aml_res *r, u8 irq)
{
	if (irq > 15) {
		r->bad = true; /* a 16-bit mask has no such bit */
		return;
	}
	res_byte(r, RES_IRQ_NO_FLAGS);
	res_le(r, 1u << irq, 2);
}

/* Word Address Space Descriptor: granularity 0, no translation, length
 * max - min + 1, no resource source. */
static void res_word_space(struct aml_res *r, u8 type, u8 type_flags, u16 min, u16 max)
{
	res_byte(r, RES_WORD_SPACE);
	res_le(r, RES_WORD_SPACE_LEN, 2);
	res_byte(r, type);
	res_byte(r, RES_GEN_PRODUCER_FIXED);
	res_byte(r, type_flags);
	res_le(r, 0, 2);
	res_le(r, min, 2);
	res_le(r, max, 2);
	res_le(r, 0, 2);
	res_le(r, (u32)max - min + 1, 2);
}

void aml_res_bus(struct aml_res *r, u16 min, u16 max)
{
	res_word_space(r, RES_TYPE_BUS, 0, min, max);
}

void aml_res_io_window(struct aml_res *r, u16 min, u16 max)
{
	res_word_space(r, RES_TYPE_IO, RES_IO_ENTIRE_RANGE, min, max);
}

void aml_res_mem_window(struct aml_res *r, u32 min, u32 max)
{
	res_byte(r, RES_DWORD_SPACE);
	res_le(r, RES_DWORD_SPACE_LEN, 2);
	res_byte(r, RES_TYPE_MEMORY);
	res_byte(r, RES_GEN_PRODUCER_FIXED);
	res_byte(r, RES_MEM_RW_UNCACHED);
	res_le(r, 0, 4);
	res_le(r, min, 4);
	res_le(r, max, 4);
	res_le(r, 0, 4);
	res_le(r, (u64)max - min + 1, 4);
}

void aml_resources(struct aml *a, struct aml_res *r)
{
	u8 sum = 0;

	res_byte(r, RES_END_TAG);
	for (size_t i = 0; i < r->len; i++)
		sum = (u8)(sum + r->b[i]);
	res_byte(r, (u8)-sum);
	if (r->bad) {
		a->bad = true;
		return;
	}
	aml_byte(a, AML_BUFFER_OP);
	aml_open(a);
	aml_int(a, r->len);
	for (size_t i = 0; i < r->len; i++)
		aml_byte(a, r->b[i]);
	aml_close(a);
}
