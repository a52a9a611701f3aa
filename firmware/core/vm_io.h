/* The platform each VM sees (docs/guest-abi.md): the VM's instance of
 * each device model (struct vm_devices) and core's routing of guest port
 * and MMIO accesses to them. Exit handlers never know which device is where; the device models never
 * know about VMs ending: they return what the guest asked for and
 * vm_port_io acts on it (vm_end). */
#ifndef CG_VM_IO_H
#define CG_VM_IO_H

#include <cg/types.h>
#include "core/vm_console.h"
#include "devices/dev_access.h"
#include "devices/dev_fwcfg.h"
#include "devices/dev_ioapic.h"
#include "devices/dev_pic.h"
#include "devices/dev_pit.h"
#include "devices/dev_rtc.h"
#include "devices/dev_sysctl.h"
#include "devices/dev_uart.h"

struct pci_bus;
struct vcpu;
struct vm;

/* Device exits by device class (vm_port_io and vm_mmio count them; the
 * names are the stats keys). */
enum vm_io_class {
	VM_IO_UART,
	VM_IO_PIT,
	VM_IO_RTC,
	VM_IO_PCI_CONFIG,
	VM_IO_VIRTIO_BLK, /* MMIO in the PCI window: a virtio-blk BAR */
	VM_IO_VIRTIO_NET, /* ... a virtio-net BAR */
	VM_IO_LAPIC,
	VM_IO_IOAPIC,
	VM_IO_OTHER,
	VM_IO_UNASSIGNED, /* MMIO that reached neither RAM nor a device */
	VM_IO_CLASSES
};

struct vm_devices {
	struct uart uart;     /* COM1: 0x3F8, ISA IRQ 4; locks itself */
	struct fwcfg fwcfg;   /* 0x510-0x511, under chipset_lock */
	struct vm_console console;
	struct pit pit;   /* 8254 at 0x40-0x43 and port 0x61 */
	u32 pit_lock;
	struct pic pic;   /* 8259A pair at 0x20/0xA0, ELCR at 0x4D0: INT unconnected */
	u32 pic_lock;
	struct ioapic ioapic; /* at IOAPIC_BASE; locks itself */
	struct rtc rtc;       /* CMOS RTC at 0x70-0x71 */
	bool rtc_ready;       /* set from the wall clock on first access */
	struct sysctl sysctl; /* 0xCF9, i8042, ACPI sleep registers */
	u32 chipset_lock;     /* rtc, rtc_ready, sysctl, fwcfg */
	struct pci_bus *pci;  /* bus 0 and its devices (vm_disks.c, dev_pci.c) */
	u64 exits[VM_IO_CLASSES]; /* enum vm_io_class */
};

/* vm_io_class_name: "uart", "pit", ... for stats; NULL past the end. */
const char *vm_io_class_name(u32 c);

/* vm_now_ns: the guests' clock for device timers: the TSC in nanoseconds
 * (guests see the host TSC unchanged). Core reads it and hands it to the
 * device models, which never read a clock themselves. */
u64 vm_now_ns(void);

/* vm_port_io and vm_mmio, the exit handlers' way in, are declared in
 * core/virt.h with the rest of what arch may call. */

/* vm_io_init: build the port lookup from the port map (vm_io.c); every
 * vm_create calls it before the VM can exit. Idempotent. */
void vm_io_init(void);

/* vm_uart_rx_push: one byte typed by the operator for vm's UART; dropped
 * when its receive buffer is full. */
void vm_uart_rx_push(struct vm *vm, u8 b);

/* vm_uart_poll: raise the UARTs' "transmitter empty" interrupts that came
 * due while their guests did not touch them (a guest's driver may be
 * halted waiting for one). CPU 0 calls it between slices. */
void vm_uart_poll(void);

#endif
