/* The operator shell on the serial line: a person's prompt ("cg> ") and,
 * on the same line, the machine protocol of docs/console-protocol.md
 * ("@cg-req <id> <command>" answered by one "@cg-rsp {json}" line). */
#ifndef CG_SHELL_H
#define CG_SHELL_H

#include <cg/types.h>
#include "abi/console_proto.h"
#include "lib/json.h"
#include "shell/shell_line.h"

#define SHELL_ARGS_MAX 8

struct vm;
#define SHELL_PROTOCOL CONSOLE_PROTOCOL_VERSION

/* What a command sees: its arguments, and where its answer goes. A
 * command prints for a person with kprintf when !machine, and fills j
 * when machine; on failure it calls shell_fail and prints nothing. */
struct shell_ctx {
	bool machine;
	u32 argc;
	char *argv[SHELL_ARGS_MAX];
	struct json *j;
	char error[160];
	bool failed;
};

struct shell_cmd {
	const char *name;
	const char *usage;
	const char *help;
	u32 min_args, max_args; /* after the command name */
	void (*run)(struct shell_ctx *c);
};

/* shell_cmd_disks: the `disks` command (shell_disks.c). */
void shell_cmd_disks(struct shell_ctx *c);

/* shell_cmd_net: the `net` command (shell_net.c). */
void shell_cmd_net(struct shell_ctx *c);

/* shell_net_uplink: network i's uplink for `net` (shell_uplink.c): its
 * lines, or an "uplink" member of the open JSON object; nothing when the
 * network has none. */
void shell_net_uplink(struct shell_ctx *c, u32 i);

/* shell_net_probe: `net probe NETWORK` (shell_uplink.c): one
 * identification frame out of the network's uplink, or a failure. */
void shell_net_probe(struct shell_ctx *c, const char *network);

/* shell_fail: the command failed: message says what and the fix. */
void shell_fail(struct shell_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* shell_exec: run one line (a person's, or a request's command part). */
void shell_exec(struct shell_ctx *c, char *line);

/* The command table (shell_cmds.c). */
extern const struct shell_cmd shell_cmds[];
extern const u32 shell_cmd_count;

/* shell_start: print the first prompt; enabled is false with cg.shell=0. */
void shell_start(bool enabled);

/* shell_enabled: the shell serves the operator line. */
bool shell_enabled(void);

/* shell_poll: handle every byte waiting on the operator line (never
 * blocks; CPU 0 calls it between guest time slices). */
void shell_poll(void);

/* shell_attach: hand the line to a VM's console (shell_cmds.c's console
 * command); Ctrl-] gives it back. */
void shell_attach(struct vm *vm);

#endif
