/* ACPI: the RSDP, the RSDT/XSDT and the MADT, parsed with every length and
 * checksum checked before anything is trusted. ACPI 6.x, sections 5.2.5
 * (RSDP), 5.2.7/5.2.8 (RSDT/XSDT), 5.2.12 (MADT). */
#ifndef CG_ACPI_H
#define CG_ACPI_H

#include <cg/types.h>
#include "lib/phys.h"

#define ACPI_MAX_CPUS 64
#define ACPI_MAX_IOAPICS 8

struct acpi_ioapic {
	u8 id;
	u32 addr;
	u32 gsi_base;
};

struct acpi_madt_info {
	u64 lapic_addr;       /* after any 64-bit override (type 5) */
	u32 flags;            /* MADT flags: bit 0 PCAT_COMPAT (8259s present) */
	u32 cpu_count;        /* enabled or online-capable processors */
	u32 apic_ids[ACPI_MAX_CPUS];
	u32 skipped_cpus;     /* enabled CPUs beyond ACPI_MAX_CPUS */
	u32 ioapic_count;
	struct acpi_ioapic ioapics[ACPI_MAX_IOAPICS];
};

/* acpi_rsdp_check: validate an RSDP at addr (signature, v1 checksum, and for
 * revision >= 2 the length and extended checksum). Returns 0 or -CG_EINVAL;
 * -CG_ERANGE when it cannot be read. */
int acpi_rsdp_check(const struct phys_access *pa, u64 addr);

/* acpi_rsdp_scan: search the first KiB of the EBDA (segment at 0x40E) and
 * 0xE0000-0xFFFFF on 16-byte boundaries for a valid RSDP. Returns its
 * address, or 0 when none is found. */
u64 acpi_rsdp_scan(const struct phys_access *pa);

/* acpi_find_table: physical address of the first table with the 4-byte
 * signature sig whose header and checksum are valid, found through the XSDT
 * (revision >= 2) or the RSDT. Returns 0 on success with *out set;
 * -CG_ENOENT if absent; -CG_EINVAL for a corrupt RSDP/RSDT/XSDT;
 * -CG_ERANGE when the RSDP or root table cannot be read. */
int acpi_find_table(const struct phys_access *pa, u64 rsdp, const char sig[4], u64 *out);

/* acpi_parse_madt: fill info from the MADT reachable from rsdp. Entries with
 * a length that is zero or runs past the table are an error, not skipped.
 * Returns 0, -CG_ENOENT (no MADT), -CG_EINVAL (corrupt), or -CG_ERANGE as
 * acpi_find_table. */
int acpi_parse_madt(const struct phys_access *pa, u64 rsdp, struct acpi_madt_info *info);

#endif
