/* virtio-blk over the virtio-pci transport on a PCI bus, driven the way a
 * guest driver does it (configuration cycles, BAR accesses, rings in a
 * fake guest RAM on the heap so a stray access trips AddressSanitizer):
 * discovery through the capability list, feature negotiation, the
 * device configuration, reads from the image, writes into the overlay
 * (the image untouched), ro disks, GET_ID, FLUSH, unknown types, bounds,
 * event-index suppression of notifications and interrupts, MSI-X masking
 * and the pending bits, INTx with the ISR, the PCI configuration access
 * window, token-bucket throttling with deferred completion, malformed
 * rings (loops, addresses outside RAM, oversized chains, bad requests)
 * that must end in DEVICE_NEEDS_RESET and nothing else, device reset,
 * and a bounded fuzz of register writes and ring contents. */
#include "virtio_blk_rig.h"

/* ---- tests ---- */

static u32 find_vcap(u8 type, u32 *cap)
{
	u32 slot = blk->tp.pci.slot;
	u32 p = pci_cfg_read(&bus, slot, PCI_CAP_PTR, 1);

	for (u32 n = 0; p && n < 48; n++, p = pci_cfg_read(&bus, slot, p + 1, 1))
		if (pci_cfg_read(&bus, slot, p, 1) == PCI_CAP_ID_VNDR &&
		    pci_cfg_read(&bus, slot, p + 3, 1) == type) {
			*cap = p;
			return pci_cfg_read(&bus, slot, p + 8, 4);
		}
	*cap = 0;
	return 0xFFFFFFFFu;
}

static void test_discovery(void)
{
	u32 slot, c;

	setup(DISK_RW, DISK_KEEP, 0, 0);
	slot = blk->tp.pci.slot;
	CHECK(pci_cfg_read(&bus, slot, PCI_VENDOR_ID, 4) == (0x1042u << 16 | 0x1AF4), "1AF4:1042");
	CHECK(pci_cfg_read(&bus, slot, PCI_REVISION, 1) == 1, "revision 1 (modern)");
	CHECK(pci_cfg_read(&bus, slot, PCI_SUBSYS_VENDOR, 2) == 0x1AF4, "subsystem vendor");
	CHECK(pci_cfg_read(&bus, slot, PCI_CLASS_PROG, 4) >> 8 == 0x0180, "class mass storage");
	CHECK(find_vcap(VIRTIO_PCI_CAP_COMMON_CFG, &c) == VIRTIO_PCI_COMMON && c &&
	      pci_cfg_read(&bus, slot, c + 4, 1) == VIRTIO_PCI_BAR &&
	      pci_cfg_read(&bus, slot, c + 12, 4) >= VIRTIO_PCI_COMMON_LEN, "common cfg capability");
	CHECK(find_vcap(VIRTIO_PCI_CAP_NOTIFY_CFG, &c) == VIRTIO_PCI_NOTIFY && c &&
	      pci_cfg_read(&bus, slot, c + 2, 1) == 20 &&
	      pci_cfg_read(&bus, slot, c + 16, 4) == VIRTIO_PCI_NOTIFY_MULT, "notify capability");
	CHECK(find_vcap(VIRTIO_PCI_CAP_ISR_CFG, &c) == VIRTIO_PCI_ISR, "ISR capability");
	CHECK(find_vcap(VIRTIO_PCI_CAP_DEVICE_CFG, &c) == VIRTIO_PCI_DEVICE, "device cfg capability");
	find_vcap(VIRTIO_PCI_CAP_PCI_CFG, &c);
	CHECK(c != 0, "PCI cfg access capability");
	u32 m = blk->tp.msix.cap;
	CHECK(pci_cfg_read(&bus, slot, m, 1) == PCI_CAP_ID_MSIX &&
	      (pci_cfg_read(&bus, slot, m + 2, 2) & 0x7FF) == 1, "MSI-X with 2 vectors");
	CHECK(pci_cfg_read(&bus, slot, m + 4, 4) == VIRTIO_PCI_MSIX_BAR &&
	      pci_cfg_read(&bus, slot, m + 8, 4) == (VIRTIO_PCI_MSIX_PBA | VIRTIO_PCI_MSIX_BAR),
	      "table and PBA in BAR 1");
	pci_cfg_write(&bus, slot, PCI_BAR0, 4, 0xFFFFFFFFu);
	CHECK(pci_cfg_read(&bus, slot, PCI_BAR0, 4) == (u32)~(VIRTIO_PCI_BAR_SIZE - 1), "BAR 0 size");
	pci_cfg_write(&bus, slot, PCI_BAR0, 4, (u32)(PCI_MMIO_BASE + PCI_SLOT_MMIO));

	bar0 = pci_bar_base(&blk->tp.pci, 0);
	u64 f = device_features();
	CHECK(f & VIRTIO_BIT(VIRTIO_F_VERSION_1), "VERSION_1 offered");
	CHECK((f & VIRTIO_BIT(VIRTIO_F_EVENT_IDX)) && (f & VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC)),
	      "EVENT_IDX and INDIRECT_DESC offered");
	CHECK(!(f & VIRTIO_BIT(VIRTIO_BLK_F_RO)), "rw disk: no RO");
	wr(VIRTIO_PCI_DFSELECT, 4, 7);
	CHECK(rd(VIRTIO_PCI_DF, 4) == 0, "feature words past 1 read zero");
	CHECK(rd(VIRTIO_PCI_NUM_QUEUES, 2) == 1, "one queue");
	CHECK(rd(VIRTIO_PCI_DEVICE, 8) == IMG_SECTORS, "capacity");
	CHECK(rd(VIRTIO_PCI_DEVICE + 12, 4) == VIRTIO_BLK_SEG_MAX && rd(VIRTIO_PCI_DEVICE + 8, 4) ==
	      VIRTIO_BLK_SIZE_MAX && rd(VIRTIO_PCI_DEVICE + 20, 4) == 512, "seg_max, size_max, blk_size");
	CHECK(rd(VIRTIO_PCI_DEVICE + 0x100, 4) == 0, "past the config: zero");

	/* Negotiation: no VERSION_1, or a bit not offered: refused. */
	CHECK(!negotiate(VIRTIO_BIT(VIRTIO_F_EVENT_IDX)), "legacy driver refused");
	CHECK(!negotiate(VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(40)), "unknown feature refused");
	CHECK(negotiate(VIRTIO_BIT(VIRTIO_F_VERSION_1)), "VERSION_1 alone accepted");
	wr(VIRTIO_PCI_GFSELECT, 4, 0);
	wr(VIRTIO_PCI_GF, 4, 0xFFFFFFFFu);
	CHECK(rd(VIRTIO_PCI_GF, 4) == 0, "features frozen after FEATURES_OK");
	wr(VIRTIO_PCI_MSIX_CONFIG, 2, 7);
	CHECK(rd(VIRTIO_PCI_MSIX_CONFIG, 2) == VIRTIO_NO_VECTOR, "vector past the table: NO_VECTOR");
	wr(VIRTIO_PCI_Q_SELECT, 2, 5);
	CHECK(rd(VIRTIO_PCI_Q_SIZE, 2) == 0, "absent queue has size 0");
	wr(VIRTIO_PCI_Q_ENABLE, 2, 1);
	CHECK(!(status() & VIRTIO_STATUS_NEEDS_RESET), "enabling an absent queue is ignored");

	/* The same through the PCI configuration access window. */
	find_vcap(VIRTIO_PCI_CAP_PCI_CFG, &c);
	wr(VIRTIO_PCI_DFSELECT, 4, 1);
	pci_cfg_write(&bus, slot, c + 4, 1, VIRTIO_PCI_BAR);
	pci_cfg_write(&bus, slot, c + 8, 4, VIRTIO_PCI_DF);
	pci_cfg_write(&bus, slot, c + 12, 4, 4);
	CHECK(pci_cfg_read(&bus, slot, c + 16, 4) == (u32)(device_features() >> 32), "window read");
	pci_cfg_write(&bus, slot, c + 8, 4, VIRTIO_PCI_Q_SELECT);
	pci_cfg_write(&bus, slot, c + 12, 4, 2);
	pci_cfg_write(&bus, slot, c + 16, 4, 0);
	CHECK(rd(VIRTIO_PCI_Q_SELECT, 2) == 0, "window write");
	pci_cfg_write(&bus, slot, c + 8, 4, VIRTIO_PCI_BAR_SIZE - 2);
	pci_cfg_write(&bus, slot, c + 12, 4, 4);
	CHECK(pci_cfg_read(&bus, slot, c + 16, 4) == 0, "window past the BAR: nothing");
	CHECK(nlogs == 0, "nothing reported");
}

static void test_io(void)
{
	setup(DISK_RW, DISK_DISCARD, 0, 0);
	drv_init(STD_FEATURES, true, 16);

	/* Read 3 sectors from sector 5. */
	u16 h = submit(VIRTIO_BLK_T_IN, 5, DATA, 3 * 512, true);
	CHECK(used_idx() == 1 && used_id(0) == h && used_len(0) == 3 * 512 + 1, "read completed");
	CHECK(ram[STATUS + h] == VIRTIO_BLK_S_OK, "status OK");
	CHECK(!memcmp(ram + DATA, image + 5 * 512, 3 * 512), "data from the image");
	CHECK(nmsi == 1 && msis[0].addr == 0xFEE00000u && msis[0].data == 0x41, "MSI-X vector 1");

	/* Write 2 sectors at 7, read 4 from 6 back. */
	memset(ram + DATA, 0xA5, 1024);
	set_used_event(1);
	h = submit(VIRTIO_BLK_T_OUT, 7, DATA, 1024, true);
	CHECK(used_idx() == 2 && ram[STATUS + h] == VIRTIO_BLK_S_OK && used_len(1) == 1, "write OK");
	CHECK(!memcmp(image, image_copy, sizeof(image)), "the image is never written");
	set_used_event(2);
	memset(ram + DATA, 0, 4096);
	h = submit(VIRTIO_BLK_T_IN, 6, DATA, 2048, true);
	CHECK(ram[STATUS + h] == VIRTIO_BLK_S_OK, "read back OK");
	CHECK(!memcmp(ram + DATA, image + 6 * 512, 512) && ram[DATA + 512] == 0xA5 &&
	      ram[DATA + 1535] == 0xA5 && !memcmp(ram + DATA + 1536, image + 9 * 512, 512),
	      "overlay over the image");
	CHECK(disk.st.read_bytes == 3 * 512 + 2048 && disk.st.write_bytes == 1024 &&
	      disk.st.requests == 3, "counters");
	CHECK(nmsi == 3, "one interrupt per request when used_event asks");

	/* GET_ID, FLUSH, an unknown type, out of range. */
	set_used_event(3);
	h = submit(VIRTIO_BLK_T_GET_ID, 0, DATA, 20, true);
	CHECK(ram[STATUS + h] == VIRTIO_BLK_S_OK && !memcmp(ram + DATA, "img-0\0", 6) &&
	      used_len(3) == 21, "GET_ID");
	h = submit(VIRTIO_BLK_T_FLUSH, 0, 0, 0, true);
	CHECK(ram[STATUS + h] == VIRTIO_BLK_S_OK, "FLUSH");
	h = submit(99, 0, 0, 0, true);
	CHECK(ram[STATUS + h] == VIRTIO_BLK_S_UNSUPP, "unknown type: UNSUPP");
	h = submit(VIRTIO_BLK_T_IN, IMG_SECTORS - 1, DATA, 1024, true);
	CHECK(ram[STATUS + h] == VIRTIO_BLK_S_IOERR, "read past the end: IOERR");
	h = submit(VIRTIO_BLK_T_OUT, ~0ull / 1024, DATA, 512, true);
	CHECK(ram[STATUS + h] == VIRTIO_BLK_S_IOERR, "write far past the end: IOERR");
	CHECK(used_idx() == 8 && disk.st.errors == 2, "all completed, errors counted");
	CHECK(!(status() & VIRTIO_STATUS_NEEDS_RESET) && nlogs == 0, "device still fine");

	/* Device reset drops the queue; the overlay stays (VM reset decides). */
	set_status(0);
	CHECK(status() == 0 && rd(VIRTIO_PCI_Q_ENABLE, 2) == 0 && blk->q.size == 0, "reset");
	CHECK(disk.overlay.data_blocks == 2, "overlay kept across a device reset (sectors 7-8: blocks 0-1)");
	disk_vm_reset(&disk);
	CHECK(disk.overlay.data_blocks == 0, "discard overlay emptied at VM reset");
}

static void test_ro(void)
{
	setup(DISK_RO, DISK_KEEP, 0, 0);
	bar0 = pci_bar_base(&blk->tp.pci, 0);
	CHECK(device_features() & VIRTIO_BIT(VIRTIO_BLK_F_RO), "RO offered");
	drv_init(STD_FEATURES | VIRTIO_BIT(VIRTIO_BLK_F_RO), true, 8);
	u16 h = submit(VIRTIO_BLK_T_OUT, 0, DATA, 512, true);
	CHECK(ram[STATUS + h] == VIRTIO_BLK_S_IOERR, "write to ro: IOERR");
	h = submit(VIRTIO_BLK_T_IN, 0, DATA, 4096, true);
	CHECK(ram[STATUS + h] == VIRTIO_BLK_S_OK && !memcmp(ram + DATA, image, 4096), "ro read");
	CHECK(disk.st.write_bytes == 0 && disk.st.errors == 1, "no bytes written");
}

/* With EVENT_IDX a batch costs one notification and one interrupt. */
static void test_event_idx(void)
{
	setup(DISK_RW, DISK_KEEP, 0, 0);
	drv_init(STD_FEATURES, true, 32);
	for (u32 i = 0; i < 10; i++)
		submit(VIRTIO_BLK_T_IN, i, DATA + 4096ull * i, 512, false);
	set_used_event(9); /* interrupt only when the 10th is used */
	notify();
	CHECK(used_idx() == 10, "whole batch from one notification");
	CHECK(nmsi == 1, "one interrupt for the batch");
	CHECK(avail_event() == 10, "avail_event asks for the next chain");
	for (u32 i = 0; i < 10; i++)
		CHECK(!memcmp(ram + DATA + 4096ull * i, image + 512 * i, 512), "batch data");
	set_used_event(100);
	submit(VIRTIO_BLK_T_IN, 0, DATA, 512, true);
	CHECK(used_idx() == 11 && nmsi == 1, "used_event far ahead: no interrupt");

	/* Without EVENT_IDX: NO_INTERRUPT in avail->flags is honoured. */
	setup(DISK_RW, DISK_KEEP, 0, 0);
	drv_init(VIRTIO_BIT(VIRTIO_F_VERSION_1), true, 8);
	put16(AVAIL, VIRTQ_AVAIL_F_NO_INTERRUPT);
	submit(VIRTIO_BLK_T_IN, 0, DATA, 512, true);
	CHECK(used_idx() == 1 && nmsi == 0, "NO_INTERRUPT honoured");
	put16(AVAIL, 0);
	submit(VIRTIO_BLK_T_IN, 0, DATA, 512, true);
	CHECK(nmsi == 1, "interrupt again");

	/* Indirect descriptors. */
	setup(DISK_RW, DISK_KEEP, 0, 0);
	drv_init(STD_FEATURES | VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC), true, 8);
	put32(HDRS, VIRTIO_BLK_T_IN);
	put64(HDRS + 8, 2);
	desc(ITAB, 0, HDRS, 16, VIRTQ_DESC_F_NEXT, 1);
	desc(ITAB, 1, DATA, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
	desc(ITAB, 2, DATA + 512, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 3);
	desc(ITAB, 3, STATUS, 1, VIRTQ_DESC_F_WRITE, 0);
	desc(DESC, 0, ITAB, 64, VIRTQ_DESC_F_INDIRECT, 0);
	avail_push(0);
	notify();
	CHECK(used_idx() == 1 && ram[STATUS] == 0 && !memcmp(ram + DATA, image + 1024, 1024),
	      "indirect chain");
}

static void test_interrupts(void)
{
	u32 slot, gsi;

	/* INTx: ISR bit, line up, read clears and lowers it. */
	setup(DISK_RW, DISK_KEEP, 0, 0);
	drv_init(STD_FEATURES, false, 8);
	slot = blk->tp.pci.slot;
	gsi = PCI_INTX_GSI(slot);
	submit(VIRTIO_BLK_T_IN, 0, DATA, 512, true);
	CHECK(nmsi == 0 && levels[gsi], "INTx asserted");
	CHECK(pci_cfg_read(&bus, slot, PCI_STATUS, 2) & PCI_STATUS_INTX, "interrupt status bit");
	u64 probe = 0;
	CHECK(pci_mmio(&bus, bar0 + VIRTIO_PCI_ISR, false, 0, &probe) == DEV_OK && levels[gsi],
	      "a probe does not read the ISR");
	CHECK(rd(VIRTIO_PCI_ISR, 1) == VIRTIO_ISR_QUEUE, "ISR says queue");
	CHECK(!levels[gsi] && rd(VIRTIO_PCI_ISR, 1) == 0, "read cleared it, line low");
	set_used_event(1);
	submit(VIRTIO_BLK_T_IN, 0, DATA, 512, true);
	CHECK(levels[gsi], "asserted again");
	pci_cfg_write(&bus, slot, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_INTX_DISABLE);
	CHECK(!levels[gsi], "INTx disable lowers the line");
	pci_cfg_write(&bus, slot, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	CHECK(levels[gsi], "and enabling raises it again");
	msix_enable(true);
	CHECK(!levels[gsi], "MSI-X on: INTx off");

	/* MSI-X masking: per vector and the function mask, with the PBA. */
	setup(DISK_RW, DISK_KEEP, 0, 0);
	drv_init(STD_FEATURES, true, 8);
	msix_wr(16 + 12, 1); /* mask vector 1 */
	set_used_event(0);
	submit(VIRTIO_BLK_T_IN, 0, DATA, 512, true);
	CHECK(nmsi == 0 && (msix_rd(VIRTIO_PCI_MSIX_PBA) & 2), "masked: pending bit");
	msix_wr(16 + 12, 0);
	CHECK(nmsi == 1 && msis[0].data == 0x41 && !(msix_rd(VIRTIO_PCI_MSIX_PBA) & 2),
	      "unmask delivers it");
	u32 m = blk->tp.msix.cap;
	pci_cfg_write(&bus, slot, m + 2, 2, 0xC000); /* enable + mask all */
	set_used_event(1);
	submit(VIRTIO_BLK_T_IN, 0, DATA, 512, true);
	CHECK(nmsi == 1 && (msix_rd(VIRTIO_PCI_MSIX_PBA) & 2), "function mask: pending");
	pci_cfg_write(&bus, slot, m + 2, 2, 0x8000);
	CHECK(nmsi == 2, "function unmask delivers");
	CHECK(msix_rd(16 + 8) == 0x41 && msix_rd(0x7F0) == 0, "table reads back; past it zero");
	u64 v = 0;
	pci_mmio(&bus, bar1 + 2, false, 4, &v);
	CHECK(v == 0, "misaligned table access ignored");
}

static void test_throttle(void)
{
	/* 10 requests a second: 1 + 1 pass at once (100 ms burst). */
	setup(DISK_RW, DISK_KEEP, 10, 0);
	drv_init(STD_FEATURES, true, 32);
	set_used_event(0xFFFF);
	for (u32 i = 0; i < 6; i++)
		submit(VIRTIO_BLK_T_IN, i, DATA + 512 * i, 512, false);
	notify();
	CHECK(used_idx() == 2, "burst passes");
	CHECK(disk.st.throttled_requests == 1 && disk.st.throttled_bytes == 512, "one waits, counted once");
	u64 at = virtio_blk_ready_at(blk);
	CHECK(at == fake_now + 100000000ull, "ready 100 ms later");
	notify();
	CHECK(used_idx() == 2 && disk.st.throttled_requests == 1, "a notify does not jump the queue");
	CHECK(service(at - 1) == at && used_idx() == 2, "too early: nothing");
	u64 t = at, steps = 0;
	while (used_idx() < 6 && steps++ < 10) {
		fake_now = t;
		t = service(t);
	}
	CHECK(used_idx() == 6 && steps == 4, "the rest one per 100 ms, none failed");
	CHECK(t == 0 && !blk->pending, "nothing waits any more");
	CHECK(fake_now == 1000000000ull + 400000000ull, "paced at the rate");
	CHECK(disk.st.throttled_requests == 4, "each delayed request counted");
	for (u32 i = 0; i < 6; i++)
		CHECK(ram[STATUS + 3 * i] == VIRTIO_BLK_S_OK &&
		      !memcmp(ram + DATA + 512 * i, image + 512 * i, 512), "throttled data intact");

	/* Bytes: 64 KiB/s, 8 KiB requests. */
	setup(DISK_RW, DISK_KEEP, 0, 65536);
	drv_init(STD_FEATURES, true, 32);
	for (u32 i = 0; i < 4; i++)
		submit(VIRTIO_BLK_T_OUT, 16 * i, DATA, 8192, false);
	notify();
	CHECK(used_idx() == 1 && disk.st.throttled_bytes == 8192, "bytes bucket defers the second");
	CHECK(virtio_blk_ready_at(blk) == fake_now + 125000000ull - 100000000ull, "ready when paid");
	/* A driver that polls its status gets it without a timer's help. */
	fake_now = virtio_blk_ready_at(blk) - 1;
	(void)status();
	CHECK(used_idx() == 1, "register access before it is due: nothing");
	fake_now++;
	(void)status();
	CHECK(used_idx() == 2 && blk->pending, "register access when due completes it; the next waits");

	/* A device reset with a request waiting forgets it cleanly. */
	set_status(0);
	CHECK(!blk->pending && service(~0ull) == 0, "reset drops the waiting request");
	CHECK(disk.st.requests == 2, "nothing completed after the reset");
}

/* Each malformed shape: NEEDS_RESET, a config interrupt, a report, and
 * the device then ignores notifications until reset. */
static void expect_broken(const char *what)
{
	CHECK(status() & VIRTIO_STATUS_NEEDS_RESET, what);
	CHECK(nlogs == 1 && strstr(last_log, "needs reset"), "reported once");
	CHECK(nmsi >= 1 && msis[nmsi - 1].data == 0x40, "config-change interrupt (vector 0)");
	u16 before = used_idx();
	submit(VIRTIO_BLK_T_IN, 0, DATA, 512, true);
	CHECK(used_idx() == before, "a failed device does nothing");
	set_status(0);
	CHECK(status() == 0 && blk->tp.fail_reason == NULL, "reset clears it");
	drv_init(STD_FEATURES, true, 16);
	nlogs = 0;
	submit(VIRTIO_BLK_T_IN, 1, DATA, 512, true);
	CHECK(used_idx() == 1 && ram[STATUS] == VIRTIO_BLK_S_OK, "works again after reset");
}

static void test_malformed(void)
{
	setup(DISK_RW, DISK_KEEP, 0, 0);

	drv_init(STD_FEATURES, true, 16);
	desc(DESC, 0, HDRS, 16, VIRTQ_DESC_F_NEXT, 1);
	desc(DESC, 1, DATA, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 0); /* loop */
	avail_push(0);
	notify();
	expect_broken("descriptor loop");

	nlogs = 0;
	drv_init(STD_FEATURES, true, 16);
	put32(HDRS, VIRTIO_BLK_T_IN);
	desc(DESC, 0, HDRS, 16, VIRTQ_DESC_F_NEXT, 1);
	desc(DESC, 1, RAM_SIZE - 256, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
	desc(DESC, 2, STATUS, 1, VIRTQ_DESC_F_WRITE, 0);
	avail_push(0);
	notify();
	expect_broken("buffer past the end of guest RAM");

	nlogs = 0;
	drv_init(STD_FEATURES, true, 16);
	desc(DESC, 0, HDRS, 16, VIRTQ_DESC_F_NEXT, 1);
	desc(DESC, 1, DATA, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 200); /* next >= size */
	avail_push(0);
	notify();
	expect_broken("next index out of range");

	nlogs = 0;
	drv_init(STD_FEATURES, true, 16);
	avail_push(77); /* head out of range */
	notify();
	expect_broken("head index out of range");

	/* An indirect table of 300 data segments: over VIRTQ_MAX_SEGS. */
	nlogs = 0;
	drv_init(STD_FEATURES | VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC), true, 16);
	put32(HDRS, VIRTIO_BLK_T_IN);
	desc(ITAB, 0, HDRS, 16, VIRTQ_DESC_F_NEXT, 1);
	for (u32 i = 1; i < 301; i++)
		desc(ITAB, i, DATA + 512 * i, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, (u16)(i + 1));
	desc(ITAB, 301, STATUS, 1, VIRTQ_DESC_F_WRITE, 0);
	desc(DESC, 0, ITAB, 302 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	avail_push(0);
	notify();
	expect_broken("oversized chain");

	/* Indirect without negotiating it. */
	nlogs = 0;
	drv_init(STD_FEATURES, true, 16);
	desc(DESC, 0, ITAB, 64, VIRTQ_DESC_F_INDIRECT, 0);
	avail_push(0);
	notify();
	expect_broken("indirect not negotiated");

	/* A request with no status byte (all readable). */
	nlogs = 0;
	drv_init(STD_FEATURES, true, 16);
	put32(HDRS, VIRTIO_BLK_T_OUT);
	desc(DESC, 0, HDRS, 16, VIRTQ_DESC_F_NEXT, 1);
	desc(DESC, 1, DATA, 512, 0, 0);
	avail_push(0);
	notify();
	expect_broken("request without status");

	/* Data not whole sectors. */
	nlogs = 0;
	drv_init(STD_FEATURES, true, 16);
	submit(VIRTIO_BLK_T_IN, 0, DATA, 100, true);
	expect_broken("partial sector");

	/* avail->idx runs more than a queue ahead. */
	nlogs = 0;
	drv_init(STD_FEATURES, true, 16);
	put16(AVAIL + 2, 40);
	notify();
	expect_broken("avail idx too far ahead");

	/* Rings outside RAM at enable: a 64-bit address far away. */
	nlogs = 0;
	drv_init(STD_FEATURES, true, 16);
	set_status(0);
	CHECK(negotiate(STD_FEATURES), "renegotiated");
	wr(VIRTIO_PCI_Q_SIZE, 2, 16);
	wr(VIRTIO_PCI_Q_DESC, 8, 1ull << 50);
	wr(VIRTIO_PCI_Q_DRIVER, 8, AVAIL);
	wr(VIRTIO_PCI_Q_DEVICE, 8, USED);
	wr(VIRTIO_PCI_Q_ENABLE, 2, 1);
	set_status(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
		   VIRTIO_STATUS_DRIVER_OK);
	put16(AVAIL + 2, 1);
	notify();
	CHECK(status() & VIRTIO_STATUS_NEEDS_RESET, "descriptor table outside RAM");

	/* Bad queue parameters at enable. */
	nlogs = 0;
	set_status(0);
	CHECK(negotiate(STD_FEATURES), "renegotiated");
	wr(VIRTIO_PCI_Q_SIZE, 2, 12);
	wr(VIRTIO_PCI_Q_ENABLE, 2, 1);
	CHECK((status() & VIRTIO_STATUS_NEEDS_RESET) && rd(VIRTIO_PCI_Q_ENABLE, 2) == 0,
	      "queue size not a power of two");
	set_status(0);
	CHECK(negotiate(STD_FEATURES), "renegotiated");
	wr(VIRTIO_PCI_Q_DESC, 8, DESC + 8);
	wr(VIRTIO_PCI_Q_ENABLE, 2, 1);
	CHECK(status() & VIRTIO_STATUS_NEEDS_RESET, "misaligned descriptor table");
	set_status(VIRTIO_STATUS_ACKNOWLEDGE);
	CHECK(status() & VIRTIO_STATUS_NEEDS_RESET, "the driver cannot clear NEEDS_RESET");
}

/* Random register writes and random rings: never a crash or an access
 * outside RAM (ASan), the device either works or needs a reset. */
static void test_fuzz(void)
{
	static const u32 offs[] = {
		VIRTIO_PCI_DFSELECT, VIRTIO_PCI_GFSELECT, VIRTIO_PCI_GF, VIRTIO_PCI_MSIX_CONFIG,
		VIRTIO_PCI_STATUS, VIRTIO_PCI_Q_SELECT, VIRTIO_PCI_Q_SIZE, VIRTIO_PCI_Q_MSIX,
		VIRTIO_PCI_Q_ENABLE, VIRTIO_PCI_Q_DESC, VIRTIO_PCI_Q_DESC + 4, VIRTIO_PCI_Q_DRIVER,
		VIRTIO_PCI_Q_DEVICE, VIRTIO_PCI_NOTIFY, VIRTIO_PCI_ISR, VIRTIO_PCI_DEVICE,
	};
	unsigned completed = 0, broken = 0;

	setup(DISK_RW, DISK_DISCARD, 1000, 0);
	check_rng_state = 0xB10CB10Cull;
	for (u32 round = 0; round < 3000; round++) {
		drv_init(STD_FEATURES | VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC), check_rand_below(2), 16);
		/* Mostly plausible chains, with random corruption. */
		for (u32 i = 0; i < 4; i++)
			submit((u32)check_rand_below(10), check_rand_below(IMG_SECTORS + 4),
			       DATA + 4096 * check_rand_below(8), 512 * (u32)check_rand_below(5), false);
		for (u32 k = check_rand_below(6); k; k--) {
			u64 gpa = k & 1 ? DESC + check_rand_below(16 * 16) : AVAIL + check_rand_below(4 + 2 * 16 + 2);
			ram[gpa] = (u8)check_rand();
		}
		for (u32 k = 0; k < 8; k++) {
			u32 off = offs[check_rand_below(ARRAY_SIZE(offs))] + (u32)check_rand_below(2);
			u32 size = 1u << check_rand_below(4);

			if (check_rand_below(3))
				wr(off, size, check_rand());
			else
				(void)rd(off, size);
			if (check_rand_below(2))
				notify();
			fake_now += check_rand_below(50000000);
			service(fake_now);
		}
		completed += used_idx();
		broken += !!(status() & VIRTIO_STATUS_NEEDS_RESET);
	}
	CHECK(!memcmp(image, image_copy, sizeof(image)), "fuzz: the image is never written");
	CHECK(completed > 1000 && broken > 100, "fuzz: reaches completions and failures");
	printf("fuzz: %u completions, %u rounds ended broken\n", completed, broken);
	set_status(0);
}

int main(void)
{
	rig_open();
	test_discovery();
	test_io();
	test_ro();
	test_event_idx();
	test_interrupts();
	test_throttle();
	test_malformed();
	test_fuzz();
	rig_close();
	return check_summary();
}
