/* A small AML emitter for the guest DSDT (ACPI 6.0 section 20, "ACPI
 * Machine Language Specification"; resource descriptors from section
 * 6.4). Enough for static namespace content: scopes, devices, named
 * integers, strings, EISA IDs, packages and resource templates; no
 * methods.
 *
 * Usage: aml_init over a buffer (or a NULL buffer to measure), then open
 * and close scopes, devices and packages in nesting order; aml_finish
 * says whether it all fit and was well formed. Errors are sticky: after
 * the first one later calls do nothing harmful and aml_finish reports it.
 *
 * Names are ASL-style paths: "\\_SB.PCI0", "COM1", "^PCI0"; each segment
 * 1-4 characters of A-Z, 0-9 and '_' (not starting with a digit), padded
 * with '_' to four as ASL does. */
#ifndef CG_GUEST_AML_H
#define CG_GUEST_AML_H

#include <cg/types.h>

#define AML_MAX_DEPTH 8
#define AML_RES_MAX 160 /* bytes in one resource template */

struct aml {
	u8 *buf;        /* NULL: measure only */
	size_t size;
	size_t len;     /* bytes emitted (or that would have been) */
	bool overflow;  /* len went past size */
	bool bad;       /* malformed request: bad name, nesting, ... */
	u32 depth;
	size_t open[AML_MAX_DEPTH]; /* where each open PkgLength sits */
};

/* A ResourceTemplate being assembled (ACPI 6.0 6.4), emitted as a Buffer
 * by aml_resources. */
struct aml_res {
	u8 b[AML_RES_MAX];
	size_t len;
	bool bad;       /* past AML_RES_MAX, or an impossible descriptor */
};

/* aml_init: emit into buf[0..size) (buf NULL and size 0: only count). */
void aml_init(struct aml *a, u8 *buf, size_t size);

/* aml_finish: the byte length of the AML; -CG_EINVAL when a request was
 * malformed or a scope is still open, -CG_ENOMEM when it did not fit. */
int aml_finish(const struct aml *a);

/* aml_scope / aml_device / aml_package open DefScope, DefDevice and
 * DefPackage (NumElements = count); aml_close ends the innermost. */
void aml_scope(struct aml *a, const char *path);
void aml_device(struct aml *a, const char *path);
void aml_package(struct aml *a, u8 count);
void aml_close(struct aml *a);

/* aml_name: DefName; the next data object emitted is its value. */
void aml_name(struct aml *a, const char *path);

/* Data objects: the shortest integer encoding (Zero, One, Byte, Word,
 * DWord, QWord), a NUL-terminated string (ASCII 0x01-0x7F), an EISA ID
 * ("PNP0A03": three letters A-Z and four hex digits, compressed into a
 * DWord as ASL's EISAID() does). */
void aml_int(struct aml *a, u64 v);
void aml_string(struct aml *a, const char *s);
void aml_eisaid(struct aml *a, const char *id);

/* aml_resources: the template closed with an End Tag whose checksum makes
 * its bytes sum to zero, emitted as a Buffer. */
void aml_resources(struct aml *a, struct aml_res *r);

/* Resource descriptors (ACPI 6.0 6.4.2 small, 6.4.3 large). */
void aml_res_init(struct aml_res *r);
/* IO (Decode16, min, max, align, len) */
void aml_res_io(struct aml_res *r, u16 min, u16 max, u8 align, u8 len);
/* IRQNoFlags () {irq}: edge-triggered, active high, exclusive */
void aml_res_irq(struct aml_res *r, u8 irq);
/* WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode, ...) */
void aml_res_bus(struct aml_res *r, u16 min, u16 max);
/* WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange) */
void aml_res_io_window(struct aml_res *r, u16 min, u16 max);
/* DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed,
 * NonCacheable, ReadWrite) */
void aml_res_mem_window(struct aml_res *r, u32 min, u32 max);

#endif
