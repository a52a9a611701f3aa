#include "core/vm.h"
#include "core/virt.h"
#include "lib/fmt.h"
#include "loader/guest_acpi.h"
#include "loader/guest_linux.h"
#include "loader/guest_mb1.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "core/sched.h"
#include "core/virt.h"
#include "core/vm_disks.h"
#include "core/vm_net.h"
#include "core/vm_modules.h"
#include <cg/errno.h>
#include <cg/spinlock.h>
#include <cg/string.h>

struct vm vm_table[VM_MAX];
static struct vcpu vcpu_pool[VM_MAX * VM_MAX_VCPUS];
static u32 vm_table_lock;
static u32 vms_started, vms_ended;

void *vm_gpa_ptr(struct vm *vm, u64 gpa, u64 len)
{
	if (gpa >= vm->ram_bytes || len > vm->ram_bytes - gpa)
		return NULL;
	u64 chunk = gpa / VM_CHUNK, off = gpa % VM_CHUNK;
	if (len && off + len > VM_CHUNK)
		return NULL;
	return mem_ptr(vm->chunks[chunk] + off);
}

void *vm_device_map(void *ctx, u64 gpa, u64 len)
{
	struct vm *vm = ctx;
	u64 first, last;

	if (!len || gpa >= vm->ram_bytes || len > vm->ram_bytes - gpa)
		return NULL;
	first = gpa / VM_CHUNK;
	last = (gpa + len - 1) / VM_CHUNK;
	for (u64 c = first; c < last; c++)
		if (vm->chunks[c + 1] != vm->chunks[c] + VM_CHUNK)
			return NULL;
	return mem_ptr(vm->chunks[first] + gpa % VM_CHUNK);
}

static int vm_copy(struct vm *vm, u64 gpa, void *buf, u64 len, bool to_guest)
{
	u8 *b = buf;
	while (len) {
		u64 n = VM_CHUNK - gpa % VM_CHUNK;
		if (n > len)
			n = len;
		u8 *p = vm_gpa_ptr(vm, gpa, n);
		if (!p)
			return -CG_ERANGE;
		if (to_guest)
			memcpy(p, b, n);
		else
			memcpy(b, p, n);
		gpa += n;
		b += n;
		len -= n;
	}
	return 0;
}

int vm_read(struct vm *vm, u64 gpa, void *dst, u64 len)
{
	return vm_copy(vm, gpa, dst, len, false);
}

int vm_write(struct vm *vm, u64 gpa, const void *src, u64 len)
{
	return vm_copy(vm, gpa, (void *)src, len, true);
}

/* vm_free: give back everything a VM holds; nothing else is touched. */
static void vm_free(struct vm *vm)
{
	vm_net_free(vm); /* off the switches first: the bus goes with the disks */
	vm_disks_free(vm); /* a resetting VM's disks are kept for its rebuild */
	/* Also the vCPUs' vLAPIC pages: they last as long as the VM, not the
	 * vCPU, as a device or another vCPU may still aim an interrupt at a
	 * vCPU that stopped. */
	arch_vm_free(vm);
	arch_vm_retired();
	for (u32 i = 0; vm->chunks && i < vm->chunk_count; i++)
		if (vm->chunks[i])
			pmm_free(&mem_pmm, vm->chunks[i], VM_CHUNK / PAGE_SIZE);
	if (vm->chunks_phys)
		pmm_free(&mem_pmm, vm->chunks_phys, vm->chunks_pages);
	vm->chunks = NULL;
	vm->chunks_phys = 0;
	spin_lock(&vm_table_lock);
	vm->state = VM_FREE;
	spin_unlock(&vm_table_lock);
}

static int vm_alloc_ram(struct vm *vm, u32 mem_mib)
{
	vm->ram_bytes = (u64)mem_mib * MIB;
	vm->chunk_count = (u32)((vm->ram_bytes + VM_CHUNK - 1) / VM_CHUNK);
	vm->chunks_pages = (u32)ALIGN_UP(vm->chunk_count * sizeof(u64), PAGE_SIZE) / PAGE_SIZE;
	vm->chunks_phys = mem_alloc_pages(vm->chunks_pages);
	if (!vm->chunks_phys)
		return -CG_ENOMEM;
	vm->chunks = mem_ptr(vm->chunks_phys);
	/* One host range when there is one: device buffers (virtio) that
	 * cross a 2 MiB guest boundary then stay one host range too. */
	u64 all = pmm_alloc_contig(&mem_pmm, (u64)vm->chunk_count * (VM_CHUNK / PAGE_SIZE), VM_CHUNK);
	for (u32 i = 0; i < vm->chunk_count; i++) {
		u64 c = all ? all + (u64)i * VM_CHUNK
			    : pmm_alloc_contig(&mem_pmm, VM_CHUNK / PAGE_SIZE, VM_CHUNK);
		if (!c)
			return -CG_ENOMEM;
		memset(mem_ptr(c), 0, VM_CHUNK);
		vm->chunks[i] = c;
	}
	return 0;
}

/* The loaders' guest-memory writer (loader/ knows no struct vm). */
static int vm_loader_write(void *ctx, u64 gpa, const void *src, u64 len)
{
	return vm_write(ctx, gpa, src, len);
}

/* A Linux bzImage ("HdrS" at 0x202): loaded per the boot protocol and
 * entered at its 64-bit entry; the VM's first module is its initrd. */
static int vm_load_linux(struct vm *vm, const struct vmcfg_vm *cfg, const u8 *image, u64 size,
			 char *err, size_t n)
{
	const u8 *initrd = NULL;
	u64 initrd_size = 0;
	if (cfg->module_count &&
	    vm_module_find(cfg->modules[0].name, &initrd, &initrd_size)) {
		fmt_snprintf(err, n, "initrd module '%s' is not among the boot modules; rebuild the image",
			     cfg->modules[0].name);
		return -CG_ENOENT;
	}
	const struct linux_e820 map[] = {
		{ 0, 0x9FC00, LINUX_E820_RAM },
		{ 0x9FC00, 0x100000 - 0x9FC00, LINUX_E820_RESERVED },
		{ 0x100000, vm->ram_bytes - 0x100000, LINUX_E820_RAM },
	};
	struct linux_guest_mem m = { vm_loader_write, vm->ram_bytes, vm };
	struct linux_boot b;
	/* The guest sees its command line without the kernel path QEMU-style
	 * Multiboot kernels get: skip the first word. */
	const char *args = cfg->cmdline;
	while (*args && *args != ' ')
		args++;
	while (*args == ' ')
		args++;
	int rc = linux_load(&m, image, size, args, initrd, initrd_size, map, ARRAY_SIZE(map), &b, err, n);
	if (rc)
		return rc;
	struct vcpu *bsp = vm->vcpus[0];
	bsp->boot_long64 = true;
	bsp->boot_rip = b.entry64;
	bsp->boot_rsi = b.boot_params;
	bsp->boot_cr3 = b.page_tables;
	bsp->boot_gdt = b.gdt;
	bsp->boot_gdt_limit = b.gdt_limit;
	return 0;
}

/* ACPI tables for the guest at 0xE0000, where an OS scans for the RSDP:
 * the MADT tells it its vCPUs and their local APICs. */
static int vm_load_acpi(struct vm *vm, char *err, size_t n)
{
	u8 buf[4096];
	struct guest_acpi_cfg acfg = { .vcpus = vm->vcpu_count, .ioapic = true, .pcat_compat = false, .pci = true };
	u64 rsdp;
	int used = guest_acpi_build(&acfg, GUEST_ACPI_BASE, buf, sizeof(buf), &rsdp);
	if (used < 0 || vm_write(vm, GUEST_ACPI_BASE, buf, (u64)used)) {
		fmt_snprintf(err, n, "cannot build the ACPI tables (%d)", used);
		return -CG_EINVAL;
	}
	return 0;
}

static int vm_load(struct vm *vm, const struct vmcfg_vm *cfg, char *err, size_t n)
{
	int acpi = vm_load_acpi(vm, err, n);
	if (acpi)
		return acpi;
	struct mb1_image kernel;
	if (vm_module_find(cfg->kernel, &kernel.data, &kernel.size)) {
		fmt_snprintf(err, n, "kernel module '%s' is not among the boot modules; rebuild the image",
			     cfg->kernel);
		return -CG_ENOENT;
	}
	if (kernel.size > 0x206 && !memcmp(kernel.data + 0x202, "HdrS", 4))
		return vm_load_linux(vm, cfg, kernel.data, kernel.size, err, n);
	struct mb1_module mods[VMCFG_MAX_MODULES];
	for (u32 i = 0; i < cfg->module_count; i++) {
		if (vm_module_find(cfg->modules[i].name, &mods[i].image.data, &mods[i].image.size)) {
			fmt_snprintf(err, n, "module '%s' is not among the boot modules; rebuild the image",
				     cfg->modules[i].name);
			return -CG_ENOENT;
		}
		mods[i].cmdline = cfg->modules[i].cmdline;
	}
	u64 entry, info;
	const struct mb1_guest_mem mem = { vm_loader_write, vm->ram_bytes, vm };
	int rc = mb1_load(&mem, kernel, cfg->cmdline, mods, cfg->module_count, &entry, &info, err, n);
	if (rc)
		return rc;
	struct vcpu *bsp = vm->vcpus[0];
	bsp->boot_rip = entry;
	bsp->boot_rax = 0x2BADB002;
	bsp->boot_rbx = info;
	return 0;
}

_Static_assert((u64)VMCFG_MEM_MAX * MIB <= GUEST_RAM_MAX, "the largest VM's RAM ends below the PCI window");

struct vm *vm_create(const struct vmcfg_vm *cfg, char *err, size_t n)
{
	struct vm *vm = NULL;
	u64 free_before = mem_pmm.free_frames;
	spin_lock(&vm_table_lock);
	for (u32 i = 0; i < VM_MAX; i++) {
		if (vm_table[i].state == VM_FREE) {
			vm = &vm_table[i];
			memset(vm, 0, sizeof(*vm));
			vm->id = i;
			vm->state = VM_CREATED; /* not runnable until vm_start */
			break;
		}
	}
	spin_unlock(&vm_table_lock);
	if (!vm) {
		fmt_snprintf(err, n, "no free VM slot (at most %u VMs)", VM_MAX);
		return NULL;
	}
	cg_strlcpy(vm->name, cfg->name, sizeof(vm->name), sizeof(vm->name));
	vm->on_triple_fault = cfg->on_triple_fault;
	vm->on_unassigned = cfg->on_unassigned;
	vm->cfg = cfg;
	vm_io_init();
	pit_reset(&vm->dev.pit, vm_now_ns());
	pic_reset(&vm->dev.pic);
	/* The MADT gives the IOAPIC the ID after the vCPUs' (guest_acpi.c). */
	ioapic_reset(&vm->dev.ioapic, cfg->vcpus);
	vm->weight = cfg->weight ? cfg->weight : VMCFG_WEIGHT_DEFAULT;
	vm->cap = cfg->cap_permille;
	vm->rt_budget = arch_timestamp_hz() / 1000000 * cfg->rt_budget_us;
	vm->rt_period = arch_timestamp_hz() / 1000000 * cfg->rt_period_us;
	int rc = vm_alloc_ram(vm, cfg->mem_mib);
	if (rc) {
		fmt_snprintf(err, n, "not enough free memory for %u MiB of guest RAM in 2 MiB chunks",
			     cfg->mem_mib);
		goto fail;
	}
	rc = arch_vm_init(vm);
	if (rc) {
		fmt_snprintf(err, n, "not enough memory for the VM's page tables");
		goto fail;
	}
	rc = vm_disks_create(vm, cfg, err, n);
	if (rc)
		goto fail;
	rc = vm_net_create(vm, cfg, err, n);
	if (rc)
		goto fail;
	vm->vcpu_count = cfg->vcpus;
	for (u32 i = 0; i < cfg->vcpus; i++) {
		struct vcpu *v = &vcpu_pool[vm->id * VM_MAX_VCPUS + i];
		memset(v, 0, sizeof(*v));
		v->vm = vm;
		v->index = i;
		v->state = VCPU_WAIT_SIPI;
		v->id = vm->id * VM_MAX_VCPUS + i;
		v->on_cpu = -1;
		vm->vcpus[i] = v;
		if (arch_vcpu_create(v)) {
			fmt_snprintf(err, n, "not enough memory for vCPU %u", i);
			goto fail;
		}
	}
	rc = vm_load(vm, cfg, err, n);
	if (rc)
		goto fail;
	/* What the VM costs the monitor beyond its RAM: every page taken
	 * since the start of vm_create (VMCS, XSAVE, EPT, chunk list, device
	 * pages) plus its slots in the static VM and vCPU tables. */
	vm->overhead_bytes = (free_before - mem_pmm.free_frames) * PAGE_SIZE - vm->ram_bytes +
			     sizeof(struct vm) + vm->vcpu_count * sizeof(struct vcpu);
	return vm;
fail:
	/* Nothing ran yet: vCPU state is just pages to give back. */
	for (u32 i = 0; i < vm->vcpu_count; i++)
		if (vm->vcpus[i])
			arch_vcpu_free(vm->vcpus[i]);
	vm_free(vm);
	return NULL;
}

int vm_start(struct vm *vm)
{
	vm->vcpus_live = vm->vcpu_count;
	__atomic_fetch_add(&vms_started, 1, __ATOMIC_RELAXED);
	cg_marker("vm-start", "name=%s vcpus=%u mem=%lu overhead=%lu apicv=%u", vm->name,
		  vm->vcpu_count, vm->ram_bytes / MIB, vm->overhead_bytes, arch_vm_apicv(vm) ? 1 : 0);
	__atomic_store_n(&vm->state, VM_RUNNING, __ATOMIC_RELEASE);
	int rc = sched_vm_start(vm);
	if (rc) {
		kprintf("vm %s: the %s scheduler refused it (%d): its reservation does not fit; "
			"lower budget_us or raise period_us\n", vm->name, sched_policy_name(), rc);
		vm_end(vm, VM_END_STOP, 0, "admission-refused");
	}
	return rc;
}

void vm_end(struct vm *vm, enum vm_end_kind kind, u64 status, const char *reason)
{
	spin_lock(&vm->lock);
	if (vm->state != VM_RUNNING) {
		spin_unlock(&vm->lock);
		return;
	}
	vm->state = VM_ENDING;
	vm->end_kind = kind;
	vm->exit_status = status;
	if (reason)
		cg_strlcpy(vm->stop_reason, reason, sizeof(vm->stop_reason), sizeof(vm->stop_reason));
	spin_unlock(&vm->lock);
	for (u32 i = 0; i < vm->vcpu_count; i++)
		vm->vcpus[i]->attention = true;
	vm_console_flush(vm);
	if (kind == VM_END_EXIT && reason) /* e.g. poweroff: ACPI S5 */
		cg_marker("vm-exit", "name=%s status=%lu reason=%s", vm->name, status, reason);
	else if (kind == VM_END_EXIT)
		cg_marker("vm-exit", "name=%s status=%lu", vm->name, status);
	else if (kind == VM_END_RESET)
		cg_marker("vm-reset", "name=%s reason=%s", vm->name, vm->stop_reason);
	else
		cg_marker("vm-stop", "name=%s reason=%s", vm->name, vm->stop_reason);
	sched_vm_ending(vm);
}

u64 vm_exit_count(const struct vm *vm, u32 r)
{
	u64 sum = 0;
	for (u32 i = 0; i < vm->vcpu_count; i++)
		if (vm->vcpus[i])
			sum += __atomic_load_n(&vm->vcpus[i]->exit_stats[r], __ATOMIC_RELAXED);
	return sum;
}

/* vm_stats_marker: exits by reason, then by device ("dev-" names), then
 * the disks' totals, for programs (the console shows them to people).
 * Only counts that are not zero are listed. */
static void vm_stats_marker(struct vm *vm)
{
	char buf[1000];
	u64 total = 0;
	int n = 0;
	u64 counts[VM_EXIT_STATS];
	for (u32 r = 0; r < VM_EXIT_STATS; r++) {
		counts[r] = vm_exit_count(vm, r);
		total += counts[r];
	}
	u64 run = 0, steal = 0, migrations = 0;
	for (u32 i = 0; i < vm->vcpu_count; i++) {
		run += vm->vcpus[i]->run_ticks;
		steal += vm->vcpus[i]->steal_ticks;
		migrations += vm->vcpus[i]->migrations;
	}
	n = fmt_snprintf(buf, sizeof(buf), "name=%s run=%lu steal=%lu migrations=%lu exits=%lu",
			 vm->name, run, steal, migrations, total);
	for (u32 r = 0; r < VM_EXIT_STATS && n < (int)sizeof(buf); r++) {
		const char *name = arch_exit_reason_name(r);
		if (counts[r] && name)
			n += fmt_snprintf(buf + n, sizeof(buf) - (size_t)n, " %s=%lu", name,
					  counts[r]);
	}
	for (u32 c = 0; c < VM_IO_CLASSES && n < (int)sizeof(buf); c++)
		if (vm->dev.exits[c])
			n += fmt_snprintf(buf + n, sizeof(buf) - (size_t)n, " dev-%s=%lu",
					  vm_io_class_name(c), vm->dev.exits[c]);
	for (u32 i = 0; i < IRQ_STATS && n < (int)sizeof(buf); i++)
		if (vm->irq_stats[i])
			n += fmt_snprintf(buf + n, sizeof(buf) - (size_t)n, " irq-%s=%lu",
					  irq_stat_name(i), vm->irq_stats[i]);
	struct vm_disk_info d[VMCFG_MAX_DISKS];
	u32 nd = vm_disks_info(vm, d, VMCFG_MAX_DISKS);
	u64 reqs = 0, notifies = 0, irqs = 0, intx = 0, latency = 0;
	for (u32 i = 0; i < nd && i < VMCFG_MAX_DISKS; i++) {
		reqs += d[i].st.requests;
		notifies += d[i].notifies;
		irqs += d[i].interrupts;
		intx += d[i].interrupts_intx;
		latency += d[i].latency_ns;
	}
	if (nd && n < (int)sizeof(buf))
		n += fmt_snprintf(buf + n, sizeof(buf) - (size_t)n,
				  " disk-requests=%lu disk-notifies=%lu disk-interrupts=%lu"
				  " disk-interrupts-intx=%lu disk-latency-ns=%lu",
				  reqs, notifies, irqs, intx, reqs ? latency / reqs : 0);
	struct vm_nic_info ni[VMCFG_MAX_NICS];
	u32 nn = vm_net_info(vm, ni, VMCFG_MAX_NICS);
	u64 tx = 0, rx = 0, drop = 0, nnot = 0, nirq = 0, spoofed = 0, throttled = 0;
	u64 rxnot = 0, rxirq = 0;
	for (u32 i = 0; i < nn && i < VMCFG_MAX_NICS; i++) {
		tx += ni[i].dev_st.tx_frames;
		rx += ni[i].dev_st.rx_frames;
		/* Frames that reached its ports and were lost there: queue
		 * full, driver not running (those count as queue drops too),
		 * buffer too small, or still waiting. */
		drop += ni[i].port_st.queue_drops + ni[i].dev_st.rx_small + ni[i].queued;
		nnot += ni[i].dev_st.tx_notifies + ni[i].dev_st.rx_notifies;
		nirq += ni[i].dev_st.interrupts;
		rxnot += ni[i].dev_st.rx_notifies;
		rxirq += ni[i].dev_st.rx_interrupts;
		spoofed += ni[i].port_st.spoofed;
		throttled += ni[i].port_st.throttled;
	}
	if (nn && n > 0 && n < (int)sizeof(buf))
		fmt_snprintf(buf + n, sizeof(buf) - (size_t)n,
			     " net-tx=%lu net-rx=%lu net-dropped=%lu net-notifies=%lu net-interrupts=%lu"
			     " net-rx-notifies=%lu net-rx-interrupts=%lu net-spoofed=%lu net-throttled=%lu",
			     tx, rx, drop, nnot, nirq, rxnot, rxirq, spoofed, throttled);
	cg_marker("vm-stats", "%s", buf);
}

/* vm_reset: rebuild a VM that triple-faulted with on_triple_fault=reset:
 * fresh RAM, image and vCPUs from the same description. */
static void vm_reset(struct vm *old)
{
	const struct vmcfg_vm *cfg = old->cfg;
	u32 resets = old->resets + 1;
	vm_free(old);
	char err[160];
	struct vm *vm = vm_create(cfg, err, sizeof(err));
	if (!vm) {
		kprintf("vm %s: reset failed: %s\n", cfg->name, err);
		cg_marker("vm-stop", "name=%s reason=reset-failed", cfg->name);
		return;
	}
	vm->resets = resets;
	vm_start(vm);
}

void vm_release_vcpu(struct vcpu *v)
{
	struct vm *vm = v->vm;
	arch_vcpu_free(v);
	v->state = VCPU_STOPPED;
	if (__atomic_sub_fetch(&vm->vcpus_live, 1, __ATOMIC_ACQ_REL))
		return;
	vm->state = VM_ENDED;
	vm_stats_marker(vm);
	if (vm->end_kind != VM_END_RESET)
		vm_modules_record_end(vm);
	if (vm->end_kind == VM_END_RESET)
		vm_reset(vm); /* starts the new VM before counting the old one out */
	else
		vm_free(vm);
	u32 ended = __atomic_add_fetch(&vms_ended, 1, __ATOMIC_ACQ_REL);
	if (ended == __atomic_load_n(&vms_started, __ATOMIC_ACQUIRE)) {
		sched_report();
		cg_marker("vms-done", "count=%u", ended);
	}
}

u32 vm_active_count(void)
{
	u32 n = 0;
	for (u32 i = 0; i < VM_MAX; i++)
		n += vm_table[i].state != VM_FREE && vm_table[i].state != VM_ENDED;
	return n;
}
