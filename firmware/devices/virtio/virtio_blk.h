/* virtio-blk (virtio-v1.1 section 5.2) over the PCI transport: one
 * request queue, IN / OUT / FLUSH / GET_ID, on a struct disk (an image,
 * read-only or behind the VM's copy-on-write overlay). Requests run on
 * the vCPU that notifies, inside its exit: the device drains available
 * chains, completes them in order, and with VIRTIO_F_EVENT_IDX moves
 * avail_event so a stream of requests costs one notification per burst
 * and one interrupt per batch.
 *
 * Work is bounded: an exit moves at most exit_budget bytes (each request
 * also costs VIRTIO_BLK_REQ_COST for its walk, header and status), a poll
 * what its caller allows. What is left (the rest of a request, the chains
 * after it) waits as a backlog and goes on at the next poll or exit, in
 * order, nothing dropped. A request past the advertised limits (a data
 * segment over size_max, more than seg_max of them) completes with
 * VIRTIO_BLK_S_IOERR, so aliasing segments cannot multiply the copying.
 *
 * The disk's token buckets may refuse a request: it is kept pending (its
 * chain stays popped, nothing after it is taken) and completed by
 * virtio_blk_service once its time comes; the caller polls. A chain that
 * breaks the ring rules (loop, index out of range, buffer outside guest
 * RAM, oversized, malformed request) fails the device: NEEDS_RESET, and
 * nothing else happens until the driver resets it. A write the overlay's
 * quota refuses completes with IOERR, and the device reports it once per
 * disk through on_quota. */
#ifndef CG_VIRTIO_BLK_H
#define CG_VIRTIO_BLK_H

#include <cg/types.h>
#include "devices/virtio/disk.h"
#include "devices/virtio/virtio_pci.h"
#include "devices/virtio/virtq.h"

#define VIRTIO_ID_BLOCK 2
#define VIRTIO_BLK_QUEUE_SIZE 256
/* Limits offered to the driver, and enforced (5.2.6.1: a request past
 * them is an I/O error): at most 126 data segments of 1 MiB each, so a
 * conforming chain (header and status included) stays well under
 * VIRTQ_MAX_SEGS, and one past the limits is still parsed and answered. */
#define VIRTIO_BLK_SEG_MAX 126u
#define VIRTIO_BLK_SIZE_MAX (1u << 20)
/* Bytes of copying one exit may do (256 KiB: tens of microseconds of
 * memcpy), and the budget charge of a request besides its data. */
#define VIRTIO_BLK_EXIT_BUDGET (256u << 10)
#define VIRTIO_BLK_REQ_COST 512u
/* virtio-blk feature bits (5.2.3). */
#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9
/* virtio_blk_config (5.2.4): capacity, size_max, seg_max, geometry,
 * blk_size; the device offers nothing after blk_size. */
#define VIRTIO_BLK_CFG_LEN 24
/* Class code: mass storage controller, other. */
#define VIRTIO_BLK_CLASS 0x018000

struct virtio_blk {
	struct virtio_pci tp;
	struct disk *disk;
	struct virtq q;
	struct virtq_mem mem;
	u64 (*now)(void);	/* nanoseconds, for the token buckets */
	char label[64];
	char id[VIRTIO_BLK_ID_BYTES];
	void (*on_quota)(struct vm *vm, u32 index);
	u32 index;		/* the disk's number in its VM */
	bool pending;		/* req/chain popped, not yet completed */
	bool admitted;		/* the pending one passed the buckets */
	bool counted;		/* the pending one was counted as throttled */
	u8 early;		/* status decided at parse (UNSUPP, IOERR past
				   the limits), or BLK_NO_EARLY */
	bool backlog;		/* stopped on a budget with work left */
	u64 ready_at;		/* when the pending request may go */
	u64 done;		/* data bytes of the pending one moved so far */
	u64 exit_budget;	/* bytes an exit may move (EXIT_BUDGET) */
	struct blk_req req;
	u8 *bounce;		/* staging between guest buffers and the disk */
	u32 bounce_size;	/* a multiple of 512 */
	u64 notifies;		/* queue notifications taken */
	u64 interrupts;		/* used-buffer notifications sent */
	u64 interrupts_intx;	/* of those, by INTx (MSI-X off): level, so
				   their EOI exits even with APIC virtualization */
	u64 taken_at;		/* now() when the pending chain was taken */
	u64 latency_ns;		/* sum over completed requests of taken to
				   completed (b->now()), waits included */
	u64 work_bytes;		/* budget spent, exits and polls */
	u64 deferrals;		/* times work stopped on a budget */
	struct virtq_chain chain;
};

#define BLK_NO_EARLY 0xFF

/* virtio_blk_init: a virtio-blk device of vm (named vm_name in messages,
 * interrupts and messages through env)
 * for disk number index of that VM, reading guest memory through mem,
 * with the clock now and bounce_size bytes (a nonzero multiple of 512) of
 * staging at bounce. on_quota (may be NULL) is called, device lock held,
 * the first time the disk's overlay quota refuses a write. Add b->tp.pci
 * to the VM's bus afterwards, then call virtio_pci_attached(&b->tp).
 * Returns 0 or -CG_EINVAL. */
int virtio_blk_init(struct virtio_blk *b, struct vm *vm, const struct virtio_pci_env *env,
		    const char *vm_name, u32 index,
		    struct disk *disk, const struct virtq_mem *mem, u64 (*now)(void),
		    u8 *bounce, u32 bounce_size, void (*on_quota)(struct vm *vm, u32 index));

/* virtio_blk_service: if the pending request's time has come at now, or
 * a backlog waits, go on with it and the queue, moving at most *budget
 * bytes (*budget is lowered by what was spent). Takes the device lock.
 * Returns when it next needs a call: the time the pending request may go
 * (now or earlier when a backlog waits), or 0 when nothing waits. */
u64 virtio_blk_service(struct virtio_blk *b, u64 now, u64 *budget);

/* virtio_blk_ready_at: as virtio_blk_service returns, without doing
 * anything (racy read: a hint for a timer). */
u64 virtio_blk_ready_at(const struct virtio_blk *b);

#endif
