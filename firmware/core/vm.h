/* A VM: its RAM, its devices, its vCPUs, its exit statistics. Stopping a VM
 * frees all of that and touches nothing else: the unit of isolation. */
#ifndef CG_VM_H
#define CG_VM_H

#include <cg/types.h>
#include "core/irq.h"
#include "core/vm_io.h"
#include "core/vcpu.h"
#include "core/vmcfg.h"

#define VM_MAX 16
#define VM_MAX_VCPUS 16
#define VM_CHUNK (2 * MIB) /* guest RAM is backed in 2 MiB host chunks */
#define VM_EXIT_STATS VCPU_EXIT_STATS
/* Guest RAM is one range from 0: it must end below the PCI MMIO window
 * (docs/guest-abi.md) until RAM above 4 GiB is mapped around it. */
#define GUEST_RAM_MAX 0xE0000000UL

enum vm_state { VM_FREE = 0, VM_CREATED, VM_RUNNING, VM_ENDING, VM_ENDED };
enum vm_end_kind { VM_END_EXIT, VM_END_STOP, VM_END_RESET };

struct arch_vm;

struct vm {
	u32 id;
	volatile u32 state;
	char name[32];
	u64 ram_bytes;
	u64 overhead_bytes; /* monitor memory it took beyond its RAM (vm_create) */
	u64 *chunks;        /* host physical address of each 2 MiB chunk */
	u32 chunk_count;
	u64 chunks_phys;    /* the page(s) holding the chunks array */
	u32 chunks_pages;
	struct arch_vm *arch;
	u32 vcpu_count;
	struct vcpu *vcpus[VM_MAX_VCPUS];
	volatile u32 vcpus_live; /* vCPUs not yet released by their CPU */
	struct vm_devices dev;
	enum vmcfg_triple on_triple_fault;
	enum vmcfg_unassigned on_unassigned; /* data accesses outside RAM and devices */
	const struct vmcfg_vm *cfg; /* kept for a reset */
	u32 weight;         /* scheduler share, 1..10000 */
	u32 cap;            /* per mille of one CPU, 0: none */
	u64 rt_budget, rt_period; /* reservation in TSC ticks, 0: none */
	u32 resets;
	bool paused;        /* by the operator: its vCPUs are not scheduled */
	enum vm_end_kind end_kind;
	u64 exit_status;
	char stop_reason[48];
	u64 irq_stats[IRQ_STATS]; /* enum irq_stat (core/irq.h) */
	u32 lock;
};

extern struct vm vm_table[VM_MAX];

/* vm_create: build a VM from its description: RAM, page tables, devices,
 * vCPUs pinned round-robin over the online CPUs, guest image loaded from
 * the boot modules by the Multiboot1 or the Linux loader (loader/). Returns the VM, or NULL with
 * err set ("what failed and the fix"); nothing is left allocated then. */
struct vm *vm_create(const struct vmcfg_vm *cfg, char *err, size_t err_size);

/* vm_exit_count: vm's exits of basic reason r (below VM_EXIT_STATS), its
 * vCPUs' counters summed; a running vCPU's may be a few exits behind. */
u64 vm_exit_count(const struct vm *vm, u32 r);

/* vm_start: announce the VM and hand its vCPUs to the scheduler. Returns
 * 0, or the policy's error (the VM is then stopped: admission-refused). */
int vm_start(struct vm *vm);

/* vm_end: the VM ends (guest exit with status, stopped with reason, or
 * reset: rebuilt from its description once every vCPU is out). The first
 * call wins and prints the marker; every vCPU is then released by its CPU,
 * and the last one frees the VM. Safe from any CPU. */
void vm_end(struct vm *vm, enum vm_end_kind kind, u64 status, const char *reason);

/* vm_release_vcpu: called by the CPU running v once v has stopped for good.
 * The last vCPU out frees the VM's memory and reports vms-done when it was
 * the last VM. */
void vm_release_vcpu(struct vcpu *v);

/* vm_gpa_ptr: host pointer for guest-physical [gpa, gpa+len), or NULL if
 * that range is not RAM or crosses a 2 MiB backing chunk. */
void *vm_gpa_ptr(struct vm *vm, u64 gpa, u64 len);

/* vm_device_map: the map callback of struct virtq_mem for devices of the
 * VM ctx: a host pointer for guest-physical [gpa, gpa+len), or NULL when
 * that is not all RAM or crosses 2 MiB backing chunks that are not
 * adjacent in host memory (the rings and buffers must be one host range). */
void *vm_device_map(void *ctx, u64 gpa, u64 len);

/* vm_read / vm_write: copy to or from guest RAM across chunks. Return 0 or
 * -CG_ERANGE when any byte is outside RAM. */
int vm_read(struct vm *vm, u64 gpa, void *dst, u64 len);
int vm_write(struct vm *vm, u64 gpa, const void *src, u64 len);

/* vm_active_count: VMs created and not yet freed. */
u32 vm_active_count(void);

#endif
