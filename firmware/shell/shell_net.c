/* The shell's `net` command: the guest networks (switches) and each
 * running VM's NICs on them, with their counters, for a person (text) or
 * a program (JSON, docs/console-protocol.md). */
#include <cg/string.h>
#include "shell/shell.h"
#include "lib/fmt.h"
#include "lib/log.h"
#include "core/vm.h"
#include "core/vm_net.h"
#include "core/vm_uplink.h"

static void mac_str(const u8 *m, char *out, size_t n)
{
	fmt_snprintf(out, n, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static void nic_json(struct shell_ctx *c, const struct vm_nic_info *d)
{
	char mac[18];

	mac_str(d->mac, mac, sizeof(mac));
	json_obj_begin(c->j);
	json_kv_u64(c->j, "index", d->index);
	json_kv_u64(c->j, "slot", d->slot);
	json_kv_str(c->j, "network", d->network);
	json_kv_u64(c->j, "port", d->port);
	json_kv_str(c->j, "mac", mac);
	json_kv_bool(c->j, "link_up", d->up);
	json_kv_u64(c->j, "bytes_per_s_limit", d->bps_limit);
	json_kv_u64(c->j, "packets_per_s_limit", d->pps_limit);
	json_kv_u64(c->j, "tx_frames", d->port_st.tx_frames);
	json_kv_u64(c->j, "tx_bytes", d->port_st.tx_bytes);
	json_kv_u64(c->j, "rx_frames", d->port_st.rx_frames);
	json_kv_u64(c->j, "rx_bytes", d->port_st.rx_bytes);
	json_kv_u64(c->j, "spoofed", d->port_st.spoofed);
	json_kv_u64(c->j, "bad", d->port_st.bad + d->dev_st.tx_bad);
	json_kv_u64(c->j, "queue_drops", d->port_st.queue_drops);
	json_kv_u64(c->j, "rx_small", d->dev_st.rx_small);
	json_kv_u64(c->j, "throttled", d->port_st.throttled);
	json_kv_u64(c->j, "queued", d->queued);
	json_kv_u64(c->j, "notifies", d->dev_st.tx_notifies + d->dev_st.rx_notifies);
	json_kv_u64(c->j, "interrupts", d->dev_st.interrupts);
	json_kv_u64(c->j, "tx_polled", d->dev_st.tx_polled);
	json_kv_u64(c->j, "irqs_deferred", d->dev_st.irqs_deferred);
	json_kv_u64(c->j, "rx_interrupts", d->dev_st.rx_interrupts);
	json_kv_u64(c->j, "rx_irqs_held", d->dev_st.rx_irqs_held);
	json_kv_u64(c->j, "status", d->status);
	json_kv_bool(c->j, "needs_reset", d->fail_reason != NULL);
	if (d->fail_reason)
		json_kv_str(c->j, "reason", d->fail_reason);
	json_obj_end(c->j);
}

static void nic_text(const struct vm_nic_info *d)
{
	char mac[18];

	mac_str(d->mac, mac, sizeof(mac));
	kprintf("  nic %u (00:%02x.0): network %s port %u mac %s link %s\n", d->index, d->slot,
		d->network, d->port, mac, d->up ? "up" : "down");
	kprintf("    tx %lu frames %lu bytes, rx %lu frames %lu bytes; dropped: %lu spoofed, %lu bad, %lu queue full, %lu buffer too small\n",
		d->port_st.tx_frames, d->port_st.tx_bytes, d->port_st.rx_frames, d->port_st.rx_bytes,
		d->port_st.spoofed, d->port_st.bad + d->dev_st.tx_bad, d->port_st.queue_drops,
		d->dev_st.rx_small);
	kprintf("    throttled %lu frames (limits: %lu bytes/s, %lu packets/s; 0 = unlimited); %u queued\n",
		d->port_st.throttled, d->bps_limit, d->pps_limit, d->queued);
	if (d->fail_reason)
		kprintf("    device needs reset: %s\n", d->fail_reason);
}

static void networks(struct shell_ctx *c)
{
	char name[VMCFG_NAME_SIZE];
	u64 flooded;
	u32 ports;

	if (c->machine) {
		json_key(c->j, "networks");
		json_arr_begin(c->j);
	}
	for (u32 i = 0; i < VMCFG_MAX_NETWORKS; i++) {
		if (!vm_net_switch_stats(i, name, sizeof(name), &flooded, &ports))
			continue;
		if (c->machine) {
			json_obj_begin(c->j);
			json_kv_str(c->j, "name", name);
			json_kv_u64(c->j, "ports", ports);
			json_kv_u64(c->j, "flooded", flooded);
			shell_net_uplink(c, i);
			json_obj_end(c->j);
		} else {
			kprintf("network %s: %u ports, %lu frames flooded%s\n", name, ports, flooded,
				vm_uplink_info(i, NULL) ? "" : ", no uplink");
			shell_net_uplink(c, i);
		}
	}
	if (c->machine)
		json_arr_end(c->j);
}

void shell_cmd_net(struct shell_ctx *c)
{
	struct vm_nic_info info[VMCFG_MAX_NICS];
	bool any = false;

	if (c->argc) {
		if (c->argc != 2 || strcmp(c->argv[0], "probe")) {
			shell_fail(c, "usage: net [probe NETWORK]");
			return;
		}
		shell_net_probe(c, c->argv[1]);
		return;
	}
	if (c->machine)
		json_obj_begin(c->j);
	networks(c);
	if (c->machine) {
		json_key(c->j, "vms");
		json_arr_begin(c->j);
	}
	for (u32 i = 0; i < VM_MAX; i++) {
		struct vm *vm = &vm_table[i];
		u32 n;

		if (vm->state != VM_RUNNING)
			continue;
		n = vm_net_info(vm, info, VMCFG_MAX_NICS);
		if (n > VMCFG_MAX_NICS)
			n = VMCFG_MAX_NICS;
		if (c->machine) {
			json_obj_begin(c->j);
			json_kv_str(c->j, "name", vm->name);
			json_key(c->j, "nics");
			json_arr_begin(c->j);
			for (u32 k = 0; k < n; k++)
				nic_json(c, &info[k]);
			json_arr_end(c->j);
			json_obj_end(c->j);
		} else if (n) {
			kprintf("%s:\n", vm->name);
			for (u32 k = 0; k < n; k++)
				nic_text(&info[k]);
		}
		any |= n != 0;
	}
	if (c->machine) {
		json_arr_end(c->j);
		json_obj_end(c->j);
	} else if (!any) {
		kprintf("no running VM has a NIC\n");
	}
}
