/* A VM's console: what the guest writes (UART, port 0xE9, the
 * console_write hypercall) goes to the operator line, collected per line
 * and tagged with the VM's name, or raw while the operator is attached to
 * the VM; a ring keeps the recent output for the next attach. */
#ifndef CG_VM_CONSOLE_H
#define CG_VM_CONSOLE_H

#include <cg/types.h>

struct vm;

#define VM_CONSOLE_LINE 160
#define VM_CONSOLE_RING 2048

struct vm_console {
	char line[VM_CONSOLE_LINE];
	u32 len;
	u32 lock;
	char ring[VM_CONSOLE_RING]; /* the VM's recent output, raw */
	u64 ring_total;
};

/* vm_console_putc: one byte of guest console output; complete lines go
 * to the operator line as "[<vm>] <text>". Safe from any CPU. */
void vm_console_putc(struct vm *vm, char c);

/* vm_console_flush: print a partial line (the VM is ending). */
void vm_console_flush(struct vm *vm);

/* vm_console_attach: the operator line now belongs to vm's console (NULL:
 * back to the shell). While attached, vm's output goes out raw and
 * untagged, after the recent output kept in its ring is replayed. */
void vm_console_attach(struct vm *vm);

/* vm_console_attached: the VM the line is attached to, or NULL. */
struct vm *vm_console_attached(void);

#endif
