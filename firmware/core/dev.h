/* The platform each VM sees (docs/guest-abi.md): devices on I/O ports and
 * the local APIC page. Handlers never know about VMX; they get an access
 * and return what happened. */
#ifndef CG_DEV_H
#define CG_DEV_H

#include <cg/types.h>
#include "devices/dev_pit.h"
#include "devices/dev_pic.h"
#include "devices/dev_rtc.h"
#include "devices/dev_sysctl.h"
#include "devices/dev_ioapic.h"

struct vcpu;
struct vm;
struct pci_bus;

/* Device exits by device class (dev_port_io and dev_mmio count them). */
enum dev_exit_class {
	DEV_EXIT_UART,
	DEV_EXIT_PIT,
	DEV_EXIT_RTC,
	DEV_EXIT_PCI_CONFIG,
	DEV_EXIT_VIRTIO,	/* MMIO in the PCI window: device BARs */
	DEV_EXIT_LAPIC,
	DEV_EXIT_IOAPIC,
	DEV_EXIT_OTHER,
	DEV_EXIT_CLASSES
};

/* dev_exit_class_name: "uart", "pit", ... for stats; NULL past the end. */
const char *dev_exit_class_name(u32 c);

#define DEV_LINE_MAX 160

#define DEV_UART_RX 64
#define DEV_CONSOLE_RING 2048

struct dev_uart {
	u8 ier, lcr, mcr, scr, dll, dlm;
	bool thre_pending;    /* "transmitter empty" interrupt not yet taken */
	bool irq_level;       /* what the IOAPIC pin was last told */
	u8 rx[DEV_UART_RX];   /* operator input while attached */
	u32 rx_head, rx_tail;
	u32 rx_lock;          /* the whole UART */
};

struct dev_fwcfg {
	u16 selector;
	u32 offset;
};

/* Guest console output, collected per line and printed with the VM's tag. */
struct dev_console {
	char line[DEV_LINE_MAX];
	u32 len;
	u32 lock;
	char ring[DEV_CONSOLE_RING]; /* the VM's recent output, raw */
	u64 ring_total;
};

struct vm_devices {
	struct dev_uart uart;
	struct dev_fwcfg fwcfg;
	struct dev_console console;
	struct pit pit;   /* 8254 at 0x40-0x43 and port 0x61 */
	u32 pit_lock;
	struct pic pic;   /* 8259A pair at 0x20/0xA0, ELCR at 0x4D0: INT unconnected */
	u32 pic_lock;
	struct ioapic ioapic; /* at 0xFEC00000 */
	struct rtc rtc;       /* CMOS RTC at 0x70-0x71 (dev_chipset.c) */
	bool rtc_ready;       /* set from the wall clock on first access */
	struct sysctl sysctl; /* 0xCF9, i8042, ACPI sleep registers */
	u32 chipset_lock;     /* rtc, rtc_ready, sysctl */
	struct pci_bus *pci;  /* bus 0 and its devices (vm_disks.c, dev_pci.c) */
	u64 exits[DEV_EXIT_CLASSES]; /* enum dev_exit_class */
};

/* dev_now_ns: the guests' clock for device timers: the TSC in
 * nanoseconds (guests see the host TSC unchanged). */
u64 dev_now_ns(void);

enum dev_result {
	DEV_OK = 0,      /* access done, guest continues */
	DEV_VM_ENDED,    /* the access ended the VM (debug-exit) */
	DEV_UNHANDLED,   /* nothing there: caller decides (MMIO: stop the VM) */
	DEV_BAD_ACCESS,  /* malformed access to a device: stop the VM */
};

/* dev_port_io: a guest IN or OUT of size 1, 2 or 4 bytes. For IN, *val
 * receives the value (unknown ports read all ones); for OUT, *val holds it
 * (unknown ports ignore it). Returns DEV_OK or DEV_VM_ENDED. */
enum dev_result dev_port_io(struct vcpu *v, u16 port, bool in, u32 size, u32 *val);

/* dev_mmio: a guest access to guest-physical gpa that is not RAM. Returns
 * DEV_OK, DEV_UNHANDLED (no device there) or DEV_BAD_ACCESS. */
enum dev_result dev_mmio(struct vcpu *v, u64 gpa, bool write, u32 size, u64 *val);

/* dev_console_putc: one byte of guest console output (UART, port 0xE9,
 * console_write hypercall); complete lines go to the operator line as
 * "[<vm>] <text>". */
void dev_console_putc(struct vm *vm, char c);

/* dev_console_flush: print a partial line (the VM is ending). */
void dev_console_flush(struct vm *vm);

/* dev_console_attach: the operator line now belongs to vm's UART (NULL:
 * back to the shell). While attached, vm's output goes out raw and
 * untagged, after the recent output kept in its ring is replayed. */
void dev_console_attach(struct vm *vm);

/* dev_console_attached: the VM the line is attached to, or NULL. */
struct vm *dev_console_attached(void);

/* dev_uart_rx_push: one byte typed by the operator for vm's UART; dropped
 * when its receive buffer is full. */
void dev_uart_rx_push(struct vm *vm, u8 b);

/* dev_uart_io / dev_fwcfg_io: the individual devices (dev_port_io routes). */
enum dev_result dev_uart_io(struct vcpu *v, u16 off, bool in, u32 size, u32 *val);
enum dev_result dev_fwcfg_io(struct vcpu *v, u16 port, bool in, u32 size, u32 *val);

/* dev_rtc_io: the CMOS RTC (ports 0x70-0x71); always DEV_OK.
 * dev_sysctl_io: reset (0xCF9, i8042 0x60/0x64) and ACPI sleep registers
 * (dev_sysctl.h); DEV_VM_ENDED when the write reset or powered off the VM. */
enum dev_result dev_rtc_io(struct vcpu *v, u16 port, bool in, u32 size, u32 *val);
enum dev_result dev_sysctl_io(struct vcpu *v, u16 port, bool in, u32 size, u32 *val);

#endif
