/* A small AML decoder for the tests, written from ACPI 6.0 sections 20.2
 * and 6.4 independently of the emitter (guest_aml.c): it decodes the
 * static subset a DSDT of ours uses (Scope, Device, Name with Integer,
 * String, Buffer and Package-of-integers values), checks that every
 * PkgLength nests inside its parent and that nothing is left over, and
 * records each object under its absolute path ("\_SB_.COM1._HID").
 * aml_walk_resources decodes a Buffer as a resource template. */
#ifndef CG_TEST_AML_WALK_H
#define CG_TEST_AML_WALK_H

#include <stdio.h>
#include <string.h>
#include <cg/types.h>

enum aml_obj_kind { AML_OBJ_SCOPE, AML_OBJ_DEVICE, AML_OBJ_INT, AML_OBJ_STRING, AML_OBJ_BUFFER,
		    AML_OBJ_PACKAGE };

struct aml_obj {
	char path[96];
	enum aml_obj_kind kind;
	u64 value;         /* INT */
	const u8 *data;    /* BUFFER bytes, STRING characters */
	u32 len;
	u32 elements;      /* PACKAGE: NumElements (integers or packages of integers) */
	u32 nints;         /* PACKAGE: integers in ints[], nested ones flattened in order */
	u64 ints[48];
};

struct aml_walk {
	struct aml_obj objs[64];
	u32 count;
};

static int aw_pkglen(const u8 **p, const u8 *end, u32 *len)
{
	if (*p >= end)
		return -1;
	u32 n = (**p >> 6) + 1;
	if ((u32)(end - *p) < n || (n > 1 && (**p & 0x30)))
		return -1;
	u32 v = n == 1 ? (u32)(**p & 0x3F) : (u32)(**p & 0x0F);
	for (u32 i = 1; i < n; i++)
		v |= (u32)(*p)[i] << (4 + 8 * (i - 1));
	*len = v;
	return 0;
}

/* NameString resolved against scope into out (absolute). */
static int aw_name(const u8 **p, const u8 *end, const char *scope, char *out, size_t size)
{
	char path[96];
	u32 segs = 1;

	snprintf(path, sizeof(path), "%s", scope);
	if (*p < end && **p == '\\') {
		strcpy(path, "\\");
		(*p)++;
	}
	while (*p < end && **p == '^') {
		char *dot = strrchr(path, '.');
		if (dot)
			*dot = 0;
		else if (strcmp(path, "\\"))
			strcpy(path, "\\");
		else
			return -1;
		(*p)++;
	}
	if (*p >= end)
		return -1;
	if (**p == 0x00) {
		segs = 0;
		(*p)++;
	} else if (**p == 0x2E) {
		segs = 2;
		(*p)++;
	} else if (**p == 0x2F) {
		if (end - *p < 2)
			return -1;
		segs = (*p)[1];
		*p += 2;
	}
	for (u32 i = 0; i < segs; i++) {
		if (end - *p < 4)
			return -1;
		for (int k = 0; k < 4; k++) {
			u8 c = (*p)[k];
			if (!((c >= 'A' && c <= 'Z') || c == '_' || (k && c >= '0' && c <= '9')))
				return -1;
		}
		size_t l = strlen(path);
		if (l + 6 >= sizeof(path))
			return -1;
		if (strcmp(path, "\\"))
			path[l++] = '.';
		memcpy(path + l, *p, 4);
		path[l + 4] = 0;
		*p += 4;
	}
	if (strlen(path) + 1 > size)
		return -1;
	strcpy(out, path);
	return 0;
}

/* A constant integer data object. */
static int aw_int(const u8 **p, const u8 *end, u64 *v)
{
	static const u32 sizes[] = { [0x0A] = 1, [0x0B] = 2, [0x0C] = 4, [0x0E] = 8 };
	if (*p >= end)
		return -1;
	u8 op = *(*p)++;
	if (op == 0x00 || op == 0x01) {
		*v = op;
		return 0;
	}
	if (op == 0xFF) {
		*v = ~(u64)0;
		return 0;
	}
	if (op > 0x0E || !sizes[op] || (u32)(end - *p) < sizes[op])
		return -1;
	*v = 0;
	for (u32 i = 0; i < sizes[op]; i++)
		*v |= (u64)(*p)[i] << (8 * i);
	*p += sizes[op];
	return 0;
}

/* A package at *p (its 0x12 opcode): integers are appended to o->ints,
 * packages inside it (depth below 2) are walked the same way; *elements
 * gets its NumElements, which must match what it holds. */
static int aw_package(const u8 **p, const u8 *end, struct aml_obj *o, u32 *elements, int depth)
{
	u32 len;
	const u8 *start = ++(*p);
	if (aw_pkglen(p, end, &len) || len > (u32)(end - start))
		return -1;
	const u8 *pend = start + len;
	*p += (*start >> 6) + 1;
	if (*p >= pend)
		return -1;
	*elements = *(*p)++;
	u32 n = 0;
	while (*p < pend) {
		if (**p == 0x12) {
			u32 inner;
			if (depth >= 2 || aw_package(p, pend, o, &inner, depth + 1))
				return -1;
		} else {
			u64 v;
			if (o->nints >= sizeof(o->ints) / sizeof(o->ints[0]) || aw_int(p, pend, &v))
				return -1;
			o->ints[o->nints++] = v;
		}
		n++;
	}
	return n == *elements ? 0 : -1;
}

static int aw_data(const u8 **p, const u8 *end, struct aml_obj *o)
{
	u32 len;

	if (*p >= end)
		return -1;
	switch (**p) {
	case 0x0D: /* String */
		o->kind = AML_OBJ_STRING;
		o->data = ++(*p);
		while (*p < end && **p)
			(*p)++;
		if (*p >= end)
			return -1;
		o->len = (u32)(*p - o->data);
		(*p)++;
		return 0;
	case 0x11: { /* Buffer: PkgLength BufferSize ByteList */
		const u8 *start = ++(*p);
		u64 size;
		if (aw_pkglen(p, end, &len) || len > (u32)(end - start))
			return -1;
		const u8 *bend = start + len;
		*p += (*start >> 6) + 1;
		if (aw_int(p, bend, &size) || size != (u64)(bend - *p))
			return -1;
		o->kind = AML_OBJ_BUFFER;
		o->data = *p;
		o->len = (u32)size;
		*p = bend;
		return 0;
	}
	case 0x12: /* Package: PkgLength NumElements PackageElementList */
		o->kind = AML_OBJ_PACKAGE;
		return aw_package(p, end, o, &o->elements, 1);
	default:
		o->kind = AML_OBJ_INT;
		return aw_int(p, end, &o->value);
	}
}

static int aw_terms(struct aml_walk *w, const u8 *p, const u8 *end, const char *scope)
{
	while (p < end) {
		if (w->count == sizeof(w->objs) / sizeof(w->objs[0]))
			return -1;
		struct aml_obj *o = &w->objs[w->count];
		memset(o, 0, sizeof(*o));
		u8 op = *p++;
		if (op == 0x08) { /* DefName */
			if (aw_name(&p, end, scope, o->path, sizeof(o->path)) || aw_data(&p, end, o))
				return -1;
			w->count++;
			continue;
		}
		bool device = op == 0x5B && p < end && *p == 0x82;
		if (device)
			p++;
		else if (op != 0x10) /* DefScope */
			return -1;
		const u8 *start = p;
		u32 len;
		if (aw_pkglen(&p, end, &len) || len > (u32)(end - start))
			return -1;
		const u8 *body_end = start + len;
		p += (*start >> 6) + 1;
		if (aw_name(&p, body_end, scope, o->path, sizeof(o->path)))
			return -1;
		o->kind = device ? AML_OBJ_DEVICE : AML_OBJ_SCOPE;
		w->count++;
		if (aw_terms(w, p, body_end, o->path))
			return -1;
		p = body_end;
	}
	return p == end ? 0 : -1;
}

/* aml_walk: decode len bytes of AML (a definition block's body). */
static inline int aml_walk(struct aml_walk *w, const u8 *aml, u32 len)
{
	w->count = 0;
	return aw_terms(w, aml, aml + len, "\\");
}

static inline const struct aml_obj *aml_walk_find(const struct aml_walk *w, const char *path)
{
	for (u32 i = 0; i < w->count; i++)
		if (!strcmp(w->objs[i].path, path))
			return &w->objs[i];
	return NULL;
}

enum { AML_RD_IO, AML_RD_IRQ, AML_RD_END, AML_RD_WORD, AML_RD_DWORD, AML_RD_OTHER };

struct aml_rd {
	int tag;
	u64 min, max, len;
	u16 irq_mask;
	bool has_flags;   /* IRQ descriptor with its flags byte */
	bool decode16;    /* I/O port descriptor */
	u8 type, type_flags;
	bool producer, min_fixed, max_fixed;
};

static u64 aw_le(const u8 *p, u32 n)
{
	u64 v = 0;
	for (u32 i = 0; i < n; i++)
		v |= (u64)p[i] << (8 * i);
	return v;
}

/* aml_walk_resources: the descriptors of a resource-template Buffer, End
 * Tag included; -1 when a length is wrong, bytes follow the End Tag, it is
 * missing, or the template does not sum to zero. */
static inline int aml_walk_resources(const struct aml_obj *o, struct aml_rd *out, int max)
{
	const u8 *p = o->data, *end = o->data + o->len;
	u8 sum = 0;
	int n = 0;

	if (o->kind != AML_OBJ_BUFFER)
		return -1;
	for (u32 i = 0; i < o->len; i++)
		sum = (u8)(sum + o->data[i]);
	while (p < end && n < max) {
		struct aml_rd *r = &out[n++];
		memset(r, 0, sizeof(*r));
		if (!(p[0] & 0x80)) { /* small item: name bits 6:3, length 2:0 */
			u32 name = (p[0] >> 3) & 0xF, len = p[0] & 7;
			if ((u32)(end - p) < 1 + len)
				return -1;
			if (name == 0x4 && (len == 2 || len == 3)) {
				r->tag = AML_RD_IRQ;
				r->irq_mask = (u16)aw_le(p + 1, 2);
				r->has_flags = len == 3;
			} else if (name == 0x8 && len == 7) {
				r->tag = AML_RD_IO;
				r->decode16 = p[1] & 1;
				r->min = aw_le(p + 2, 2);
				r->max = aw_le(p + 4, 2);
				r->len = p[7];
			} else if (name == 0xF && len == 1) {
				r->tag = AML_RD_END;
				return p + 2 == end && sum == 0 ? n : -1;
			} else {
				r->tag = AML_RD_OTHER;
			}
			p += 1 + len;
		} else { /* large item: 16-bit length */
			if (end - p < 3)
				return -1;
			u32 len = (u32)aw_le(p + 1, 2);
			if ((u32)(end - p) < 3 + len)
				return -1;
			u32 w = p[0] == 0x88 ? 2 : p[0] == 0x87 ? 4 : 0;
			if (w && len >= 3 + 5 * w) {
				r->tag = w == 2 ? AML_RD_WORD : AML_RD_DWORD;
				r->type = p[3];
				r->producer = !(p[4] & 1);
				r->min_fixed = p[4] & 4;
				r->max_fixed = p[4] & 8;
				r->type_flags = p[5];
				r->min = aw_le(p + 6 + w, w);
				r->max = aw_le(p + 6 + 2 * w, w);
				r->len = aw_le(p + 6 + 4 * w, w);
			} else {
				r->tag = AML_RD_OTHER;
			}
			p += 3 + len;
		}
	}
	return -1;
}

#endif
