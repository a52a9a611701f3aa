/* The device side of a virtio split virtqueue (virtio 1.2 section 2.7), and
 * virtio-blk request parsing on top of it (5.2.6). Pure logic: the rings and
 * buffers are guest memory, reached only through a map callback, so a guest
 * that scribbles on its rings gets a named error (the caller then sets
 * DEVICE_NEEDS_RESET, 2.1.2) and never a monitor crash or an access outside
 * guest RAM. The PCI transport and the device models live elsewhere.
 *
 * Guest memory is shared with running vCPUs: every guest field is loaded
 * once into a local before it is checked (no double fetch), and the ring
 * indices are read and written with acquire/release ordering. The guest is
 * little-endian x86, as is the monitor, so ring fields are used natively
 * (virtio 1.x rings are little-endian, 2.7). */
#ifndef CG_VIRTQ_H
#define CG_VIRTQ_H

#include <cg/types.h>

/* Descriptor flags (2.7.5). */
#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4
/* avail->flags (2.7.6): the driver asks for no used-buffer notifications. */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
/* used->flags (2.7.8): the device asks for no available-buffer notifications. */
#define VIRTQ_USED_F_NO_NOTIFY 1

/* Largest split queue (2.7: Queue Size is a power of 2, at most 32768). */
#define VIRTQ_MAX_SIZE 32768u
/* Most data segments one chain may carry: as many as the largest queue a
 * device here offers (virtio-blk: 256), so that every chain a driver may
 * legally build (2.7.5.2: no longer than the queue) is parsed, and a
 * device can answer a request past its own advertised limits (virtio-blk:
 * seg_max) with an error status instead of failing the whole device. */
#define VIRTQ_MAX_SEGS 256

/* Access to guest RAM by guest-physical address: a host pointer for
 * [gpa, gpa+len), or NULL if any byte of it is not guest RAM. The range must
 * be contiguous in the host as well; a callback that cannot promise that for
 * some range returns NULL for it. */
struct virtq_mem {
	void *(*map)(void *ctx, u64 gpa, u64 len);
	void *ctx;
};

/* Negotiated features that change how the queue is parsed (6, 2.7). */
enum virtq_flags {
	VIRTQ_EVENT_IDX = 1u << 0, /* VIRTIO_F_EVENT_IDX (bit 29): used_event and
				      avail_event replace the flags (2.7.7, 2.7.10) */
	VIRTQ_INDIRECT = 1u << 1,  /* VIRTIO_F_INDIRECT_DESC (bit 28), 2.7.5.3 */
	VIRTQ_ANY_ORDER = 1u << 2, /* accept a readable descriptor after a
				      writable one; without it such a chain is
				      refused (2.7.5.2 makes drivers put writable
				      descriptors last) */
};

struct virtq {
	u64 desc;	     /* guest-physical addresses of the three parts */
	u64 avail;
	u64 used;
	u16 size;	     /* 0: queue not enabled */
	u16 last_avail_idx;  /* next avail->ring slot the device will consume */
	u16 used_idx;	     /* device's copy of used->idx */
	u32 flags;	     /* enum virtq_flags */
};

/* One buffer of a chain: guest-physical, checked to lie in guest RAM when
 * the chain was popped. */
struct virtq_seg {
	u64 gpa;
	u32 len;
	bool write;	     /* device-writable */
};

/* A popped descriptor chain. Zero-length descriptors carry no data and are
 * left out of segs. The readable segments, concatenated, form the chain's
 * "read stream" (read_len bytes); the writable ones its "write stream". */
struct virtq_chain {
	const struct virtq_mem *mem; /* what the chain was popped with */
	u16 head;	     /* descriptor index to hand back to virtq_push */
	u16 nsegs;
	u32 read_len;
	u32 write_len;
	struct virtq_seg segs[VIRTQ_MAX_SEGS];
};

/* virtq_init: set q up for a queue of size entries (a power of two, at most
 * VIRTQ_MAX_SIZE) whose descriptor table, available ring and used ring the
 * driver placed at desc, avail and used, with flags from enum virtq_flags.
 * Ring memory is not touched here (guest RAM is checked at every access).
 * Returns 0, or -CG_EINVAL for a bad size, an address not aligned as 2.7
 * requires (16, 2, 4), or an unknown flag; q is then left disabled. */
int virtq_init(struct virtq *q, u32 size, u64 desc, u64 avail, u64 used, u32 flags);

/* virtq_reset: disable q and forget its state (device reset, 2.4). A
 * disabled queue pops nothing. */
void virtq_reset(struct virtq *q);

/* virtq_pop: take the next available chain. Returns 1 with *chain filled
 * (every segment inside guest RAM), 0 when the ring is empty or q is
 * disabled, or a negative error; on error the queue is not advanced and the
 * device should be marked broken (NEEDS_RESET):
 *   -CG_ERANGE  the available ring, the descriptor table, an indirect table
 *		 or a buffer lies (partly) outside guest RAM;
 *   -CG_EINVAL  avail->idx ran more than size ahead, a head or next index
 *		 >= size (or the indirect table's length), a descriptor loop or
 *		 a chain longer than the queue (or than the indirect table), a
 *		 walk of more than max(size, VIRTQ_MAX_SEGS) descriptors in all
 *		 (empty ones and the indirect one included), more than VIRTQ_MAX_SEGS
 *		 segments, an indirect descriptor that is not negotiated, nests,
 *		 has NEXT set, or whose table is not 8-byte aligned or not a
 *		 nonzero multiple of 16 bytes (at most VIRTQ_MAX_SIZE entries),
 *		 a chain of more than 2^32 - 1 bytes, or a readable descriptor
 *		 after a writable one (unless VIRTQ_ANY_ORDER). */
int virtq_pop(struct virtq *q, const struct virtq_mem *m, struct virtq_chain *chain);

/* virtq_avail_empty: whether the driver has no chain the device has not
 * taken yet (a disabled queue: true). False when the avail ring is outside
 * guest RAM: the next virtq_pop reports that. A racy look: the driver
 * may add one right after. */
bool virtq_avail_empty(const struct virtq *q, const struct virtq_mem *m);

/* virtq_push: return chain head to the driver through the used ring with
 * written_len bytes written into its write stream, then publish used->idx
 * with release ordering (the element and the data are visible first).
 * Returns 0, -CG_EINVAL for a head >= size or a disabled queue, or
 * -CG_ERANGE when the used ring is outside guest RAM (nothing written). */
int virtq_push(struct virtq *q, const struct virtq_mem *m, u16 head, u32 written_len);

/* virtq_should_notify: after pushes that moved used_idx from old_used_idx
 * to q->used_idx, whether the driver wants an interrupt: with EVENT_IDX,
 * whether used_event lies in [old, new) modulo 2^16 (2.7.7.2); otherwise
 * unless avail->flags has NO_INTERRUPT. False when nothing was pushed; true
 * when the avail ring is outside guest RAM (a spurious interrupt is
 * harmless, a lost one hangs the driver). Issues a full barrier first, so
 * the used->idx store is ordered before the load of the driver's field. */
bool virtq_should_notify(const struct virtq *q, const struct virtq_mem *m, u16 old_used_idx);

/* virtq_set_avail_event: with EVENT_IDX, write avail_event =
 * last_avail_idx so the driver notifies again only once it adds past
 * what the device has consumed (2.7.10); a device draining a queue calls
 * this when it finds the ring empty, then pops once more, since the driver
 * may have added a chain before seeing the new value (a full barrier
 * separates the store from that load). No-op without EVENT_IDX, on a
 * disabled queue, or when the used ring is outside guest RAM (virtq_push
 * reports that). */
void virtq_set_avail_event(struct virtq *q, const struct virtq_mem *m);

/* virtq_set_avail_event_ahead: the same with avail_event = last_avail_idx
 * + ahead: the driver notifies again only when it adds the entry at that
 * index (2.7.10's vring_need_event), so a device that looks at the ring
 * on its own meanwhile takes up to ahead entries without an exit. */
void virtq_set_avail_event_ahead(struct virtq *q, const struct virtq_mem *m, u16 ahead);

/* virtq_chain_read: copy n bytes at offset off of c's read stream to dst.
 * Returns 0, -CG_EINVAL when [off, off+n) is not within read_len, or
 * -CG_ERANGE when a segment no longer maps (dst then partly written). */
int virtq_chain_read(const struct virtq_chain *c, u64 off, void *dst, u64 n);

/* virtq_chain_write: copy n bytes from src to offset off of c's write
 * stream. Same returns as virtq_chain_read. */
int virtq_chain_write(const struct virtq_chain *c, u64 off, const void *src, u64 n);

/* virtio-blk (5.2.6): request types and status values. */
#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2
#define VIRTIO_BLK_SECTOR_SIZE 512u
#define VIRTIO_BLK_ID_BYTES 20u
#define VIRTIO_BLK_HDR_BYTES 16u /* le32 type, le32 reserved, le64 sector */

/* A parsed virtio-blk request. The data lies in the chain's write stream
 * (IN, GET_ID) or read stream (OUT) at data_off; the status byte is the
 * last byte of the write stream, at status_off. */
struct blk_req {
	u32 type;
	u64 sector;
	u64 offset;	     /* sector * 512: byte offset on the disk */
	u32 data_off;
	u32 data_len;
	u32 status_off;
};

/* virtio_blk_parse: parse chain c as a virtio-blk request. The header is
 * the first 16 bytes of the read stream (it may span segments: 2.7.3, the
 * device assumes no framing), the status byte the last byte of the write
 * stream, which must end in the chain's last segment. Returns:
 *   0	         r filled: IN/OUT with data a multiple of 512 bytes and
 *		 sector * 512 + data_len not overflowing (the caller checks
 *		 capacity and answers IOERR past it), FLUSH with no data, GET_ID
 *		 with data_len >= 1 (write min(20, data_len) bytes);
 *   -CG_ENOTSUP an unknown type: r->type and r->status_off are valid, so
 *		 the caller completes it with VIRTIO_BLK_S_UNSUPP;
 *   -CG_EINVAL  no room for header or status, status not in a writable
 *		 last segment, data in the wrong stream, a length that is not a
 *		 multiple of 512, or an offset that overflows;
 *   -CG_ERANGE  the header no longer maps. */
int virtio_blk_parse(const struct virtq_chain *c, struct blk_req *r);

#endif
