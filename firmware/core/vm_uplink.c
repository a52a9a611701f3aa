/* Uplinks: see vm_uplink.h. One per network at most, each with its own
 * host NIC (the toolchain and vms.cfg parser refuse a NIC named twice). */
#include <cg/errno.h>
#include <cg/spinlock.h>
#include <cg/string.h>
#include "core/vm_io.h"
#include "core/vm_net.h"
#include "core/vm_uplink.h"
#include "drivers/nic.h"
#include "lib/fmt.h"
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

/* Switch lock held: the port's queue onto the wire while the TX ring
 * takes it, then what the NIC received, then its link. */
static void pump(struct vm_uplink *u)
{
	struct host_nic *nic = u->nic;
	const u8 *f;
	u32 len;

	for (u32 n = 0; n < NET_QUEUE_LEN && (len = net_switch_peek(u->sw, u->port, &f)); n++) {
		int rc = nic->ops->tx(nic, f, len);

		if (rc == -CG_EBUSY)
			break;	/* the ring is full: the frame waits for the next poll */
		net_switch_pop(u->sw, u->port, rc == 0);
	}
	nic->ops->rx_poll(nic, from_wire, u, UPLINK_RX_BUDGET);
	if (nic->ops->irq_ack(nic) & HOST_NIC_EV_LINK) {
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

u64 vm_uplink_poll_all(u64 now)
{
	if (!__atomic_load_n(&uplink_count, __ATOMIC_ACQUIRE))
		return 0;
	for (u32 i = 0; i < VMCFG_MAX_NETWORKS; i++) {
		struct vm_uplink *u = &uplinks[i];

		if (!__atomic_load_n(&u->used, __ATOMIC_ACQUIRE) || !spin_trylock(&u->sw->lock))
			continue;	/* another CPU is in this switch: it pumps */
		pump(u);
		spin_unlock(&u->sw->lock);
	}
	return now + UPLINK_POLL_NS;
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
		kprintf("network %s: uplink nic%d: the monitor found %u host NICs (see the host-nic lines at boot; supported: Intel 8254x); the network runs without an uplink, remove \"uplink\" or fit the NIC\n",
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
		__atomic_store_n(&u->used, true, __ATOMIC_RELEASE);
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
	kprintf("network %s: bridged to nic%u (%s, %s), port %u\n", net->name, nic->index, nic->ops->name,
		mac, u->port);
	cg_marker("net-uplink", "network=%s nic=nic%u driver=%s mac=%s port=%u state=%s", net->name,
		  nic->index, nic->ops->name, mac, u->port, u->link ? "up" : "down");
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
	spin_unlock(&u->sw->lock);
	return true;
}
