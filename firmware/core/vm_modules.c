#include "core/vm_modules.h"
#include "lib/bootinfo.h"
#include "lib/log.h"
#include "core/cpu.h"
#include "lib/mem.h"
#include "core/sched.h"
#include "core/vm.h"
#include "core/vmcfg.h"
#include "core/vm_uplink.h"
#include "lib/fmt.h"
#include <cg/errno.h>
#include <cg/string.h>

static const struct boot_info *modules_bi;
static struct vmcfg vm_config;

struct vm_record {
	bool ended;
	enum vm_end_kind kind;
	u64 status;
	char reason[48];
};
static struct vm_record records[VMCFG_MAX_VMS];

void vm_modules_init(const struct boot_info *bi)
{
	modules_bi = bi;
}

int vm_module_find(const char *name, const u8 **data, u64 *size)
{
	char base[VMCFG_MODNAME_SIZE];
	for (u32 i = 0; modules_bi && i < modules_bi->module_count; i++) {
		const struct boot_module *m = &modules_bi->modules[i];
		if (!vmcfg_basename(m->cmdline, base, sizeof(base)) || strcmp(base, name))
			continue;
		*data = mem_ptr(m->start);
		*size = m->end - m->start;
		return 0;
	}
	return -CG_ENOENT;
}

u32 vm_modules_start(void)
{
	const u8 *text;
	u64 len;
	if (vm_module_find(VMCFG_MODULE_NAME, &text, &len)) {
		sched_init(NULL, cpu_count_online());
		return 0;
	}
	char err[160];
	if (vmcfg_parse((const char *)text, len, &vm_config, err, sizeof(err))) {
		sched_init(NULL, cpu_count_online());
		kprintf("vms: %s; no VM started\n", err);
		char quoted[2 * sizeof(err)];
		cg_marker("vms-error", "reason=\"%s\"", cg_quote(quoted, sizeof(quoted), err));
		return 0;
	}
	sched_init(vm_config.policy[0] ? vm_config.policy : NULL, cpu_count_online());
	/* Uplinks first: the VMs' NICs derive their MACs from the machine's
	 * NIC and may send as soon as they run. Without VT-x too: the
	 * networks exist, and the monitor drives their NICs (the console
	 * shows them; the QEMU tests drive them without guests). */
	vm_uplink_start(&vm_config);
	if (!cpu_count_virt()) {
		/* No CPU is in VMX root (no VT-x, or the firmware locked it off):
		 * building a VM would execute VMX instructions. Name every VM of
		 * the set as not started, and go on without guests. */
		for (u32 i = 0; i < vm_config.count; i++) {
			kprintf("vm %s: cannot start: no CPU is in VMX root (VT-x not available)\n",
				vm_config.vms[i].name);
			cg_marker("vm-stop", "name=%s reason=create-failed", vm_config.vms[i].name);
		}
		if (vm_config.count)
			cg_marker("vms-done", "count=0");
		return 0;
	}
	struct vm *created[VMCFG_MAX_VMS];
	u32 n = 0;
	for (u32 i = 0; i < vm_config.count; i++) {
		const struct vmcfg_vm *c = &vm_config.vms[i];
		struct vm *vm = vm_create(c, err, sizeof(err));
		if (!vm) {
			kprintf("vm %s: cannot start: %s\n", c->name, err);
			cg_marker("vm-stop", "name=%s reason=create-failed", c->name);
			continue;
		}
		created[n++] = vm;
	}
	/* Start only once all are built, so one VM's start-up does not race
	 * another's creation for memory. */
	for (u32 i = 0; i < n; i++)
		vm_start(created[i]);
	if (!n && vm_config.count)
		cg_marker("vms-done", "count=0");
	return n;
}

u32 vm_modules_count(void)
{
	return vm_config.count;
}

int vm_modules_find(const char *name)
{
	for (u32 i = 0; i < vm_config.count; i++)
		if (!strcmp(vm_config.vms[i].name, name))
			return (int)i;
	return -1;
}

static struct vm *vm_live(const struct vmcfg_vm *cfg)
{
	for (u32 i = 0; i < VM_MAX; i++) {
		struct vm *vm = &vm_table[i];
		if (vm->state != VM_FREE && vm->state != VM_ENDED && vm->cfg == cfg)
			return vm;
	}
	return NULL;
}

bool vm_modules_status(u32 i, struct vm_status *out)
{
	if (i >= vm_config.count)
		return false;
	const struct vmcfg_vm *cfg = &vm_config.vms[i];
	const struct vm_record *r = &records[i];
	struct vm *vm = vm_live(cfg);
	*out = (struct vm_status){ cfg->name, "not-started", vm, cfg->vcpus, cfg->mem_mib, false, 0, "" };
	if (vm) {
		out->state = vm->state == VM_RUNNING ? (vm->paused ? "paused" : "running")
						       : vm->state == VM_CREATED ? "starting" : "ending";
	} else if (r->ended) {
		out->state = r->kind == VM_END_EXIT ? "exited" : "stopped";
		out->has_status = r->kind == VM_END_EXIT;
		out->status = r->status;
		out->reason = r->reason;
	}
	return true;
}

void vm_modules_record_end(const struct vm *vm)
{
	if (!vm->cfg || vm->cfg < vm_config.vms || vm->cfg >= vm_config.vms + VMCFG_MAX_VMS)
		return;
	struct vm_record *r = &records[vm->cfg - vm_config.vms];
	r->ended = true;
	r->kind = vm->end_kind;
	r->status = vm->exit_status;
	cg_strlcpy(r->reason, vm->stop_reason, sizeof(r->reason), sizeof(r->reason));
}

int vm_modules_restart(u32 i, char *err, size_t err_size)
{
	const struct vmcfg_vm *cfg = &vm_config.vms[i];
	if (vm_live(cfg)) {
		fmt_snprintf(err, err_size, "VM '%s' is still running; stop it first", cfg->name);
		return -CG_EBUSY;
	}
	struct vm *vm = vm_create(cfg, err, err_size);
	if (!vm)
		return -CG_ENOMEM;
	records[i].ended = false;
	return vm_start(vm);
}
