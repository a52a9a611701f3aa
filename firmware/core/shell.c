#include "shell.h"
#include "arch.h"
#include "cpu.h"
#include "log.h"
#include "mem.h"
#include "version.h"
#include <cg/string.h>

struct shell_cmd {
	const char *name;
	const char *help;
	void (*run)(void);
};

static void cmd_help(void);

static void cmd_version(void)
{
	kprintf("crossguard %s\n", CG_VERSION);
}

static void cmd_cpus(void)
{
	for (u32 i = 0; i < CG_MAX_CPUS; i++) {
		const struct cpu_info *c = &cpu_table[i];
		if (c->state == CPU_ABSENT)
			continue;
		kprintf("cpu %u apic %u %s vmx=%u %s\n", i, c->apic_id,
			c->state == CPU_ONLINE ? "online" : "failed", c->virt_on ? 1 : 0,
			c->virt_detail);
	}
}

static void cmd_mem(void)
{
	for (u32 i = 0; i < mem_map.count; i++) {
		const struct memmap_entry *e = &mem_map.e[i];
		kprintf("%016lx-%016lx %s\n", e->base, e->base + e->len - 1, memmap_type_name(e->type));
	}
	kprintf("free %lu KiB of %lu KiB usable\n", mem_pmm.free_frames * 4, mem_pmm.total_frames * 4);
}

static void cmd_halt(void)
{
	kprintf("halting all CPUs\n");
	arch_stop_others();
	arch_halt_forever();
}

static void cmd_reboot(void)
{
	kprintf("rebooting\n");
	arch_reboot();
}

static const struct shell_cmd shell_cmds[] = {
	{ "help", "list commands", cmd_help },
	{ "version", "monitor version", cmd_version },
	{ "cpus", "CPUs and their VMX state", cmd_cpus },
	{ "mem", "physical memory map and free memory", cmd_mem },
	{ "reboot", "reset the machine", cmd_reboot },
	{ "halt", "stop every CPU", cmd_halt },
};

static void cmd_help(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(shell_cmds); i++)
		kprintf("  %-8s %s\n", shell_cmds[i].name, shell_cmds[i].help);
}

void shell_exec(const char *line)
{
	while (*line == ' ')
		line++;
	size_t n = strlen(line);
	while (n && line[n - 1] == ' ')
		n--;
	if (!n)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(shell_cmds); i++) {
		if (strlen(shell_cmds[i].name) == n && !strncmp(shell_cmds[i].name, line, n)) {
			shell_cmds[i].run();
			return;
		}
	}
	char word[SHELL_LINE_MAX];
	cg_strlcpy(word, line, n, sizeof(word));
	kprintf("error: unknown command '%s' (type 'help' for the list)\n", word);
}

static void shell_echo(const char *s)
{
	kprintf("%s", s);
}

static struct shell_line shell_cur;
static bool shell_on;

void shell_start(bool enabled)
{
	shell_on = enabled;
	if (enabled)
		kprintf("cg> ");
}

bool shell_enabled(void)
{
	return shell_on;
}

void shell_poll(void)
{
	struct shell_line *l = &shell_cur;
	int c;
	while ((c = arch_console_getc()) >= 0) {
		if (!shell_feed(l, c, shell_echo))
			continue;
		kprintf("\n");
		if (l->overflow) {
			kprintf("error: line longer than %u characters ignored\n", SHELL_LINE_MAX - 1);
		} else {
			l->buf[l->len] = 0;
			shell_exec(l->buf);
		}
		l->len = 0;
		l->overflow = false;
		kprintf("cg> ");
	}
}
