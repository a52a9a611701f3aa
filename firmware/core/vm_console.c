/* A VM's console (vm_console.h): per-VM line buffer and ring, and which
 * VM the operator line is attached to. */
#include "core/vm_console.h"
#include "core/vm.h"
#include "lib/log.h"
#include <cg/spinlock.h>

static struct vm *console_attached;

struct vm *vm_console_attached(void)
{
	return __atomic_load_n(&console_attached, __ATOMIC_ACQUIRE);
}

void vm_console_attach(struct vm *vm)
{
	if (vm) {
		struct vm_console *con = &vm->dev.console;
		char replay[VM_CONSOLE_RING + 1];
		spin_lock(&con->lock);
		u64 have = con->ring_total < VM_CONSOLE_RING ? con->ring_total : VM_CONSOLE_RING;
		for (u64 i = 0; i < have; i++)
			replay[i] = con->ring[(con->ring_total - have + i) % VM_CONSOLE_RING];
		replay[have] = 0;
		__atomic_store_n(&console_attached, vm, __ATOMIC_RELEASE);
		spin_unlock(&con->lock);
		klog_raw(replay, false);
	} else {
		__atomic_store_n(&console_attached, NULL, __ATOMIC_RELEASE);
	}
}

void vm_console_putc(struct vm *vm, char c)
{
	struct vm_console *con = &vm->dev.console;
	spin_lock(&con->lock);
	con->ring[con->ring_total++ % VM_CONSOLE_RING] = c;
	if (vm == console_attached) {
		spin_unlock(&con->lock);
		if (c != '\r')
			klog_guest_putc(c);
		return;
	}
	if (c == '\n' || con->len == VM_CONSOLE_LINE - 1) {
		con->line[con->len] = 0;
		klog_line("[%s] %s\n", vm->name, con->line);
		con->len = 0;
		if (c == '\n') {
			spin_unlock(&con->lock);
			return;
		}
	}
	/* Carriage returns and other control bytes would garble the shared
	 * operator line; tabs become spaces. */
	if (c == '\t')
		c = ' ';
	if ((u8)c >= 0x20 && (u8)c < 0x7F)
		con->line[con->len++] = c;
	spin_unlock(&con->lock);
}

void vm_console_flush(struct vm *vm)
{
	struct vm_console *con = &vm->dev.console;
	spin_lock(&con->lock);
	if (con->len) {
		con->line[con->len] = 0;
		klog_line("[%s] %s\n", vm->name, con->line);
		con->len = 0;
	}
	spin_unlock(&con->lock);
}
