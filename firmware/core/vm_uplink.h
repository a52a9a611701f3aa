/* Uplinks: a guest network bridged to a NIC of the machine (a plain L2
 * bridge, no NAT). The host NIC the description names ("uplink": "nicN",
 * the monitor's Nth working NIC in PCI scan order) becomes one more port
 * of the network's switch; no guest ever touches it. Frames the switch
 * queues for that port go out of the NIC's TX ring; frames the NIC
 * receives enter the switch as if the port had sent them, so they are
 * learned, flooded and counted like any other port's.
 *
 * A NIC is pumped (its queue out, what it received in, its link) right
 * after a VM sends a frame out through it, so a request's answer is
 * picked up soon, and then either
 *  - on its interrupt, when it signals by MSI (nic->vector): the boot
 *    CPU takes the vector in the monitor or as an external-interrupt
 *    exit (virt_host_irq), bounded by the storm rule (lib/irq_storm.h:
 *    more than 16 in 1 ms masks the NIC's causes, and it is polled as
 *    below for 50 ms), with a safety poll every UPLINK_SAFETY_NS so a
 *    lost interrupt never stalls the port; or
 *  - by every scheduler pass, when it has no MSI (or a storm holds it
 *    masked, or frames were left behind): vm_net_poll_all asks to be
 *    called again within UPLINK_POLL_NS, so idle CPUs wake for it.
 * Everything runs under the network's switch lock, which also serialises
 * the NIC: lock order is the switch's, as for VM ports. Work per call is
 * bounded: UPLINK_RX_BUDGET received frames, at most NET_QUEUE_LEN
 * transmitted ones. */
#ifndef CG_VM_UPLINK_H
#define CG_VM_UPLINK_H

#include <cg/types.h>
#include "core/vmcfg.h"
#include "devices/virtio/net_switch.h"

#define UPLINK_POLL_NS 1000000ull	/* 1 ms between polls at most while idle */
#define UPLINK_SAFETY_NS 20000000ull	/* 20 ms: an MSI NIC's poll in case one was lost */
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

/* vm_uplink_poll_all: at now (vm_now_ns), pump every uplink that is
 * polled, has an interrupt pending or is due its safety poll, and whose
 * switch is free (trylock). Returns when it next wants a call (now +
 * UPLINK_POLL_NS for a polled one, the next safety poll otherwise), or 0
 * when there is no uplink. */
u64 vm_uplink_poll_all(u64 now);

/* vm_uplink_any: whether some network is bridged (the scheduler's passes
 * then poll, even with no VM NIC). */
bool vm_uplink_any(void);

/* vm_uplink_probe: send one identification frame out of network i's
 * uplink (to the broadcast address, from the NIC's MAC, IEEE 802 local
 * experimental Ethertype 0x88B5, its payload naming the network, nicN
 * and a sequence number), so a lab can see on its LAN which cable is
 * which NIC. 0; -CG_ENOENT: no uplink; -CG_EBUSY: the TX ring is full. */
int vm_uplink_probe(u32 i);

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
	u64 probes;		/* identification frames sent (vm_uplink_probe) */
	bool irq;		/* MSI: interrupt-driven (else polled) */
	u64 irqs;		/* interrupts taken */
	u64 storms;		/* times the storm bound masked it */
	bool storm_masked;	/* masked and polled now */
};

/* vm_uplink_info: network i's uplink into out (NULL: only whether it has
 * one); false when it has none. */
bool vm_uplink_info(u32 i, struct vm_uplink_info *out);

#endif
