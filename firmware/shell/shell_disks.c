/* The shell's `disks` command: each running VM's virtio-blk disks, for a
 * person (text) or a program (JSON, docs/console-protocol.md). */
#include "shell/shell.h"
#include "lib/log.h"
#include "core/vm.h"
#include "core/vm_disks.h"

#define DISKS_NOTE "overlays live in monitor memory only: they do not survive a power cycle"

static void disk_json(struct shell_ctx *c, const struct vm_disk_info *d)
{
	json_obj_begin(c->j);
	json_kv_u64(c->j, "index", d->index);
	json_kv_u64(c->j, "slot", d->slot);
	json_kv_str(c->j, "image", d->image);
	json_kv_str(c->j, "module", d->module);
	json_kv_u64(c->j, "image_users", d->image_users);
	json_kv_u64(c->j, "capacity", d->capacity);
	json_kv_str(c->j, "mode", d->mode == DISK_RW ? "rw" : "ro");
	json_kv_str(c->j, "on_reset", d->on_reset == DISK_DISCARD ? "discard" : "keep");
	json_kv_u64(c->j, "iops_limit", d->iops_limit);
	json_kv_u64(c->j, "bytes_per_s_limit", d->bps_limit);
	json_kv_u64(c->j, "overlay_bytes", d->overlay.bytes);
	json_kv_u64(c->j, "overlay_blocks", d->overlay.data_blocks);
	json_kv_u64(c->j, "overlay_quota_bytes", d->overlay.quota_pages * 4096);
	json_kv_u64(c->j, "quota_errors", d->st.quota_errors);
	json_kv_u64(c->j, "work_bytes", d->work_bytes);
	json_kv_u64(c->j, "deferrals", d->deferrals);
	json_kv_u64(c->j, "requests", d->st.requests);
	json_kv_u64(c->j, "read_bytes", d->st.read_bytes);
	json_kv_u64(c->j, "write_bytes", d->st.write_bytes);
	json_kv_u64(c->j, "errors", d->st.errors);
	json_kv_u64(c->j, "throttled_requests", d->st.throttled_requests);
	json_kv_u64(c->j, "throttled_bytes", d->st.throttled_bytes);
	json_kv_bool(c->j, "waiting", d->waiting);
	json_kv_u64(c->j, "status", d->status);
	json_kv_bool(c->j, "needs_reset", d->fail_reason != NULL);
	if (d->fail_reason)
		json_kv_str(c->j, "reason", d->fail_reason);
	json_obj_end(c->j);
}

static void disk_text(const struct vm_disk_info *d)
{
	kprintf("  disk %u (00:%02x.0): image %s (module %s, %lu bytes, %u attached) %s\n", d->index,
		d->slot, d->image, d->module, d->capacity, d->image_users,
		d->mode == DISK_RO ? "ro" : d->on_reset == DISK_DISCARD ? "rw discard" : "rw keep");
	if (d->mode == DISK_RO)
		kprintf("    no overlay (read-only)");
	else
		kprintf("    overlay %lu bytes (%lu blocks of 4 KiB; quota %lu bytes, %lu writes refused)",
			d->overlay.bytes, d->overlay.data_blocks, d->overlay.quota_pages * 4096,
			d->st.quota_errors);
	kprintf("; %lu requests, %lu bytes read, %lu written, %lu errors\n", d->st.requests,
		d->st.read_bytes, d->st.write_bytes, d->st.errors);
	kprintf("    throttled %lu requests, %lu bytes (limits: ", d->st.throttled_requests,
		d->st.throttled_bytes);
	if (d->iops_limit)
		kprintf("%lu requests/s, ", d->iops_limit);
	else
		kprintf("unlimited requests/s, ");
	if (d->bps_limit)
		kprintf("%lu bytes/s)%s\n", d->bps_limit, d->waiting ? "; one waiting now" : "");
	else
		kprintf("unlimited bytes/s)%s\n", d->waiting ? "; one waiting now" : "");
	if (d->fail_reason)
		kprintf("    device needs reset: %s\n", d->fail_reason);
}

void shell_cmd_disks(struct shell_ctx *c)
{
	struct vm_disk_info info[VMCFG_MAX_DISKS];
	bool any = false;
	if (c->machine) {
		json_obj_begin(c->j);
		json_kv_bool(c->j, "persistent", false);
		json_kv_str(c->j, "note", DISKS_NOTE);
		json_key(c->j, "vms");
		json_arr_begin(c->j);
	}
	for (u32 i = 0; i < VM_MAX; i++) {
		struct vm *vm = &vm_table[i];
		if (vm->state != VM_RUNNING)
			continue;
		u32 n = vm_disks_info(vm, info, VMCFG_MAX_DISKS);
		if (n > VMCFG_MAX_DISKS)
			n = VMCFG_MAX_DISKS;
		if (c->machine) {
			json_obj_begin(c->j);
			json_kv_str(c->j, "name", vm->name);
			json_key(c->j, "disks");
			json_arr_begin(c->j);
			for (u32 k = 0; k < n; k++)
				disk_json(c, &info[k]);
			json_arr_end(c->j);
			json_obj_end(c->j);
		} else if (n) {
			kprintf("%s:\n", vm->name);
			for (u32 k = 0; k < n; k++)
				disk_text(&info[k]);
		}
		any |= n != 0;
	}
	if (c->machine) {
		json_arr_end(c->j);
		json_obj_end(c->j);
	} else {
		if (!any)
			kprintf("no running VM has disks\n");
		kprintf("%s (reboot, halt or power loss).\n", DISKS_NOTE);
	}
}
