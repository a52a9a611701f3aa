/* virtio-blk against a driver that pushes the device's limits, over the
 * rig in virtio_blk_rig.h: requests past size_max and seg_max (I/O errors,
 * nothing copied), segments that all alias one buffer, one head that
 * takes every descriptor of the ring, a notification whose work passes
 * the exit budget (resumed by polls, each within its budget, in order,
 * nothing lost), and the overlay quota (I/O errors past it, reported once
 * per disk, everything else going on). */
#include "virtio_blk_rig.h"

/* A request of nsegs data segments of seglen bytes, all at the same
 * guest address buf (aliasing), direction by type, in an indirect table
 * so it fits any queue: returns the head (always 0 + k for request k). */
static u16 submit_alias(u16 h, u32 type, u64 sector, u64 buf, u32 seglen, u32 nsegs)
{
	u64 tab = ITAB + 0x2000ull * h;
	u16 wf = type == VIRTIO_BLK_T_IN ? VIRTQ_DESC_F_WRITE : 0;
	u32 i;

	put32(HDRS + 16ull * h, type);
	put32(HDRS + 16ull * h + 4, 0);
	put64(HDRS + 16ull * h + 8, sector);
	ram[STATUS + h] = 0xEE;
	desc(tab, 0, HDRS + 16ull * h, 16, VIRTQ_DESC_F_NEXT, 1);
	for (i = 1; i <= nsegs; i++)
		desc(tab, i, buf, seglen, VIRTQ_DESC_F_NEXT | wf, (u16)(i + 1));
	desc(tab, i, STATUS + h, 1, VIRTQ_DESC_F_WRITE, 0);
	desc(DESC, h, tab, 16 * (nsegs + 2), VIRTQ_DESC_F_INDIRECT, 0);
	avail_push(h);
	return h;
}

#define IND_FEATURES (STD_FEATURES | VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC))

/* The advertised limits hold: a data segment over size_max or more than
 * seg_max of them is an I/O error with nothing copied; aliasing segments
 * within the limits still move only a budget's worth per exit; one head
 * that takes every descriptor of the ring is an error, not a stall. */
static void test_limits(void)
{
	u64 work;
	u16 h;

	setup(DISK_RW, DISK_KEEP, 0, 0);
	drv_init(IND_FEATURES, true, 16);
	memset(ram + BIGBUF, 0x77, 2 * MIB);
	h = submit_alias(0, VIRTIO_BLK_T_IN, 0, BIGBUF, VIRTIO_BLK_SIZE_MAX + 512, 1);
	notify();
	CHECK(used_idx() == 1 && ram[STATUS + h] == VIRTIO_BLK_S_IOERR && used_len(0) == 1,
	      "a segment over size_max: IOERR");
	CHECK(ram[BIGBUF] == 0x77 && disk.st.read_bytes == 0, "nothing copied for it");
	h = submit_alias(1, VIRTIO_BLK_T_OUT, 0, BIGBUF, 4096, VIRTIO_BLK_SEG_MAX + 1);
	notify();
	CHECK(used_idx() == 2 && ram[STATUS + h] == VIRTIO_BLK_S_IOERR, "seg_max + 1 segments: IOERR");
	CHECK(disk.st.write_bytes == 0 && disk.overlay.data_blocks == 0, "nothing written for it");
	CHECK(!(status() & VIRTIO_STATUS_NEEDS_RESET) && nlogs == 0, "the device goes on");

	/* Within the limits: 126 segments all aliasing one 16 KiB buffer,
	 * 2016 KiB of copying. One exit does at most its budget. */
	work = blk->work_bytes;
	h = submit_alias(2, VIRTIO_BLK_T_IN, 0, BIGBUF, 16384, VIRTIO_BLK_SEG_MAX);
	notify();
	CHECK(blk->work_bytes - work <= VIRTIO_BLK_EXIT_BUDGET, "one exit: at most its budget");
	CHECK(used_idx() == 2 && blk->backlog, "the aliased request is not done in one exit");
	for (u32 polls = 0; used_idx() == 2 && polls < 100; polls++)
		service(fake_now);
	CHECK(used_idx() == 3 && ram[STATUS + h] == VIRTIO_BLK_S_OK &&
	      used_len(2) == 16384 * VIRTIO_BLK_SEG_MAX + 1, "completed across polls");
	CHECK(!memcmp(ram + BIGBUF, image + 16384 * (VIRTIO_BLK_SEG_MAX - 1), 16384),
	      "the last segment's data landed last");
	/* Exactly size_max in one segment is fine. */
	h = submit_alias(3, VIRTIO_BLK_T_IN, 8, BIGBUF, VIRTIO_BLK_SIZE_MAX, 1);
	notify();
	for (u32 polls = 0; used_idx() == 3 && polls < 100; polls++)
		service(fake_now);
	CHECK(ram[STATUS + h] == VIRTIO_BLK_S_OK && !memcmp(ram + BIGBUF, image + 8 * 512, MIB),
	      "size_max exactly: OK");

	/* One head filling the whole ring (queue of 256): header, 254 data
	 * descriptors, status. Over seg_max: IOERR; the device still works. */
	setup(DISK_RW, DISK_KEEP, 0, 0);
	drv_init(STD_FEATURES, true, 256);
	put32(HDRS, VIRTIO_BLK_T_IN);
	put64(HDRS + 8, 0);
	desc(DESC, 0, HDRS, 16, VIRTQ_DESC_F_NEXT, 1);
	for (u32 i = 1; i < 255; i++)
		desc(DESC, i, DATA, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, (u16)(i + 1));
	desc(DESC, 255, STATUS, 1, VIRTQ_DESC_F_WRITE, 0);
	avail_push(0);
	notify();
	CHECK(used_idx() == 1 && ram[STATUS] == VIRTIO_BLK_S_IOERR, "one head filling the ring: IOERR");
	CHECK(!(status() & VIRTIO_STATUS_NEEDS_RESET) && disk.st.read_bytes == 0, "no copy, device fine");
	next_head = 0;
	h = submit(VIRTIO_BLK_T_IN, 3, DATA, 512, true);
	CHECK(used_idx() == 2 && ram[STATUS + h] == VIRTIO_BLK_S_OK, "and the next request works");
}

/* A notification whose work passes the exit budget: the rest goes on at
 * the next polls, each within its budget, in order, nothing lost. */
static void test_budget(void)
{
	u64 budget, left;
	u32 polls = 0;

	setup(DISK_RW, DISK_KEEP, 0, 0);
	drv_init(STD_FEATURES, true, 32);
	blk->exit_budget = 20000;
	set_used_event(0xFFFF);
	for (u32 i = 0; i < 8; i++)
		submit(i & 1 ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN, 64ull * i, DATA + 0x4000ull * i, 0x4000, false);
	for (u32 i = 1; i < 8; i += 2)
		memset(ram + DATA + 0x4000ull * i, 0x30 + i, 0x4000);
	notify();
	CHECK(used_idx() == 1, "the exit stopped at its budget after one 16 KiB request");
	CHECK(blk->backlog && virtio_blk_ready_at(blk) == fake_now, "a backlog, due now");
	while (used_idx() < 8 && polls++ < 50) {
		budget = 10000;
		left = budget;
		service(fake_now);	/* plenty: must not be needed to finish */
		CHECK(used_idx() <= 8, "sanity");
		if (used_idx() == 8)
			break;
		(void)virtio_blk_service(blk, fake_now, &left);
		CHECK(left <= budget, "a poll spends at most its budget");
	}
	CHECK(used_idx() == 8, "every request completed");
	for (u16 k = 0; k < 8; k++)
		CHECK(used_id(k) == 3 * k && ram[STATUS + 3 * k] == VIRTIO_BLK_S_OK, "in order, all OK");
	for (u32 i = 0; i < 8; i += 2)
		CHECK(!memcmp(ram + DATA + 0x4000ull * i, image + 512 * 64ull * i, 0x4000), "read data intact");
	for (u32 i = 1; i < 8; i += 2) {
		u8 back[0x4000];

		CHECK(disk_read(&disk, 64ull * i, 32, back) == 0 && back[0] == 0x30 + i &&
		      back[0x3FFF] == 0x30 + i, "written data intact");
	}
	CHECK(!blk->backlog && virtio_blk_ready_at(blk) == 0, "nothing left");

	/* Small polls only: progress of at most the budget each, still in
	 * order; a poll with no budget does nothing. */
	setup(DISK_RW, DISK_KEEP, 0, 0);
	drv_init(STD_FEATURES, true, 32);
	blk->exit_budget = 0;
	submit(VIRTIO_BLK_T_IN, 0, DATA, 0x4000, false);
	submit(VIRTIO_BLK_T_IN, 32, DATA + 0x4000, 0x4000, true);
	CHECK(used_idx() == 0 && blk->backlog, "no exit budget: everything deferred");
	left = 0;
	CHECK(virtio_blk_service(blk, fake_now, &left) == fake_now && used_idx() == 0,
	      "no poll budget: nothing done, still due");
	polls = 0;
	while (used_idx() < 2 && polls++ < 100) {
		left = 4096;
		virtio_blk_service(blk, fake_now, &left);
	}
	CHECK(used_idx() == 2 && used_id(0) == 0 && used_id(1) == 3, "in order with 4 KiB polls");
	CHECK(polls >= 8 && polls <= 10, "about 32 KiB / 4 KiB polls");
	CHECK(!memcmp(ram + DATA, image, 0x8000), "data intact");
}

/* The overlay quota: past it a write is an I/O error, reported once per
 * disk; reads, writes within what is held and other requests go on. */
static void test_quota(void)
{
	u32 n_ok = 0, n_err = 0;
	u16 h;

	setup_quota(DISK_RW, DISK_KEEP, 0, 0, 1);
	drv_init(STD_FEATURES, true, 16);
	memset(ram + BIGBUF, 0x42, 0x10000);
	/* 1 MiB = 256 pages: one index page and 255 blocks of 4 KiB. */
	for (u32 i = 0; i < 20; i++) {
		h = submit(VIRTIO_BLK_T_OUT, 128ull * i, BIGBUF, 0x10000, true);
		if (ram[STATUS + h] == VIRTIO_BLK_S_OK)
			n_ok++;
		else if (ram[STATUS + h] == VIRTIO_BLK_S_IOERR)
			n_err++;
	}
	CHECK(n_ok == 15 && n_err == 5, "15 writes of 64 KiB fit in 1 MiB, the rest are IOERR");
	CHECK(disk.overlay.data_blocks + disk.overlay.index_pages <= 256, "held within the quota");
	CHECK(disk.st.quota_errors >= 5 && quota_calls == 1 && quota_index == 0, "reported once");
	CHECK(!(status() & VIRTIO_STATUS_NEEDS_RESET), "the device goes on");
	h = submit(VIRTIO_BLK_T_IN, 0, DATA, 512, true);
	CHECK(ram[STATUS + h] == VIRTIO_BLK_S_OK && ram[DATA] == 0x42, "reads work");
	h = submit(VIRTIO_BLK_T_OUT, 0, DATA + 0x1000, 4096, true);
	CHECK(ram[STATUS + h] == VIRTIO_BLK_S_OK, "rewriting held blocks works");
	h = submit(VIRTIO_BLK_T_OUT, 3000, DATA, 512, true);
	CHECK(ram[STATUS + h] == VIRTIO_BLK_S_IOERR && quota_calls == 1, "still refused, not reported again");
	CHECK(!memcmp(image, image_copy, sizeof(image)), "the image is never written");
}

int main(void)
{
	rig_open();
	test_limits();
	test_budget();
	test_quota();
	rig_close();
	return check_summary();
}
