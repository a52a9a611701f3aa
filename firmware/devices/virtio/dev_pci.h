/* A VM's PCI bus: bus 0 behind configuration mechanism #1 (address
 * register at 0xCF8, data window 0xCFC-0xCFF, PCI Local Bus 3.0 section
 * 3.2.2.3.2), the host bridge at 00:00.0, and up to PCI_SLOTS - 1 devices
 * in slots 1.., function 0 only. Each device's 256-byte configuration
 * space is a byte array with a mask of guest-writable bits, so BAR sizing
 * (write all ones, read the size mask back), the command register and the
 * capability registers all follow from one masked store; devices hook the
 * writes and reads they must act on.
 *
 * BARs are 32-bit memory BARs, pre-assigned as firmware would (inside the
 * ACPI PCI0 window, memory decoding on) so an OS keeps them; the guest may
 * move them, but only addresses inside the window reach devices.
 *
 * Pure: no VM or VMX knowledge. The bus lock serialises configuration
 * accesses; BAR accesses go to the device, which locks itself. */
#ifndef CG_DEV_PCI_H
#define CG_DEV_PCI_H

#include <cg/types.h>
#include "devices/dev_access.h"

/* The 32-bit MMIO window of the guest's PCI0 root bridge (its _CRS). */
#define PCI_MMIO_BASE 0xE0000000ull
#define PCI_MMIO_END 0xFEC00000ull	/* exclusive: the IOAPIC follows */
#define PCI_SLOT_MMIO 0x100000ull	/* pre-assigned BAR space per slot */

#define PCI_CONFIG_ADDRESS 0xCF8
#define PCI_CONFIG_DATA 0xCFC
#define PCI_SLOTS 32
#define PCI_BARS 6
#define PCI_CFG_SIZE 256

/* Type 0 configuration header offsets (PCI 3.0 section 6.1). */
#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_REVISION 0x08
#define PCI_CLASS_PROG 0x09
#define PCI_CACHE_LINE 0x0C
#define PCI_LATENCY 0x0D
#define PCI_HEADER_TYPE 0x0E
#define PCI_BAR0 0x10
#define PCI_SUBSYS_VENDOR 0x2C
#define PCI_SUBSYS_ID 0x2E
#define PCI_CAP_PTR 0x34
#define PCI_INT_LINE 0x3C
#define PCI_INT_PIN 0x3D
#define PCI_CAP_START 0x40	/* capabilities live in 0x40-0xFF */

#define PCI_COMMAND_IO (1u << 0)
#define PCI_COMMAND_MEMORY (1u << 1)
#define PCI_COMMAND_MASTER (1u << 2)
#define PCI_COMMAND_INTX_DISABLE (1u << 10)
#define PCI_STATUS_INTX (1u << 3)
#define PCI_STATUS_CAP_LIST (1u << 4)

/* Capability IDs (PCI 3.0 appendix H). */
#define PCI_CAP_ID_VNDR 0x09
#define PCI_CAP_ID_MSIX 0x11

/* Guest-visible INTx routing: INTA of slot s is GSI PCI_INTX_GSI(s) (the
 * DSDT's _PRT must say the same; also in each device's Interrupt Line). */
#define PCI_INTX_GSI(slot) (16u + ((slot) & 7u))

struct pci_dev;

struct pci_dev_ops {
	/* An access of size 1, 2, 4 or 8 at off inside BAR bar (off + size
	 * within the BAR). Reads fill *val. */
	enum dev_result (*bar_rw)(struct pci_dev *d, u32 bar, u64 off, bool write, u32 size, u64 *val);
	/* Called after a guest write stored into [off, off+size) of the
	 * configuration space at or above PCI_CAP_START (bus lock held). */
	void (*cfg_written)(struct pci_dev *d, u32 off, u32 size);
	/* Called before a guest read of [off, off+size) at or above
	 * PCI_CAP_START, to refresh bytes that change on their own. */
	void (*cfg_reading)(struct pci_dev *d, u32 off, u32 size);
	/* Called after the command register was written (bus lock held). */
	void (*command_written)(struct pci_dev *d);
};

struct pci_dev {
	u8 cfg[PCI_CFG_SIZE];
	u8 wmask[PCI_CFG_SIZE];	/* 1 bits: the guest may write them */
	u32 bar_size[PCI_BARS];	/* 0: BAR not implemented; else a power of 2 */
	u8 slot;		/* 0 until added to a bus */
	u16 cap_end;		/* next free capability offset */
	u8 cap_last;		/* offset of the last capability, 0: none */
	const struct pci_dev_ops *ops;
	void *ctx;		/* the device model */
};

struct pci_bus {
	u32 lock;
	u32 address;		/* CONFIG_ADDRESS as last written */
	struct pci_dev bridge;
	struct pci_dev *devs[PCI_SLOTS]; /* [0] = &bridge */
};

/* pci_bus_init: an empty bus 0 holding only the host bridge. */
void pci_bus_init(struct pci_bus *b);

/* pci_dev_init: a type 0 header for vendor:device, revision, class
 * (base << 16 | sub << 8 | prog-if), subsystem vendor:id, no BARs, no
 * capabilities, memory decoding enabled once it has a BAR. */
void pci_dev_init(struct pci_dev *d, u16 vendor, u16 device, u8 revision, u32 class_code,
		  u16 subsys_vendor, u16 subsys_id, const struct pci_dev_ops *ops, void *ctx);

/* pci_dev_add_bar: declare BAR i as a 32-bit memory BAR of size bytes (a
 * power of two, 16 bytes to 512 KiB). Returns 0 or -CG_EINVAL. */
int pci_dev_add_bar(struct pci_dev *d, u32 i, u32 size);

/* pci_dev_add_cap: append a capability of len bytes (>= 2) with id,
 * linked into the list; its body is zero and read-only until the caller
 * fills cfg[] and sets wmask[]. Returns its offset, or 0 when the space
 * is full. */
u32 pci_dev_add_cap(struct pci_dev *d, u8 id, u32 len);

/* pci_dev_use_intx: the device has INTA, routed to PCI_INTX_GSI(slot)
 * (call after pci_bus_add). */
void pci_dev_use_intx(struct pci_dev *d);

/* pci_bus_add: put d in the first free slot and pre-assign its BARs
 * inside that slot's share of the window. Returns the slot, or
 * -CG_ENOMEM when the bus is full. */
int pci_bus_add(struct pci_bus *b, struct pci_dev *d);

/* pci_bus_remove: take d off the bus (its slot reads as empty). */
void pci_bus_remove(struct pci_bus *b, struct pci_dev *d);

/* pci_config_io: a guest IN or OUT of size 1, 2 or 4 at port 0xCF8-0xCFF.
 * CONFIG_ADDRESS takes only 32-bit accesses (byte accesses to 0xCF8-0xCFB
 * read back its bytes and are otherwise ignored, as on PC chipsets); the
 * data window reads all ones for an absent function and ignores writes to
 * it. Always DEV_OK. */
enum dev_result pci_config_io(struct pci_bus *b, u16 port, bool in, u32 size, u32 *val);

/* pci_cfg_read / pci_cfg_write: configuration access to slot, function
 * 0, bytes [off, off+size) with size 1, 2 or 4 inside the 256 bytes (the
 * data window's path, also usable by tests). Reads of an absent slot give
 * all ones. */
u32 pci_cfg_read(struct pci_bus *b, u32 slot, u32 off, u32 size);
void pci_cfg_write(struct pci_bus *b, u32 slot, u32 off, u32 size, u32 val);

/* pci_bar_base: the address BAR i decodes now, or 0 when the BAR is not
 * implemented, memory decoding is off, or it lies outside the window. */
u64 pci_bar_base(const struct pci_dev *d, u32 i);

/* pci_dev_at: the device whose BAR decodes gpa now (*bar set), or NULL. */
struct pci_dev *pci_dev_at(struct pci_bus *b, u64 gpa, u32 *bar);

/* pci_mmio: a guest access inside [PCI_MMIO_BASE, PCI_MMIO_END): routed to
 * the BAR that decodes gpa. size 0 is a probe (no side effect). An access
 * no BAR decodes, or one that straddles a BAR's end, reads all ones and is
 * otherwise dropped (a master abort). Returns DEV_OK, DEV_UNHANDLED outside
 * the window, or what the device says. */
enum dev_result pci_mmio(struct pci_bus *b, u64 gpa, bool write, u32 size, u64 *val);

#endif
