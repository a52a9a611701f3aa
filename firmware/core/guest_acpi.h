/* ACPI tables for a guest VM (ACPI 6.0 layouts; section numbers are the same
 * in 6.x): RSDP (5.2.5.3), XSDT (5.2.8), FADT (5.2.9), DSDT (5.2.11.1) and
 * MADT (5.2.12), built in a caller buffer that the monitor then copies to
 * guest-physical address base, so every pointer inside is base + offset.
 *
 * Layout (offsets from base, each table 16-byte aligned):
 *   0x000  RSDP  revision 2, 36 bytes, RsdtAddress 0, XsdtAddress -> XSDT
 *   0x030  XSDT  2 entries: FADT, MADT (the DSDT is reached via the FADT)
 *   0x070  FADT  revision 6, minor 0, 276 bytes
 *   0x190  DSDT  header only (an empty AML body is a valid definition block)
 *   0x1C0  MADT  44 + 8 * vcpus [+ 12 I/O APIC + 10 override] bytes
 * For 255 vCPUs with an I/O APIC that is 0x9FA bytes: far below the
 * 0x20000 of the BIOS area 0xE0000-0xFFFFF, where the intended base 0xE0000
 * puts the RSDP on the 16-byte boundary an OS scans for "RSD PTR ".
 *
 * The FADT sets HW_REDUCED_ACPI (5.2.9.1, fixed feature flag bit 20): the guest has
 * no PM1 event/control blocks, PM timer or GPE blocks to emulate, and OSPM
 * ignores those fields. With HW_REDUCED_ACPI set and both FIRMWARE_CTRL and
 * X_FIRMWARE_CTRL zero there is no FACS (5.2.9, FIRMWARE_CTRL), so none is built.
 * SCI_INT is 9 as on a PC; it belongs to the ignored fixed-hardware fields
 * (offsets 46-108) in hardware-reduced mode. */
#ifndef CG_GUEST_ACPI_H
#define CG_GUEST_ACPI_H

#include <cg/types.h>

#define GUEST_ACPI_BASE UINT64_C(0xE0000)     /* intended placement */
#define GUEST_ACPI_AREA UINT64_C(0x20000)     /* 0xE0000-0xFFFFF */
#define GUEST_ACPI_MAX_VCPUS 255              /* xAPIC IDs 0..254; 0xFF is "none" */
#define GUEST_ACPI_LAPIC_ADDR UINT32_C(0xFEE00000)
#define GUEST_ACPI_IOAPIC_ADDR UINT32_C(0xFEC00000)
#define GUEST_ACPI_SCI_INT 9

/* Offsets of the tables from base (see the layout above). */
#define GUEST_ACPI_OFF_RSDP 0x000
#define GUEST_ACPI_OFF_XSDT 0x030
#define GUEST_ACPI_OFF_FADT 0x070
#define GUEST_ACPI_OFF_DSDT 0x190
#define GUEST_ACPI_OFF_MADT 0x1C0

struct guest_acpi_cfg {
	u32 vcpus;        /* 1..GUEST_ACPI_MAX_VCPUS; APIC ID and UID = index */
	bool ioapic;      /* one I/O APIC (ID = vcpus) and IRQ0 -> GSI2 */
	bool pcat_compat; /* MADT flags bit 0: dual 8259s present */
};

/* guest_acpi_size: bytes guest_acpi_build needs for cfg (vcpus unchecked). */
size_t guest_acpi_size(const struct guest_acpi_cfg *cfg);

/* guest_acpi_build: lay the tables out from buf[0] as above for copying to
 * guest-physical base, and set *rsdp_addr (= base). Returns the bytes used;
 * -CG_EINVAL for a NULL argument, vcpus 0 or > 255, a base that is not
 * 16-byte aligned or tables that would not sit below 4 GiB (the FADT's DSDT
 * field is 32 bits); -CG_ENOMEM when size is too small. On error nothing is
 * written to buf or *rsdp_addr. */
int guest_acpi_build(const struct guest_acpi_cfg *cfg, u64 base, u8 *buf, size_t size,
		     u64 *rsdp_addr);

#endif
