/* A VM's I/O: one port map (first match wins) and the MMIO ranges, each
 * wired to the VM's instance of a device model (vm_io.h). The glue
 * here takes the VM's lock around a model that does not lock itself,
 * reads the clock the models are given, and turns what a model asks for
 * (reset, power-off) into vm_end. */
#include "core/vm_io.h"
#include "core/virt.h"
#include "core/irq.h"
#include "core/vm.h"
#include "devices/virtio/dev_pci.h"
#include "devices/virtio/virtio_net.h"
#include <cg/unaligned.h>
#include "lib/fatal.h"
#include "lib/log.h"
#include <cg/spinlock.h>

#define PORT_DEBUG_EXIT 0xF4
#define PORT_DEBUG_CONSOLE 0xE9
#define PORT_COM1 0x3F8
#define COM1_GSI 4 /* ISA IRQ 4, identity-mapped to IOAPIC pin 4 (MADT) */

u64 vm_now_ns(void)
{
	u64 t = arch_timestamp(), hz = arch_timestamp_hz();
	return t / hz * 1000000000ULL + t % hz * 1000000000ULL / hz;
}

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
	else if (!vm_console_putc_paced(v->vm, (char)*val))
		return DEV_RETRY; /* the VM's share of the line is used: wait */
	return DEV_OK;
}

/* COM1's interrupt line: the UART model calls this with its lock held. */
static void com1_irq(struct vm *vm, bool level)
{
	irq_line(vm, COM1_GSI, level);
}

/* The UART's view of the VM: its console (paced by the VM's share of the
 * operator line, whose byte time is the UART's fastest), the IOAPIC pin
 * and the guests' clock. */
static struct uart_env com1_env(struct vm *vm)
{
	return (struct uart_env){ .putc = vm_console_putc_paced,
				  .irq = com1_irq,
				  .vm = vm,
				  .now_ns = vm_now_ns(),
				  .byte_ns = vm_console_byte_ns() };
}

static enum dev_result port_uart(struct vcpu *v, u16 port, bool in, u32 size, u32 *val)
{
	struct uart_env env = com1_env(v->vm);
	return uart_io(&v->vm->dev.uart, &env, port - PORT_COM1, in, size, val);
}

void vm_uart_rx_push(struct vm *vm, u8 b)
{
	struct uart_env env = com1_env(vm);
	uart_rx_push(&vm->dev.uart, &env, b);
}

void vm_uart_poll(void)
{
	for (u32 i = 0; i < VM_MAX; i++) {
		struct vm *vm = &vm_table[i];
		if (!__atomic_load_n(&vm->dev.uart.thre_armed, __ATOMIC_RELAXED))
			continue;
		/* Under the VM's lock a running VM cannot end, so its
		 * interrupt controllers stay while the tick may use them. */
		spin_lock(&vm->lock);
		if (vm->state == VM_RUNNING) {
			struct uart_env env = com1_env(vm);
			uart_tick(&vm->dev.uart, &env);
		}
		spin_unlock(&vm->lock);
	}
}

static enum dev_result port_fwcfg(struct vcpu *v, u16 port, bool in, u32 size, u32 *val)
{
	struct vm_devices *d = &v->vm->dev;
	const struct fwcfg_machine m = { v->vm->ram_bytes, (u16)v->vm->vcpu_count };
	spin_lock(&d->chipset_lock);
	enum dev_result r = fwcfg_io(&d->fwcfg, &m, port, in, size, val);
	spin_unlock(&d->chipset_lock);
	return r;
}

static enum dev_result port_pit(struct vcpu *v, u16 port, bool in, u32 size, u32 *val)
{
	struct vm_devices *d = &v->vm->dev;
	u64 now = vm_now_ns();
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

static enum dev_result port_rtc(struct vcpu *v, u16 port, bool in, u32 size, u32 *val)
{
	struct vm_devices *d = &v->vm->dev;
	/* The wall clock may read the host RTC: not under the VM's lock. */
	u64 wall = __atomic_load_n(&d->rtc_ready, __ATOMIC_ACQUIRE) ? 0 : arch_wallclock_seconds();
	u64 now = vm_now_ns();

	spin_lock(&d->chipset_lock);
	if (!d->rtc_ready) {
		rtc_reset(&d->rtc, now, wall);
		__atomic_store_n(&d->rtc_ready, true, __ATOMIC_RELEASE);
	}
	if (in)
		*val = rtc_read(&d->rtc, port, now) | (size > 1 ? 0xFFFFFF00u : 0);
	else
		rtc_write(&d->rtc, port, (u8)*val, now);
	spin_unlock(&d->chipset_lock);
	return DEV_OK;
}

/* Reset (0xCF9, i8042) and ACPI sleep registers: the model says what the
 * guest asked for; the router does it, outside the lock. */
static enum dev_result port_sysctl(struct vcpu *v, u16 port, bool in, u32 size, u32 *val)
{
	struct vm_devices *d = &v->vm->dev;
	enum sysctl_action act = SYSCTL_NONE;
	u8 typ;

	spin_lock(&d->chipset_lock);
	if (in)
		*val = sysctl_read(&d->sysctl, port, size);
	else
		act = sysctl_write(&d->sysctl, port, size, *val);
	typ = d->sysctl.sleep_typ;
	spin_unlock(&d->chipset_lock);

	switch (act) {
	case SYSCTL_RESET:
		/* Asked for by the guest: always a reset, whatever
		 * on_triple_fault says. */
		vm_end(v->vm, VM_END_RESET, 0, "guest-reset");
		return DEV_VM_ENDED;
	case SYSCTL_POWEROFF:
		vm_end(v->vm, VM_END_EXIT, 0, "poweroff");
		return DEV_VM_ENDED;
	case SYSCTL_SLEEP_IGNORED:
		kprintf("vm %s: ACPI sleep type %u requested; only soft-off (%u) exists, ignored\n",
			v->vm->name, typ, SYSCTL_SLP_TYP_S5);
		return DEV_OK;
	default:
		return DEV_OK;
	}
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

static const char *const io_class_names[VM_IO_CLASSES] = {
	"uart", "pit", "rtc", "pci-config", "virtio-blk", "virtio-net", "lapic", "ioapic", "other", "unassigned",
};

const char *vm_io_class_name(u32 c)
{
	return c < VM_IO_CLASSES ? io_class_names[c] : NULL;
}

/* Per-class exit counts: many vCPUs of a VM may exit at once. */
static void count_exit(struct vcpu *v, enum vm_io_class c)
{
	__atomic_fetch_add(&v->vm->dev.exits[c], 1, __ATOMIC_RELAXED);
}

/* The device behind an MMIO address; VM_IO_UNASSIGNED when none (the
 * local APIC page reaches core only while the guest's APIC is disabled:
 * nothing answers there then). */
static enum vm_io_class mmio_class(const struct vm *vm, u64 gpa)
{
	if (gpa >= IOAPIC_BASE && gpa < IOAPIC_BASE + IOAPIC_SIZE)
		return VM_IO_IOAPIC;
	if (gpa >= PCI_MMIO_BASE && gpa < PCI_MMIO_END && vm->dev.pci) {
		u32 bar;
		const struct pci_dev *d = pci_dev_at(vm->dev.pci, gpa, &bar);

		/* Counted apart so a network's exits per packet can be read
		 * next to the disks'; an address no BAR decodes counts as
		 * virtio-blk, the bus's first user. */
		if (d && le16_at(d->cfg + PCI_DEVICE_ID) == VIRTIO_PCI_DEVICE_BASE + VIRTIO_ID_NET)
			return VM_IO_VIRTIO_NET;
		return VM_IO_VIRTIO_BLK;
	}
	return VM_IO_UNASSIGNED;
}

struct port_range {
	u16 base;
	u16 count;
	enum dev_result (*io)(struct vcpu *v, u16 port, bool in, u32 size, u32 *val);
	enum vm_io_class cls; /* what stats counts the exit as */
};

static const struct port_range port_map[] = {
	{ PORT_DEBUG_EXIT, 1, port_debug_exit, VM_IO_OTHER },
	{ PORT_DEBUG_CONSOLE, 1, port_debug_console, VM_IO_OTHER },
	{ PORT_COM1, UART_PORTS, port_uart, VM_IO_UART },
	{ FWCFG_PORT_SELECTOR, FWCFG_PORTS, port_fwcfg, VM_IO_OTHER },
	{ PIT_PORT_CH0, 4, port_pit, VM_IO_PIT },
	{ PIT_PORT_SYS, 1, port_pit, VM_IO_PIT },
	{ PIC_PORT_MASTER, 2, port_pic, VM_IO_OTHER },
	{ PIC_PORT_SLAVE, 2, port_pic, VM_IO_OTHER },
	{ PIC_PORT_ELCR, 2, port_pic, VM_IO_OTHER },
	{ RTC_PORT_INDEX, 2, port_rtc, VM_IO_RTC },
	/* 0xCF9 before any PCI range over 0xCF8-0xCFF: first match wins. */
	{ SYSCTL_PORT_RST_CNT, 1, port_sysctl, VM_IO_OTHER },
	{ SYSCTL_PORT_KBD_DATA, 1, port_sysctl, VM_IO_OTHER },
	{ SYSCTL_PORT_KBD_CMD, 1, port_sysctl, VM_IO_OTHER },
	{ SYSCTL_PORT_SLEEP_CTL, 2, port_sysctl, VM_IO_OTHER },
	{ PCI_CONFIG_ADDRESS, 8, port_pci, VM_IO_PCI_CONFIG },
};

/* Every range of port_map lies below this. A port's entry is found in
 * one load of port_index (1 + its position in port_map, 0: none) rather
 * than a walk of the map on every port exit; the index is 4 KiB, built
 * from the map once and shared by all VMs (the map is the same for all). */
#define PORT_INDEX_LIMIT 0x1000
static u8 port_index[PORT_INDEX_LIMIT];

_Static_assert(ARRAY_SIZE(port_map) < 0xFF, "port_index holds 1 + a port_map position in a u8");

/* A port takes the first range of port_map that holds it, and is never
 * written again: every later build (each vm_create calls this) finds it
 * set, so a CPU reading the index while another VM is created only ever
 * sees the final entry. The first VM's creation comes before any exit. */
void vm_io_init(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(port_map); i++) {
		const struct port_range *r = &port_map[i];
		if ((u32)r->base + r->count > PORT_INDEX_LIMIT)
			panic("vm_io_init: port range 0x%x+%u lies past the port index", r->base,
			      r->count);
		for (u32 p = r->base; p < (u32)r->base + r->count; p++)
			if (!__atomic_load_n(&port_index[p], __ATOMIC_RELAXED))
				__atomic_store_n(&port_index[p], (u8)(i + 1), __ATOMIC_RELAXED);
	}
}

enum dev_result vm_port_io(struct vcpu *v, u16 port, bool in, u32 size, u32 *val)
{
	u32 slot = port < PORT_INDEX_LIMIT ? __atomic_load_n(&port_index[port], __ATOMIC_RELAXED) : 0;
	if (slot) {
		const struct port_range *r = &port_map[slot - 1];
		count_exit(v, r->cls);
		return r->io(v, port, in, size, val);
	}
	count_exit(v, VM_IO_OTHER);
	if (in)
		*val = size == 4 ? 0xFFFFFFFFu : (1U << (size * 8)) - 1;
	return DEV_OK;
}

/* An access no device answers: as on QEMU's PC the guest goes on and
 * writes vanish; reads see all ones of the access size, a PC bus's master
 * abort (QEMU 7.2 gives 0), or a stop when the VM's
 * description asks for on_unassigned_access stop. Counted either way, at
 * the probe when stopping (that exit's only call) and at the access
 * otherwise. */
static enum dev_result mmio_unassigned(struct vcpu *v, bool write, u32 size, u64 *val)
{
	if (v->vm->on_unassigned == VMCFG_UNASSIGNED_STOP) {
		count_exit(v, VM_IO_UNASSIGNED);
		return DEV_UNHANDLED;
	}
	if (!size)
		return DEV_OK;
	count_exit(v, VM_IO_UNASSIGNED);
	if (!write)
		*val = size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
	return DEV_OK;
}

enum dev_result vm_mmio(struct vcpu *v, u64 gpa, bool write, u32 size, u64 *val)
{
	enum vm_io_class c = mmio_class(v->vm, gpa);

	if (c == VM_IO_UNASSIGNED)
		return mmio_unassigned(v, write, size, val);
	if (size) /* size 0 is the EPT handler's probe, not an access */
		count_exit(v, c);
	if (c == VM_IO_IOAPIC)
		return irq_ioapic_mmio(v->vm, gpa - IOAPIC_BASE, write, size, val) ? DEV_BAD_ACCESS
										      : DEV_OK;
	return pci_mmio(v->vm->dev.pci, gpa, write, size, val);
}
