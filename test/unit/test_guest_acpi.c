/* guest_acpi: tables built for 1, 2, 16 and 255 vCPUs, with and without an
 * I/O APIC, read back through the monitor's own ACPI parser (acpi.c) from a
 * physical window over the BIOS area 0xE0000-0xFFFFF; raw checks of every
 * checksum, the FADT fields and the MADT entries; too-small exact-size heap
 * buffers (AddressSanitizer catches any write past them). */
#include <stdlib.h>
#include <string.h>
#include <cg/errno.h>
#include "check.h"
#include "phys_window.h"
#include "acpi.h"
#include "guest_acpi.h"

static u8 sum(const u8 *p, u64 n)
{
	u8 s = 0;

	while (n--)
		s = (u8)(s + *p++);
	return s;
}

static u16 le16(const u8 *p) { return (u16)(p[0] | p[1] << 8); }
static u32 le32(const u8 *p) { return (u32)le16(p) | (u32)le16(p + 2) << 16; }
static u64 le64(const u8 *p) { return (u64)le32(p) | (u64)le32(p + 4) << 32; }

/* The table at physical addr: signature, length in range, zero checksum. */
static const u8 *table_at(struct phys_window *w, u64 addr, const char *sig)
{
	const u8 *t = phys_window_at(w, addr);

	CHECK(!memcmp(t, sig, 4), sig);
	CHECK(le32(t + 4) >= 36 && addr + le32(t + 4) <= w->base + w->size, "table length");
	CHECK(sum(t, le32(t + 4)) == 0, "table checksum");
	CHECK(!memcmp(t + 10, "CRSGRD", 6), "table OEM ID");
	return t;
}

static void check_config(u32 vcpus, bool ioapic, bool pcat)
{
	struct guest_acpi_cfg cfg = { .vcpus = vcpus, .ioapic = ioapic, .pcat_compat = pcat };
	struct phys_window w;
	struct acpi_madt_info info;
	u64 rsdp = 0, fadt = 0, madt = 0, dsdt = 0, xsdt;
	const u8 *r, *f, *m, *d, *e;
	u32 expect_cpus, i;
	int used, err;

	phys_window_open(&w, GUEST_ACPI_BASE, GUEST_ACPI_AREA);
	used = guest_acpi_build(&cfg, GUEST_ACPI_BASE, w.buf, w.size, &rsdp);
	CHECK(used > 0 && (size_t)used == guest_acpi_size(&cfg), "build returns its size");
	CHECK(used > 0 && (u64)used <= GUEST_ACPI_AREA, "fits in 0xE0000-0xFFFFF");
	CHECK(rsdp == GUEST_ACPI_BASE, "RSDP at base");
	if (used <= 0)
		goto out;

	/* RSDP: the monitor's checks, both checksums, revision 2, found by the
	 * same 16-byte scan an OS does. */
	CHECK(acpi_rsdp_check(&w.pa, rsdp) == 0, "acpi_rsdp_check");
	CHECK(acpi_rsdp_scan(&w.pa) == rsdp, "acpi_rsdp_scan finds it");
	r = phys_window_at(&w, rsdp);
	CHECK(!memcmp(r, "RSD PTR ", 8) && r[15] == 2, "RSDP signature, revision 2");
	CHECK(sum(r, 20) == 0 && sum(r, 36) == 0 && le32(r + 20) == 36, "RSDP checksums, length");
	CHECK(!memcmp(r + 9, "CRSGRD", 6), "RSDP OEM ID");
	xsdt = le64(r + 24);
	CHECK(xsdt == GUEST_ACPI_BASE + GUEST_ACPI_OFF_XSDT, "XSDT address");
	table_at(&w, xsdt, "XSDT");

	/* Tables through the parser. */
	CHECK(acpi_find_table(&w.pa, rsdp, "APIC", &madt) == 0, "find APIC");
	CHECK(acpi_find_table(&w.pa, rsdp, "FACP", &fadt) == 0, "find FACP");
	CHECK(acpi_find_table(&w.pa, rsdp, "FACS", &dsdt) == -CG_ENOENT, "no FACS");
	if (!madt || !fadt)
		goto out;
	CHECK(madt == GUEST_ACPI_BASE + GUEST_ACPI_OFF_MADT, "MADT address");
	CHECK(fadt == GUEST_ACPI_BASE + GUEST_ACPI_OFF_FADT, "FADT address");

	err = acpi_parse_madt(&w.pa, rsdp, &info);
	CHECK(err == 0, "acpi_parse_madt");
	/* The parser keeps ACPI_MAX_CPUS IDs and counts the rest as skipped. */
	expect_cpus = vcpus < ACPI_MAX_CPUS ? vcpus : ACPI_MAX_CPUS;
	CHECK(info.cpu_count == expect_cpus, "cpu_count");
	CHECK(info.cpu_count + info.skipped_cpus == vcpus, "cpu_count + skipped == vcpus");
	for (i = 0; i < info.cpu_count; i++)
		CHECK(info.apic_ids[i] == i, "APIC IDs 0..n-1");
	CHECK(info.lapic_addr == 0xFEE00000, "lapic_addr");
	CHECK(info.flags == (pcat ? 1u : 0u), "MADT PCAT_COMPAT");
	CHECK(info.ioapic_count == (ioapic ? 1u : 0u), "ioapic_count");
	if (ioapic && info.ioapic_count == 1) {
		CHECK(info.ioapics[0].id == (u8)vcpus, "I/O APIC ID = vcpus");
		CHECK(info.ioapics[0].addr == 0xFEC00000, "I/O APIC address");
		CHECK(info.ioapics[0].gsi_base == 0, "I/O APIC GSI base");
	}

	/* MADT raw: every processor entry (past the parser's cap), then the
	 * I/O APIC and the IRQ0 -> GSI2 override, nothing more. */
	m = table_at(&w, madt, "APIC");
	CHECK(le32(m + 4) == 44 + 8 * vcpus + (ioapic ? 22 : 0), "MADT length");
	e = m + 44;
	for (i = 0; i < vcpus; i++, e += 8)
		CHECK(e[0] == 0 && e[1] == 8 && e[2] == i && e[3] == i && le32(e + 4) == 1,
		      "local APIC entry: UID = APIC ID = index, enabled");
	if (ioapic) {
		CHECK(e[0] == 1 && e[1] == 12, "I/O APIC entry");
		e += 12;
		CHECK(e[0] == 2 && e[1] == 10 && e[2] == 0 && e[3] == 0, "ISO: ISA IRQ0");
		CHECK(le32(e + 4) == 2 && le16(e + 8) == 0x0005, "ISO: GSI2, edge, active high");
		e += 10;
	}
	CHECK(e == m + le32(m + 4), "MADT ends after its entries");

	/* FADT at the ACPI 6.0 offsets (5.2.9). */
	f = table_at(&w, fadt, "FACP");
	CHECK(le32(f + 4) == 276 && f[8] == 6, "FADT length 276, revision 6");
	CHECK(f[131] == 0, "FADT minor version 0");
	CHECK(le32(f + 36) == 0 && le64(f + 132) == 0, "no FACS (FIRMWARE_CTRL, X_)");
	dsdt = le32(f + 40);
	CHECK(dsdt == GUEST_ACPI_BASE + GUEST_ACPI_OFF_DSDT, "DSDT");
	CHECK(le64(f + 140) == dsdt, "X_DSDT == DSDT");
	CHECK(le32(f + 112) & (1u << 20), "HW_REDUCED_ACPI");
	CHECK(le16(f + 46) == 9, "SCI_INT 9");
	CHECK(le32(f + 76) == 0 && le32(f + 80) == 0 && le32(f + 56) == 0,
	      "no PM timer, GPE0, PM1a event blocks");
	d = table_at(&w, dsdt, "DSDT");
	CHECK(le32(d + 4) == 36, "DSDT header only");

	/* Nothing past the tables. */
	for (i = (u32)used; i < w.size && !w.buf[i]; i++)
		;
	CHECK(i == w.size, "nothing written past the returned size");
out:
	phys_window_close(&w);
}

/* Every size below the need: -CG_ENOMEM, exact heap buffer untouched. Then
 * the exact size works in an exact buffer. */
static void check_small(u32 vcpus, bool ioapic)
{
	struct guest_acpi_cfg cfg = { .vcpus = vcpus, .ioapic = ioapic };
	size_t need = guest_acpi_size(&cfg), n, j;
	int bad = 0, dirty = 0, ret;
	u64 rsdp = 0x1234;
	u8 *b;

	for (n = 0; n < need; n++) {
		b = malloc(n ? n : 1);
		if (!b)
			abort();
		memset(b, 0xA5, n);
		if (guest_acpi_build(&cfg, GUEST_ACPI_BASE, b, n, &rsdp) != -CG_ENOMEM)
			bad++;
		for (j = 0; j < n; j++)
			dirty += b[j] != 0xA5;
		free(b);
	}
	CHECK(!bad, "every short size: -CG_ENOMEM");
	CHECK(!dirty, "short buffers untouched");
	CHECK(rsdp == 0x1234, "rsdp_addr untouched on error");

	b = malloc(need);
	if (!b)
		abort();
	ret = guest_acpi_build(&cfg, GUEST_ACPI_BASE, b, need, &rsdp);
	CHECK(ret > 0 && (size_t)ret == need, "exact size builds");
	free(b);
}

static void check_errors(void)
{
	struct guest_acpi_cfg cfg = { .vcpus = 0, .ioapic = true };
	u8 buf[4096];
	u64 rsdp = 0;

	CHECK(guest_acpi_build(&cfg, GUEST_ACPI_BASE, buf, sizeof(buf), &rsdp) == -CG_EINVAL,
	      "vcpus 0");
	cfg.vcpus = 256;
	CHECK(guest_acpi_build(&cfg, GUEST_ACPI_BASE, buf, sizeof(buf), &rsdp) == -CG_EINVAL,
	      "vcpus 256");
	cfg.vcpus = 1000;
	CHECK(guest_acpi_build(&cfg, GUEST_ACPI_BASE, NULL, 0, &rsdp) == -CG_EINVAL,
	      "vcpus 1000, EINVAL before ENOMEM");
	cfg.vcpus = 4;
	CHECK(guest_acpi_build(&cfg, GUEST_ACPI_BASE + 8, buf, sizeof(buf), &rsdp) == -CG_EINVAL,
	      "unaligned base");
	CHECK(guest_acpi_build(&cfg, 0xFFFFFF00ULL, buf, sizeof(buf), &rsdp) == -CG_EINVAL,
	      "tables crossing 4 GiB");
	CHECK(guest_acpi_build(&cfg, 0x100000000ULL - ((guest_acpi_size(&cfg) + 15) & ~15ULL), buf, sizeof(buf), &rsdp) > 0,
	      "tables just below 4 GiB");
	CHECK(guest_acpi_build(NULL, GUEST_ACPI_BASE, buf, sizeof(buf), &rsdp) == -CG_EINVAL,
	      "NULL cfg");
	CHECK(guest_acpi_build(&cfg, GUEST_ACPI_BASE, buf, sizeof(buf), NULL) == -CG_EINVAL,
	      "NULL rsdp_addr");
	cfg.vcpus = 255;
	CHECK(guest_acpi_size(&cfg) == 0x9FA, "255 vCPUs + I/O APIC: 0x9FA bytes (header)");
}

int main(void)
{
	static const u32 counts[] = { 1, 2, 16, 255 };

	for (unsigned i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		check_config(counts[i], false, false);
		check_config(counts[i], true, false);
		check_config(counts[i], true, true);
		check_small(counts[i], false);
		check_small(counts[i], true);
	}
	check_errors();
	return check_summary();
}
