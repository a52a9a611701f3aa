/* Fuzz target: the ACPI table parsers (lib/acpi.c): RSDP check and scan,
 * RSDT/XSDT walk and the MADT, over firmware memory.
 * Input: the RSDP's offset in the window (2 bytes, 16-aligned), then the
 * physical memory from 0xE0000 on (the BIOS area the scan searches; an
 * exactly-sized window, so a pointer past it gets NULL and a read past a
 * mapped range trips ASan).
 * Invariants beyond "no crash":
 *  - only the documented results;
 *  - the scan finds nothing or a 16-aligned address in the BIOS area that
 *    acpi_rsdp_check accepts;
 *  - a table found lies in the window, has the signature asked for, a
 *    length that holds its header and a zero checksum;
 *  - a parsed MADT has at most ACPI_MAX_CPUS distinct APIC IDs and at most
 *    ACPI_MAX_IOAPICS I/O APICs. */
#include <cg/errno.h>
#include "fuzz.h"
#include "../unit/phys_window.h"
#include "lib/acpi.h"

#define WIN_BASE 0xE0000ull
#define SDT_HDR_LEN 36

static void check_table(const struct phys_access *pa, u64 rsdp, const char sig[4])
{
	u64 at = 0;
	int rc = acpi_find_table(pa, rsdp, sig, &at);
	const u8 *t;
	u32 len;
	u8 sum = 0;

	FUZZ_CHECK(rc == 0 || rc == -CG_ENOENT || rc == -CG_EINVAL || rc == -CG_ERANGE, "undocumented find result");
	if (rc)
		return;
	t = phys_map(pa, at, SDT_HDR_LEN);
	FUZZ_CHECK(t != NULL, "table header outside the window");
	FUZZ_CHECK(!memcmp(t, sig, 4), "table of another signature");
	memcpy(&len, t + 4, 4);
	FUZZ_CHECK(len >= SDT_HDR_LEN && (t = phys_map(pa, at, len)) != NULL, "table length");
	for (u32 i = 0; i < len; i++)
		sum = (u8)(sum + t[i]);
	FUZZ_CHECK(sum == 0, "table with a bad checksum");
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_in in = { data, size };
	u64 rsdp = WIN_BASE + (fuzz_u16(&in) & ~15u);
	size_t n = in.n < 0x20000 ? in.n : 0x20000;
	struct phys_window w;
	const struct phys_access *pa = &w.pa;
	static struct acpi_madt_info info;
	u64 found;
	int rc;

	phys_window_open(&w, WIN_BASE, n);
	if (n)
		memcpy(w.buf, in.p, n);
	rc = acpi_rsdp_check(pa, rsdp);
	FUZZ_CHECK(rc == 0 || rc == -CG_EINVAL || rc == -CG_ERANGE, "undocumented RSDP result");
	found = acpi_rsdp_scan(pa);
	if (found)
		FUZZ_CHECK(found >= WIN_BASE && found < 0x100000 && !(found % 16) && acpi_rsdp_check(pa, found) == 0,
			   "scan found no valid RSDP");
	check_table(pa, rsdp, "APIC");
	check_table(pa, rsdp, "FACP");
	memset(&info, 0xA5, sizeof(info));
	rc = acpi_parse_madt(pa, rsdp, &info);
	FUZZ_CHECK(rc == 0 || rc == -CG_ENOENT || rc == -CG_EINVAL || rc == -CG_ERANGE, "undocumented MADT result");
	if (rc == 0) {
		FUZZ_CHECK(info.cpu_count <= ACPI_MAX_CPUS && info.ioapic_count <= ACPI_MAX_IOAPICS, "MADT tables overrun");
		for (u32 i = 0; i < info.cpu_count; i++)
			for (u32 j = 0; j < i; j++)
				FUZZ_CHECK(info.apic_ids[i] != info.apic_ids[j], "an APIC ID listed twice");
	}
	phys_window_close(&w);
	return 0;
}
