/* Bring-up order of the monitor on the boot CPU, from the loader's hand-off
 * to the operator shell. Each step that can fail says what and stops. */
#include "lib/acpi.h"
#include "drivers/nic.h"
#include "drivers/pci_host.h"
#include "core/virt.h"
#include "lib/bootinfo.h"
#include "init/cmdline.h"
#include "core/cpu.h"
#include "lib/fatal.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "core/sched.h"
#include "shell/shell.h"
#include "core/vm_modules.h"
#include "core/vm_io.h"
#include "core/vmcfg.h"
#include <cg/version.h>
#include "core/virt.h"
#include <cg/errno.h>

extern u8 __image_start[], __image_bss_end[];
/* TSC at the monitor's first instruction (boot/entry.asm). */
extern u64 boot_tsc;

/* Not static: a monitor fault must not be optimised into something else. */
volatile u64 *const main_fault_address = (volatile u64 *)0x00007FFF00000000ULL;

static struct boot_info boot_info;
static struct acpi_madt_info madt;

/* Map up to the end of RAM only: firmware may report reserved windows far
 * above it (QEMU reserves one at 1 TiB), and those need no monitor mapping. */
static u64 main_ram_top(void)
{
	u64 top = 0;
	for (u32 i = 0; i < mem_map.count; i++)
		if (mem_map.e[i].type != MEMMAP_RESERVED && mem_map.e[i].base + mem_map.e[i].len > top)
			top = mem_map.e[i].base + mem_map.e[i].len;
	return top;
}

static const char *loader_name(const struct boot_info *bi)
{
	return bi->protocol == BOOT_MB2 ? "multiboot2" : "multiboot1";
}

/* One "@cg module" line per Multiboot module, with the name the monitor will
 * find it by (the basename of the first word of its command line, as
 * vm_module_find does): which files this boot got from its loader. */
static void main_report_modules(const struct boot_info *bi)
{
	for (u32 i = 0; i < bi->module_count; i++) {
		const struct boot_module *m = &bi->modules[i];
		char name[VMCFG_MODNAME_SIZE];
		char quoted[2 * VMCFG_MODNAME_SIZE];
		const char *n = vmcfg_basename(m->cmdline, name, sizeof(name));
		cg_marker("module", "index=%u name=\"%s\" size=%lu", i,
			  cg_quote(quoted, sizeof(quoted), n ? n : ""), m->end - m->start);
	}
}

static void main_find_cpus(void)
{
	u64 rsdp = boot_info.rsdp_addr ? boot_info.rsdp_addr : acpi_rsdp_scan(&mem_ident);
	int rc = rsdp ? acpi_parse_madt(&mem_ident, rsdp, &madt) : -CG_ENOENT;
	if (rc) {
		kprintf("acpi: %s (%s); running on the boot CPU only\n",
			rsdp ? "no usable MADT" : "no RSDP found", cg_strerror(rc));
		madt.cpu_count = 0;
		return;
	}
	kprintf("acpi: rsdp %lx, %u CPUs, lapic %lx, %u IOAPICs\n", rsdp, madt.cpu_count,
		madt.lapic_addr, madt.ioapic_count);
	if (madt.skipped_cpus)
		kprintf("acpi: %u CPUs beyond the limit of %u are left out\n", madt.skipped_cpus,
			ACPI_MAX_CPUS);
}

/* The host NICs the monitor drives itself (guest networks' uplinks): PCI
 * through ECAM when ACPI's MCFG gives a window in the boot identity map
 * (0-4 GiB, boot/entry.asm), else ports 0xCF8/0xCFC. Before any VM runs,
 * so the uplinks find their NICs. */
static void main_find_nics(void)
{
	static struct pci_cfg cfg;
	u64 rsdp = boot_info.rsdp_addr ? boot_info.rsdp_addr : acpi_rsdp_scan(&mem_ident);

	pci_host_open(&cfg, &mem_ident, rsdp, 4ull << 30);
	host_nics_probe(&cfg);
}

void boot_main(u32 magic, u64 info);
void boot_main(u32 magic, u64 info)
{
	arch_early_init();
	/* The command line picks the serial port, so it is read first; a
	 * hand-off too broken to read is reported on the default port. */
	int rc = bootinfo_parse(&boot_info, magic, info, &mem_ident);
	if (rc) {
		arch_serial_init(CMDLINE_SERIAL_COM1, CMDLINE_SERIAL_BAUD);
		panic("boot_main: loader hand-off unusable (magic 0x%x, info 0x%lx): %s", magic, info,
		      cg_strerror(rc));
	}
	struct cmdline_opts opts;
	char bad[64];
	int nbad = cmdline_parse(boot_info.cmdline, &opts, bad, sizeof(bad));
	int serial_rc = arch_serial_init(opts.serial_port, opts.serial_baud);
	if (serial_rc)
		arch_serial_init(CMDLINE_SERIAL_COM1, CMDLINE_SERIAL_BAUD);
	kprintf("\ncrossguard %s\n", CG_VERSION);
	if (opts.serial_bad)
		kprintf("cmdline: cg.serial= needs com1, com2 or 0xPORT[,BAUD] (BAUD dividing 115200, "
			"e.g. cg.serial=com2,57600); using com1 at 115200\n");
	else if (serial_rc)
		kprintf("cmdline: cg.serial: no UART answers at port 0x%x; using com1 at 115200\n",
			opts.serial_port);

	char quoted[2 * BOOTINFO_CMDLINE_MAX];
	cg_marker("boot", "version=%s loader=%s efi=%u cmdline=\"%s\"", CG_VERSION,
		  loader_name(&boot_info), boot_info.efi ? 1 : 0,
		  cg_quote(quoted, sizeof(quoted), boot_info.cmdline));

	if (nbad)
		kprintf("cmdline: unknown option '%s' ignored (known: cg.test=fault, cg.shell=0, "
			"cg.apicv=1, cg.spec=auto|on|off, cg.serial=com1|com2|0xPORT[,BAUD])\n", bad);
	arch_virt_set_apicv(opts.apicv);
	arch_virt_set_spec(opts.spec == CMDLINE_SPEC_ON    ? VIRT_SPEC_ON
			   : opts.spec == CMDLINE_SPEC_OFF ? VIRT_SPEC_OFF
							   : VIRT_SPEC_AUTO);

	vm_modules_init(&boot_info);
	main_report_modules(&boot_info);
	rc = mem_init(&boot_info, (u64)(uintptr_t)__image_start, (u64)(uintptr_t)__image_bss_end);
	if (rc)
		panic("boot_main: memory set-up failed: %s", cg_strerror(rc));
	rc = arch_map_ram(main_ram_top());
	if (rc)
		panic("boot_main: cannot map RAM: %s", cg_strerror(rc));
	cg_marker("mem", "usable=%lu free=%lu top=0x%lx", memmap_usable_bytes(&mem_map),
		  mem_pmm.free_frames * PAGE_SIZE, main_ram_top());

	rc = arch_platform_init();
	if (rc)
		kprintf("apic: local APIC disabled (%s); running on the boot CPU only\n",
			cg_strerror(rc));
	else
		main_find_cpus();

	main_find_nics();
	cpu_bringup(0);
	if (!rc && madt.cpu_count > 1)
		arch_smp_start(&madt, cpu_ap_main);
	if (!cpu_count_virt())
		kprintf("crossguard: VT-x is not available on this machine (see the reason= above); "
			"the monitor runs but cannot start guests\n");
	cg_marker("ready", "cpus=%u vmx=%u ticks=%lu", cpu_count_online(), cpu_count_virt(),
		  arch_timestamp() - boot_tsc);

	if (opts.test == CMDLINE_TEST_FAULT) {
		kprintf("cg.test=fault: reading unmapped address %p on purpose\n",
			(void *)main_fault_address);
		(void)*main_fault_address;
	}
	shell_start(opts.shell);
	if (shell_enabled())
		sched_register_poller(shell_poll);
	sched_register_poller(vm_uart_poll);
	vm_modules_start();
	sched_cpu_loop(0);
}
