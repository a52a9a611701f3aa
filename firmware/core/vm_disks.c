/* VM storage wiring: see vm_disks.h. Three kinds of state:
 *   images   the shared image table (disk.c), filled as VMs attach;
 *   sets     per configured VM, its disks (overlays, buckets, counters),
 *	      keyed by the VM's description so a reset finds them again;
 *   devs     per VM slot, its bus and virtio-blk devices, which end with
 *	      the VM instance.
 * tables_lock guards images and sets: taken only while a VM is built or
 * freed, never around device work (an image is never written, so sharing
 * one needs nothing more). Each devs slot has its own lock, which keeps
 * the slot's devices alive while a poll or the console uses them; device
 * work runs under that and the device's own lock (order: slot, then
 * device). So one VM's disk work never holds up another VM's CPU. */
#include <cg/arch_base.h>
#include <cg/errno.h>
#include <cg/spinlock.h>
#include <cg/string.h>
#include "devices/virtio/dev_pci.h"
#include "lib/fmt.h"
#include "core/irq.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "devices/virtio/virtio_blk.h"
#include "core/vm.h"
#include "core/vm_disks.h"
#include "core/vm_modules.h"

/* 16 KiB of staging per device: a request is copied through it in pieces
 * (each a disk read or write and a chain copy), so its size only sets how
 * many; 16 KiB keeps a VM with a disk within 64 KiB of monitor memory
 * beyond its RAM (README, vm_overhead_bytes). */
#define BLK_BOUNCE_PAGES 4
#define BLK_DEV_PAGES ((sizeof(struct virtio_blk) + PAGE_SIZE - 1) / PAGE_SIZE)
#define BUS_PAGES ((sizeof(struct pci_bus) + PAGE_SIZE - 1) / PAGE_SIZE)

struct disk_set {
	const struct vmcfg_vm *owner;	/* NULL: free */
	u32 count;
	struct disk disks[VMCFG_MAX_DISKS];
};

struct vm_devs {
	u32 lock;		/* the slot's own: see the top of the file */
	u32 rotor;		/* the disk a poll starts with: fair among them */
	struct pci_bus *bus;
	u32 count;
	struct virtio_blk *blk[VMCFG_MAX_DISKS];
};

static u32 tables_lock;
static struct disk_images images;
static struct disk_set sets[VM_MAX];
static struct vm_devs devs[VM_MAX];
/* Timestamp ticks of device work a scheduler pass did for each VM slot
 * while none of its vCPUs wanted a CPU: charged to the VM's next slice
 * (vm_disks_take_debt), so a VM that halts after notifying does not get
 * its backlog done for free on other VMs' time. */
static u64 slot_debt[VM_MAX];

static void *overlay_alloc(void *ctx, u64 npages)
{
	(void)ctx;
	/* Not zeroed: the overlay initialises what it takes. */
	u64 p = npages == 1 ? pmm_alloc(&mem_pmm) : pmm_alloc_contig(&mem_pmm, npages, PAGE_SIZE);
	return p ? mem_ptr(p) : NULL;
}

static void overlay_free(void *ctx, void *p, u64 npages)
{
	(void)ctx;
	pmm_free(&mem_pmm, (u64)(uintptr_t)p, npages);
}

static const struct virtio_pci_env vm_env = { irq_msi, irq_line, kprintf };

/* The overlay's quota refused a write (first time for this disk). */
static void disk_quota_marker(struct vm *vm, u32 index)
{
	cg_marker("disk-quota", "vm=%s disk=%u", vm->name, index);
}

static const struct blk_overlay_alloc overlay_pages = { overlay_alloc, overlay_free, NULL };

static struct disk_set *set_find(const struct vmcfg_vm *cfg)
{
	for (u32 i = 0; i < VM_MAX; i++)
		if (sets[i].owner == cfg)
			return &sets[i];
	return NULL;
}

static void set_drop(struct disk_set *s)
{
	for (u32 i = 0; i < s->count; i++)
		disk_detach(&s->disks[i]);
	s->count = 0;
	s->owner = NULL;
}

/* Attach cfg's disks into a free set. Lock held. */
static int set_build(const struct vmcfg_vm *cfg, struct disk_set **out, char *err, size_t n)
{
	struct disk_set *s = set_find(NULL);
	int rc;

	if (!s) {
		fmt_snprintf(err, n, "no free disk set (at most %u VMs)", VM_MAX);
		return -CG_ENOMEM;
	}
	s->owner = cfg;
	s->count = 0;
	for (u32 i = 0; i < cfg->disk_count; i++) {
		const struct vmcfg_disk *c = &cfg->disks[i];
		struct disk_image *img;
		const u8 *data;
		u64 size;

		if (vm_module_find(c->module, &data, &size)) {
			fmt_snprintf(err, n, "disk image '%s': module '%s' is not among the boot modules; rebuild the image",
				     c->image_name, c->module);
			rc = -CG_ENOENT;
			goto fail;
		}
		rc = disk_image_get(&images, c->image_name, c->module, data, size, &img, err, n);
		if (rc)
			goto fail;
		rc = disk_attach(&s->disks[i], img, c->rw ? DISK_RW : DISK_RO,
				 c->discard ? DISK_DISCARD : DISK_KEEP, c->iops, c->bytes_per_s,
				 c->overlay_max_mib, &overlay_pages, vm_now_ns());
		if (rc) {
			fmt_snprintf(err, n, "not enough memory for the overlay directory of disk %u (image '%s')",
				     i, c->image_name);
			goto fail;
		}
		s->count = i + 1;
	}
	*out = s;
	return 0;
fail:
	set_drop(s);
	return rc;
}

/* Block devices on every VM's bus: the scheduler's poll costs nothing
 * while there are none. */
static u32 blk_devices;

static void devs_release(struct vm *vm, struct vm_devs *d)
{
	__atomic_fetch_sub(&blk_devices, d->count, __ATOMIC_RELAXED);
	for (u32 i = 0; i < d->count; i++) {
		struct virtio_blk *b = d->blk[i];

		if (!b)
			continue;
		if (b->bounce)
			pmm_free(&mem_pmm, (u64)(uintptr_t)b->bounce, BLK_BOUNCE_PAGES);
		pmm_free(&mem_pmm, (u64)(uintptr_t)b, BLK_DEV_PAGES);
	}
	if (d->bus)
		pmm_free(&mem_pmm, (u64)(uintptr_t)d->bus, BUS_PAGES);
	memset(d, 0, sizeof(*d));
	vm->dev.pci = NULL;
}

/* One virtio-blk device for disk i of set s, on vm's bus. */
static int blk_create(struct vm *vm, struct vm_devs *d, struct disk_set *s, u32 i,
		      char *err, size_t n)
{
	u64 bp = mem_alloc_pages(BLK_DEV_PAGES), bounce = bp ? mem_alloc_pages(BLK_BOUNCE_PAGES) : 0;
	struct virtq_mem m = { vm_device_map, vm };
	struct virtio_blk *b;

	if (!bounce) {
		if (bp)
			pmm_free(&mem_pmm, bp, BLK_DEV_PAGES);
		fmt_snprintf(err, n, "not enough memory for virtio-blk device %u", i);
		return -CG_ENOMEM;
	}
	b = mem_ptr(bp);
	if (virtio_blk_init(b, vm, &vm_env, vm->name, i, &s->disks[i], &m, vm_now_ns, mem_ptr(bounce),
			    BLK_BOUNCE_PAGES * PAGE_SIZE, disk_quota_marker) ||
	    pci_bus_add(d->bus, &b->tp.pci) < 0) {
		pmm_free(&mem_pmm, bounce, BLK_BOUNCE_PAGES);
		pmm_free(&mem_pmm, bp, BLK_DEV_PAGES);
		fmt_snprintf(err, n, "cannot set up virtio-blk device %u on the PCI bus", i);
		return -CG_EINVAL;
	}
	virtio_pci_attached(&b->tp);
	d->blk[d->count++] = b;
	__atomic_fetch_add(&blk_devices, 1, __ATOMIC_RELAXED);
	return 0;
}

int vm_disks_create(struct vm *vm, const struct vmcfg_vm *cfg, char *err, size_t n)
{
	struct vm_devs built;
	struct disk_set *s;
	u64 bus;
	int rc = 0;

	memset(&built, 0, sizeof(built));
	bus = mem_alloc_pages(BUS_PAGES);
	if (!bus) {
		fmt_snprintf(err, n, "not enough memory for the VM's PCI bus");
		return -CG_ENOMEM;
	}
	built.bus = mem_ptr(bus);
	pci_bus_init(built.bus);

	spin_lock(&tables_lock);
	s = set_find(cfg);
	if (!s && cfg->disk_count)
		rc = set_build(cfg, &s, err, n);
	spin_unlock(&tables_lock);
	for (u32 i = 0; !rc && s && i < s->count; i++)
		rc = blk_create(vm, &built, s, i, err, n);

	/* Published even on failure, so vm_disks_free finds what to undo. */
	struct vm_devs *slot = &devs[vm->id];

	spin_lock(&slot->lock);
	slot->bus = built.bus;
	slot->rotor = 0;
	memcpy(slot->blk, built.blk, sizeof(slot->blk));
	__atomic_store_n(&slot->count, built.count, __ATOMIC_RELEASE);
	spin_unlock(&slot->lock);
	vm->dev.pci = built.bus;
	return rc;
}

void vm_disks_free(struct vm *vm)
{
	struct vm_devs d, *slot = &devs[vm->id];
	struct disk_set *s;

	/* Once the slot is empty no poll or console reaches the devices. */
	spin_lock(&slot->lock);
	d = *slot;
	__atomic_store_n(&slot->count, 0, __ATOMIC_RELEASE);
	slot->bus = NULL;
	memset(slot->blk, 0, sizeof(slot->blk));
	spin_unlock(&slot->lock);
	__atomic_store_n(&slot_debt[vm->id], 0, __ATOMIC_RELAXED);
	spin_lock(&tables_lock);
	s = vm->cfg ? set_find(vm->cfg) : NULL;
	if (s) {
		if (vm->end_kind == VM_END_RESET && vm->state == VM_ENDED) {
			for (u32 i = 0; i < s->count; i++)
				disk_vm_reset(&s->disks[i]);
		} else {
			set_drop(s);
		}
	}
	spin_unlock(&tables_lock);
	devs_release(vm, &d);
}

/* Poll slot i: service its devices within the per-poll budget (work) or
 * only read when they next need a call. Returns that time, or 0. */
static u64 slot_poll(u32 i, u64 now, bool work)
{
	struct vm_devs *d = &devs[i];
	u64 next = 0, budget = VM_DISKS_POLL_BUDGET;
	u32 n;

	/* Most VMs have no disk: the scheduler polls them all on every pass. */
	if (!__atomic_load_n(&d->count, __ATOMIC_ACQUIRE))
		return 0;
	/* Another CPU polls this VM now (or it is being freed): that CPU
	 * does the work and sets its own timer; nobody waits for it here. */
	if (!spin_trylock(&d->lock))
		return 0;
	n = d->count;
	for (u32 k = 0; k < n; k++) {
		struct virtio_blk *b = d->blk[(d->rotor + k) % n];
		u64 t = work ? virtio_blk_service(b, now, &budget) : virtio_blk_ready_at(b);

		if (t && (!next || t < next))
			next = t;
	}
	/* The next poll starts one disk further, so a disk with a backlog
	 * cannot take every poll's budget from the VM's other disks. */
	if (work && n)
		d->rotor = (d->rotor + 1) % n;
	spin_unlock(&d->lock);
	return next;
}

u64 vm_disks_poll(struct vm *vm, u64 now)
{
	return slot_poll(vm->id, now, true);
}

u64 vm_disks_next(struct vm *vm)
{
	const struct vm_devs *d = &devs[vm->id];
	u32 n = __atomic_load_n(&d->count, __ATOMIC_ACQUIRE);
	u64 next = 0;

	/* Racy on purpose (a hint): blk pointers of a live slot stay valid
	 * while vm exists, which the caller guarantees. */
	for (u32 i = 0; i < n && i < VMCFG_MAX_DISKS; i++) {
		u64 t = virtio_blk_ready_at(d->blk[i]);

		if (t && (!next || t < next))
			next = t;
	}
	return next;
}

u64 vm_disks_take_debt(struct vm *vm)
{
	/* One load first: most VMs never owe anything, and the exchange
	 * would pull the line into every CPU's cache on every slice. */
	if (!__atomic_load_n(&slot_debt[vm->id], __ATOMIC_RELAXED))
		return 0;
	return __atomic_exchange_n(&slot_debt[vm->id], 0, __ATOMIC_RELAXED);
}

bool vm_disks_any(void)
{
	return __atomic_load_n(&blk_devices, __ATOMIC_RELAXED) != 0;
}

/* Whether one of vm's vCPUs runs or waits for a CPU: its device work then
 * waits for its own next slice (vm_disks_poll from the scheduler at the
 * start of the slice), so it is paid from the VM's own share. */
static bool vm_has_cpu_time(const struct vm *vm)
{
	for (u32 i = 0; i < vm->vcpu_count && i < VM_MAX_VCPUS; i++) {
		const struct vcpu *v = vm->vcpus[i];
		u32 st = v ? v->state : VCPU_STOPPED;

		if (st == VCPU_RUNNABLE || st == VCPU_RUNNING)
			return true;
	}
	return false;
}

u64 vm_disks_poll_all(u64 now)
{
	u64 next = 0;

	for (u32 i = 0; i < VM_MAX; i++) {
		u64 t;

		if (!__atomic_load_n(&devs[i].count, __ATOMIC_ACQUIRE))
			continue;
		/* vm_table slots and their vCPU structs are never freed, so a
		 * racy look at the states is safe; a stale answer only moves
		 * the work to the VM's next slice or to this pass. */
		/* Its own next slice does it (the VM runs or waits for a CPU):
		 * neither work nor a wake-up for it here, or an idle CPU would
		 * spin on a backlog it must leave alone. */
		if (vm_has_cpu_time(&vm_table[i]))
			continue;
		u64 t0 = arch_timestamp();

		t = slot_poll(i, now, true);
		__atomic_fetch_add(&slot_debt[i], arch_timestamp() - t0, __ATOMIC_RELAXED);
		if (t && (!next || t < next))
			next = t;
	}
	return next;
}

u32 vm_disks_info(struct vm *vm, struct vm_disk_info *out, u32 max)
{
	struct vm_devs *d = &devs[vm->id];
	u32 count;

	spin_lock(&d->lock);
	count = d->count;
	for (u32 i = 0; i < count && i < max; i++) {
		const struct virtio_blk *b = d->blk[i];
		const struct disk *k = b->disk;
		struct vm_disk_info *o = &out[i];

		memset(o, 0, sizeof(*o));
		o->index = i;
		o->slot = b->tp.pci.slot;
		cg_strlcpy(o->image, k->image->name, DISK_NAME_SIZE, DISK_NAME_SIZE);
		cg_strlcpy(o->module, k->image->module, DISK_MODULE_SIZE, DISK_MODULE_SIZE);
		o->image_users = k->image->users;
		o->capacity = k->sectors * DISK_SECTOR;
		o->mode = k->mode;
		o->on_reset = k->on_reset;
		o->iops_limit = k->iops_limit;
		o->bps_limit = k->bps_limit;
		disk_overlay_stats(k, &o->overlay);
		o->st = k->st;
		o->status = b->tp.status;
		o->fail_reason = b->tp.fail_reason;
		o->waiting = b->pending || b->backlog;
		o->notifies = b->notifies;
		o->interrupts = b->interrupts;
		o->interrupts_intx = b->interrupts_intx;
		o->latency_ns = b->latency_ns;
		o->work_bytes = b->work_bytes;
		o->deferrals = b->deferrals;
	}
	spin_unlock(&d->lock);
	return count;
}
