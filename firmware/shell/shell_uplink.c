/* The `net` command's uplink part: for a network bridged to a host NIC,
 * which NIC, its link and what crossed it (docs/console-protocol.md). */
#include "shell/shell.h"
#include "lib/fmt.h"
#include "lib/log.h"
#include "core/vm_uplink.h"

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
		json_obj_end(c->j);
		return;
	}
	kprintf("  uplink nic%u (%s %02x:%02x.%u) port %u mac %02x:%02x:%02x:%02x:%02x:%02x link %s\n", u.nic,
		u.driver, u.bdf >> 8, (u.bdf >> 3) & 31, u.bdf & 7, u.port, m[0], m[1], m[2], m[3], m[4], m[5],
		u.link ? "up" : "down");
	kprintf("    from wire %lu frames %lu bytes, to wire %lu frames %lu bytes; dropped: %lu spoofed, %lu bad, %lu queue full; %u queued, TX ring full %lu times\n",
		u.port_st.tx_frames, u.port_st.tx_bytes, u.port_st.rx_frames, u.port_st.rx_bytes,
		u.port_st.spoofed + u.spoofed_in, u.port_st.bad + u.rx_errors, u.port_st.queue_drops, u.queued,
		u.tx_busy);
}
