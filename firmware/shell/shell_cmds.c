/* The shell's commands (docs/console-protocol.md lists them with their
 * JSON answers). Each prints for a person or fills the JSON reply. */
#include "shell/shell.h"
#include "core/virt.h"
#include "core/cpu.h"
#include "core/irq.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "core/sched.h"
#include "core/sched_ops.h"
#include <cg/version.h>
#include "core/virt.h"
#include "core/vm.h"
#include "core/vm_modules.h"
#include "abi/policy_abi.h"
#include <cg/string.h>

static void cmd_help(struct shell_ctx *c);

static bool parse_u32(const char *s, u32 max, u32 *out)
{
	u64 v = 0;
	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (u64)(*s - '0');
		if (v > max)
			return false;
	}
	*out = (u32)v;
	return true;
}

/* find_vm: the running (or paused) VM called name, or NULL with an error. */
static struct vm *find_vm(struct shell_ctx *c, const char *name)
{
	int i = vm_modules_find(name);
	struct vm_status st;
	if (i < 0 || !vm_modules_status((u32)i, &st)) {
		shell_fail(c, "no VM named '%s' ('vms' lists them)", name);
		return NULL;
	}
	if (!st.vm || st.vm->state != VM_RUNNING) {
		shell_fail(c, "VM '%s' is %s, not running ('vm start %s' starts it)", name, st.state, name);
		return NULL;
	}
	return st.vm;
}

static void cmd_hello(struct shell_ctx *c)
{
	if (c->machine) {
		json_obj_begin(c->j);
		json_kv_u64(c->j, "protocol", SHELL_PROTOCOL);
		json_kv_str(c->j, "version", CG_VERSION);
		json_obj_end(c->j);
	} else {
		kprintf("crossguard %s, console protocol %u\n", CG_VERSION, SHELL_PROTOCOL);
	}
}

static void cmd_version(struct shell_ctx *c)
{
	if (c->machine) {
		json_obj_begin(c->j);
		json_kv_str(c->j, "version", CG_VERSION);
		json_obj_end(c->j);
	} else {
		kprintf("crossguard %s\n", CG_VERSION);
	}
}

static void cmd_cpus(struct shell_ctx *c)
{
	if (c->machine)
		json_arr_begin(c->j);
	for (u32 i = 0; i < CG_MAX_CPUS; i++) {
		const struct cpu_info *ci = &cpu_table[i];
		if (ci->state == CPU_ABSENT)
			continue;
		if (c->machine) {
			json_obj_begin(c->j);
			json_kv_u64(c->j, "index", i);
			json_kv_u64(c->j, "apic", ci->apic_id);
			json_kv_bool(c->j, "online", ci->state == CPU_ONLINE);
			json_kv_bool(c->j, "vmx", ci->virt_on);
			json_obj_end(c->j);
		} else {
			kprintf("cpu %u apic %u %s vmx=%u %s\n", i, ci->apic_id,
				ci->state == CPU_ONLINE ? "online" : "failed", ci->virt_on ? 1 : 0,
				ci->virt_detail);
		}
	}
	if (c->machine)
		json_arr_end(c->j);
}

static void cmd_mem(struct shell_ctx *c)
{
	if (c->machine) {
		json_obj_begin(c->j);
		json_kv_u64(c->j, "usable", memmap_usable_bytes(&mem_map));
		json_kv_u64(c->j, "free", mem_pmm.free_frames * PAGE_SIZE);
		json_key(c->j, "ranges");
		json_arr_begin(c->j);
	}
	for (u32 i = 0; i < mem_map.count; i++) {
		const struct memmap_entry *e = &mem_map.e[i];
		if (c->machine) {
			json_obj_begin(c->j);
			json_kv_u64(c->j, "base", e->base);
			json_kv_u64(c->j, "end", e->base + e->len);
			json_kv_str(c->j, "type", memmap_type_name(e->type));
			json_obj_end(c->j);
		} else {
			kprintf("%016lx-%016lx %s\n", e->base, e->base + e->len - 1, memmap_type_name(e->type));
		}
	}
	if (c->machine) {
		json_arr_end(c->j);
		json_obj_end(c->j);
	} else {
		kprintf("free %lu KiB of %lu KiB usable\n", mem_pmm.free_frames * 4, mem_pmm.total_frames * 4);
	}
}

static void cmd_vms(struct shell_ctx *c)
{
	struct vm_status st;
	if (c->machine)
		json_arr_begin(c->j);
	else if (!vm_modules_count())
		kprintf("no VMs in this image\n");
	for (u32 i = 0; vm_modules_status(i, &st); i++) {
		if (c->machine) {
			json_obj_begin(c->j);
			json_kv_str(c->j, "name", st.name);
			json_kv_str(c->j, "state", st.state);
			json_kv_u64(c->j, "vcpus", st.vcpus);
			json_kv_u64(c->j, "mem_mib", st.mem_mib);
			if (st.has_status)
				json_kv_u64(c->j, "status", st.status);
			if (st.reason[0])
				json_kv_str(c->j, "reason", st.reason);
			json_obj_end(c->j);
		} else {
			kprintf("%-16s %-11s %2u vCPUs %6u MiB", st.name, st.state, st.vcpus, st.mem_mib);
			if (st.has_status)
				kprintf("  status %lu", st.status);
			if (st.reason[0])
				kprintf("  (%s)", st.reason);
			kprintf("\n");
		}
	}
	if (c->machine)
		json_arr_end(c->j);
}

static void ok_empty(struct shell_ctx *c, const char *what)
{
	if (c->machine) {
		json_obj_begin(c->j);
		json_obj_end(c->j);
	} else {
		kprintf("%s\n", what);
	}
}

/* What the NMI button did, per outcome: {"nmi":N,"fixed":N,"masked":N,
 * "dropped":N} (vCPUs), or one line for people. */
static void vm_nmi_reply(struct shell_ctx *c, struct irq_nmi_result r)
{
	static const char *const key[] = { "nmi", "fixed", "masked", "dropped" };
	static const enum irq_stat slot[] = { IRQ_STAT_LINT1_NMI, IRQ_STAT_LINT1_FIXED,
					      IRQ_STAT_LINT1_MASKED, IRQ_STAT_LINT1_DROPPED };
	if (c->machine)
		json_obj_begin(c->j);
	else
		kprintf("LINT1 raised on each vCPU:");
	for (u32 i = 0; i < ARRAY_SIZE(key); i++) {
		if (c->machine)
			json_kv_u64(c->j, key[i], r.n[slot[i]]);
		else
			kprintf(" %s=%u", key[i], r.n[slot[i]]);
	}
	if (c->machine)
		json_obj_end(c->j);
	else
		kprintf("\n");
}

static void cmd_vm(struct shell_ctx *c)
{
	const char *op = c->argv[0], *name = c->argv[1];
	char err[160];
	if (!strcmp(op, "start")) {
		int i = vm_modules_find(name);
		if (i < 0) {
			shell_fail(c, "no VM named '%s' ('vms' lists them)", name);
			return;
		}
		if (vm_modules_restart((u32)i, err, sizeof(err))) {
			shell_fail(c, "%s", err);
			return;
		}
		ok_empty(c, "started");
		return;
	}
	struct vm *vm = find_vm(c, name);
	if (!vm)
		return;
	if (!strcmp(op, "stop")) {
		vm_end(vm, VM_END_STOP, 0, "operator");
		ok_empty(c, "stopped");
	} else if (!strcmp(op, "reset")) {
		vm_end(vm, VM_END_RESET, 0, "operator");
		ok_empty(c, "reset");
	} else if (!strcmp(op, "nmi")) {
		struct irq_nmi_result r;
		if (irq_nmi_button(vm, &r))
			shell_fail(c, "VM '%s' ended before its NMI button was pressed", name);
		else
			vm_nmi_reply(c, r);
	} else if (!strcmp(op, "pause") || !strcmp(op, "resume")) {
		bool pause = op[0] == 'p';
		if (sched_vm_pause(vm, pause))
			shell_fail(c, "VM '%s' is already %s", name, pause ? "paused" : "running");
		else
			ok_empty(c, pause ? "paused" : "resumed");
	} else {
		shell_fail(c, "usage: vm start|stop|reset|pause|resume|nmi NAME");
	}
}


/* One count of a stats answer: a JSON member, or " name=N" for people. */
static void stats_count(struct shell_ctx *c, const char *name, u64 n)
{
	if (c->machine)
		json_kv_u64(c->j, name, n);
	else
		kprintf(" %s=%lu", name, n);
}

/* Ends the open group of counts and starts the next: a JSON object under
 * key, or a line headed title for people. */
static void stats_section(struct shell_ctx *c, const char *key, const char *title)
{
	if (c->machine) {
		json_obj_end(c->j);
		json_key(c->j, key);
		json_obj_begin(c->j);
	} else {
		kprintf("\n  %s:", title);
	}
}

static void stats_one(struct shell_ctx *c, struct vm *vm)
{
	u64 run = 0, steal = 0, switches = 0, migrations = 0;
	for (u32 i = 0; i < vm->vcpu_count; i++) {
		run += vm->vcpus[i]->run_ticks;
		steal += vm->vcpus[i]->steal_ticks;
		switches += vm->vcpus[i]->switches;
		migrations += vm->vcpus[i]->migrations;
	}
	u64 hz = arch_timestamp_hz() ? arch_timestamp_hz() : 1;
	if (c->machine) {
		json_obj_begin(c->j);
		json_kv_str(c->j, "name", vm->name);
		json_kv_u64(c->j, "run", run);
		json_kv_u64(c->j, "steal", steal);
		json_kv_u64(c->j, "switches", switches);
		json_kv_u64(c->j, "migrations", migrations);
		json_key(c->j, "exits");
		json_obj_begin(c->j);
	} else {
		kprintf("%s: run %lu ms, steal %lu ms, %lu switches, %lu migrations\n  exits:",
			vm->name, run * 1000 / hz, steal * 1000 / hz, switches, migrations);
	}
	for (u32 r = 0; r < VM_EXIT_STATS; r++) {
		const char *name = arch_exit_reason_name(r);
		u64 count = vm_exit_count(vm, r);
		if (count && name)
			stats_count(c, name, count);
	}
	/* Device accesses (port I/O and MMIO exits) by device class. */
	stats_section(c, "devices", "device exits");
	for (u32 d = 0; d < VM_IO_CLASSES; d++)
		stats_count(c, vm_io_class_name(d), __atomic_load_n(&vm->dev.exits[d], __ATOMIC_RELAXED));
	stats_section(c, "interrupts", "interrupts");
	for (u32 i = 0; i < IRQ_STATS; i++)
		stats_count(c, irq_stat_name(i), __atomic_load_n(&vm->irq_stats[i], __ATOMIC_RELAXED));
	if (c->machine) {
		json_obj_end(c->j);
		json_obj_end(c->j);
	} else {
		kprintf("\n");
	}
}

static void cmd_stats(struct shell_ctx *c)
{
	if (c->argc) {
		struct vm *vm = find_vm(c, c->argv[0]);
		if (!vm)
			return;
		if (c->machine)
			json_arr_begin(c->j);
		stats_one(c, vm);
		if (c->machine)
			json_arr_end(c->j);
		return;
	}
	if (c->machine)
		json_arr_begin(c->j);
	for (u32 i = 0; i < VM_MAX; i++)
		if (vm_table[i].state == VM_RUNNING)
			stats_one(c, &vm_table[i]);
	if (c->machine)
		json_arr_end(c->j);
}

static void sched_show(struct shell_ctx *c)
{
	const struct sched_ops *p;
	if (c->machine) {
		json_obj_begin(c->j);
		json_kv_str(c->j, "policy", sched_policy_name());
		json_key(c->j, "policies");
		json_arr_begin(c->j);
		for (u32 i = 0; (p = sched_policy_at(i)); i++)
			json_str(c->j, p->name);
		json_arr_end(c->j);
		json_key(c->j, "vms");
		json_arr_begin(c->j);
	} else {
		kprintf("policy %s (available:", sched_policy_name());
		for (u32 i = 0; (p = sched_policy_at(i)); i++)
			kprintf(" %s", p->name);
		kprintf(")\n");
	}
	for (u32 i = 0; i < VM_MAX; i++) {
		struct vm *vm = &vm_table[i];
		if (vm->state != VM_RUNNING)
			continue;
		if (c->machine) {
			json_obj_begin(c->j);
			json_kv_str(c->j, "name", vm->name);
			json_kv_u64(c->j, "weight", vm->weight);
			json_kv_u64(c->j, "cap", vm->cap);
			json_obj_end(c->j);
		} else {
			kprintf("  %-16s weight %5u  cap %u.%u %%\n", vm->name, vm->weight, vm->cap / 10,
				vm->cap % 10);
		}
	}
	if (c->machine) {
		json_arr_end(c->j);
		json_obj_end(c->j);
	}
}

static void cmd_sched(struct shell_ctx *c)
{
	if (!c->argc) {
		sched_show(c);
		return;
	}
	const char *op = c->argv[0];
	if (!strcmp(op, "policy") && c->argc == 2) {
		int rc = sched_set_policy(c->argv[1]);
		if (rc)
			shell_fail(c, "cannot switch to policy '%s' (%d); 'sched' lists the policies", c->argv[1], rc);
		else
			ok_empty(c, "policy switched");
		return;
	}
	if ((!strcmp(op, "weight") || !strcmp(op, "cap")) && c->argc == 3) {
		bool weight = op[0] == 'w';
		u32 v;
		if (!parse_u32(c->argv[2], weight ? 10000 : 100, &v) || (weight && !v)) {
			shell_fail(c, weight ? "weight must be 1..10000" : "cap must be 0..100 (percent of one CPU)");
			return;
		}
		struct vm *vm = find_vm(c, c->argv[1]);
		if (!vm)
			return;
		int rc = sched_vm_set(vm, weight ? POLICY_PARAM_WEIGHT : POLICY_PARAM_CAP, weight ? v : v * 10);
		if (rc)
			shell_fail(c, "the %s policy refused it (%d)", sched_policy_name(), rc);
		else
			ok_empty(c, "set");
		return;
	}
	shell_fail(c, "usage: sched [policy NAME | weight VM N | cap VM PERCENT]");
}

static void cmd_console(struct shell_ctx *c)
{
	if (c->machine) {
		shell_fail(c, "console is for people: attach from an interactive session");
		return;
	}
	struct vm *vm = find_vm(c, c->argv[0]);
	if (vm)
		shell_attach(vm);
}

static void cmd_log(struct shell_ctx *c)
{
	static char ring[LOG_RING_SIZE];
	log_ring_copy(ring, sizeof(ring));
	if (!c->machine) {
		klog_raw(ring, false);
		klog_raw("\n", false);
		return;
	}
	json_obj_begin(c->j);
	json_key(c->j, "lines");
	json_arr_begin(c->j);
	char *p = ring;
	while (*p) {
		char *e = p;
		while (*e && *e != '\n')
			e++;
		char save = *e;
		*e = 0;
		if (e > p && e[-1] == '\r')
			e[-1] = 0;
		json_str(c->j, p);
		if (!save)
			break;
		p = e + 1;
	}
	json_arr_end(c->j);
	json_obj_end(c->j);
}

static void cmd_reboot(struct shell_ctx *c)
{
	ok_empty(c, "rebooting");
	arch_reboot();
}

static void cmd_halt(struct shell_ctx *c)
{
	ok_empty(c, "halting all CPUs");
	arch_stop_others();
	arch_halt_forever();
}

const struct shell_cmd shell_cmds[] = {
	{ "help", "help [COMMAND]", "list commands, or explain one", 0, 1, cmd_help },
	{ "hello", "hello", "protocol and monitor version (for programs)", 0, 0, cmd_hello },
	{ "version", "version", "monitor version", 0, 0, cmd_version },
	{ "cpus", "cpus", "CPUs and their VMX state", 0, 0, cmd_cpus },
	{ "mem", "mem", "physical memory map and free memory", 0, 0, cmd_mem },
	{ "vms", "vms", "the VMs of this image and their state", 0, 0, cmd_vms },
	{ "vm", "vm start|stop|reset|pause|resume|nmi NAME", "control one VM (nmi: the NMI button, LINT1 of each vCPU)", 2, 2, cmd_vm },
	{ "console", "console NAME", "attach to a VM's serial console (Ctrl-] detaches)", 1, 1, cmd_console },
	{ "stats", "stats [NAME]", "run time, steal time, switches, exits by reason and by device", 0, 1, cmd_stats },
	{ "disks", "disks", "each running VM's disks: image, overlay, requests, throttling", 0, 0, shell_cmd_disks },
	{ "net", "net [probe NETWORK]", "guest networks and each running VM's NICs: MACs, frames, drops, throttling; probe: one frame out of a network's uplink", 0, 2, shell_cmd_net },
	{ "sched", "sched [policy NAME | weight VM N | cap VM PERCENT]", "show or change scheduling", 0, 3, cmd_sched },
	{ "log", "log", "the monitor's recent output", 0, 0, cmd_log },
	{ "reboot", "reboot", "reset the machine", 0, 0, cmd_reboot },
	{ "halt", "halt", "stop every CPU", 0, 0, cmd_halt },
};
const u32 shell_cmd_count = ARRAY_SIZE(shell_cmds);

static void cmd_help(struct shell_ctx *c)
{
	if (c->machine) {
		json_arr_begin(c->j);
		for (u32 i = 0; i < shell_cmd_count; i++) {
			if (c->argc && strcmp(c->argv[0], shell_cmds[i].name))
				continue;
			json_obj_begin(c->j);
			json_kv_str(c->j, "name", shell_cmds[i].name);
			json_kv_str(c->j, "usage", shell_cmds[i].usage);
			json_kv_str(c->j, "help", shell_cmds[i].help);
			json_obj_end(c->j);
		}
		json_arr_end(c->j);
		return;
	}
	bool found = false;
	for (u32 i = 0; i < shell_cmd_count; i++) {
		if (c->argc && strcmp(c->argv[0], shell_cmds[i].name))
			continue;
		found = true;
		kprintf("  %-52s %s\n", shell_cmds[i].usage, shell_cmds[i].help);
	}
	if (!found)
		shell_fail(c, "no command '%s' (type 'help' for the list)", c->argv[0]);
}
