/* A VM's networking, wired into the monitor: one virtio-net device per
 * `nic` line of its description, each one port of its network's switch
 * (net_switch.c). Switches are made on first use, one per `network` line,
 * and live as long as the monitor; ports come and go with the VMs.
 *
 * Delivery: the sending vCPU forwards a frame into the receiving ports'
 * queues and, when the receiving device is free at that moment, straight
 * on into its RX buffers (with an interrupt). A device that is busy (its
 * own vCPU in a BAR access) takes the frame when that access ends, a
 * device without RX buffers when the driver adds some; the scheduler's
 * poll is the backstop. */
#ifndef CG_VM_NET_H
#define CG_VM_NET_H

#include <cg/types.h>
#include "core/vmcfg.h"
#include "devices/virtio/net_switch.h"
#include "devices/virtio/virtio_net.h"

struct vm;

/* The machine's prefix of derived MACs (net_mac_derive) when the monitor
 * drives no host NIC: no frame can leave the machine then, so a fixed
 * prefix cannot collide with another machine's. With a NIC the prefix
 * comes from its own address (vm_uplink_machine_prefix). */
#define VM_NET_MACHINE_PREFIX 0x4347

/* vm_net_create: vm's NICs from cfg, on vm's bus (vm_disks_create made
 * it). Returns 0, or a negative error with err set ("what and the fix");
 * vm_net_free undoes a partial build. */
int vm_net_create(struct vm *vm, const struct vmcfg_vm *cfg, char *err, size_t err_size);

/* vm_net_free: take vm's NICs off their switches and free them (no vCPU
 * of vm may run). Before vm_disks_free, which frees the bus. */
void vm_net_free(struct vm *vm);

/* vm_net_switch: the switch of network i (named name), made on first
 * use; lives as long as the monitor. */
struct net_switch *vm_net_switch(u32 i, const char *name);

/* vm_net_deliver: hand a frame net_switch_send queued (mask: its ports)
 * on to them: a VM's device whose lock is free takes it into its RX
 * buffers now (else its holder or the poll does later), an uplink's NIC
 * sends it. The switch's lock is held. */
void vm_net_deliver(struct net_switch *sw, u32 mask);

/* vm_net_any: some VM has a NIC now, or some network an uplink (plain
 * loads): the scheduler's passes then poll the networks. */
bool vm_net_any(void);

/* vm_net_poll_all: transmit what buckets held back or budgets left, and
 * deliver frames a busy device could not take, for every VM, at now
 * (vm_now_ns). Returns the earliest time it next needs a call, or 0. */
u64 vm_net_poll_all(u64 now);

/* One NIC as the console shows it. */
struct vm_nic_info {
	u32 index;
	u32 slot;		/* PCI device number on bus 0 */
	char network[VMCFG_NAME_SIZE];
	u8 mac[NET_ETH_ALEN];
	u32 port;
	u64 bps_limit, pps_limit;
	struct net_port_stats port_st;
	struct virtio_net_stats dev_st;
	u32 queued;		/* frames waiting for RX buffers */
	bool up;
	u8 status;
	const char *fail_reason;
};

/* vm_net_info: vm's NICs, at most max, into out. Returns how many. */
u32 vm_net_info(struct vm *vm, struct vm_nic_info *out, u32 max);

/* vm_net_switch_stats: network i's name and frames flooded, false when
 * it was never made (no VM attached to it yet). */
bool vm_net_switch_stats(u32 i, char *name, size_t name_size, u64 *flooded, u32 *ports);

#endif
