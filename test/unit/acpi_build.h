/* Building ACPI tables in a phys_window for parser tests (test_acpi.c,
 * test_pci_host.c): an RSDP, any table with a correct checksum, an RSDT.
 * The window is the one global w of the including test. */
#ifndef CG_TEST_ACPI_BUILD_H
#define CG_TEST_ACPI_BUILD_H

#include <string.h>
#include "phys_window.h"

static struct phys_window w;

static inline u8 sum(const u8 *p, u64 n)
{
	u8 s = 0;

	while (n--)
		s = (u8)(s + *p++);
	return s;
}

static inline void put_rsdp(u64 at, u8 rev, u32 rsdt, u64 xsdt)
{
	u8 *r = phys_window_at(&w, at);

	memset(r, 0, 36);
	memcpy(r, "RSD PTR ", 8);
	memcpy(r + 9, "CGTEST", 6);
	r[15] = rev;
	put_le32(r + 16, rsdt);
	put_le32(r + 20, 36);
	put_le64(r + 24, xsdt);
	r[8] = (u8)-sum(r, 20);
	r[32] = (u8)-sum(r, 36);
}

/* Header + body at phys at, with a correct checksum; returns its length. */
static inline u32 put_sdt(u64 at, const char *sig, const u8 *body, u32 body_len)
{
	u8 *t = phys_window_at(&w, at);
	u32 len = 36 + body_len;

	memset(t, 0, 36);
	memcpy(t, sig, 4);
	put_le32(t + 4, len);
	t[8] = 1;
	memcpy(t + 10, "CGTEST", 6);
	if (body_len)
		memcpy(t + 36, body, body_len);
	t[9] = (u8)-sum(t, len);
	return len;
}

static inline void fix_checksum(u64 at)
{
	u8 *t = phys_window_at(&w, at);
	u32 len = t[4] | t[5] << 8 | t[6] << 16 | (u32)t[7] << 24;

	t[9] = 0;
	t[9] = (u8)-sum(t, len);
}

static inline void put_rsdt(u64 at, const u32 *ents, u32 n)
{
	u8 body[4 * 64];

	for (u32 i = 0; i < n; i++)
		put_le32(body + 4 * i, ents[i]);
	put_sdt(at, "RSDT", body, 4 * n);
}

#endif
