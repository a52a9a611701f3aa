/* The I/O port map of a VM: one table, first match wins. */
#include "core/dev.h"
#include "devices/virtio/dev_pci.h"
#include "lib/log.h"
#include "core/vm.h"
#include "core/virt.h"
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

static enum dev_result port_pic(struct vcpu *v, u16 port, bool in, u32 size, u32 *val)
{
	struct vm_devices *d = &v->vm->dev;
	spin_lock(&d->pic_lock);
	pic_io(&d->pic, port, in, size, val);
	spin_unlock(&d->pic_lock);
	return DEV_OK;
}

static enum dev_result port_pci(struct vcpu *v, u16 port, bool in, u32 size, u32 *val)
{
	struct pci_bus *b = v->vm->dev.pci;

	if (b)
		return pci_config_io(b, port, in, size, val);
	if (in)
		*val = 0xFFFFFFFFu;
	return DEV_OK;
}

static const char *const exit_class_names[DEV_EXIT_CLASSES] = {
	"uart", "pit", "rtc", "pci-config", "virtio", "lapic", "ioapic", "other",
};

const char *dev_exit_class_name(u32 c)
{
	return c < DEV_EXIT_CLASSES ? exit_class_names[c] : NULL;
}

/* Per-class exit counts: many vCPUs of a VM may exit at once. */
static void count_exit(struct vcpu *v, enum dev_exit_class c)
{
	__atomic_fetch_add(&v->vm->dev.exits[c], 1, __ATOMIC_RELAXED);
}

static enum dev_exit_class mmio_class(u64 gpa)
{
	if (gpa >= VLAPIC_BASE && gpa < VLAPIC_BASE + VLAPIC_SIZE)
		return DEV_EXIT_LAPIC;
	if (gpa >= IRQ_IOAPIC_BASE && gpa < IRQ_IOAPIC_BASE + IRQ_IOAPIC_SIZE)
		return DEV_EXIT_IOAPIC;
	if (gpa >= PCI_MMIO_BASE && gpa < PCI_MMIO_END)
		return DEV_EXIT_VIRTIO;
	return DEV_EXIT_OTHER;
}

struct port_range {
	u16 base;
	u16 count;
	enum dev_result (*io)(struct vcpu *v, u16 port, bool in, u32 size, u32 *val);
	enum dev_exit_class cls; /* what stats counts the exit as */
};

static const struct port_range port_map[] = {
	{ PORT_DEBUG_EXIT, 1, port_debug_exit, DEV_EXIT_OTHER },
	{ PORT_DEBUG_CONSOLE, 1, port_debug_console, DEV_EXIT_OTHER },
	{ PORT_COM1, 8, port_uart, DEV_EXIT_UART },
	{ PORT_FWCFG, 2, dev_fwcfg_io, DEV_EXIT_OTHER },
	{ PIT_PORT_CH0, 4, port_pit, DEV_EXIT_PIT },
	{ PIT_PORT_SYS, 1, port_pit, DEV_EXIT_PIT },
	{ PIC_PORT_MASTER, 2, port_pic, DEV_EXIT_OTHER },
	{ PIC_PORT_SLAVE, 2, port_pic, DEV_EXIT_OTHER },
	{ PIC_PORT_ELCR, 2, port_pic, DEV_EXIT_OTHER },
	{ RTC_PORT_INDEX, 2, dev_rtc_io, DEV_EXIT_RTC },
	/* 0xCF9 before any PCI range over 0xCF8-0xCFF: first match wins. */
	{ SYSCTL_PORT_RST_CNT, 1, dev_sysctl_io, DEV_EXIT_OTHER },
	{ SYSCTL_PORT_KBD_DATA, 1, dev_sysctl_io, DEV_EXIT_OTHER },
	{ SYSCTL_PORT_KBD_CMD, 1, dev_sysctl_io, DEV_EXIT_OTHER },
	{ SYSCTL_PORT_SLEEP_CTL, 2, dev_sysctl_io, DEV_EXIT_OTHER },
	{ PCI_CONFIG_ADDRESS, 8, port_pci, DEV_EXIT_PCI_CONFIG },
};

enum dev_result dev_port_io(struct vcpu *v, u16 port, bool in, u32 size, u32 *val)
{
	for (size_t i = 0; i < ARRAY_SIZE(port_map); i++) {
		const struct port_range *r = &port_map[i];
		if ((u16)(port - r->base) < r->count) {
			count_exit(v, r->cls);
			return r->io(v, port, in, size, val);
		}
	}
	count_exit(v, DEV_EXIT_OTHER);
	if (in)
		*val = size == 4 ? 0xFFFFFFFFu : (1U << (size * 8)) - 1;
	return DEV_OK;
}

enum dev_result dev_mmio(struct vcpu *v, u64 gpa, bool write, u32 size, u64 *val)
{
	if (size) /* size 0 is the EPT handler's probe, not an access */
		count_exit(v, mmio_class(gpa));
	if (gpa >= IRQ_IOAPIC_BASE && gpa < IRQ_IOAPIC_BASE + IRQ_IOAPIC_SIZE)
		return ioapic_mmio(v->vm, gpa - IRQ_IOAPIC_BASE, write, size, val) ? DEV_BAD_ACCESS
											: DEV_OK;
	if (gpa >= PCI_MMIO_BASE && gpa < PCI_MMIO_END && v->vm->dev.pci)
		return pci_mmio(v->vm->dev.pci, gpa, write, size, val);
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
