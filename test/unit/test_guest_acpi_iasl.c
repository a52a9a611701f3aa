/* guest_acpi through ACPICA's iasl (package acpica-tools, installed by
 * toolchain/setup.sh): the generated DSDT (with and without the PCI host
 * bridge), FADT and MADT are written to files and disassembled with
 * `iasl -d`; the disassembly must come without errors or warnings and
 * show, in order, what guest_acpi.h documents; the DSDT's disassembly must
 * compile again. Corrupted copies of the DSDT must fail the same check,
 * so the check itself is known to bite. Without iasl the test fails and
 * says how to get it. */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "loader/guest_acpi.h"

static char dir[] = "/tmp/cg-acpi-XXXXXX";
static const char *expecting = ""; /* "(expected) " while checking bad tables */

static bool have_iasl(void)
{
	return system("command -v iasl >/dev/null 2>&1") == 0;
}

static void write_file(const char *name, const u8 *p, size_t n)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n || fclose(f))
		abort();
}

/* The file's text with every run of blanks collapsed to one space, so
 * iasl's column alignment does not matter. NULL if it cannot be read. */
static char *read_squeezed(const char *name)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 1 << 16, n = 0;
	char *s = malloc(cap + 1);
	int c, prev = 0;
	while (s && (c = fgetc(f)) != EOF && n < cap) {
		if (c == ' ' || c == '\t') {
			if (prev == ' ')
				continue;
			c = ' ';
		}
		s[n++] = (char)c;
		prev = c;
	}
	fclose(f);
	if (s)
		s[n] = 0;
	return s;
}

static int run(const char *cmd, const char *log)
{
	char line[512];
	snprintf(line, sizeof(line), "cd %s && %s >%s 2>&1", dir, cmd, log);
	return system(line);
}

/* Each string of expect in order in text; reports the first one missing. */
static bool in_order(const char *text, const char *const *expect, const char *what)
{
	const char *at = text;
	for (; *expect; expect++) {
		const char *hit = strstr(at, *expect);
		if (!hit) {
			fprintf(stderr, "  %s%s: \"%s\" missing (or out of order)\n", expecting, what,
				*expect);
			return false;
		}
		at = hit + strlen(*expect);
	}
	return true;
}

static bool clean_log(const char *log)
{
	char *s = read_squeezed(log);
	bool ok = s != NULL;
	for (char *p = s; ok && *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (ok && (strstr(s, "error") || strstr(s, "warning")))
		ok = false;
	if (!ok)
		fprintf(stderr, "  %siasl complained (%s/%s)\n", expecting, dir, log);
	free(s);
	return ok;
}

/* iasl -d on table name.dat: clean, and the expected text in order. For a
 * DSDT also compile the disassembly back. */
static bool iasl_check(const char *name, const u8 *table, size_t n, const char *const *expect,
		       bool recompile)
{
	char dat[64], dsl[64], cmd[160];
	snprintf(dat, sizeof(dat), "%s.dat", name);
	snprintf(dsl, sizeof(dsl), "%s.dsl", name);
	write_file(dat, table, n);
	snprintf(cmd, sizeof(cmd), "rm -f %s && iasl -d %s", dsl, dat);
	if (run(cmd, "disasm.log") || !clean_log("disasm.log"))
		return false;
	char *text = read_squeezed(dsl);
	bool ok = text && in_order(text, expect, name);
	free(text);
	if (ok && recompile) {
		snprintf(cmd, sizeof(cmd), "iasl -p %s.re %s", name, dsl);
		char *log = NULL;
		ok = run(cmd, "compile.log") == 0 && (log = read_squeezed("compile.log")) &&
		     strstr(log, "Compilation successful. 0 Errors");
		if (!ok)
			fprintf(stderr, "  %s%s: the disassembly does not compile (%s/compile.log)\n",
				expecting, name, dir);
		free(log);
	}
	return ok;
}

static const char *const dsdt_common_head[] = {
	"DefinitionBlock (\"\", \"DSDT\", 2, \"CRSGRD\", \"CGGUEST \", 0x00000001)",
	"Name (\\_S5, Package (0x04)", "0x05,", "0x05,", "Zero,", "Zero", "})",
	"Scope (\\_SB)", NULL
};

static const char *const dsdt_pci[] = {
	"Device (PCI0)",
	"Name (_HID, EisaId (\"PNP0A03\")", "Name (_UID, Zero)", "Name (_SEG, Zero)",
	"Name (_BBN, Zero)", "Name (_CRS, ResourceTemplate ()",
	"WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode,",
	"0x0000, // Granularity", "0x0000, // Range Minimum", "0x0000, // Range Maximum",
	"0x0000, // Translation Offset", "0x0001, // Length",
	"IO (Decode16,", "0x0CF8, // Range Minimum", "0x0CF8, // Range Maximum",
	"0x01, // Alignment", "0x08, // Length",
	"WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,",
	"0xC000, // Range Minimum", "0xFFFF, // Range Maximum", "0x4000, // Length",
	"DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable, ReadWrite,",
	"0xE0000000, // Range Minimum", "0xFEBFFFFF, // Range Maximum", "0x1EC00000, // Length",
	NULL
};

static const char *const dsdt_isa[] = {
	"Device (COM1)", "Name (_HID, EisaId (\"PNP0501\")", "Name (_UID, One)",
	"IO (Decode16,", "0x03F8, // Range Minimum", "0x03F8, // Range Maximum",
	"0x01, // Alignment", "0x08, // Length", "IRQNoFlags ()", "{4}",
	"Device (RTC)", "Name (_HID, EisaId (\"PNP0B00\")",
	"IO (Decode16,", "0x0070, // Range Minimum", "0x0070, // Range Maximum",
	"0x01, // Alignment", "0x02, // Length", "IRQNoFlags ()", "{8}",
	NULL
};

static const char *const fadt_expect[] = {
	"Signature : \"FACP\"", "Revision : 06",
	"RTC Century Index : 32",
	"Legacy Devices Supported (V2) : 1", "8042 Present on ports 60/64 (V2) : 1",
	"VGA Not Present (V4) : 1", "MSI Not Supported (V4) : 0", "CMOS RTC Not Present (V5) : 0",
	"Reset Register Supported (V2) : 1", "Hardware Reduced (V5) : 1",
	"Reset Register : [Generic Address Structure]", "Space ID : 01 [SystemIO]",
	"Bit Width : 08", "Bit Offset : 00", "Encoded Access Width : 01 [Byte Access:8]",
	"Address : 0000000000000CF9", "Value to cause reset : 06",
	"Sleep Control Register : [Generic Address Structure]", "Space ID : 01 [SystemIO]",
	"Bit Width : 08", "Address : 0000000000000600",
	"Sleep Status Register : [Generic Address Structure]", "Space ID : 01 [SystemIO]",
	"Bit Width : 08", "Address : 0000000000000601",
	NULL
};

static const char *const madt_expect[] = {
	"Signature : \"APIC\"", "Local Apic Address : FEE00000",
	"Subtable Type : 00 [Processor Local APIC]", "Processor ID : 00", "Local Apic ID : 00",
	"Subtable Type : 00 [Processor Local APIC]", "Processor ID : 01", "Local Apic ID : 01",
	"Subtable Type : 04 [Local APIC NMI]", "Processor ID : FF", "Flags (decoded below) : 0005",
	"Interrupt Input LINT : 01",
	"Subtable Type : 01 [I/O APIC]", "I/O Apic ID : 02", "Address : FEC00000", "Interrupt : 00000000",
	"Subtable Type : 02 [Interrupt Source Override]", "Bus : 00", "Source : 00",
	"Interrupt : 00000002", "Flags (decoded below) : 0005", "Polarity : 1", "Trigger Mode : 1",
	NULL
};

static const char *const *concat(const char *const *a, const char *const *b, const char *const *c)
{
	static const char *all[128];
	const char *const *lists[3] = { a, b, c };
	size_t n = 0;

	for (int i = 0; i < 3; i++)
		for (const char *const *q = lists[i]; q && *q; q++)
			all[n++] = *q;
	all[n] = NULL;
	return all;
}

static u8 tables[0x2000];

/* Build for cfg; the DSDT's address and length. */
static u8 *build(const struct guest_acpi_cfg *cfg, u32 *dsdt_len)
{
	u64 rsdp;
	int used = guest_acpi_build(cfg, GUEST_ACPI_BASE, tables, sizeof(tables), &rsdp);
	CHECK(used > 0, "tables build");
	u8 *d = tables + guest_acpi_dsdt_offset(cfg);
	*dsdt_len = (u32)(d[4] | d[5] << 8 | d[6] << 16 | (u32)d[7] << 24);
	return d;
}

static void fix_checksum(u8 *t, u32 len)
{
	u8 s = 0;
	for (u32 i = 0; i < len; i++)
		s = (u8)(s + t[i]);
	t[9] = (u8)(t[9] - s);
}

int main(void)
{
	struct guest_acpi_cfg cfg = { .vcpus = 2, .ioapic = true, .pci = true };
	u32 len;
	u8 *d, copy[0x1000];

	if (!have_iasl()) {
		CHECK(false, "iasl not found: install acpica-tools (toolchain/setup.sh does)");
		return check_summary();
	}
	if (!mkdtemp(dir))
		abort();

	d = build(&cfg, &len);
	CHECK(iasl_check("dsdt_pci", d, len, concat(dsdt_common_head, dsdt_pci, dsdt_isa), true),
	      "DSDT with PCI0: iasl -d, expected ASL, recompiles");
	CHECK(iasl_check("facp", tables + GUEST_ACPI_OFF_FADT, 276, fadt_expect, false),
	      "FADT: iasl -d shows reset, sleep registers, flags");
	u8 *m = tables + GUEST_ACPI_OFF_MADT;
	CHECK(iasl_check("apic", m, (size_t)(m[4] | m[5] << 8), madt_expect, false),
	      "MADT: local APICs, NMI on LINT1, I/O APIC, IRQ0 -> GSI 2");

	/* The checker bites: a wrong PkgLength, a wrong EISA ID, a PCI0 that
	 * is not there. */
	expecting = "(expected) ";
	memcpy(copy, d, len);
	u8 *com1 = memmem(copy, len, "COM1", 4);
	CHECK(com1 != NULL, "COM1 in the AML");
	if (com1) {
		com1[-1] = 0x7F; /* the device's PkgLength: far too long */
		fix_checksum(copy, len);
		CHECK(!iasl_check("bad_pkglen", copy, len, concat(dsdt_common_head, dsdt_isa, NULL),
				  true), "corrupted PkgLength is caught");
	}
	memcpy(copy, d, len);
	u8 *eisa = memmem(copy, len, "\x0C\x41\xD0\x05\x01", 5); /* PNP0501 */
	CHECK(eisa != NULL, "PNP0501 in the AML");
	if (eisa) {
		eisa[3] = 0x02; /* PNP0201 */
		fix_checksum(copy, len);
		CHECK(!iasl_check("bad_hid", copy, len, concat(dsdt_common_head, dsdt_isa, NULL), true),
		      "wrong _HID is caught");
	}
	expecting = "";

	cfg.pci = false;
	d = build(&cfg, &len);
	CHECK(iasl_check("dsdt", d, len, concat(dsdt_common_head, dsdt_isa, NULL), true),
	      "DSDT without PCI0: iasl -d, expected ASL, recompiles");
	expecting = "(expected) ";
	CHECK(!iasl_check("dsdt_nopci", d, len, concat(dsdt_common_head, dsdt_pci, NULL), false),
	      "no PCI0 when cfg.pci is false");
	expecting = "";

	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (!check_failed && system(cmd))
		fprintf(stderr, "could not remove %s\n", dir);
	return check_summary();
}
