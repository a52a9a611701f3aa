/* ACPI tables for a guest VM (ACPI 6.0 layouts; section numbers are the same
 * in 6.x): RSDP (5.2.5.3), XSDT (5.2.8), FADT (5.2.9), DSDT (5.2.11.1) and
 * MADT (5.2.12), built in a caller buffer that the monitor then copies to
 * guest-physical address base, so every pointer inside is base + offset.
 *
 * Layout (offsets from base, each table 16-byte aligned):
 *   0x000  RSDP  revision 2, 36 bytes, RsdtAddress 0, XsdtAddress -> XSDT
 *   0x030  XSDT  2 entries: FADT, MADT (the DSDT is reached via the FADT)
 *   0x070  FADT  revision 6, minor 0, 276 bytes
 *   0x190  MADT  44 + 8 * vcpus + 6 LINT1 NMI [+ 12 I/O APIC + 10 override] bytes
 *   after  DSDT  AML built by guest_aml.c (about 0x180 bytes, see below)
 * For 255 vCPUs with an I/O APIC and PCI that stays under 0xC00 bytes: far
 * below the 0x20000 of the BIOS area 0xE0000-0xFFFFF, where the intended
 * base 0xE0000 puts the RSDP on the 16-byte boundary an OS scans for
 * "RSD PTR ".
 *
 * The FADT sets HW_REDUCED_ACPI (5.2.9.1, fixed feature flag bit 20): the
 * guest has no PM1 event/control blocks, PM timer or GPE blocks to
 * emulate, and OSPM ignores those fields (offsets 46-108 but CENTURY and
 * IAPC_BOOT_ARCH). With HW_REDUCED_ACPI set and both FIRMWARE_CTRL and
 * X_FIRMWARE_CTRL zero there is no FACS (5.2.9, FIRMWARE_CTRL), so none is
 * built. SCI_INT is 9 as on a PC, unused. What the FADT does describe:
 *   RESET_REG      System I/O 0xCF9, 8 bits, RESET_VALUE 0x06, with
 *                  RESET_REG_SUP (flag bit 10) (dev_sysctl.h)
 *   SLEEP_CONTROL_REG / SLEEP_STATUS_REG  System I/O SYSCTL_PORT_SLEEP_CTL
 *                  and _STS, 8 bits each (dev_sysctl.h)
 *   CENTURY        CMOS index 0x32 (dev_rtc.h)
 *   IAPC_BOOT_ARCH LEGACY_DEVICES (the UART and RTC are ISA devices),
 *                  8042 (ports 0x60/0x64 answer), VGA Not Present; MSI
 *                  allowed, CMOS RTC present.
 *
 * The DSDT (5.2.11.1) names:
 *   \_S5         Package {5, 5, 0, 0}: SLP_TYPx for soft-off (SYSCTL_SLP_TYP_S5)
 *   \_SB.PCI0    (cfg.pci) PNP0A03 host bridge, _UID/_SEG/_BBN 0, _CRS:
 *                bus 0-0, I/O 0xCF8-0xCFF (its config ports), I/O window
 *                0xC000-0xFFFF, memory window 0xE0000000-0xFEBFFFFF
 *   \_SB.COM1    PNP0501, _UID 1, _CRS: I/O 0x3F8-0x3FF, IRQ 4
 *   \_SB.RTC     PNP0B00, _CRS: I/O 0x70-0x71, IRQ 8
 * Hardware-reduced ACPI has no 8259 for an OS to assume ISA IRQs on, so
 * the ISA devices carry their IRQs; with the MADT's overrides they reach
 * the I/O APIC pins of the same number (IRQ0 excepted: GSI 2). */
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
#define GUEST_ACPI_OFF_MADT 0x190
/* The DSDT follows the MADT, 16-byte aligned: guest_acpi_dsdt_offset. */

/* The PCI host bridge's windows (\_SB.PCI0._CRS). */
#define GUEST_ACPI_PCI_IO_MIN 0xC000
#define GUEST_ACPI_PCI_IO_MAX 0xFFFF
#define GUEST_ACPI_PCI_MEM_MIN UINT32_C(0xE0000000)
#define GUEST_ACPI_PCI_MEM_MAX UINT32_C(0xFEBFFFFF)
/* INTx routing in PCI0's _PRT: INTA of slots 1..8 (every slot a VM's disks
 * can use) to the GSI dev_pci.h's PCI_INTX_GSI gives it. */
#define GUEST_ACPI_PCI_PRT_SLOTS 8u

struct guest_acpi_cfg {
	u32 vcpus;        /* 1..GUEST_ACPI_MAX_VCPUS; APIC ID and UID = index */
	bool ioapic;      /* one I/O APIC (ID = vcpus) and IRQ0 -> GSI2 */
	bool pcat_compat; /* MADT flags bit 0: dual 8259s present */
	bool pci;         /* \_SB.PCI0: a host bridge answers on 0xCF8/0xCFC */
};

/* guest_acpi_dsdt_offset: where the DSDT starts (from base) for cfg. */
size_t guest_acpi_dsdt_offset(const struct guest_acpi_cfg *cfg);

/* guest_acpi_dsdt_aml: the DSDT's AML body (no table header) for cfg into
 * buf (NULL with size 0: only measure). Returns its length, or
 * -CG_ENOMEM when size is too small. */
int guest_acpi_dsdt_aml(const struct guest_acpi_cfg *cfg, u8 *buf, size_t size);

/* guest_acpi_size: bytes guest_acpi_build needs for cfg (vcpus unchecked;
 * 0 if the DSDT cannot be generated, which guest_acpi_build reports). */
size_t guest_acpi_size(const struct guest_acpi_cfg *cfg);

/* guest_acpi_build: lay the tables out from buf[0] as above for copying to
 * guest-physical base, and set *rsdp_addr (= base). Returns the bytes used;
 * -CG_EINVAL for a NULL argument, vcpus 0 or > 255, a base that is not
 * 16-byte aligned or tables that would not sit below 4 GiB (the FADT's DSDT
 * field is 32 bits) or a DSDT the generator refuses (a bug; buf may then
 * hold zeros); -CG_ENOMEM when size is too small. On error nothing else is
 * written to buf, and nothing to *rsdp_addr. */
int guest_acpi_build(const struct guest_acpi_cfg *cfg, u64 base, u8 *buf, size_t size,
		     u64 *rsdp_addr);

#endif
