/* VM networking wiring: see vm_net.h. Locks, in order:
 *   slot lock   per VM slot, keeps its NICs alive while a poll or the
 *	         console uses them;
 *   device lock one per NIC (the transport's);
 *   switch lock one per network.
 * A sender holds its own device lock, then the switch lock, and may only
 * TRY a receiving device's lock (never wait for it): a device holding
 * its lock may be waiting for the switch. A port is taken off its switch
 * under the switch lock before its device is freed, so a sender that
 * found it under that lock finds it alive. */
#include <cg/arch_base.h>
#include <cg/errno.h>
#include <cg/spinlock.h>
#include <cg/string.h>
#include "core/irq.h"
#include "core/vm.h"
#include "core/vm_net.h"
#include "core/vm_uplink.h"
#include "lib/fmt.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "devices/virtio/dev_pci.h"

struct vm_nic {
	struct virtio_net dev;
	struct vm *vm;
	struct net_switch *sw;
	u32 index;
	int port;		/* -1 until attached */
	struct net_frame *q;	/* the port's queue */
	u32 sent_to;		/* ports this device's batch queued frames on */
};

#define NIC_PAGES ((sizeof(struct vm_nic) + PAGE_SIZE - 1) / PAGE_SIZE)
#define QUEUE_PAGES ((NET_QUEUE_BYTES + PAGE_SIZE - 1) / PAGE_SIZE)

struct nic_slot {
	u32 lock;
	u32 count;
	struct vm_nic *nic[VMCFG_MAX_NICS];
};

static struct net_switch switches[VMCFG_MAX_NETWORKS];
static bool switch_made[VMCFG_MAX_NETWORKS];
static u32 switches_lock;
static struct nic_slot slots[VM_MAX];
static u32 nic_count;

static const struct virtio_pci_env vm_env = { irq_msi, irq_line, kprintf };

static u32 src_peek(void *ctx, const u8 **frame)
{
	struct vm_nic *n = ctx;

	return net_switch_peek(n->sw, (u32)n->port, frame);
}

static void src_pop(void *ctx, bool delivered)
{
	struct vm_nic *n = ctx;

	net_switch_pop(n->sw, (u32)n->port, delivered);
}

/* Device and switch locks held: move n's queue into its RX buffers. */
static void deliver_locked(struct vm_nic *n)
{
	struct virtio_net_src src = { src_peek, src_pop, n };

	virtio_net_rx(&n->dev, &src, NET_QUEUE_LEN);
}

static bool port_admit(void *ctx, u32 len, u64 now, u64 *ready_at, bool first)
{
	struct vm_nic *n = ctx;
	bool ok;

	spin_lock(&n->sw->lock);
	ok = net_switch_admit(n->sw, (u32)n->port, len, now, ready_at, first);
	spin_unlock(&n->sw->lock);
	return ok;
}

/* Switch lock held: hand on the frames net_switch_send queued on the ports
 * in mask: the uplink's port straight onto the wire, a VM's into its RX
 * buffers (one interrupt at most). skip: the sender, whose device lock its
 * caller holds (it takes its own frames when it lets go). */
static void deliver_mask(struct net_switch *sw, u32 mask, const struct vm_nic *skip)
{
	for (u32 d = 0; mask; d++, mask >>= 1) {
		struct vm_nic *to;

		/* A port that left since has no owner to deliver to. */
		if (!(mask & 1) || !sw->ports[d].used)
			continue;
		/* The uplink's port: straight onto the wire. */
		if (vm_uplink_kick(sw->ports[d].owner))
			continue;
		to = sw->ports[d].owner;
		/* Busy: its holder delivers when it lets go (port_unlocked). */
		if (to == skip || !spin_trylock(&to->dev.tp.lock))
			continue;
		deliver_locked(to);
		spin_unlock(&to->dev.tp.lock);
	}
}

void vm_net_deliver(struct net_switch *sw, u32 mask)
{
	deliver_mask(sw, mask, NULL);
}

/* Queue the frame on its receiving ports; port_flush hands the batch on. */
static void port_send(void *ctx, const u8 *frame, u32 len)
{
	struct vm_nic *n = ctx;
	struct net_switch *sw = n->sw;

	spin_lock(&sw->lock);
	n->sent_to |= net_switch_send(sw, (u32)n->port, frame, len);
	spin_unlock(&sw->lock);
}

/* The sender's batch is complete: move it into the receivers' RX buffers,
 * one interrupt per receiver at most, and the uplink's onto the wire. */
static void port_flush(void *ctx)
{
	struct vm_nic *n = ctx;
	struct net_switch *sw = n->sw;
	u32 mask = n->sent_to;

	if (!mask)
		return;
	n->sent_to = 0;
	spin_lock(&sw->lock);
	deliver_mask(sw, mask, n);
	spin_unlock(&sw->lock);
}

static void port_pull(void *ctx)
{
	struct vm_nic *n = ctx;

	spin_lock(&n->sw->lock);
	deliver_locked(n);
	spin_unlock(&n->sw->lock);
}

/* Nothing held: a racy look at the queue first, most accesses find it
 * empty. */
static void port_unlocked(void *ctx)
{
	struct vm_nic *n = ctx;

	if (!__atomic_load_n(&n->sw->ports[n->port].count, __ATOMIC_RELAXED))
		return;
	spin_lock(&n->dev.tp.lock);
	port_pull(n);
	spin_unlock(&n->dev.tp.lock);
}

static void port_link(void *ctx, bool up)
{
	struct vm_nic *n = ctx;
	const u8 *m = n->dev.mac;

	cg_marker("net-link", "vm=%s nic=%u network=%s mac=%02x:%02x:%02x:%02x:%02x:%02x state=%s",
		  n->vm->name, n->index, n->sw->name, m[0], m[1], m[2], m[3], m[4], m[5],
		  up ? "up" : "down");
}

struct net_switch *vm_net_switch(u32 i, const char *name)
{
	spin_lock(&switches_lock);
	if (!switch_made[i]) {
		net_switch_init(&switches[i], name);
		switch_made[i] = true;
	}
	spin_unlock(&switches_lock);
	return &switches[i];
}

static void nic_release(struct vm_nic *n)
{
	if (n->port >= 0) {
		spin_lock(&n->sw->lock);
		net_switch_detach(n->sw, (u32)n->port);
		spin_unlock(&n->sw->lock);
	}
	if (n->q)
		pmm_free(&mem_pmm, (u64)(uintptr_t)n->q, QUEUE_PAGES);
	pmm_free(&mem_pmm, (u64)(uintptr_t)n, NIC_PAGES);
}

static int nic_create(struct vm *vm, const struct vmcfg_nic *c, u32 i, struct vm_nic **out,
		      char *err, size_t len)
{
	u64 np = mem_alloc_pages(NIC_PAGES), qp = np ? mem_alloc_pages(QUEUE_PAGES) : 0;
	struct virtq_mem m = { vm_device_map, vm };
	struct virtio_net_port ops = { .admit = port_admit, .send = port_send, .pull = port_pull,
				       .link = port_link, .unlocked = port_unlocked, .flush = port_flush };
	struct vm_nic *n;
	char label[64];
	u8 mac[NET_ETH_ALEN];
	int port;

	if (!qp) {
		if (np)
			pmm_free(&mem_pmm, np, NIC_PAGES);
		fmt_snprintf(err, len, "not enough memory for virtio-net device %u", i);
		return -CG_ENOMEM;
	}
	n = mem_ptr(np);
	n->vm = vm;
	n->index = i;
	n->port = -1;
	n->q = mem_ptr(qp);
	n->sw = vm_net_switch(c->network, c->network_name);
	if (c->mac_given)
		memcpy(mac, c->mac, NET_ETH_ALEN);
	else
		net_mac_derive(vm_uplink_machine_prefix(), vm->name, i, mac);
	ops.ctx = n;
	fmt_snprintf(label, sizeof(label), "vm %s: virtio-net nic %u (network %s)", vm->name, i,
		     c->network_name);
	if (virtio_net_init(&n->dev, vm, &vm_env, label, mac, &m, vm_now_ns, &ops) ||
	    pci_bus_add(vm->dev.pci, &n->dev.tp.pci) < 0) {
		nic_release(n);
		fmt_snprintf(err, len, "cannot set up virtio-net device %u on the PCI bus (more than 31 devices?)", i);
		return -CG_EINVAL;
	}
	spin_lock(&n->sw->lock);
	port = net_switch_attach(n->sw, mac, true, c->bytes_per_s, c->packets_per_s, n->q, n,
				 vm_now_ns());
	spin_unlock(&n->sw->lock);
	if (port < 0) {
		pci_bus_remove(vm->dev.pci, &n->dev.tp.pci);
		nic_release(n);
		if (port == -CG_EBUSY)
			fmt_snprintf(err, len, "nic %u: MAC %02x:%02x:%02x:%02x:%02x:%02x is already on network %s; give the nic another \"mac\"",
				     i, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], c->network_name);
		else
			fmt_snprintf(err, len, "nic %u: network %s has %u ports already; put the VM on another network",
				     i, c->network_name, NET_PORTS_MAX);
		return port;
	}
	n->port = port;
	virtio_pci_attached(&n->dev.tp);
	*out = n;
	return 0;
}

int vm_net_create(struct vm *vm, const struct vmcfg_vm *cfg, char *err, size_t len)
{
	struct nic_slot *s = &slots[vm->id];
	int rc = 0;

	for (u32 i = 0; i < cfg->nic_count && i < VMCFG_MAX_NICS; i++) {
		struct vm_nic *n;

		rc = nic_create(vm, &cfg->nics[i], i, &n, err, len);
		if (rc)
			break;
		spin_lock(&s->lock);
		s->nic[s->count] = n;
		__atomic_store_n(&s->count, s->count + 1, __ATOMIC_RELEASE);
		spin_unlock(&s->lock);
		__atomic_fetch_add(&nic_count, 1, __ATOMIC_RELAXED);
	}
	return rc;
}

void vm_net_free(struct vm *vm)
{
	struct nic_slot *s = &slots[vm->id];
	struct vm_nic *list[VMCFG_MAX_NICS];
	u32 n;

	spin_lock(&s->lock);
	n = s->count;
	memcpy(list, s->nic, sizeof(list));
	__atomic_store_n(&s->count, 0, __ATOMIC_RELEASE);
	memset(s->nic, 0, sizeof(s->nic));
	spin_unlock(&s->lock);
	__atomic_fetch_sub(&nic_count, n, __ATOMIC_RELAXED);
	for (u32 i = 0; i < n; i++)
		nic_release(list[i]);
}

bool vm_net_any(void)
{
	return __atomic_load_n(&nic_count, __ATOMIC_RELAXED) != 0 || vm_uplink_any();
}

u64 vm_net_poll_all(u64 now)
{
	u64 next = vm_uplink_poll_all(now);

	for (u32 i = 0; i < VM_MAX; i++) {
		struct nic_slot *s = &slots[i];

		if (!__atomic_load_n(&s->count, __ATOMIC_ACQUIRE) || !spin_trylock(&s->lock))
			continue;
		for (u32 k = 0; k < s->count; k++) {
			struct vm_nic *n = s->nic[k];
			u64 t = virtio_net_ready_at(&n->dev) ? virtio_net_service(&n->dev, now) : 0;

			if (__atomic_load_n(&n->sw->ports[n->port].count, __ATOMIC_RELAXED) &&
			    spin_trylock(&n->dev.tp.lock)) {
				port_pull(n);
				spin_unlock(&n->dev.tp.lock);
			}
			if (t && (!next || t < next))
				next = t;
		}
		spin_unlock(&s->lock);
	}
	return next;
}

u32 vm_net_info(struct vm *vm, struct vm_nic_info *out, u32 max)
{
	struct nic_slot *s = &slots[vm->id];
	u32 count;

	spin_lock(&s->lock);
	count = s->count;
	for (u32 i = 0; i < count && i < max; i++) {
		struct vm_nic *n = s->nic[i];
		const struct net_port *p = &n->sw->ports[n->port];
		struct vm_nic_info *o = &out[i];

		memset(o, 0, sizeof(*o));
		o->index = i;
		o->slot = n->dev.tp.pci.slot;
		cg_strlcpy(o->network, n->sw->name, sizeof(n->sw->name), sizeof(o->network));
		memcpy(o->mac, n->dev.mac, NET_ETH_ALEN);
		o->port = (u32)n->port;
		spin_lock(&n->sw->lock);
		o->bps_limit = p->bps_limit;
		o->pps_limit = p->pps_limit;
		o->port_st = p->st;
		o->queued = p->count;
		spin_unlock(&n->sw->lock);
		o->dev_st = n->dev.st;
		o->up = n->dev.up;
		o->status = n->dev.tp.status;
		o->fail_reason = n->dev.tp.fail_reason;
	}
	spin_unlock(&s->lock);
	return count;
}

bool vm_net_switch_stats(u32 i, char *name, size_t name_size, u64 *flooded, u32 *ports)
{
	struct net_switch *sw;

	if (i >= VMCFG_MAX_NETWORKS || !__atomic_load_n(&switch_made[i], __ATOMIC_ACQUIRE))
		return false;
	sw = &switches[i];
	spin_lock(&sw->lock);
	cg_strlcpy(name, sw->name, sizeof(sw->name), name_size);
	*flooded = sw->flooded;
	*ports = 0;
	for (u32 p = 0; p < NET_PORTS_MAX; p++)
		*ports += sw->ports[p].used;
	spin_unlock(&sw->lock);
	return true;
}
