/* The I/O port map of a VM: one table, first match wins. */
#include "dev.h"
#include "log.h"
#include "vm.h"
#include "arch.h"
#include <cg/spinlock.h>

#define PORT_DEBUG_EXIT 0xF4
#define PORT_DEBUG_CONSOLE 0xE9
#define PORT_COM1 0x3F8
#define PORT_FWCFG 0x510

static enum dev_result port_debug_exit(struct vcpu *v, u16 port, bool in, u32 size, u32 *val)
{
	if (in) {
		*val = 0xFFFFFFFFu;
		return DEV_OK;
	}
	u64 value = size == 4 ? *val : *val & ((1U << (size * 8)) - 1);
	/* QEMU's isa-debug-exit: the process ends with status (value << 1) | 1 */
	vm_end(v->vm, VM_END_EXIT, (value << 1) | 1, NULL);
	return DEV_VM_ENDED;
}

static enum dev_result port_debug_console(struct vcpu *v, u16 port, bool in, u32 size, u32 *val)
{
	if (in)
		*val = PORT_DEBUG_CONSOLE; /* Bochs/QEMU answer 0xE9: "port present" */
	else
		dev_console_putc(v->vm, (char)*val);
	return DEV_OK;
}

static enum dev_result port_uart(struct vcpu *v, u16 port, bool in, u32 size, u32 *val)
{
	return dev_uart_io(v, port - PORT_COM1, in, size, val);
}

u64 dev_now_ns(void)
{
	u64 t = arch_timestamp(), hz = arch_timestamp_hz();
	return t / hz * 1000000000ULL + t % hz * 1000000000ULL / hz;
}

static enum dev_result port_pit(struct vcpu *v, u16 port, bool in, u32 size, u32 *val)
{
	struct vm_devices *d = &v->vm->dev;
	u64 now = dev_now_ns();
	spin_lock(&d->pit_lock);
	if (in)
		*val = pit_read(&d->pit, port, now) | (size > 1 ? 0xFFFFFF00u : 0);
	else
		pit_write(&d->pit, port, (u8)*val, now);
	spin_unlock(&d->pit_lock);
	return DEV_OK;
}

struct port_range {
	u16 base;
	u16 count;
	enum dev_result (*io)(struct vcpu *v, u16 port, bool in, u32 size, u32 *val);
};

static const struct port_range port_map[] = {
	{ PORT_DEBUG_EXIT, 1, port_debug_exit },
	{ PORT_DEBUG_CONSOLE, 1, port_debug_console },
	{ PORT_COM1, 8, port_uart },
	{ PORT_FWCFG, 2, dev_fwcfg_io },
	{ PIT_PORT_CH0, 4, port_pit },
	{ PIT_PORT_SYS, 1, port_pit },
};

enum dev_result dev_port_io(struct vcpu *v, u16 port, bool in, u32 size, u32 *val)
{
	for (size_t i = 0; i < ARRAY_SIZE(port_map); i++) {
		const struct port_range *r = &port_map[i];
		if (port >= r->base && port < r->base + r->count)
			return r->io(v, port, in, size, val);
	}
	if (in)
		*val = size == 4 ? 0xFFFFFFFFu : (1U << (size * 8)) - 1;
	return DEV_OK;
}

enum dev_result dev_mmio(struct vcpu *v, u64 gpa, bool write, u32 size, u64 *val)
{
	if (gpa >= VLAPIC_BASE && gpa < VLAPIC_BASE + VLAPIC_SIZE && vlapic_enabled(&v->lapic))
		return vlapic_mmio(v, gpa - VLAPIC_BASE, write, size, val) ? DEV_BAD_ACCESS : DEV_OK;
	return DEV_UNHANDLED;
}

static struct vm *console_attached;

struct vm *dev_console_attached(void)
{
	return __atomic_load_n(&console_attached, __ATOMIC_ACQUIRE);
}

void dev_console_attach(struct vm *vm)
{
	if (vm) {
		struct dev_console *con = &vm->dev.console;
		char replay[DEV_CONSOLE_RING + 1];
		spin_lock(&con->lock);
		u64 have = con->ring_total < DEV_CONSOLE_RING ? con->ring_total : DEV_CONSOLE_RING;
		for (u64 i = 0; i < have; i++)
			replay[i] = con->ring[(con->ring_total - have + i) % DEV_CONSOLE_RING];
		replay[have] = 0;
		__atomic_store_n(&console_attached, vm, __ATOMIC_RELEASE);
		spin_unlock(&con->lock);
		klog_raw(replay, false);
	} else {
		__atomic_store_n(&console_attached, NULL, __ATOMIC_RELEASE);
	}
}

void dev_console_putc(struct vm *vm, char c)
{
	struct dev_console *con = &vm->dev.console;
	spin_lock(&con->lock);
	con->ring[con->ring_total++ % DEV_CONSOLE_RING] = c;
	if (vm == console_attached) {
		spin_unlock(&con->lock);
		if (c != '\r')
			klog_guest_putc(c);
		return;
	}
	if (c == '\n' || con->len == DEV_LINE_MAX - 1) {
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

void dev_console_flush(struct vm *vm)
{
	struct dev_console *con = &vm->dev.console;
	spin_lock(&con->lock);
	if (con->len) {
		con->line[con->len] = 0;
		klog_line("[%s] %s\n", vm->name, con->line);
		con->len = 0;
	}
	spin_unlock(&con->lock);
}
