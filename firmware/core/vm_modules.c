#include "vm_modules.h"
#include "bootinfo.h"
#include "log.h"
#include "cpu.h"
#include "mem.h"
#include "sched.h"
#include "vm.h"
#include "vmcfg.h"
#include <cg/errno.h>
#include <cg/string.h>

static const struct boot_info *modules_bi;
static struct vmcfg vm_config;

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
