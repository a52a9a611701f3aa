/* dev_pci: configuration mechanism #1 through the ports (dword address
 * register, byte/word/dword data accesses, disabled and out-of-range
 * addresses), the host bridge, BAR sizing and pre-assignment, the command
 * register, the capability list, MMIO routing to BARs (probe, move,
 * decode off, outside the window, straddling), a full bus, and a
 * fixed-seed fuzz of port accesses. */
#include <stdlib.h>
#include <string.h>
#include <cg/errno.h>
#include "check.h"
#include "devices/virtio/dev_pci.h"

static struct pci_bus bus;

/* A fake device: records BAR accesses and hook calls. */
struct fake {
	struct pci_dev pci;
	u32 accesses, last_bar, last_size, written, reading, cmd;
	u64 last_off, last_val;
	bool last_write;
};

static enum dev_result fake_bar(struct pci_dev *d, u32 bar, u64 off, bool write, u32 size, u64 *val)
{
	struct fake *f = d->ctx;

	f->accesses++;
	f->last_bar = bar;
	f->last_off = off;
	f->last_size = size;
	f->last_write = write;
	if (write)
		f->last_val = *val;
	else
		*val = 0x1122334455667788ull;
	return DEV_OK;
}

static void fake_written(struct pci_dev *d, u32 off, u32 size)
{
	(void)off;
	(void)size;
	((struct fake *)d->ctx)->written++;
}

static void fake_reading(struct pci_dev *d, u32 off, u32 size)
{
	(void)off;
	(void)size;
	((struct fake *)d->ctx)->reading++;
}

static void fake_cmd(struct pci_dev *d)
{
	((struct fake *)d->ctx)->cmd++;
}

static const struct pci_dev_ops fake_ops = { fake_bar, fake_written, fake_reading, fake_cmd };

static u32 in(u16 port, u32 size)
{
	u32 v = 0xDEADBEEF;

	CHECK(pci_config_io(&bus, port, true, size, &v) == DEV_OK, "port reads are DEV_OK");
	return v;
}

static void out(u16 port, u32 size, u32 v)
{
	CHECK(pci_config_io(&bus, port, false, size, &v) == DEV_OK, "port writes are DEV_OK");
}

static u32 addr(u32 bus_nr, u32 slot, u32 fn, u32 reg)
{
	return 0x80000000u | bus_nr << 16 | slot << 11 | fn << 8 | (reg & 0xFC);
}

/* Configuration read of slot's register through the ports. */
static u32 cfg_in(u32 slot, u32 off, u32 size)
{
	out(PCI_CONFIG_ADDRESS, 4, addr(0, slot, 0, off));
	return in((u16)(PCI_CONFIG_DATA + (off & 3)), size);
}

static void cfg_out(u32 slot, u32 off, u32 size, u32 v)
{
	out(PCI_CONFIG_ADDRESS, 4, addr(0, slot, 0, off));
	out((u16)(PCI_CONFIG_DATA + (off & 3)), size, v);
}

static void fake_setup(struct fake *f)
{
	memset(f, 0, sizeof(*f));
	pci_dev_init(&f->pci, 0x1234, 0x5678, 3, 0x018000, 0x1AF4, 0x0002, &fake_ops, f);
	CHECK(pci_dev_add_bar(&f->pci, 0, 0x4000) == 0, "BAR 0 of 16 KiB");
	CHECK(pci_dev_add_bar(&f->pci, 2, 0x1000) == 0, "BAR 2 of 4 KiB");
}

static void test_mechanism(void)
{
	pci_bus_init(&bus);
	/* Linux's pci_check_type1: a dword written reads back. */
	out(PCI_CONFIG_ADDRESS, 4, 0x80000000u);
	CHECK(in(PCI_CONFIG_ADDRESS, 4) == 0x80000000u, "address register reads back");
	out(PCI_CONFIG_ADDRESS, 4, 0xFFFFFFFFu);
	CHECK(in(PCI_CONFIG_ADDRESS, 4) == 0x80FFFFFCu, "reserved address bits read as zero");
	CHECK(in(PCI_CONFIG_ADDRESS + 1, 1) == 0xFF && in(PCI_CONFIG_ADDRESS + 3, 1) == 0x80,
	      "byte reads of the address register");
	CHECK(in(PCI_CONFIG_ADDRESS + 2, 4) == 0xFFFF80FFu, "a dword read past 0xCFB reads ones there");
	out(PCI_CONFIG_ADDRESS + 1, 1, 0);
	out(PCI_CONFIG_ADDRESS, 2, 0);
	CHECK(in(PCI_CONFIG_ADDRESS, 4) == 0x80FFFFFCu, "byte and word writes leave it alone");

	/* Host bridge at 00:00.0. */
	CHECK(cfg_in(0, PCI_VENDOR_ID, 4) == (0x0008u << 16 | 0x1B36), "host bridge IDs");
	CHECK(cfg_in(0, PCI_REVISION, 4) >> 8 == 0x060000, "host bridge class 06/00/00");
	CHECK(cfg_in(0, PCI_HEADER_TYPE, 1) == 0, "type 0 header, single function");
	cfg_out(0, PCI_VENDOR_ID, 4, 0);
	cfg_out(0, PCI_COMMAND, 2, 0);
	CHECK(cfg_in(0, PCI_VENDOR_ID, 2) == 0x1B36, "vendor ID is read-only");
	CHECK(cfg_in(0, PCI_COMMAND, 2) == 3, "bridge command register is fixed");
	CHECK(cfg_in(0, PCI_DEVICE_ID, 2) == 0x0008 && cfg_in(0, PCI_VENDOR_ID + 1, 1) == 0x1B,
	      "word at 0xCFE and byte at 0xCFD");

	/* Absent functions read all ones, writes vanish. */
	CHECK(cfg_in(5, PCI_VENDOR_ID, 4) == 0xFFFFFFFFu, "empty slot");
	out(PCI_CONFIG_ADDRESS, 4, addr(0, 0, 1, 0));
	CHECK(in(PCI_CONFIG_DATA, 4) == 0xFFFFFFFFu, "function 1 is absent");
	out(PCI_CONFIG_ADDRESS, 4, addr(1, 0, 0, 0));
	CHECK(in(PCI_CONFIG_DATA, 2) == 0xFFFF, "bus 1 is absent");
	out(PCI_CONFIG_ADDRESS, 4, addr(0, 0, 0, 0) & ~0x80000000u);
	CHECK(in(PCI_CONFIG_DATA, 4) == 0xFFFFFFFFu, "enable bit clear: nothing");
	out(PCI_CONFIG_ADDRESS, 4, addr(0, 0, 0, 0));
	CHECK(in(PCI_CONFIG_DATA + 3, 2) == 0xFFFF, "a word at 0xCFF leaves the window: ones");
	CHECK(in(PCI_CONFIG_DATA, 3) == 0xFFFFFFFFu, "odd sizes read ones");
}

static void test_device(void)
{
	struct fake f;
	int slot;

	pci_bus_init(&bus);
	fake_setup(&f);
	CHECK(pci_dev_add_bar(&f.pci, 6, 0x1000) == -CG_EINVAL, "no BAR 6");
	CHECK(pci_dev_add_bar(&f.pci, 1, 0x3000) == -CG_EINVAL, "BAR size must be a power of two");
	CHECK(pci_dev_add_bar(&f.pci, 1, 8) == -CG_EINVAL, "BAR size at least 16");
	u32 c1 = pci_dev_add_cap(&f.pci, PCI_CAP_ID_MSIX, 12);
	u32 c2 = pci_dev_add_cap(&f.pci, PCI_CAP_ID_VNDR, 16);
	CHECK(c1 == 0x40 && c2 == 0x4C, "capabilities from 0x40, dword aligned");
	f.pci.wmask[c2 + 4] = 0xFF;
	slot = pci_bus_add(&bus, &f.pci);
	CHECK(slot == 1, "first device in slot 1");
	pci_dev_use_intx(&f.pci);

	CHECK(cfg_in(1, PCI_VENDOR_ID, 4) == (0x5678u << 16 | 0x1234), "device IDs");
	CHECK(cfg_in(1, PCI_REVISION, 1) == 3 && cfg_in(1, PCI_REVISION, 4) >> 8 == 0x018000,
	      "revision and class");
	CHECK(cfg_in(1, PCI_SUBSYS_VENDOR, 4) == (0x0002u << 16 | 0x1AF4), "subsystem IDs");
	CHECK(cfg_in(1, PCI_INT_PIN, 1) == 1 && cfg_in(1, PCI_INT_LINE, 1) == PCI_INTX_GSI(1),
	      "INTA routed to its GSI");

	/* Pre-assigned BARs inside the window, decoding on. */
	u32 b0 = cfg_in(1, PCI_BAR0, 4), b2 = cfg_in(1, PCI_BAR0 + 8, 4);
	CHECK(b0 == PCI_MMIO_BASE + PCI_SLOT_MMIO, "BAR 0 at the slot's base");
	CHECK(b2 == b0 + 0x4000, "BAR 2 after it, aligned");
	CHECK(cfg_in(1, PCI_BAR0 + 4, 4) == 0, "unimplemented BAR reads zero");
	CHECK(cfg_in(1, PCI_COMMAND, 2) & PCI_COMMAND_MEMORY, "memory decoding on");

	/* BAR sizing: all ones, read the mask, put it back. */
	cfg_out(1, PCI_BAR0, 4, 0xFFFFFFFFu);
	CHECK(cfg_in(1, PCI_BAR0, 4) == 0xFFFFC000u, "BAR 0 sizes as 16 KiB, 32-bit memory");
	cfg_out(1, PCI_BAR0 + 4, 4, 0xFFFFFFFFu);
	CHECK(cfg_in(1, PCI_BAR0 + 4, 4) == 0, "unimplemented BAR sizes as zero");
	cfg_out(1, PCI_BAR0 + 8, 4, 0xFFFFFFFFu);
	CHECK(cfg_in(1, PCI_BAR0 + 8, 4) == 0xFFFFF000u, "BAR 2 sizes as 4 KiB");
	cfg_out(1, PCI_BAR0, 4, b0);
	cfg_out(1, PCI_BAR0 + 8, 4, b2);
	CHECK(cfg_in(1, PCI_BAR0, 4) == b0, "BAR restored");
	cfg_out(1, PCI_BAR0, 1, 0xFF);
	CHECK(cfg_in(1, PCI_BAR0, 4) == b0, "BAR type bits are read-only");

	/* Command: only memory, master, INTx disable stick; the hook runs. */
	u32 before = f.cmd;
	cfg_out(1, PCI_COMMAND, 2, 0xFFFF);
	CHECK(cfg_in(1, PCI_COMMAND, 2) == 0x0406, "writable command bits");
	CHECK(f.cmd == before + 1, "command hook");
	cfg_out(1, PCI_COMMAND, 2, 0x0002);

	/* Capability list: status bit, pointer, ids, links, end. */
	CHECK(cfg_in(1, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST, "capability list bit");
	CHECK(cfg_in(1, PCI_CAP_PTR, 1) == 0x40, "capability pointer");
	CHECK(cfg_in(1, 0x40, 2) == (0x4Cu << 8 | PCI_CAP_ID_MSIX), "first capability and link");
	CHECK(cfg_in(1, 0x4C, 2) == PCI_CAP_ID_VNDR, "last capability ends the list");
	u32 w = f.written, r = f.reading;
	cfg_out(1, 0x4C + 4, 1, 0x5A);
	CHECK(cfg_in(1, 0x4C + 4, 1) == 0x5A && f.written == w + 1, "writable capability byte, hook");
	cfg_out(1, 0x4C + 5, 1, 0x5A);
	CHECK(cfg_in(1, 0x4C + 5, 1) == 0 && f.reading > r, "read-only capability byte, read hook");
	cfg_out(1, 0x40, 1, 0x77);
	CHECK(cfg_in(1, 0x40, 1) == PCI_CAP_ID_MSIX, "capability ID is read-only");

	/* MMIO routing. */
	u64 v = 0;
	CHECK(pci_mmio(&bus, b0 + 0x18, false, 2, &v) == DEV_OK && f.accesses == 1, "BAR 0 access routed");
	CHECK(f.last_bar == 0 && f.last_off == 0x18 && f.last_size == 2 && !f.last_write, "offset and size");
	v = 0xAB;
	CHECK(pci_mmio(&bus, b2 + 0xFFC, true, 4, &v) == DEV_OK && f.last_bar == 2 &&
	      f.last_off == 0xFFC && f.last_write && f.last_val == 0xAB, "BAR 2 write routed");
	CHECK(pci_mmio(&bus, b0, false, 0, &v) == DEV_OK && f.accesses == 2, "probe has no side effect");
	v = 0;
	CHECK(pci_mmio(&bus, b2 + 0xFFE, false, 4, &v) == DEV_OK && v == 0xFFFFFFFFu &&
	      f.accesses == 2, "straddling the BAR end: master abort");
	v = 0;
	CHECK(pci_mmio(&bus, PCI_MMIO_BASE + 0x10000000, false, 8, &v) == DEV_OK && v == ~0ull,
	      "nothing there: all ones");
	CHECK(pci_mmio(&bus, PCI_MMIO_BASE - 8, false, 4, &v) == DEV_UNHANDLED, "below the window");
	CHECK(pci_mmio(&bus, PCI_MMIO_END, false, 4, &v) == DEV_UNHANDLED, "above the window");

	/* Moving a BAR. */
	cfg_out(1, PCI_BAR0, 4, 0xE8000000u);
	CHECK(pci_mmio(&bus, 0xE8000010u, false, 4, &v) == DEV_OK && f.accesses == 3, "moved BAR decodes");
	CHECK(pci_mmio(&bus, b0 + 0x10, false, 4, &v) == DEV_OK && f.accesses == 3, "old address does not");
	cfg_out(1, PCI_BAR0, 4, 0xFEE00000u);
	CHECK(pci_bar_base(&f.pci, 0) == 0, "a BAR over the LAPIC is outside the window: no decode");
	cfg_out(1, PCI_BAR0, 4, 0);
	CHECK(pci_bar_base(&f.pci, 0) == 0, "BAR at 0 does not decode");
	cfg_out(1, PCI_BAR0, 4, b0);
	cfg_out(1, PCI_COMMAND, 2, 0);
	CHECK(pci_bar_base(&f.pci, 0) == 0 && pci_mmio(&bus, b0, false, 4, &v) == DEV_OK &&
	      f.accesses == 3, "memory decoding off");
	cfg_out(1, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	CHECK(pci_bar_base(&f.pci, 0) == b0, "decoding back on");

	pci_bus_remove(&bus, &f.pci);
	CHECK(cfg_in(1, PCI_VENDOR_ID, 4) == 0xFFFFFFFFu, "removed device is gone");
	CHECK(pci_mmio(&bus, b0, false, 4, &v) == DEV_OK && f.accesses == 3, "and its BARs");
}

static void test_full_bus(void)
{
	static struct fake devs[PCI_SLOTS];
	int last = 0;

	pci_bus_init(&bus);
	for (u32 i = 0; i < PCI_SLOTS - 1; i++) {
		fake_setup(&devs[i]);
		last = pci_bus_add(&bus, &devs[i].pci);
	}
	CHECK(last == PCI_SLOTS - 1, "31 devices fit");
	fake_setup(&devs[PCI_SLOTS - 1]);
	CHECK(pci_bus_add(&bus, &devs[PCI_SLOTS - 1].pci) == -CG_ENOMEM, "the 32nd does not");
	CHECK(pci_bar_base(&devs[PCI_SLOTS - 2].pci, 2) + 0x1000 <= PCI_MMIO_END,
	      "last slot's BARs inside the window");
	/* Each slot's BARs are disjoint from the others'. */
	bool overlap = false;
	for (u32 i = 0; i < PCI_SLOTS - 1; i++)
		for (u32 j = i + 1; j < PCI_SLOTS - 1; j++)
			overlap |= pci_bar_base(&devs[i].pci, 0) == pci_bar_base(&devs[j].pci, 0);
	CHECK(!overlap, "pre-assigned BARs do not overlap");
	struct pci_dev big;
	pci_dev_init(&big, 1, 2, 0, 0, 0, 0, &fake_ops, NULL);
	for (u32 i = 0; i < 3; i++)
		pci_dev_add_bar(&big, i, 512 * 1024);
	pci_bus_remove(&bus, &devs[0].pci);
	CHECK(pci_bus_add(&bus, &big) == -CG_EINVAL, "BARs beyond the slot's share are refused");
}

/* Random port accesses: never a crash, reads always defined. */
static void test_fuzz(void)
{
	static struct fake devs[4];
	unsigned bad = 0;

	pci_bus_init(&bus);
	for (u32 i = 0; i < 4; i++) {
		fake_setup(&devs[i]);
		pci_dev_add_cap(&devs[i].pci, PCI_CAP_ID_VNDR, 20);
		pci_bus_add(&bus, &devs[i].pci);
	}
	check_rng_state = 0xC0FFEE;
	for (u32 i = 0; i < 200000; i++) {
		u16 port = (u16)(PCI_CONFIG_ADDRESS + check_rand_below(8));
		u32 size = (u32)check_rand_below(5);
		u32 val = (u32)check_rand();
		bool rd = check_rand_below(2);

		if (check_rand_below(4) == 0) {
			/* Mostly sensible addresses, so the data path is hit. */
			u32 a = addr(0, (u32)check_rand_below(6), 0, (u32)check_rand_below(256));
			pci_config_io(&bus, PCI_CONFIG_ADDRESS, false, 4, &a);
			continue;
		}
		if (pci_config_io(&bus, port, rd, size, &val) != DEV_OK)
			bad++;
		u64 v;
		u64 gpa = PCI_MMIO_BASE + check_rand_below(8 * PCI_SLOT_MMIO);
		if (pci_mmio(&bus, gpa, check_rand_below(2), 1u << check_rand_below(4), &v) != DEV_OK)
			bad++;
	}
	CHECK(bad == 0, "fuzz: every access DEV_OK");
	CHECK(cfg_in(0, PCI_VENDOR_ID, 2) == 0x1B36, "fuzz: bridge intact");
}

int main(void)
{
	test_mechanism();
	test_device();
	test_full_bus();
	test_fuzz();
	return check_summary();
}
