/* virtio-blk (virtio-v1.1 section 5.2) over the PCI transport: one
 * request queue, IN / OUT / FLUSH / GET_ID, on a struct disk (an image,
 * read-only or behind the VM's copy-on-write overlay). Requests run on
 * the vCPU that notifies, inside its exit: the device drains every
 * available chain, completes them in order, and with VIRTIO_F_EVENT_IDX
 * moves avail_event so a stream of requests costs one notification per
 * burst and one interrupt per batch.
 *
 * The disk's token buckets may refuse a request: it is kept pending (its
 * chain stays popped, nothing after it is taken) and completed by
 * virtio_blk_service once its time comes; the caller polls. A chain that
 * breaks the ring rules (loop, index out of range, buffer outside guest
 * RAM, oversized, malformed request) fails the device: NEEDS_RESET, and
 * nothing else happens until the driver resets it. */
#ifndef CG_VIRTIO_BLK_H
#define CG_VIRTIO_BLK_H

#include <cg/types.h>
#include "devices/virtio/disk.h"
#include "devices/virtio/virtio_pci.h"
#include "devices/virtio/virtq.h"

#define VIRTIO_ID_BLOCK 2
#define VIRTIO_BLK_QUEUE_SIZE 256
/* Limits offered to the driver: seg_max leaves the header and the status
 * their own descriptors within VIRTQ_MAX_SEGS (virtq.h). */
#define VIRTIO_BLK_SEG_MAX (VIRTQ_MAX_SEGS - 2)
#define VIRTIO_BLK_SIZE_MAX (1u << 20)
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
	bool pending;		/* req/chain popped, waiting for the buckets */
	bool counted;		/* the pending one was counted as throttled */
	bool unsupported;	/* the pending one has an unknown type */
	bool backlog;		/* stopped with chains left (per-call bound) */
	u64 ready_at;		/* when the pending request may go */
	struct blk_req req;
	u8 *bounce;		/* staging between guest buffers and the disk */
	u32 bounce_size;	/* a multiple of 512 */
	u64 notifies;		/* queue notifications taken */
	u64 interrupts;		/* used-buffer notifications sent */
	struct virtq_chain chain;
};

/* virtio_blk_init: a virtio-blk device of vm (named vm_name in messages,
 * interrupts and messages through env)
 * for disk number index of that VM, reading guest memory through mem,
 * with the clock now and bounce_size bytes (a nonzero multiple of 512) of
 * staging at bounce. Add b->tp.pci to the VM's bus afterwards, then call
 * virtio_pci_attached(&b->tp). Returns 0 or -CG_EINVAL. */
int virtio_blk_init(struct virtio_blk *b, struct vm *vm, const struct virtio_pci_env *env,
		    const char *vm_name, u32 index,
		    struct disk *disk, const struct virtq_mem *mem, u64 (*now)(void),
		    u8 *bounce, u32 bounce_size);

/* virtio_blk_service: complete a pending (throttled) request if its time
 * has come at now, and go on draining the queue. Takes the device lock.
 * Returns when it next needs a call: the time the pending request may go,
 * or 0 when nothing waits. */
u64 virtio_blk_service(struct virtio_blk *b, u64 now);

/* virtio_blk_ready_at: as virtio_blk_service returns, without doing
 * anything (racy read: a hint for a timer). */
u64 virtio_blk_ready_at(const struct virtio_blk *b);

#endif
