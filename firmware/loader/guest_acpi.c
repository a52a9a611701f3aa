/* Guest ACPI tables: see guest_acpi.h for the layout and the choice of a
 * hardware-reduced FADT. Field offsets are from ACPI 6.0 (5.2.5.3 RSDP,
 * 5.2.6 table header, 5.2.8 XSDT, 5.2.9 FADT, 5.2.12 MADT). All
 * fields are written byte by byte, little-endian, so buf needs no alignment. */
#include <cg/errno.h>
#include <cg/string.h>
#include "devices/virtio/dev_pci.h"
#include "devices/dev_rtc.h"
#include "devices/dev_sysctl.h"
#include "loader/guest_acpi.h"
#include "loader/guest_aml.h"
#include <cg/unaligned.h>

#define GA_OEM_ID "CRSGRD"        /* 6 bytes */
#define GA_OEM_TABLE_ID "CGGUEST " /* 8 bytes */
#define GA_CREATOR_ID "CRSG"      /* 4 bytes */
#define GA_OEM_REV 1
#define GA_CREATOR_REV 1

/* RSDP (5.2.5.3). */
#define RSDP_LEN 36
#define RSDP_V1_LEN 20
#define RSDP_OFF_CSUM 8
#define RSDP_OFF_OEM 9
#define RSDP_OFF_REV 15
#define RSDP_OFF_LEN 20
#define RSDP_OFF_XSDT 24
#define RSDP_OFF_XCSUM 32

/* System description table header (5.2.6). */
#define SDT_HDR_LEN 36
#define SDT_OFF_LEN 4
#define SDT_OFF_REV 8
#define SDT_OFF_CSUM 9
#define SDT_OFF_OEM 10
#define SDT_OFF_OEM_TABLE 16
#define SDT_OFF_OEM_REV 24
#define SDT_OFF_CREATOR 28
#define SDT_OFF_CREATOR_REV 32

#define XSDT_REV 1
#define XSDT_ENTRIES 2
#define XSDT_LEN (SDT_HDR_LEN + 8 * XSDT_ENTRIES)

/* FADT (5.2.9), ACPI 6.0: major 6, minor 0, 276 bytes. */
#define FADT_REV 6
#define FADT_MINOR 0
#define FADT_LEN 276
#define FADT_OFF_DSDT 40
#define FADT_OFF_SCI_INT 46
#define FADT_OFF_CENTURY 108
#define FADT_OFF_IAPC_BOOT_ARCH 109
#define FADT_OFF_FLAGS 112
#define FADT_OFF_RESET_REG 116
#define FADT_OFF_RESET_VALUE 128
#define FADT_OFF_MINOR 131
#define FADT_OFF_X_DSDT 140
#define FADT_OFF_SLEEP_CONTROL 244
#define FADT_OFF_SLEEP_STATUS 256
/* Fixed feature flags (5.2.9.1). WBINVD: the CPU's WBINVD works. PWR_BUTTON and
 * SLP_BUTTON set: no fixed-feature buttons. */
#define FADT_F_WBINVD (1u << 0)
#define FADT_F_PWR_BUTTON (1u << 4)
#define FADT_F_SLP_BUTTON (1u << 5)
#define FADT_F_RESET_REG_SUP (1u << 10)
#define FADT_F_HW_REDUCED_ACPI (1u << 20)
/* IA-PC boot architecture flags (5.2.9.3). */
#define FADT_IAPC_LEGACY_DEVICES (1u << 0)
#define FADT_IAPC_8042 (1u << 1)
#define FADT_IAPC_VGA_NOT_PRESENT (1u << 2)
/* Generic Address Structure (5.2.3.2): space, bit width, bit offset,
 * access size, 64-bit address. */
#define GAS_SPACE_SYSTEM_IO 1
#define GAS_ACCESS_BYTE 1

/* DSDT (5.2.11.1): revision 2 means 64-bit AML integers. */
#define DSDT_REV 2
#define DSDT_ALIGN 16
/* The PCI configuration mechanism #1 ports the host bridge consumes. */
#define GA_PCI_CFG_PORT 0xCF8
#define GA_PCI_CFG_PORTS 8
#define GA_COM1_PORT 0x3F8
#define GA_COM1_PORTS 8
#define GA_COM1_IRQ 4

/* MADT (5.2.12). Revision 4 is ACPI 6.0's. */
#define MADT_REV 4
#define MADT_OFF_LAPIC 36
#define MADT_OFF_FLAGS 40
#define MADT_HDR_LEN 44
#define MADT_PCAT_COMPAT (1u << 0)
#define MADT_LAPIC 0                /* 5.2.12.2 */
#define MADT_LAPIC_LEN 8
#define MADT_LAPIC_ENABLED (1u << 0)
#define MADT_IOAPIC 1               /* 5.2.12.3 */
#define MADT_IOAPIC_LEN 12
#define MADT_ISO 2                  /* 5.2.12.5 */
#define MADT_ISO_LEN 10
#define MADT_ISO_BUS_ISA 0
#define MADT_LAPIC_NMI 4            /* 5.2.12.7 */
#define MADT_LAPIC_NMI_LEN 6
#define MADT_ALL_PROCESSORS 0xFF    /* ACPI processor UID: every one */
#define MADT_NMI_LINT1 1
/* MPS INTI flags (5.2.12.5): polarity bits 1:0, trigger mode bits 3:2;
 * 01 = active high, 01 = edge. */
#define MADT_INTI_HIGH_EDGE 0x0005
#define GA_PIT_IRQ 0
#define GA_PIT_GSI 2

/* The offsets in guest_acpi.h follow from the table lengths, 16-aligned. */
#define GA_ALIGN16(x) (((x) + 15) & ~15)
_Static_assert(GUEST_ACPI_OFF_XSDT == GA_ALIGN16(GUEST_ACPI_OFF_RSDP + RSDP_LEN), "XSDT offset");
_Static_assert(GUEST_ACPI_OFF_FADT == GA_ALIGN16(GUEST_ACPI_OFF_XSDT + XSDT_LEN), "FADT offset");
_Static_assert(GUEST_ACPI_OFF_MADT == GA_ALIGN16(GUEST_ACPI_OFF_FADT + FADT_LEN), "MADT offset");

/* Byte that makes the len bytes at p sum to zero once stored in a field
 * that currently holds 0. */
static u8 ga_checksum(const u8 *p, size_t len)
{
	u8 s = 0;

	while (len--)
		s = (u8)(s + *p++);
	return (u8)-s;
}

static size_t ga_madt_len(const struct guest_acpi_cfg *cfg)
{
	size_t len = MADT_HDR_LEN + (size_t)cfg->vcpus * MADT_LAPIC_LEN + MADT_LAPIC_NMI_LEN;

	if (cfg->ioapic)
		len += MADT_IOAPIC_LEN + MADT_ISO_LEN;
	return len;
}

size_t guest_acpi_dsdt_offset(const struct guest_acpi_cfg *cfg)
{
	return GA_ALIGN16(GUEST_ACPI_OFF_MADT + ga_madt_len(cfg));
}

/* An ISA device under \_SB: _HID, optional _UID, _CRS of one I/O range
 * and one IRQ. */
static void ga_isa_device(struct aml *a, const char *name, const char *hid, int uid, u16 port,
			  u8 ports, u8 irq)
{
	struct aml_res r;

	aml_device(a, name);
	aml_name(a, "_HID");
	aml_eisaid(a, hid);
	if (uid >= 0) {
		aml_name(a, "_UID");
		aml_int(a, (u64)uid);
	}
	aml_name(a, "_CRS");
	aml_res_init(&r);
	aml_res_io(&r, port, port, 1, ports);
	aml_res_irq(&r, irq);
	aml_resources(a, &r);
	aml_close(a);
}

/* PCI host bridge for bus 0: Linux scans the buses an ACPI PNP0A03/08
 * device's _CRS gives and allocates BARs inside its windows. */
static void ga_pci_host(struct aml *a)
{
	struct aml_res r;

	aml_device(a, "PCI0");
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0A03");
	aml_name(a, "_UID");
	aml_int(a, 0);
	aml_name(a, "_SEG");
	aml_int(a, 0);
	aml_name(a, "_BBN");
	aml_int(a, 0);
	aml_name(a, "_CRS");
	aml_res_init(&r);
	aml_res_bus(&r, 0, 0);
	aml_res_io(&r, GA_PCI_CFG_PORT, GA_PCI_CFG_PORT, 1, GA_PCI_CFG_PORTS);
	aml_res_io_window(&r, GUEST_ACPI_PCI_IO_MIN, GUEST_ACPI_PCI_IO_MAX);
	aml_res_mem_window(&r, GUEST_ACPI_PCI_MEM_MIN, GUEST_ACPI_PCI_MEM_MAX);
	aml_resources(a, &r);
	/* _PRT (ACPI 6.4 6.2.13): INTA of each device slot to its IOAPIC pin,
	 * {address = slot << 16 | 0xFFFF, pin 0, source 0 (a GSI), GSI}. */
	aml_name(a, "_PRT");
	aml_package(a, GUEST_ACPI_PCI_PRT_SLOTS);
	for (u32 slot = 1; slot <= GUEST_ACPI_PCI_PRT_SLOTS; slot++) {
		aml_package(a, 4);
		aml_int(a, (u64)slot << 16 | 0xFFFF);
		aml_int(a, 0);
		aml_int(a, 0);
		aml_int(a, PCI_INTX_GSI(slot));
		aml_close(a);
	}
	aml_close(a);
	aml_close(a);
}

int guest_acpi_dsdt_aml(const struct guest_acpi_cfg *cfg, u8 *buf, size_t size)
{
	struct aml a;

	aml_init(&a, buf, size);
	/* \_S5: SLP_TYPa, SLP_TYPb, reserved, reserved (the \_Sx objects). In
	 * hardware-reduced mode only SLP_TYPa reaches SLEEP_CONTROL_REG. */
	aml_name(&a, "\\_S5");
	aml_package(&a, 4);
	aml_int(&a, SYSCTL_SLP_TYP_S5);
	aml_int(&a, SYSCTL_SLP_TYP_S5);
	aml_int(&a, 0);
	aml_int(&a, 0);
	aml_close(&a);
	aml_scope(&a, "\\_SB");
	if (cfg->pci)
		ga_pci_host(&a);
	ga_isa_device(&a, "COM1", "PNP0501", 1, GA_COM1_PORT, GA_COM1_PORTS, GA_COM1_IRQ);
	ga_isa_device(&a, "RTC", "PNP0B00", -1, RTC_PORT_INDEX, 2, RTC_IRQ);
	aml_close(&a);
	return aml_finish(&a);
}

/* guest_acpi_size: see guest_acpi.h. */
size_t guest_acpi_size(const struct guest_acpi_cfg *cfg)
{
	int aml = guest_acpi_dsdt_aml(cfg, NULL, 0);

	if (aml < 0)
		return 0;
	return guest_acpi_dsdt_offset(cfg) + SDT_HDR_LEN + (size_t)aml;
}

/* Header of the table at t (already zeroed); the checksum is set by
 * ga_sdt_finish once the body is written. */
static void ga_sdt_header(u8 *t, const char sig[4], u32 len, u8 rev)
{
	memcpy(t, sig, 4);
	le32_put(t + SDT_OFF_LEN, len);
	t[SDT_OFF_REV] = rev;
	memcpy(t + SDT_OFF_OEM, GA_OEM_ID, 6);
	memcpy(t + SDT_OFF_OEM_TABLE, GA_OEM_TABLE_ID, 8);
	le32_put(t + SDT_OFF_OEM_REV, GA_OEM_REV);
	memcpy(t + SDT_OFF_CREATOR, GA_CREATOR_ID, 4);
	le32_put(t + SDT_OFF_CREATOR_REV, GA_CREATOR_REV);
}

static void ga_sdt_finish(u8 *t, u32 len)
{
	t[SDT_OFF_CSUM] = ga_checksum(t, len);
}

static void ga_build_rsdp(u8 *r, u64 base)
{
	memcpy(r, "RSD PTR ", 8);
	memcpy(r + RSDP_OFF_OEM, GA_OEM_ID, 6);
	r[RSDP_OFF_REV] = 2;
	/* RsdtAddress stays 0: revision 2 OSes use the XSDT. */
	le32_put(r + RSDP_OFF_LEN, RSDP_LEN);
	le64_put(r + RSDP_OFF_XSDT, base + GUEST_ACPI_OFF_XSDT);
	r[RSDP_OFF_CSUM] = ga_checksum(r, RSDP_V1_LEN);
	r[RSDP_OFF_XCSUM] = ga_checksum(r, RSDP_LEN);
}

/* A one-byte System I/O register (5.2.3.2). */
static void ga_gas_io8(u8 *g, u16 port)
{
	g[0] = GAS_SPACE_SYSTEM_IO;
	g[1] = 8;
	g[2] = 0;
	g[3] = GAS_ACCESS_BYTE;
	le64_put(g + 4, port);
}

static void ga_build_xsdt(u8 *t, u64 base)
{
	ga_sdt_header(t, "XSDT", XSDT_LEN, XSDT_REV);
	le64_put(t + SDT_HDR_LEN, base + GUEST_ACPI_OFF_FADT);
	le64_put(t + SDT_HDR_LEN + 8, base + GUEST_ACPI_OFF_MADT);
	ga_sdt_finish(t, XSDT_LEN);
}

/* Everything not set here is 0: no FACS, no SMI_CMD (already in ACPI
 * mode), no fixed-hardware blocks. */
static void ga_build_fadt(u8 *t, u64 dsdt)
{
	ga_sdt_header(t, "FACP", FADT_LEN, FADT_REV);
	le32_put(t + FADT_OFF_DSDT, (u32)dsdt);
	le16_put(t + FADT_OFF_SCI_INT, GUEST_ACPI_SCI_INT);
	t[FADT_OFF_CENTURY] = RTC_CENTURY;
	le16_put(t + FADT_OFF_IAPC_BOOT_ARCH,
		 FADT_IAPC_LEGACY_DEVICES | FADT_IAPC_8042 | FADT_IAPC_VGA_NOT_PRESENT);
	le32_put(t + FADT_OFF_FLAGS, FADT_F_WBINVD | FADT_F_PWR_BUTTON | FADT_F_SLP_BUTTON |
				     FADT_F_RESET_REG_SUP | FADT_F_HW_REDUCED_ACPI);
	ga_gas_io8(t + FADT_OFF_RESET_REG, SYSCTL_PORT_RST_CNT);
	t[FADT_OFF_RESET_VALUE] = SYSCTL_RESET_VALUE;
	t[FADT_OFF_MINOR] = FADT_MINOR;
	le64_put(t + FADT_OFF_X_DSDT, dsdt);
	ga_gas_io8(t + FADT_OFF_SLEEP_CONTROL, SYSCTL_PORT_SLEEP_CTL);
	ga_gas_io8(t + FADT_OFF_SLEEP_STATUS, SYSCTL_PORT_SLEEP_STS);
	ga_sdt_finish(t, FADT_LEN);
}

/* The header around aml_len bytes of AML already at t + SDT_HDR_LEN. */
static void ga_build_dsdt(u8 *t, u32 aml_len)
{
	ga_sdt_header(t, "DSDT", SDT_HDR_LEN + aml_len, DSDT_REV);
	ga_sdt_finish(t, SDT_HDR_LEN + aml_len);
}

static void ga_build_madt(u8 *t, const struct guest_acpi_cfg *cfg)
{
	u32 len = (u32)ga_madt_len(cfg);
	u8 *e = t + MADT_HDR_LEN;
	u32 i;

	ga_sdt_header(t, "APIC", len, MADT_REV);
	le32_put(t + MADT_OFF_LAPIC, GUEST_ACPI_LAPIC_ADDR);
	le32_put(t + MADT_OFF_FLAGS, cfg->pcat_compat ? MADT_PCAT_COMPAT : 0);
	for (i = 0; i < cfg->vcpus; i++, e += MADT_LAPIC_LEN) {
		e[0] = MADT_LAPIC;
		e[1] = MADT_LAPIC_LEN;
		e[2] = (u8)i; /* ACPI processor UID */
		e[3] = (u8)i; /* APIC ID */
		le32_put(e + 4, MADT_LAPIC_ENABLED);
	}
	/* The NMI line (the operator's `vm nmi`) reaches every processor's
	 * LINT1, as on a PC (docs/guest-abi.md, NMIs). */
	e[0] = MADT_LAPIC_NMI;
	e[1] = MADT_LAPIC_NMI_LEN;
	e[2] = MADT_ALL_PROCESSORS;
	le16_put(e + 3, MADT_INTI_HIGH_EDGE);
	e[5] = MADT_NMI_LINT1;
	e += MADT_LAPIC_NMI_LEN;
	if (cfg->ioapic) {
		e[0] = MADT_IOAPIC;
		e[1] = MADT_IOAPIC_LEN;
		e[2] = (u8)cfg->vcpus; /* I/O APIC ID, after the local APIC IDs */
		le32_put(e + 4, GUEST_ACPI_IOAPIC_ADDR);
		le32_put(e + 8, 0); /* GSI base */
		e += MADT_IOAPIC_LEN;

		e[0] = MADT_ISO;
		e[1] = MADT_ISO_LEN;
		e[2] = MADT_ISO_BUS_ISA;
		e[3] = GA_PIT_IRQ;
		le32_put(e + 4, GA_PIT_GSI);
		le16_put(e + 8, MADT_INTI_HIGH_EDGE);
	}
	ga_sdt_finish(t, len);
}

/* guest_acpi_build: see guest_acpi.h. */
int guest_acpi_build(const struct guest_acpi_cfg *cfg, u64 base, u8 *buf, size_t size,
		     u64 *rsdp_addr)
{
	size_t need, dsdt;
	int aml;

	if (!cfg || !rsdp_addr || (!buf && size))
		return -CG_EINVAL;
	if (cfg->vcpus == 0 || cfg->vcpus > GUEST_ACPI_MAX_VCPUS)
		return -CG_EINVAL;
	need = guest_acpi_size(cfg);
	if (!need || (base & 15) || base > UINT64_C(0x100000000) - need)
		return -CG_EINVAL;
	if (size < need)
		return -CG_ENOMEM;

	memset(buf, 0, need);
	dsdt = guest_acpi_dsdt_offset(cfg);
	aml = guest_acpi_dsdt_aml(cfg, buf + dsdt + SDT_HDR_LEN, need - dsdt - SDT_HDR_LEN);
	if (aml < 0 || dsdt + SDT_HDR_LEN + (size_t)aml != need) {
		memset(buf, 0, need);
		return -CG_EINVAL; /* the AML came out unlike its measure: a bug */
	}
	ga_build_rsdp(buf + GUEST_ACPI_OFF_RSDP, base);
	ga_build_xsdt(buf + GUEST_ACPI_OFF_XSDT, base);
	ga_build_fadt(buf + GUEST_ACPI_OFF_FADT, base + dsdt);
	ga_build_madt(buf + GUEST_ACPI_OFF_MADT, cfg);
	ga_build_dsdt(buf + dsdt, (u32)aml);
	*rsdp_addr = base + GUEST_ACPI_OFF_RSDP;
	return (int)need;
}
