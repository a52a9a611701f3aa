/* acpi: RSDP validation and scanning, RSDT/XSDT walks and MADT parsing over
 * tables built in a 2 MiB physical window that covers the BIOS areas. */
#include <string.h>
#include <cg/errno.h>
#include "check.h"
#include "phys_window.h"
#include "acpi_build.h"
#include "lib/acpi.h"

#define WIN_SIZE (2 * MIB)
#define RSDP_AT 0xF6B0ULL
#define RSDT_AT 0x100000ULL
#define XSDT_AT 0x101000ULL
#define MADT_AT 0x102000ULL
#define FACP_AT 0x104000ULL
#define BADT_AT 0x105000ULL

static void put_xsdt(u64 at, const u64 *ents, u32 n)
{
	u8 body[8 * 64];

	for (u32 i = 0; i < n; i++)
		put_le64(body + 8 * i, ents[i]);
	put_sdt(at, "XSDT", body, 8 * n);
}

/* MADT body builder. */
struct madt {
	u8 b[4096];
	u32 len;
};

static void madt_begin(struct madt *m, u32 lapic, u32 flags)
{
	m->len = 8;
	put_le32(m->b, lapic);
	put_le32(m->b + 4, flags);
}

static void madt_raw(struct madt *m, const u8 *e, u32 n)
{
	memcpy(m->b + m->len, e, n);
	m->len += n;
}

static void madt_lapic(struct madt *m, u8 uid, u8 id, u32 flags)
{
	u8 e[8] = { 0, 8, uid, id };

	put_le32(e + 4, flags);
	madt_raw(m, e, 8);
}

static void madt_x2apic(struct madt *m, u32 id, u32 flags)
{
	u8 e[16] = { 9, 16 };

	put_le32(e + 4, id);
	put_le32(e + 8, flags);
	put_le32(e + 12, id);
	madt_raw(m, e, 16);
}

static void madt_ioapic(struct madt *m, u8 id, u32 addr, u32 gsi)
{
	u8 e[12] = { 1, 12, id };

	put_le32(e + 4, addr);
	put_le32(e + 8, gsi);
	madt_raw(m, e, 12);
}

/* RSDP (v1) -> RSDT -> { FACP, MADT } */
static void install(const struct madt *m)
{
	u32 ents[2] = { FACP_AT, MADT_AT };

	memset(w.buf, 0, w.size);
	put_rsdp(RSDP_AT, 0, RSDT_AT, 0);
	put_rsdt(RSDT_AT, ents, 2);
	put_sdt(FACP_AT, "FACP", (const u8 *)"facpbody", 8);
	put_sdt(MADT_AT, "APIC", m->b, m->len);
}

static void test_rsdp(void)
{
	u8 *r = phys_window_at(&w, RSDP_AT);

	memset(w.buf, 0, w.size);
	put_rsdp(RSDP_AT, 0, RSDT_AT, 0);
	CHECK(acpi_rsdp_check(&w.pa, RSDP_AT) == 0, "v1 RSDP valid");
	put_rsdp(RSDP_AT, 2, RSDT_AT, XSDT_AT);
	CHECK(acpi_rsdp_check(&w.pa, RSDP_AT) == 0, "v2 RSDP valid");
	r[0] = 'r';
	CHECK(acpi_rsdp_check(&w.pa, RSDP_AT) == -CG_EINVAL, "bad signature");
	put_rsdp(RSDP_AT, 0, RSDT_AT, 0);
	r[8]++;
	CHECK(acpi_rsdp_check(&w.pa, RSDP_AT) == -CG_EINVAL, "bad v1 checksum");
	put_rsdp(RSDP_AT, 2, RSDT_AT, XSDT_AT);
	r[32]++;
	CHECK(acpi_rsdp_check(&w.pa, RSDP_AT) == -CG_EINVAL, "bad extended checksum");
	put_rsdp(RSDP_AT, 2, RSDT_AT, XSDT_AT);
	put_le32(r + 20, 20);
	r[32] = 0;
	r[32] = (u8)-sum(r, 36);
	CHECK(acpi_rsdp_check(&w.pa, RSDP_AT) == -CG_EINVAL, "v2 length below 36");
	put_le32(r + 20, 0x7fffffff);
	CHECK(acpi_rsdp_check(&w.pa, RSDP_AT) == -CG_EINVAL, "v2 absurd length");
	CHECK(acpi_rsdp_check(&w.pa, WIN_SIZE + 0x1000) == -CG_ERANGE, "RSDP outside window");
	CHECK(acpi_rsdp_check(&w.pa, ~0ULL - 8) == -CG_ERANGE, "RSDP address wraps");

	/* A v2 RSDP whose first 20 bytes fit but the rest do not. */
	memset(w.buf, 0, w.size);
	{
		u64 at = WIN_SIZE - 24;
		u8 *t = phys_window_at(&w, at);

		memcpy(t, "RSD PTR ", 8);
		t[15] = 2;
		t[8] = (u8)-sum(t, 20);
		CHECK(acpi_rsdp_check(&w.pa, at) == -CG_ERANGE, "v2 tail outside window");
	}
}

static void test_scan(void)
{
	memset(w.buf, 0, w.size);
	CHECK(acpi_rsdp_scan(&w.pa) == 0, "nothing to find");

	put_le16(phys_window_at(&w, 0x40E), 0x9FC0);
	put_rsdp(0x9FC00 + 0x40, 0, RSDT_AT, 0);
	put_rsdp(0xF0000, 0, RSDT_AT, 0);
	CHECK(acpi_rsdp_scan(&w.pa) == 0x9FC40, "EBDA searched first");

	phys_window_at(&w, 0x9FC40)[8]++;
	CHECK(acpi_rsdp_scan(&w.pa) == 0xF0000, "bad EBDA copy skipped, BIOS area used");

	memset(w.buf, 0, w.size);
	put_le16(phys_window_at(&w, 0x40E), 0x9FC0);
	put_rsdp(0x9FC00 + 1024, 0, RSDT_AT, 0);
	CHECK(acpi_rsdp_scan(&w.pa) == 0, "only the first KiB of the EBDA");

	memset(w.buf, 0, w.size);
	put_le16(phys_window_at(&w, 0x40E), 0x1000);
	put_rsdp(0x10000, 0, RSDT_AT, 0);
	CHECK(acpi_rsdp_scan(&w.pa) == 0, "EBDA pointer outside 0x80000-0x9FFFF ignored");

	memset(w.buf, 0, w.size);
	put_rsdp(0xE0008, 0, RSDT_AT, 0);
	CHECK(acpi_rsdp_scan(&w.pa) == 0, "unaligned RSDP not found");
	put_rsdp(0xFFFE0, 0, RSDT_AT, 0);
	CHECK(acpi_rsdp_scan(&w.pa) == 0xFFFE0, "RSDP near the top of the BIOS area");

	{
		struct phys_window tiny;

		/* Only the BIOS area is readable: the BDA read fails cleanly. */
		phys_window_open(&tiny, 0xE0000, 0x20000);
		CHECK(acpi_rsdp_scan(&tiny.pa) == 0, "no BDA, nothing found, no crash");
		phys_window_close(&tiny);
	}
}

static void test_find(void)
{
	struct madt m;
	u64 out = 0;

	madt_begin(&m, 0xFEE00000, 1);
	madt_lapic(&m, 0, 0, 1);
	install(&m);
	CHECK(acpi_find_table(&w.pa, RSDP_AT, "APIC", &out) == 0 && out == MADT_AT, "MADT via RSDT");
	CHECK(acpi_find_table(&w.pa, RSDP_AT, "HPET", &out) == -CG_ENOENT, "absent table");

	/* Bad entries before the good one: outside, zero, wrong checksum. */
	{
		u32 ents[4] = { 0x7ff00000, 0, BADT_AT, MADT_AT };

		put_sdt(BADT_AT, "APIC", m.b, m.len);
		phys_window_at(&w, BADT_AT)[20]++;
		put_rsdt(RSDT_AT, ents, 4);
		CHECK(acpi_find_table(&w.pa, RSDP_AT, "APIC", &out) == 0 && out == MADT_AT,
		      "unreadable and corrupt entries skipped");
		put_le32(phys_window_at(&w, BADT_AT + 4), 0x00fffff0);
		fix_checksum(RSDT_AT);
		CHECK(acpi_find_table(&w.pa, RSDP_AT, "APIC", &out) == 0 && out == MADT_AT,
		      "entry with absurd length skipped");
	}

	/* Rev 2 with an XSDT: the XSDT wins even though the RSDT lists APIC. */
	{
		u64 x[1] = { FACP_AT };

		put_xsdt(XSDT_AT, x, 1);
		put_rsdp(RSDP_AT, 2, RSDT_AT, XSDT_AT);
		CHECK(acpi_find_table(&w.pa, RSDP_AT, "APIC", &out) == -CG_ENOENT, "XSDT used over RSDT");
		CHECK(acpi_find_table(&w.pa, RSDP_AT, "FACP", &out) == 0 && out == FACP_AT, "FACP via XSDT");
		put_rsdp(RSDP_AT, 2, RSDT_AT, 0);
		CHECK(acpi_find_table(&w.pa, RSDP_AT, "APIC", &out) == 0, "rev 2 without XSDT falls back to RSDT");
		put_rsdp(RSDP_AT, 2, RSDT_AT, 0x1000000000ULL);
		CHECK(acpi_find_table(&w.pa, RSDP_AT, "APIC", &out) == -CG_ERANGE, "XSDT outside window");
	}

	install(&m);
	(*phys_window_at(&w, RSDT_AT + 9))++;
	CHECK(acpi_find_table(&w.pa, RSDP_AT, "APIC", &out) == -CG_EINVAL, "RSDT checksum");
	install(&m);
	memcpy(phys_window_at(&w, RSDT_AT), "XSDT", 4);
	fix_checksum(RSDT_AT);
	CHECK(acpi_find_table(&w.pa, RSDP_AT, "APIC", &out) == -CG_EINVAL, "RSDT signature");
	install(&m);
	put_le32(phys_window_at(&w, RSDT_AT + 4), 20);
	CHECK(acpi_find_table(&w.pa, RSDP_AT, "APIC", &out) == -CG_EINVAL, "RSDT length below header");
	put_le32(phys_window_at(&w, RSDT_AT + 4), 0x40000000);
	CHECK(acpi_find_table(&w.pa, RSDP_AT, "APIC", &out) == -CG_EINVAL, "RSDT absurd length");
	install(&m);
	put_le32(phys_window_at(&w, RSDT_AT + 4), 36 + 4 + 3);
	fix_checksum(RSDT_AT);
	CHECK(acpi_find_table(&w.pa, RSDP_AT, "FACP", &out) == 0 &&
	      acpi_find_table(&w.pa, RSDP_AT, "APIC", &out) == -CG_ENOENT, "partial trailing entry ignored");
	install(&m);
	put_rsdp(RSDP_AT, 0, 0, 0);
	CHECK(acpi_find_table(&w.pa, RSDP_AT, "APIC", &out) == -CG_EINVAL, "null RSDT");
	put_rsdp(RSDP_AT, 0, 0x7ffffff0, 0);
	CHECK(acpi_find_table(&w.pa, RSDP_AT, "APIC", &out) == -CG_ERANGE, "RSDT outside window");
	phys_window_at(&w, RSDP_AT)[8]++;
	CHECK(acpi_find_table(&w.pa, RSDP_AT, "APIC", &out) == -CG_EINVAL, "bad RSDP refused");
}

static void test_madt(void)
{
	struct madt m;
	struct acpi_madt_info info;
	u8 iso[10] = { 2, 10, 0, 0, 2, 0, 0, 0, 0, 0 };
	u8 ovr[12] = { 5, 12 };

	madt_begin(&m, 0xFEE00000, 1);
	madt_lapic(&m, 0, 0, 1);
	madt_lapic(&m, 1, 2, 1);
	madt_lapic(&m, 2, 4, 0);     /* disabled, not online capable */
	madt_lapic(&m, 3, 6, 2);     /* online capable */
	madt_lapic(&m, 4, 2, 1);     /* duplicate ID */
	madt_lapic(&m, 5, 0xFF, 1);  /* no valid ID */
	madt_raw(&m, iso, sizeof(iso));
	madt_ioapic(&m, 8, 0xFEC00000, 0);
	madt_ioapic(&m, 9, 0xFEC01000, 24);
	madt_x2apic(&m, 0x100, 1);
	madt_x2apic(&m, 6, 1);       /* same CPU as xAPIC 6 */
	madt_x2apic(&m, 0xFFFFFFFF, 1);
	put_le64(ovr + 4, 0xFEE0000000ULL);
	madt_raw(&m, ovr, sizeof(ovr));
	install(&m);
	CHECK(acpi_parse_madt(&w.pa, RSDP_AT, &info) == 0, "MADT parses");
	CHECK(info.cpu_count == 4 && info.apic_ids[0] == 0 && info.apic_ids[1] == 2 &&
	      info.apic_ids[2] == 6 && info.apic_ids[3] == 0x100, "CPU list: enabled, online-capable, x2APIC, deduplicated");
	CHECK(info.skipped_cpus == 0, "nothing skipped");
	CHECK(info.lapic_addr == 0xFEE0000000ULL, "64-bit override applied");
	CHECK(info.flags == 1, "flags");
	CHECK(info.ioapic_count == 2 && info.ioapics[1].id == 9 && info.ioapics[1].addr == 0xFEC01000 &&
	      info.ioapics[1].gsi_base == 24, "I/O APICs");

	madt_begin(&m, 0xFEE00000, 0);
	for (u32 i = 0; i < 100; i++)
		madt_x2apic(&m, i * 2, 1);
	for (u32 i = 0; i < 10; i++)
		madt_ioapic(&m, (u8)i, 0xFEC00000 + i * 0x1000, i * 24);
	install(&m);
	CHECK(acpi_parse_madt(&w.pa, RSDP_AT, &info) == 0, "big MADT parses");
	CHECK(info.cpu_count == ACPI_MAX_CPUS && info.skipped_cpus == 100 - ACPI_MAX_CPUS,
	      "CPUs beyond the table counted as skipped");
	CHECK(info.apic_ids[63] == 126 && info.lapic_addr == 0xFEE00000, "first 64 kept, no override");
	CHECK(info.ioapic_count == ACPI_MAX_IOAPICS, "I/O APICs capped");

	madt_begin(&m, 0xFEE00000, 0);
	madt_lapic(&m, 0, 0, 1);
	madt_raw(&m, (const u8 *)"\x00\x00\x00\x00\x00\x00\x00\x00", 8);
	install(&m);
	CHECK(acpi_parse_madt(&w.pa, RSDP_AT, &info) == -CG_EINVAL, "entry length 0");

	madt_begin(&m, 0xFEE00000, 0);
	madt_lapic(&m, 0, 0, 1);
	madt_raw(&m, (const u8 *)"\x01\x40\x00\x00\x00\x00\xc0\xfe\x00\x00\x00\x00", 12);
	install(&m);
	CHECK(acpi_parse_madt(&w.pa, RSDP_AT, &info) == -CG_EINVAL, "entry runs past the table");

	madt_begin(&m, 0xFEE00000, 0);
	madt_raw(&m, (const u8 *)"\x00\x06\x00\x01\x01\x00", 6);
	install(&m);
	CHECK(acpi_parse_madt(&w.pa, RSDP_AT, &info) == -CG_EINVAL, "LAPIC entry too short");

	madt_begin(&m, 0xFEE00000, 0);
	madt_raw(&m, (const u8 *)"\x09\x08\x00\x00\x01\x00\x00\x00", 8);
	install(&m);
	CHECK(acpi_parse_madt(&w.pa, RSDP_AT, &info) == -CG_EINVAL, "x2APIC entry too short");

	madt_begin(&m, 0xFEE00000, 0);
	madt_lapic(&m, 0, 0, 1);
	madt_raw(&m, (const u8 *)"\x00", 1);
	install(&m);
	CHECK(acpi_parse_madt(&w.pa, RSDP_AT, &info) == -CG_EINVAL, "dangling byte after the last entry");

	madt_begin(&m, 0xFEE00000, 0);
	m.len = 4;
	install(&m);
	CHECK(acpi_parse_madt(&w.pa, RSDP_AT, &info) == -CG_EINVAL, "MADT shorter than its fixed part");

	madt_begin(&m, 0xFEE00000, 0);
	madt_lapic(&m, 0, 0, 1);
	install(&m);
	(*phys_window_at(&w, MADT_AT + 40))++;
	CHECK(acpi_parse_madt(&w.pa, RSDP_AT, &info) == -CG_ENOENT, "MADT with bad checksum is not found");

	madt_begin(&m, 0xFEE00000, 0);
	install(&m);
	CHECK(acpi_parse_madt(&w.pa, RSDP_AT, &info) == 0 && info.cpu_count == 0, "MADT with no entries");

	{
		u32 ents[1] = { FACP_AT };

		put_rsdt(RSDT_AT, ents, 1);
		CHECK(acpi_parse_madt(&w.pa, RSDP_AT, &info) == -CG_ENOENT, "no MADT");
	}
}

/* Damaged MADTs, placed flush with the end of the window, half of them with
 * the checksum repaired so the damage reaches the entry walk. */
static void fuzz(int iters)
{
	struct madt good, m;
	struct acpi_madt_info info;
	int ok = 0, errs = 0, weird = 0;
	u64 at;

	madt_begin(&good, 0xFEE00000, 1);
	for (u32 i = 0; i < 20; i++)
		madt_lapic(&good, (u8)i, (u8)i, 1);
	for (u32 i = 0; i < 60; i++)
		madt_x2apic(&good, i, 1 + i % 3);
	madt_ioapic(&good, 1, 0xFEC00000, 0);
	at = WIN_SIZE - (36 + good.len);

	for (int it = 0; it < iters; it++) {
		u32 ents[2] = { FACP_AT, (u32)at };
		int err, flips = 1 + (int)check_rand_below(6);

		m = good;
		for (int f = 0; f < flips; f++) {
			u32 pos = (u32)check_rand_below(m.len + 36);

			if (pos < 36) /* header damage, mostly the length */
				continue;
			m.b[pos - 36] = (u8)check_rand();
		}
		memset(w.buf, 0, w.size);
		put_rsdp(RSDP_AT, 0, RSDT_AT, 0);
		put_rsdt(RSDT_AT, ents, 2);
		put_sdt(FACP_AT, "FACP", (const u8 *)"x", 1);
		put_sdt(at, "APIC", m.b, m.len);
		if (it % 4 == 0) {
			u32 len = (u32)check_rand_below(36 + good.len + 64);

			put_le32(phys_window_at(&w, at + 4), len);
			if (it % 8 == 0 && len >= 10 && len <= 36 + good.len)
				fix_checksum(at);
		} else if (it % 2) {
			phys_window_at(&w, at + 9)[0] ^= (u8)(1 + check_rand_below(255));
		}
		err = acpi_parse_madt(&w.pa, RSDP_AT, &info);
		if (err == 0) {
			ok++;
			if (info.cpu_count > ACPI_MAX_CPUS || info.ioapic_count > ACPI_MAX_IOAPICS)
				weird++;
			for (u32 i = 0; i < info.cpu_count && i < ACPI_MAX_CPUS; i++)
				for (u32 j = 0; j < i; j++)
					if (info.apic_ids[i] == info.apic_ids[j])
						weird++;
		} else if (err == -CG_EINVAL || err == -CG_ENOENT || err == -CG_ERANGE) {
			errs++;
		} else {
			weird++;
		}
	}
	printf("acpi fuzz: %d parsed, %d rejected\n", ok, errs);
	CHECK(weird == 0, "fuzz: documented results only, bounded and unique CPU lists");
	CHECK(ok > 0 && errs > 0, "fuzz: both outcomes exercised");
}

int main(void)
{
	phys_window_open(&w, 0, WIN_SIZE);
	test_rsdp();
	test_scan();
	test_find();
	test_madt();
	fuzz(3000);
	phys_window_close(&w);
	return check_summary();
}
