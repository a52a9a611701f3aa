/* The `net` command's uplink part: for a network bridged to a host NIC,
 * which NIC, its link, how it signals and what crossed it; and `net
 * probe NETWORK`, one identification frame out of it
 * (docs/console-protocol.md). */
#include <cg/errno.h>
#include <cg/string.h>
#include "shell/shell.h"
#include "lib/fmt.h"
#include "lib/log.h"
#include "core/vm_net.h"
#include "core/vm_uplink.h"

void shell_net_probe(struct shell_ctx *c, const char *network)
{
	char name[VMCFG_NAME_SIZE];
	u64 flooded;
	u32 ports, i;
	int rc;

	for (i = 0; i < VMCFG_MAX_NETWORKS; i++)
		if (vm_net_switch_stats(i, name, sizeof(name), &flooded, &ports) && !strcmp(name, network))
			break;
	if (i == VMCFG_MAX_NETWORKS) {
		shell_fail(c, "no network named '%s' ('net' lists them)", network);
		return;
	}
	rc = vm_uplink_probe(i);
	if (rc == -CG_ENOENT) {
		shell_fail(c, "network '%s' has no uplink; only a bridged network sends a probe", network);
		return;
	}
	if (rc) {
		shell_fail(c, "network '%s': its NIC's transmit ring is full (%s); try again", network, cg_strerror(rc));
		return;
	}
	if (c->machine) {
		json_obj_begin(c->j);
		json_kv_str(c->j, "network", network);
		json_kv_bool(c->j, "sent", true);
		json_obj_end(c->j);
	} else {
		kprintf("network %s: one probe frame sent out of its uplink (ethertype 0x88b5, to broadcast)\n", network);
	}
}

void shell_net_uplink(struct shell_ctx *c, u32 i)
{
	struct vm_uplink_info u;
	const u8 *m = u.mac;

	if (!vm_uplink_info(i, &u))
		return;
	if (c->machine) {
		char mac[18];

		fmt_snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
		json_key(c->j, "uplink");
		json_obj_begin(c->j);
		json_kv_u64(c->j, "nic", u.nic);
		json_kv_str(c->j, "driver", u.driver);
		json_kv_str(c->j, "mac", mac);
		json_kv_u64(c->j, "port", u.port);
		json_kv_bool(c->j, "link_up", u.link);
		json_kv_u64(c->j, "from_wire_frames", u.port_st.tx_frames);
		json_kv_u64(c->j, "from_wire_bytes", u.port_st.tx_bytes);
		json_kv_u64(c->j, "to_wire_frames", u.port_st.rx_frames);
		json_kv_u64(c->j, "to_wire_bytes", u.port_st.rx_bytes);
		json_kv_u64(c->j, "bad", u.port_st.bad + u.rx_errors);
		json_kv_u64(c->j, "spoofed", u.port_st.spoofed + u.spoofed_in);
		json_kv_u64(c->j, "queue_drops", u.port_st.queue_drops);
		json_kv_u64(c->j, "queued", u.queued);
		json_kv_u64(c->j, "tx_ring_full", u.tx_busy);
		json_kv_str(c->j, "irq", u.irq ? "msi" : "poll");
		json_kv_u64(c->j, "interrupts", u.irqs);
		json_kv_u64(c->j, "storms", u.storms);
		json_kv_bool(c->j, "storm_masked", u.storm_masked);
		json_kv_u64(c->j, "probes", u.probes);
		json_obj_end(c->j);
		return;
	}
	kprintf("  uplink nic%u (%s %02x:%02x.%u) port %u mac %02x:%02x:%02x:%02x:%02x:%02x link %s irq %s\n", u.nic,
		u.driver, u.bdf >> 8, (u.bdf >> 3) & 31, u.bdf & 7, u.port, m[0], m[1], m[2], m[3], m[4], m[5],
		u.link ? "up" : "down", u.irq ? "msi" : "poll");
	kprintf("    from wire %lu frames %lu bytes, to wire %lu frames %lu bytes; dropped: %lu spoofed, %lu bad, %lu queue full; %u queued, TX ring full %lu times\n",
		u.port_st.tx_frames, u.port_st.tx_bytes, u.port_st.rx_frames, u.port_st.rx_bytes,
		u.port_st.spoofed + u.spoofed_in, u.port_st.bad + u.rx_errors, u.port_st.queue_drops, u.queued,
		u.tx_busy);
	kprintf("    %lu interrupts, %lu storms%s; %lu probes sent\n", u.irqs, u.storms,
		u.storm_masked ? " (masked now, polled)" : "", u.probes);
}
