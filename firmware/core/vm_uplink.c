/* Uplinks: see vm_uplink.h. One per network at most, each with its own
 * host NIC (the toolchain and vms.cfg parser refuse a NIC named twice). */
#include <cg/errno.h>
#include <cg/spinlock.h>
#include <cg/string.h>
#include "core/virt.h"
#include "core/vm_io.h"
#include "core/vm_net.h"
#include "core/vm_uplink.h"
#include "drivers/nic.h"
#include "lib/fmt.h"
#include "lib/irq_storm.h"
#include "lib/log.h"
#include "lib/mem.h"

#define QUEUE_PAGES ((NET_QUEUE_BYTES + PAGE_SIZE - 1) / PAGE_SIZE)

struct vm_uplink {
	bool used;
	struct host_nic *nic;
	struct net_switch *sw;
	u32 port;
	bool link;
	u64 spoofed_in;
	u64 probes;		/* identification frames sent (vm_uplink_probe) */
	/* Interrupts (MSI NICs only). irq_lock guards storm and irqs: the
	 * interrupt path takes it with the switch lock held elsewhere. */
	bool irq;		/* the NIC signals by MSI */
	bool dev_on;		/* its causes are unmasked (switch lock) */
	bool pending;		/* an interrupt found the switch busy: pump at the next pass */
	bool backlog;		/* frames left behind (ring full, budget spent): poll soon */
	u64 last_pump;		/* vm_now_ns of the last pump */
	u32 irq_lock;
	struct irq_storm storm;
	u64 irqs;
};

static struct vm_uplink uplinks[VMCFG_MAX_NETWORKS];
static u32 uplink_count;

static void mac_fmt(const u8 *m, char *out, size_t n)
{
	fmt_snprintf(out, n, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

/* A frame from the wire whose source is the MAC of a VM's (locked) port
 * would move that VM's address to the uplink in the switch's table and
 * take its traffic: dropped and counted instead. */
static bool claims_vm_mac(const struct net_switch *sw, const u8 *frame)
{
	for (u32 p = 0; p < NET_PORTS_MAX; p++)
		if (sw->ports[p].used && sw->ports[p].locked &&
		    !memcmp(sw->ports[p].mac, frame + NET_ETH_ALEN, NET_ETH_ALEN))
			return true;
	return false;
}

/* One frame from the NIC, into the switch as the uplink port's. */
static void from_wire(void *ctx, const u8 *frame, u32 len)
{
	struct vm_uplink *u = ctx;

	if (len >= NET_ETH_HLEN && claims_vm_mac(u->sw, frame)) {
		u->spoofed_in++;
		return;
	}
	vm_net_deliver(u->sw, net_switch_send(u->sw, u->port, frame, len));
}

/* Switch lock held: an MSI NIC's causes unmasked unless a storm holds
 * them masked (and the hold ended: unmasked again). */
static void irq_sync(struct vm_uplink *u, u64 now)
{
	bool want;

	if (!u->irq)
		return;
	spin_lock(&u->irq_lock);
	irq_storm_unmask_due(&u->storm, now);
	want = !u->storm.masked;
	spin_unlock(&u->irq_lock);
	if (want != u->dev_on) {
		u->nic->ops->irq_enable(u->nic, want);
		u->dev_on = want;
	}
}

/* Switch lock held: the NIC's causes read and cleared first (so a frame
 * that lands after the receive poll below signals again), the port's
 * queue onto the wire while the TX ring takes it, then what the NIC
 * received, then its link. */
static void pump(struct vm_uplink *u)
{
	struct host_nic *nic = u->nic;
	u64 now = vm_now_ns();
	const u8 *f;
	u32 len, ev;

	__atomic_store_n(&u->pending, false, __ATOMIC_RELAXED);
	u->last_pump = now;
	irq_sync(u, now);
	ev = nic->ops->irq_ack(nic);
	for (u32 n = 0; n < NET_QUEUE_LEN && (len = net_switch_peek(u->sw, u->port, &f)); n++) {
		int rc = nic->ops->tx(nic, f, len);

		if (rc == -CG_EBUSY)
			break;	/* the ring is full: the frame waits for the next poll */
		net_switch_pop(u->sw, u->port, rc == 0);
	}
	u->backlog = nic->ops->rx_poll(nic, from_wire, u, UPLINK_RX_BUDGET) == UPLINK_RX_BUDGET ||
		     u->sw->ports[u->port].count;
	if (ev & HOST_NIC_EV_LINK) {
		bool up = nic->ops->link(nic);

		if (up != u->link) {
			u->link = up;
			cg_marker("net-uplink", "network=%s nic=nic%u state=%s", u->sw->name, nic->index,
				  up ? "up" : "down");
		}
	}
}

bool vm_uplink_kick(void *owner)
{
	struct vm_uplink *u = owner;

	if (u < &uplinks[0] || u >= &uplinks[VMCFG_MAX_NETWORKS] || !u->used)
		return false;
	pump(u);
	return true;
}

/* Whether u is polled at every pass (no MSI, a storm holding it masked,
 * frames left behind) rather than on interrupts and the safety poll. */
static bool polled(const struct vm_uplink *u)
{
	return !u->irq || __atomic_load_n(&u->storm.masked, __ATOMIC_RELAXED) ||
	       __atomic_load_n(&u->backlog, __ATOMIC_RELAXED);
}

u64 vm_uplink_poll_all(u64 now)
{
	u64 next = 0;

	if (!__atomic_load_n(&uplink_count, __ATOMIC_ACQUIRE))
		return 0;
	for (u32 i = 0; i < VMCFG_MAX_NETWORKS; i++) {
		struct vm_uplink *u = &uplinks[i];
		u64 due;

		if (!__atomic_load_n(&u->used, __ATOMIC_ACQUIRE))
			continue;
		/* Another CPU may have pumped since now was read: last_pump
		 * may be ahead of now. */
		if ((polled(u) || __atomic_load_n(&u->pending, __ATOMIC_RELAXED) ||
		     now >= __atomic_load_n(&u->last_pump, __ATOMIC_RELAXED) + UPLINK_SAFETY_NS) &&
		    spin_trylock(&u->sw->lock)) {
			pump(u);	/* else another CPU is in this switch: it pumps */
			spin_unlock(&u->sw->lock);
		}
		due = polled(u) ? now + UPLINK_POLL_NS
				: __atomic_load_n(&u->last_pump, __ATOMIC_RELAXED) + UPLINK_SAFETY_NS;
		/* Not in the past (the switch was busy): no idle CPU spins on it. */
		if (due < now + UPLINK_POLL_NS)
			due = now + UPLINK_POLL_NS;
		if (!next || due < next)
			next = due;
	}
	return next;
}

bool vm_uplink_any(void)
{
	return __atomic_load_n(&uplink_count, __ATOMIC_ACQUIRE) != 0;
}

/* The interrupt path (core/virt.h): count it against the storm bound,
 * then pump at once if the switch is free; if not, whoever holds it may
 * be past its receive poll, so the next scheduler pass pumps (pending). */
void virt_host_irq(u8 vector)
{
	u32 index = (u32)vector - VIRT_HOST_IRQ_BASE;
	struct vm_uplink *u = NULL;
	u64 now = vm_now_ns();

	for (u32 i = 0; i < VMCFG_MAX_NETWORKS && !u; i++)
		if (__atomic_load_n(&uplinks[i].used, __ATOMIC_ACQUIRE) && uplinks[i].irq &&
		    uplinks[i].nic->index == index)
			u = &uplinks[i];
	if (!u)
		return;	/* a NIC no network takes keeps its causes masked: one in flight */
	spin_lock(&u->irq_lock);
	u->irqs++;
	irq_storm_hit(&u->storm, now);
	spin_unlock(&u->irq_lock);
	__atomic_store_n(&u->pending, true, __ATOMIC_RELAXED);
	if (spin_trylock(&u->sw->lock)) {
		pump(u);	/* a storm masks the NIC here (irq_sync) */
		spin_unlock(&u->sw->lock);
	}
}

u16 vm_uplink_machine_prefix(void)
{
	const struct host_nic *nic = host_nic_get(0);

	return nic ? (u16)(nic->mac[4] << 8 | nic->mac[5]) : VM_NET_MACHINE_PREFIX;
}

static void attach(u32 i, const struct vmcfg_network *net)
{
	struct host_nic *nic = host_nic_get((u32)net->uplink);
	struct vm_uplink *u = &uplinks[i];
	char mac[18];
	u64 qp;
	int port;

	if (!nic) {
		kprintf("network %s: uplink nic%d: the monitor found %u host NICs (see the host-nic lines at boot; supported: Intel 8254x and 82574); the network runs without an uplink, remove \"uplink\" or fit the NIC\n",
			net->name, net->uplink, host_nic_count());
		cg_marker("net-uplink", "network=%s nic=nic%d state=missing", net->name, net->uplink);
		return;
	}
	qp = mem_alloc_pages(QUEUE_PAGES);
	u->sw = vm_net_switch(i, net->name);
	mac_fmt(nic->mac, mac, sizeof(mac));
	if (!qp) {
		kprintf("network %s: uplink nic%u: no memory for its queue; the network runs without an uplink\n",
			net->name, nic->index);
		cg_marker("net-uplink", "network=%s nic=nic%u state=failed", net->name, nic->index);
		return;
	}
	spin_lock(&u->sw->lock);
	/* Not locked to a MAC: the port speaks for every host behind it. */
	port = net_switch_attach(u->sw, nic->mac, false, 0, 0, mem_ptr(qp), u, vm_now_ns());
	if (port >= 0) {
		u->nic = nic;
		u->port = (u32)port;
		u->link = nic->ops->link(nic);
		u->irq = nic->vector != 0;
		irq_storm_init(&u->storm);
		u->last_pump = vm_now_ns();
		__atomic_store_n(&u->used, true, __ATOMIC_RELEASE);
		/* Unmasked under the lock, with used set: the first interrupt
		 * finds its uplink. */
		irq_sync(u, u->last_pump);
	}
	spin_unlock(&u->sw->lock);
	if (port < 0) {
		pmm_free(&mem_pmm, qp, QUEUE_PAGES);
		kprintf("network %s: uplink nic%u: the switch has no free port; the network runs without an uplink\n",
			net->name, nic->index);
		cg_marker("net-uplink", "network=%s nic=nic%u state=failed", net->name, nic->index);
		return;
	}
	__atomic_fetch_add(&uplink_count, 1, __ATOMIC_RELEASE);
	kprintf("network %s: bridged to nic%u (%s, %s), port %u, %s\n", net->name, nic->index, nic->ops->name,
		mac, u->port, u->irq ? "MSI interrupts" : "polled");
	cg_marker("net-uplink", "network=%s nic=nic%u driver=%s mac=%s port=%u state=%s irq=%s", net->name,
		  nic->index, nic->ops->name, mac, u->port, u->link ? "up" : "down", u->irq ? "msi" : "poll");
}

void vm_uplink_start(const struct vmcfg *cfg)
{
	for (u32 i = 0; i < cfg->network_count && i < VMCFG_MAX_NETWORKS; i++)
		if (cfg->networks[i].uplink >= 0 && !uplinks[i].used)
			attach(i, &cfg->networks[i]);
}

bool vm_uplink_info(u32 i, struct vm_uplink_info *out)
{
	struct vm_uplink *u;
	const struct net_port *p;

	if (i >= VMCFG_MAX_NETWORKS || !__atomic_load_n(&uplinks[i].used, __ATOMIC_ACQUIRE))
		return false;
	u = &uplinks[i];
	if (!out)
		return true;
	memset(out, 0, sizeof(*out));
	out->nic = u->nic->index;
	out->driver = u->nic->ops->name;
	out->bdf = u->nic->bdf;
	memcpy(out->mac, u->nic->mac, NET_ETH_ALEN);
	out->port = u->port;
	spin_lock(&u->sw->lock);
	p = &u->sw->ports[u->port];
	out->link = u->link;
	out->port_st = p->st;
	out->queued = p->count;
	out->tx_busy = u->nic->st.tx_busy;
	out->rx_errors = u->nic->st.rx_errors;
	out->spoofed_in = u->spoofed_in;
	out->probes = u->probes;
	out->irq = u->irq;
	spin_unlock(&u->sw->lock);
	spin_lock(&u->irq_lock);
	out->irqs = u->irqs;
	out->storms = u->storm.storms;
	out->storm_masked = u->storm.masked;
	spin_unlock(&u->irq_lock);
	return true;
}

/* IEEE Std 802 Local Experimental Ethertype 1: for frames of a protocol
 * of one's own, never confused with a real one on the LAN. */
#define PROBE_ETHERTYPE 0x88B5

int vm_uplink_probe(u32 i)
{
	struct vm_uplink *u;
	u8 f[NET_ETH_HLEN + 64];
	int rc;

	if (i >= VMCFG_MAX_NETWORKS || !__atomic_load_n(&uplinks[i].used, __ATOMIC_ACQUIRE))
		return -CG_ENOENT;
	u = &uplinks[i];
	memset(f, 0, sizeof(f));
	memset(f, 0xFF, NET_ETH_ALEN);
	memcpy(f + NET_ETH_ALEN, u->nic->mac, NET_ETH_ALEN);
	f[12] = PROBE_ETHERTYPE >> 8;
	f[13] = PROBE_ETHERTYPE & 0xFF;
	spin_lock(&u->sw->lock);
	fmt_snprintf((char *)f + NET_ETH_HLEN, sizeof(f) - NET_ETH_HLEN,
		     "crossguard uplink probe network=%s nic=nic%u seq=%lu", u->sw->name, u->nic->index,
		     u->probes + 1);
	rc = u->nic->ops->tx(u->nic, f, sizeof(f));
	if (!rc)
		u->probes++;
	spin_unlock(&u->sw->lock);
	return rc;
}
