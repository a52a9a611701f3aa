/* Uplinks: a guest network bridged to a NIC of the machine (a plain L2
 * bridge, no NAT). The host NIC the description names ("uplink": "nicN",
 * the monitor's Nth working NIC in PCI scan order) becomes one more port
 * of the network's switch; no guest ever touches it. Frames the switch
 * queues for that port go out of the NIC's TX ring; frames the NIC
 * receives enter the switch as if the port had sent them, so they are
 * learned, flooded and counted like any other port's.
 *
 * The NIC is polled (drivers/e1000_nic.c says why): by every scheduler
 * pass (vm_net_poll_all asks to be called again within UPLINK_POLL_NS
 * while an uplink exists, so idle CPUs wake for it) and right after a VM
 * sends a frame out through it (so a request's answer is picked up
 * soon). Everything runs under the network's switch lock, which also
 * serialises the NIC: lock order is the switch's, as for VM ports. Work
 * per call is bounded: UPLINK_RX_BUDGET received frames, at most
 * NET_QUEUE_LEN transmitted ones. */
#ifndef CG_VM_UPLINK_H
#define CG_VM_UPLINK_H

#include <cg/types.h>
#include "core/vmcfg.h"
#include "devices/virtio/net_switch.h"

#define UPLINK_POLL_NS 1000000ull	/* 1 ms between polls at most while idle */
#define UPLINK_RX_BUDGET 32u		/* frames taken from the NIC per poll */

/* vm_uplink_start: bridge every network of cfg that names an uplink to
 * that host NIC: attach it to the network's switch and report it
 * (`net-uplink` marker). A NIC the monitor did not find is one clear line
 * and a `net-uplink ... state=missing` marker; that network, and every
 * other, runs on without it. Once, before the VMs start. */
void vm_uplink_start(const struct vmcfg *cfg);

/* vm_uplink_kick: when owner (a switch port's) is an uplink, push the
 * frames queued for it out of its NIC and take in what it received;
 * false (nothing done) for any other port. The switch's lock is held. */
bool vm_uplink_kick(void *owner);

/* vm_uplink_poll_all: poll every uplink whose switch is free (trylock) at
 * now (vm_now_ns). Returns when it next wants a call (now +
 * UPLINK_POLL_NS), or 0 when there is no uplink. */
u64 vm_uplink_poll_all(u64 now);

/* vm_uplink_machine_prefix: the 16-bit machine prefix of derived guest
 * MACs (net_mac_derive): the last two bytes of nic0's own address when
 * the monitor has a NIC, so two machines bridged onto one LAN derive
 * different MACs; else VM_NET_MACHINE_PREFIX. */
u16 vm_uplink_machine_prefix(void);

/* One uplink as the console shows it. */
struct vm_uplink_info {
	u32 nic;		/* nicN */
	const char *driver;
	u16 bdf;
	u8 mac[NET_ETH_ALEN];
	u32 port;
	bool link;
	struct net_port_stats port_st;	/* tx: from the wire, rx: onto the wire */
	u32 queued;
	u64 tx_busy, rx_errors;	/* the NIC's: TX ring full, bad frames received */
	u64 spoofed_in;		/* from the wire with a VM's own MAC as source */
};

/* vm_uplink_info: network i's uplink into out (NULL: only whether it has
 * one); false when it has none. */
bool vm_uplink_info(u32 i, struct vm_uplink_info *out);

#endif
