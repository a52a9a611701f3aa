/* The shell's line handling: person or program, attach and detach. The
 * commands themselves are in shell_cmds.c. */
#include "shell/shell.h"
#include "abi/console_proto.h"
#include <cg/arch_base.h>
#include "core/vm_io.h"
#include "lib/fmt.h"
#include "lib/log.h"
#include "core/vm.h"
#include <cg/string.h>
#include <stdarg.h>

#define REPLY_MAX 8192

static struct shell_line shell_cur;
static bool shell_on;
static bool shell_after_request; /* swallow the LF of a CR LF request */
static struct vm *attached;
static char reply[REPLY_MAX];

void shell_fail(struct shell_ctx *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fmt_vsnprintf(c->error, sizeof(c->error), fmt, ap);
	va_end(ap);
	c->failed = true;
}

static u32 shell_split(char *line, char **argv)
{
	u32 n = 0;
	char *p = line;
	while (*p) {
		while (*p == ' ')
			*p++ = 0;
		if (!*p)
			break;
		if (n == SHELL_ARGS_MAX)
			return n + 1; /* too many: the caller reports it */
		argv[n++] = p;
		while (*p && *p != ' ')
			p++;
	}
	return n;
}

void shell_exec(struct shell_ctx *c, char *line)
{
	char *argv[SHELL_ARGS_MAX];
	u32 n = shell_split(line, argv);
	if (!n) {
		shell_fail(c, "empty command (type 'help' for the list)");
		return;
	}
	if (n > SHELL_ARGS_MAX) {
		shell_fail(c, "too many arguments (at most %u)", SHELL_ARGS_MAX - 1);
		return;
	}
	for (u32 i = 0; i < shell_cmd_count; i++) {
		const struct shell_cmd *cmd = &shell_cmds[i];
		if (strcmp(cmd->name, argv[0]))
			continue;
		if (n - 1 < cmd->min_args || n - 1 > cmd->max_args) {
			shell_fail(c, "usage: %s", cmd->usage);
			return;
		}
		c->argc = n - 1;
		for (u32 k = 1; k < n; k++)
			c->argv[k - 1] = argv[k];
		cmd->run(c);
		return;
	}
	shell_fail(c, "unknown command '%s' (type 'help' for the list)", argv[0]);
}

/* A person's line: run it, print its error if any. */
static void shell_human(char *line)
{
	struct shell_ctx c = { 0 };
	char copy[SHELL_LINE_MAX];
	cg_strlcpy(copy, line, SHELL_LINE_MAX, sizeof(copy));
	if (!line[0])
		return;
	shell_exec(&c, line);
	if (c.failed)
		kprintf("error: %s\n", c.error);
	shell_history_add(&shell_cur, copy);
}

/* A program's line: "@cg-req <id> <command>", answered with one line.
 * overlong: the line did not fit; only its id (if readable) is used. */
static void shell_request(char *line, bool overlong)
{
	struct json j;
	struct shell_ctx c = { .machine = true, .j = &j };
	u64 id = 0;
	char *p = line;
	json_init(&j, reply, sizeof(reply));
	json_obj_begin(&j);
	if (strncmp(p, CONSOLE_REQ_PREFIX, strlen(CONSOLE_REQ_PREFIX))) {
		shell_fail(&c, "not a request: write '@cg-req <id> <command>'");
	} else {
		p += strlen(CONSOLE_REQ_PREFIX);
		bool digits = *p >= '0' && *p <= '9';
		while (*p >= '0' && *p <= '9' && id <= CONSOLE_ID_MAX)
			id = id * 10 + (u64)(*p++ - '0');
		if (!digits || (*p != ' ' && *p) || id == 0 || id > CONSOLE_ID_MAX) {
			id = 0;
			shell_fail(&c, "bad request id: use a number from 1 to 4294967295");
		}
	}
	json_kv_u64(&j, "id", id);
	if (!c.failed && overlong)
		shell_fail(&c, "request longer than %u characters; shorten it", SHELL_LINE_MAX - 1);
	if (!c.failed) {
		struct json data;
		static char data_buf[REPLY_MAX - 64];
		json_init(&data, data_buf, sizeof(data_buf));
		c.j = &data;
		shell_exec(&c, p);
		if (!c.failed && data.overflow)
			shell_fail(&c, "reply too large; ask for one VM at a time");
		if (!c.failed) {
			json_kv_bool(&j, "ok", true);
			json_key(&j, "data");
			if (!data.len)
				json_obj_begin(&j), json_obj_end(&j);
			else {
				/* splice the data document in as the value */
				j.after_key = false;
				for (const char *q = data_buf; *q && j.len + 2 < j.size; q++)
					j.buf[j.len++] = *q;
				j.buf[j.len] = 0;
			}
		}
	}
	if (c.failed) {
		json_kv_bool(&j, "ok", false);
		json_kv_str(&j, "error", c.error);
	}
	json_obj_end(&j);
	klog_reply(CONSOLE_RSP_PREFIX, reply);
}

static void shell_echo(const char *s)
{
	kprintf("%s", s);
}

void shell_start(bool enabled)
{
	shell_on = enabled;
	if (enabled)
		kprintf(SHELL_PROMPT);
}

bool shell_enabled(void)
{
	return shell_on;
}

void shell_attach(struct vm *vm)
{
	attached = vm;
	kprintf("attached to %s; Ctrl-] detaches\n", vm->name);
	vm_console_attach(vm);
}

static void shell_detach(const char *why)
{
	struct vm *vm = attached;
	attached = NULL;
	vm_console_attach(NULL);
	klog_raw("", true);
	kprintf("detached from %s%s\n", vm->name, why);
	kprintf(SHELL_PROMPT);
}

void shell_poll(void)
{
	struct shell_line *l = &shell_cur;
	int ch;
	if (attached && attached->state != VM_RUNNING)
		shell_detach(" (the VM ended)");
	while ((ch = arch_serial_getc()) >= 0) {
		if (attached) {
			if (ch == CONSOLE_DETACH)
				shell_detach("");
			else
				vm_uart_rx_push(attached, (u8)ch);
			continue;
		}
		if (shell_after_request && ch == '\n' && !l->len) {
			shell_after_request = false;
			continue;
		}
		shell_after_request = false;
		if (!shell_feed(l, ch, shell_echo))
			continue;
		bool machine = l->quiet;
		l->buf[l->len] = 0;
		if (machine) {
			shell_request(l->buf, l->overflow);
			shell_after_request = ch == '\r';
		} else {
			kprintf("\n");
			if (l->overflow)
				kprintf("error: line longer than %u characters ignored\n", SHELL_LINE_MAX - 1);
			else
				shell_human(l->buf);
		}
		l->len = 0;
		l->overflow = false;
		l->quiet = false;
		if (!machine && !attached)
			kprintf(SHELL_PROMPT);
	}
}
