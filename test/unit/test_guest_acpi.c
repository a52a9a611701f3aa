/* guest_acpi: tables built for 1, 2, 16 and 255 vCPUs, with and without an
 * I/O APIC and the PCI host bridge, read back through the monitor's own
 * ACPI parser (acpi.c) from a physical window over the BIOS area
 * 0xE0000-0xFFFFF; raw checks of every checksum, the FADT fields and the
 * MADT entries; the DSDT's AML walked by a small independent decoder
 * (every PkgLength nested, every name and value, the resource templates
 * and their checksums); too-small exact-size heap buffers
 * (AddressSanitizer catches any write past them). iasl's view of the same
 * tables is test_guest_acpi_iasl.c. */
#include <stdlib.h>
#include <string.h>
#include <cg/errno.h>
#include "check.h"
#include "phys_window.h"
#include "lib/acpi.h"
#include "aml_walk.h"
#include "devices/virtio/dev_pci.h"
#include "loader/guest_acpi.h"

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

/* The DSDT's AML, decoded: names, values and the resource templates. */
static void check_dsdt(const u8 *d, bool pci)
{
	struct aml_walk w;
	const struct aml_obj *o;
	struct aml_rd rd[8];
	u32 aml_len = le32(d + 4) - 36;

	CHECK(d[8] == 2, "DSDT revision 2 (64-bit integers)");
	CHECK(aml_walk(&w, d + 36, aml_len) == 0, "AML decodes, every PkgLength nests");
	CHECK(w.count == (pci ? 16u : 9u), "object count");

	o = aml_walk_find(&w, "\\_S5_");
	CHECK(o && o->kind == AML_OBJ_PACKAGE && o->elements == 4 && o->ints[0] == 5 &&
	      o->ints[1] == 5 && o->ints[2] == 0 && o->ints[3] == 0, "\\_S5 = {5, 5, 0, 0}");
	CHECK(aml_walk_find(&w, "\\_SB_") && aml_walk_find(&w, "\\_SB_")->kind == AML_OBJ_SCOPE,
	      "Scope (\\_SB)");

	o = aml_walk_find(&w, "\\_SB_.COM1._HID");
	CHECK(o && o->kind == AML_OBJ_INT && o->value == 0x0105D041, "COM1 _HID PNP0501");
	o = aml_walk_find(&w, "\\_SB_.COM1._UID");
	CHECK(o && o->kind == AML_OBJ_INT && o->value == 1, "COM1 _UID 1");
	o = aml_walk_find(&w, "\\_SB_.COM1._CRS");
	CHECK(o && o->kind == AML_OBJ_BUFFER && aml_walk_resources(o, rd, 8) == 3, "COM1 _CRS");
	if (o && aml_walk_resources(o, rd, 8) == 3) {
		CHECK(rd[0].tag == AML_RD_IO && rd[0].min == 0x3F8 && rd[0].max == 0x3F8 &&
		      rd[0].len == 8 && rd[0].decode16, "COM1 IO 0x3F8, 8 ports");
		CHECK(rd[1].tag == AML_RD_IRQ && rd[1].irq_mask == 1u << 4 && !rd[1].has_flags,
		      "COM1 IRQNoFlags {4}");
		CHECK(rd[2].tag == AML_RD_END, "COM1 end tag");
	}
	o = aml_walk_find(&w, "\\_SB_.RTC_._HID");
	CHECK(o && o->kind == AML_OBJ_INT && o->value == 0x000BD041, "RTC _HID PNP0B00");
	o = aml_walk_find(&w, "\\_SB_.RTC_._CRS");
	CHECK(o && aml_walk_resources(o, rd, 8) == 3 && rd[0].tag == AML_RD_IO && rd[0].min == 0x70 &&
	      rd[0].len == 2 && rd[1].tag == AML_RD_IRQ && rd[1].irq_mask == 1u << 8,
	      "RTC IO 0x70-0x71, IRQ 8");

	o = aml_walk_find(&w, "\\_SB_.PCI0");
	CHECK(pci == (o != NULL), "PCI0 only with cfg.pci");
	if (!pci)
		return;
	CHECK(o->kind == AML_OBJ_DEVICE, "PCI0 is a device");
	o = aml_walk_find(&w, "\\_SB_.PCI0._HID");
	CHECK(o && o->value == 0x030AD041, "PCI0 _HID PNP0A03");
	static const char *const zero[] = { "\\_SB_.PCI0._UID", "\\_SB_.PCI0._SEG",
					    "\\_SB_.PCI0._BBN" };
	for (int i = 0; i < 3; i++) {
		o = aml_walk_find(&w, zero[i]);
		CHECK(o && o->kind == AML_OBJ_INT && o->value == 0, zero[i]);
	}
	o = aml_walk_find(&w, "\\_SB_.PCI0._CRS");
	CHECK(o && aml_walk_resources(o, rd, 8) == 5, "PCI0 _CRS: 4 descriptors + end");
	if (o && aml_walk_resources(o, rd, 8) == 5) {
		CHECK(rd[0].tag == AML_RD_WORD && rd[0].type == 2 && rd[0].min == 0 && rd[0].max == 0 &&
		      rd[0].len == 1 && rd[0].producer && rd[0].min_fixed && rd[0].max_fixed,
		      "WordBusNumber 0-0");
		CHECK(rd[1].tag == AML_RD_IO && rd[1].min == 0xCF8 && rd[1].len == 8,
		      "IO 0xCF8-0xCFF (consumed)");
		CHECK(rd[2].tag == AML_RD_WORD && rd[2].type == 1 && rd[2].min == 0xC000 &&
		      rd[2].max == 0xFFFF && rd[2].len == 0x4000 && rd[2].producer, "WordIO 0xC000-0xFFFF");
		CHECK(rd[3].tag == AML_RD_DWORD && rd[3].type == 0 && rd[3].min == 0xE0000000 &&
		      rd[3].max == 0xFEBFFFFF && rd[3].len == 0x1EC00000 && rd[3].producer &&
		      (rd[3].type_flags & 1), "DWordMemory 0xE0000000-0xFEBFFFFF, read-write");
	}
	o = aml_walk_find(&w, "\\_SB_.PCI0._PRT");
	CHECK(o && o->kind == AML_OBJ_PACKAGE && o->elements == GUEST_ACPI_PCI_PRT_SLOTS &&
	      o->nints == 4 * GUEST_ACPI_PCI_PRT_SLOTS, "PCI0 _PRT: one entry of 4 per slot");
	for (u32 s = 1; o && s <= GUEST_ACPI_PCI_PRT_SLOTS && o->nints == 4 * GUEST_ACPI_PCI_PRT_SLOTS; s++) {
		const u64 *e = &o->ints[4 * (s - 1)];
		CHECK(e[0] == ((u64)s << 16 | 0xFFFF) && e[1] == 0 && e[2] == 0 && e[3] == PCI_INTX_GSI(s) && e[3] == 16 + (s & 7),
		      "_PRT: slot s INTA -> GSI 16 + (s & 7), as dev_pci routes it");
	}
}

static void check_config(u32 vcpus, bool ioapic, bool pcat, bool pci)
{
	struct guest_acpi_cfg cfg = { .vcpus = vcpus, .ioapic = ioapic, .pcat_compat = pcat,
				      .pci = pci };
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

	/* MADT raw: every processor entry (past the parser's cap), the NMI
	 * line on every processor's LINT1, then the I/O APIC and the IRQ0 ->
	 * GSI2 override, nothing more. */
	m = table_at(&w, madt, "APIC");
	CHECK(le32(m + 4) == 44 + 8 * vcpus + 6 + (ioapic ? 22 : 0), "MADT length");
	e = m + 44;
	for (i = 0; i < vcpus; i++, e += 8)
		CHECK(e[0] == 0 && e[1] == 8 && e[2] == i && e[3] == i && le32(e + 4) == 1,
		      "local APIC entry: UID = APIC ID = index, enabled");
	CHECK(e[0] == 4 && e[1] == 6 && e[2] == 0xFF && le16(e + 3) == 0x0005 && e[5] == 1,
	      "local APIC NMI: all processors, LINT1, edge, active high");
	e += 6;
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
	CHECK(dsdt == GUEST_ACPI_BASE + guest_acpi_dsdt_offset(&cfg), "DSDT");
	CHECK(le64(f + 140) == dsdt, "X_DSDT == DSDT");
	CHECK(le32(f + 112) & (1u << 20), "HW_REDUCED_ACPI");
	CHECK(le16(f + 46) == 9, "SCI_INT 9");
	CHECK(le32(f + 76) == 0 && le32(f + 80) == 0 && le32(f + 56) == 0 && le32(f + 64) == 0,
	      "no PM timer, GPE0, PM1a event and control blocks");
	CHECK(le32(f + 112) & (1u << 10), "RESET_REG_SUP");
	CHECK(f[116] == 1 && f[117] == 8 && f[118] == 0 && f[119] == 1 && le64(f + 120) == 0xCF9,
	      "RESET_REG: System I/O 0xCF9, 8 bits, byte access");
	CHECK(f[128] == 0x06, "RESET_VALUE 6");
	CHECK(le16(f + 109) == 0x0007, "IAPC_BOOT_ARCH: legacy devices, 8042, no VGA; MSI, RTC ok");
	CHECK(f[108] == 0x32, "CENTURY at CMOS 0x32");
	CHECK(f[244] == 1 && f[245] == 8 && f[247] == 1 && le64(f + 248) == 0x600,
	      "SLEEP_CONTROL_REG: System I/O 0x600, 8 bits");
	CHECK(f[256] == 1 && f[257] == 8 && f[259] == 1 && le64(f + 260) == 0x601,
	      "SLEEP_STATUS_REG: System I/O 0x601, 8 bits");
	d = table_at(&w, dsdt, "DSDT");
	CHECK(dsdt == GUEST_ACPI_BASE + guest_acpi_dsdt_offset(&cfg) && dsdt % 16 == 0 &&
	      dsdt >= madt + le32(m + 4), "DSDT after the MADT, 16-byte aligned");
	CHECK(dsdt + le32(d + 4) == GUEST_ACPI_BASE + (u64)used, "DSDT ends the tables");
	check_dsdt(d, pci);

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
	struct guest_acpi_cfg cfg = { .vcpus = vcpus, .ioapic = ioapic, .pci = ioapic };
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
	cfg.pci = true;
	CHECK(guest_acpi_dsdt_offset(&cfg) == 0x9D0, "255 vCPUs + I/O APIC: DSDT at 0x9D0");
	CHECK(guest_acpi_size(&cfg) < 0xC00, "255 vCPUs + I/O APIC + PCI: under 0xC00 (header)");
}

int main(void)
{
	static const u32 counts[] = { 1, 2, 16, 255 };

	for (unsigned i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		check_config(counts[i], false, false, false);
		check_config(counts[i], true, false, false);
		check_config(counts[i], true, true, true);
		check_config(counts[i], true, false, true);
		check_small(counts[i], false);
		check_small(counts[i], true);
	}
	check_errors();
	return check_summary();
}
