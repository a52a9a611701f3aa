/* A VM's storage, wired into the monitor: its PCI bus (every VM has one,
 * with the host bridge), one virtio-blk device per `disk` line of its
 * description, the images they share, and the disks themselves, which
 * outlive a VM reset (a keep overlay stays, a discard overlay is emptied)
 * and end with the VM. Overlays live in monitor memory only: they do not
 * survive a power cycle of the machine. */
#ifndef CG_VM_DISKS_H
#define CG_VM_DISKS_H

#include <cg/types.h>
#include "devices/virtio/disk.h"

/* Bytes of device work one poll of one VM may do (its disks together):
 * tens of microseconds of copying, between two slices. */
#define VM_DISKS_POLL_BUDGET (512u << 10)

struct vm;
struct vmcfg_vm;

/* vm_disks_create: build vm's PCI bus and its disks' devices from cfg
 * (reusing the disks a reset kept). Returns 0, or a negative error with
 * err set ("what failed and the fix"); vm_disks_free undoes a partial
 * build. */
int vm_disks_create(struct vm *vm, const struct vmcfg_vm *cfg, char *err, size_t err_size);

/* vm_disks_free: give back vm's bus and devices (no vCPU of vm may run).
 * Its disks are kept for the rebuilt VM when vm is resetting
 * (end_kind VM_END_RESET), with discard overlays emptied; otherwise they
 * are detached and their overlays freed. */
void vm_disks_free(struct vm *vm);

/* vm_disks_poll: complete vm's throttled requests whose time has come,
 * and go on with backlogs that exits left (now: vm_now_ns()), moving at
 * most VM_DISKS_POLL_BUDGET bytes. Safe from any CPU at any time; when
 * another CPU polls vm at the same moment it returns 0 at once (that CPU
 * does the work). Returns the time it next needs a call, or 0 when
 * nothing waits. The scheduler calls it at the start of a slice of vm's
 * vCPU, so the work is paid from vm's own share. */
u64 vm_disks_poll(struct vm *vm, u64 now);

/* vm_disks_take_debt: the timestamp ticks vm_disks_poll_all spent on
 * vm's device work while none of its vCPUs wanted a CPU, since the last
 * call (and zero then). The scheduler adds them to the run time of vm's
 * next slice, so the policy charges that work to vm's share. */
u64 vm_disks_take_debt(struct vm *vm);

/* vm_disks_any: some VM has a disk now (a plain load, for a check before
 * vm_disks_poll_all on hot paths). */
bool vm_disks_any(void);

/* vm_disks_poll_all: vm_disks_poll for every VM none of whose vCPUs runs
 * or waits for a CPU (the others do theirs in their own slices: see
 * vm_disks_poll), its cost kept as that VM's debt (vm_disks_take_debt);
 * the earliest next time of those VMs, or 0. */
u64 vm_disks_poll_all(u64 now);

/* vm_disks_next: when vm_disks_poll(vm, ...) next has work, or 0 for
 * never: a few plain loads, for a check on every exit or scheduler pass
 * ("if (t && now >= t) vm_disks_poll(vm, now)"). Call it only while vm
 * exists (from its vCPUs, or with its lifetime otherwise held). */
u64 vm_disks_next(struct vm *vm);

/* One disk as the console shows it. */
struct vm_disk_info {
	u32 index;
	u32 slot;		/* PCI device number on bus 0 */
	char image[DISK_NAME_SIZE];
	char module[DISK_MODULE_SIZE];
	u32 image_users;	/* disks sharing the image now */
	u64 capacity;		/* bytes */
	enum disk_mode mode;
	enum disk_reset on_reset;
	u64 iops_limit, bps_limit;
	struct blk_overlay_stats overlay;
	struct disk_stats st;
	u8 status;		/* virtio device_status */
	const char *fail_reason; /* why NEEDS_RESET, or NULL */
	bool waiting;		/* a request waits (buckets, or a budget) */
	u64 notifies, interrupts;
	u64 interrupts_intx;	/* interrupts sent by INTx, not MSI-X */
	u64 latency_ns;		/* summed over completed requests (virtio_blk.h) */
	u64 work_bytes;		/* device work done, in budget bytes */
	u64 deferrals;		/* times it stopped on a budget */
};

/* vm_disks_info: vm's disks, at most max of them, into out. Returns how
 * many it has. */
u32 vm_disks_info(struct vm *vm, struct vm_disk_info *out, u32 max);

#endif
