/* ACPI table discovery and MADT parsing (ACPI 6.5: 5.2.5 RSDP, 5.2.6 table
 * header, 5.2.7 RSDT, 5.2.8 XSDT, 5.2.12 MADT). Firmware tables are input
 * like any other: lengths are bounded and checksums verified before a field
 * past the header is read. */
#include <cg/errno.h>
#include <cg/string.h>
#include "lib/acpi.h"

#define ACPI_RSDP_SIG "RSD PTR "
#define ACPI_RSDP_V1_LEN 20
#define ACPI_RSDP_V2_LEN 36
#define ACPI_RSDP_MAX_LEN 4096 /* the v2 RSDP is 36 bytes; more is garbage */
#define ACPI_RSDP_OFF_REV 15
#define ACPI_RSDP_OFF_RSDT 16
#define ACPI_RSDP_OFF_LEN 20
#define ACPI_RSDP_OFF_XSDT 24

#define ACPI_HDR_LEN 36
#define ACPI_HDR_OFF_LEN 4
/* Real tables are at most a few hundred KiB (a large DSDT); a length past
 * this is corruption, and refusing it bounds every later walk. */
#define ACPI_TABLE_MAX (1 * MIB)

#define ACPI_BDA_EBDA_SEG 0x40E
#define ACPI_EBDA_LO 0x80000
#define ACPI_EBDA_HI 0xA0000
#define ACPI_EBDA_SCAN 1024
#define ACPI_BIOS_LO 0xE0000
#define ACPI_BIOS_HI 0x100000

/* MADT (5.2.12): local APIC address and flags after the header, then
 * variable-length entries of (type, length, ...). */
#define MADT_OFF_LAPIC 36
#define MADT_OFF_FLAGS 40
#define MADT_OFF_ENTRIES 44
#define MADT_LAPIC 0
#define MADT_IOAPIC 1
#define MADT_LAPIC_OVERRIDE 5
#define MADT_X2APIC 9
#define MADT_LAPIC_LEN 8
#define MADT_IOAPIC_LEN 12
#define MADT_LAPIC_OVERRIDE_LEN 12
#define MADT_X2APIC_LEN 16
#define MADT_CPU_ENABLED (1u << 0)
#define MADT_CPU_ONLINE_CAPABLE (1u << 1)
#define MADT_LAPIC_ID_NONE 0xFFu
#define MADT_X2APIC_ID_NONE 0xFFFFFFFFu

static u16 acpi_le16(const u8 *p)
{
	return (u16)(p[0] | p[1] << 8);
}

static u32 acpi_le32(const u8 *p)
{
	return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

static u64 acpi_le64(const u8 *p)
{
	return (u64)acpi_le32(p) | (u64)acpi_le32(p + 4) << 32;
}

static u8 acpi_sum(const u8 *p, u64 len)
{
	u8 s = 0;

	while (len--)
		s = (u8)(s + *p++);
	return s;
}

/* Map a whole SDT at addr after checking its header: optional signature,
 * length within [ACPI_HDR_LEN, ACPI_TABLE_MAX], zero checksum. Returns the
 * host pointer and length, or sets *err (-CG_ERANGE unreadable, -CG_EINVAL
 * corrupt, -CG_ENOENT wrong signature) and returns NULL. */
static const u8 *acpi_map_table(const struct phys_access *pa, u64 addr,
				const char *sig, u32 *len_out, int *err)
{
	const u8 *t = phys_map(pa, addr, ACPI_HDR_LEN);
	u32 len;

	if (!t) {
		*err = -CG_ERANGE;
		return NULL;
	}
	if (sig && memcmp(t, sig, 4)) {
		*err = -CG_ENOENT;
		return NULL;
	}
	len = acpi_le32(t + ACPI_HDR_OFF_LEN);
	if (len < ACPI_HDR_LEN || len > ACPI_TABLE_MAX) {
		*err = -CG_EINVAL;
		return NULL;
	}
	t = phys_map(pa, addr, len);
	if (!t) {
		*err = -CG_ERANGE;
		return NULL;
	}
	if (acpi_sum(t, len)) {
		*err = -CG_EINVAL;
		return NULL;
	}
	*len_out = len;
	return t;
}

/* acpi_rsdp_check: see acpi.h. */
int acpi_rsdp_check(const struct phys_access *pa, u64 addr)
{
	const u8 *r = phys_map(pa, addr, ACPI_RSDP_V1_LEN);
	u32 len;

	if (!r)
		return -CG_ERANGE;
	if (memcmp(r, ACPI_RSDP_SIG, 8) || acpi_sum(r, ACPI_RSDP_V1_LEN))
		return -CG_EINVAL;
	if (r[ACPI_RSDP_OFF_REV] < 2)
		return 0;
	r = phys_map(pa, addr, ACPI_RSDP_V2_LEN);
	if (!r)
		return -CG_ERANGE;
	len = acpi_le32(r + ACPI_RSDP_OFF_LEN);
	if (len < ACPI_RSDP_V2_LEN || len > ACPI_RSDP_MAX_LEN)
		return -CG_EINVAL;
	r = phys_map(pa, addr, len);
	if (!r)
		return -CG_ERANGE;
	return acpi_sum(r, len) ? -CG_EINVAL : 0;
}

static u64 acpi_rsdp_scan_range(const struct phys_access *pa, u64 lo, u64 hi)
{
	u64 a;

	for (a = lo; a + ACPI_RSDP_V1_LEN <= hi; a += 16)
		if (!acpi_rsdp_check(pa, a))
			return a;
	return 0;
}

/* acpi_rsdp_scan: see acpi.h. An EBDA pointer outside 0x80000-0x9FFFF is
 * ignored rather than trusted, as it cannot be a real EBDA. */
u64 acpi_rsdp_scan(const struct phys_access *pa)
{
	const u8 *seg = phys_map(pa, ACPI_BDA_EBDA_SEG, 2);
	u64 found;

	if (seg) {
		u64 ebda = (u64)acpi_le16(seg) << 4;

		if (ebda >= ACPI_EBDA_LO && ebda < ACPI_EBDA_HI) {
			u64 hi = ebda + ACPI_EBDA_SCAN;

			if (hi > ACPI_EBDA_HI)
				hi = ACPI_EBDA_HI;
			found = acpi_rsdp_scan_range(pa, ebda, hi);
			if (found)
				return found;
		}
	}
	return acpi_rsdp_scan_range(pa, ACPI_BIOS_LO, ACPI_BIOS_HI);
}

/* acpi_find_table: see acpi.h. Entries that point outside memory, carry a
 * bad checksum or an absurd length are skipped; only a bad RSDP or root
 * table is an error. -CG_ERANGE when the RSDP or root cannot be read. */
int acpi_find_table(const struct phys_access *pa, u64 rsdp, const char sig[4], u64 *out)
{
	const u8 *r, *root;
	u64 root_addr;
	u32 root_len, esz, count, i;
	const char *root_sig;
	int err = acpi_rsdp_check(pa, rsdp);

	if (err)
		return err;
	r = phys_map(pa, rsdp, ACPI_RSDP_V1_LEN);
	if (!r)
		return -CG_ERANGE;
	if (r[ACPI_RSDP_OFF_REV] >= 2) {
		r = phys_map(pa, rsdp, ACPI_RSDP_V2_LEN);
		if (!r)
			return -CG_ERANGE;
	}
	if (r[ACPI_RSDP_OFF_REV] >= 2 && acpi_le64(r + ACPI_RSDP_OFF_XSDT)) {
		root_addr = acpi_le64(r + ACPI_RSDP_OFF_XSDT);
		root_sig = "XSDT";
		esz = 8;
	} else {
		root_addr = acpi_le32(r + ACPI_RSDP_OFF_RSDT);
		root_sig = "RSDT";
		esz = 4;
	}
	if (!root_addr)
		return -CG_EINVAL;
	root = acpi_map_table(pa, root_addr, root_sig, &root_len, &err);
	if (!root)
		return err == -CG_ENOENT ? -CG_EINVAL : err;

	count = (root_len - ACPI_HDR_LEN) / esz;
	for (i = 0; i < count; i++) {
		const u8 *e = root + ACPI_HDR_LEN + (u64)i * esz;
		u64 addr = esz == 8 ? acpi_le64(e) : acpi_le32(e);
		u32 len;
		int terr;

		if (addr && acpi_map_table(pa, addr, sig, &len, &terr)) {
			*out = addr;
			return 0;
		}
	}
	return -CG_ENOENT;
}

static bool acpi_madt_has_cpu(const struct acpi_madt_info *info, u32 id)
{
	u32 i;

	for (i = 0; i < info->cpu_count; i++)
		if (info->apic_ids[i] == id)
			return true;
	return false;
}

static void acpi_madt_add_cpu(struct acpi_madt_info *info, u32 id, u32 flags)
{
	if (!(flags & (MADT_CPU_ENABLED | MADT_CPU_ONLINE_CAPABLE)))
		return;
	/* Firmware lists some CPUs under both type 0 and type 9; count once. */
	if (acpi_madt_has_cpu(info, id))
		return;
	if (info->cpu_count >= ACPI_MAX_CPUS) {
		info->skipped_cpus++;
		return;
	}
	info->apic_ids[info->cpu_count++] = id;
}

/* Minimum entry length for the types we read; 2 (just the header) for the
 * rest, which are skipped. */
static u32 acpi_madt_min_len(u8 type)
{
	switch (type) {
	case MADT_LAPIC: return MADT_LAPIC_LEN;
	case MADT_IOAPIC: return MADT_IOAPIC_LEN;
	case MADT_LAPIC_OVERRIDE: return MADT_LAPIC_OVERRIDE_LEN;
	case MADT_X2APIC: return MADT_X2APIC_LEN;
	default: return 2;
	}
}

/* acpi_parse_madt: see acpi.h. Also -CG_ERANGE when the RSDP or root table
 * cannot be read. I/O APICs beyond ACPI_MAX_IOAPICS are ignored. */
int acpi_parse_madt(const struct phys_access *pa, u64 rsdp, struct acpi_madt_info *info)
{
	const u8 *t;
	u64 addr, override = 0;
	bool have_override = false;
	u32 len, off;
	int err;

	memset(info, 0, sizeof(*info));
	err = acpi_find_table(pa, rsdp, "APIC", &addr);
	if (err)
		return err;
	t = acpi_map_table(pa, addr, "APIC", &len, &err);
	if (!t)
		return err;
	if (len < MADT_OFF_ENTRIES)
		return -CG_EINVAL;
	info->lapic_addr = acpi_le32(t + MADT_OFF_LAPIC);
	info->flags = acpi_le32(t + MADT_OFF_FLAGS);

	for (off = MADT_OFF_ENTRIES; off < len;) {
		const u8 *e = t + off;
		u8 type, elen;

		if (len - off < 2)
			return -CG_EINVAL;
		type = e[0];
		elen = e[1];
		if (elen < acpi_madt_min_len(type) || elen > len - off)
			return -CG_EINVAL;
		switch (type) {
		case MADT_LAPIC:
			if (e[3] != MADT_LAPIC_ID_NONE)
				acpi_madt_add_cpu(info, e[3], acpi_le32(e + 4));
			break;
		case MADT_X2APIC:
			if (acpi_le32(e + 4) != MADT_X2APIC_ID_NONE)
				acpi_madt_add_cpu(info, acpi_le32(e + 4), acpi_le32(e + 8));
			break;
		case MADT_IOAPIC:
			if (info->ioapic_count < ACPI_MAX_IOAPICS) {
				struct acpi_ioapic *io = &info->ioapics[info->ioapic_count++];

				io->id = e[2];
				io->addr = acpi_le32(e + 4);
				io->gsi_base = acpi_le32(e + 8);
			}
			break;
		case MADT_LAPIC_OVERRIDE:
			override = acpi_le64(e + 4);
			have_override = true;
			break;
		default:
			break;
		}
		off += elen;
	}
	/* The override applies wherever it appears in the list. */
	if (have_override)
		info->lapic_addr = override;
	return 0;
}
