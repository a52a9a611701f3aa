// Debian's stock kernel (linux-image-amd64, fetched and cached by set-up)
// as a VM under crossguard in Bochs: loaded by the Linux boot protocol
// (bzImage, boot_params, e820, command line) and entered at its 64-bit
// entry point, it runs its early boot, finds crossguard's ACPI tables and
// talks on the guest UART. The devices it needs past that (LAPIC timer,
// IOAPIC, PIC, RTC, PCI) are the next step; this test pins what works now.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { boot, explain, markersOf } from './pool.js';

const KERNEL = process.env.CG_LINUX_KERNEL ?? '/var/cache/crossguard/vmlinuz';
const CMDLINE = 'console=ttyS0 earlyprintk=serial,ttyS0,115200,keep';

const run = existsSync(KERNEL)
  ? boot({
      emulator: 'bochs',
      image: {
        kind: 'iso-variant',
        vms: { vms: [{ name: 'linux', memory_mib: 128, vcpus: 1, kernel: KERNEL, cmdline: CMDLINE }] },
      },
      cpus: 1,
      memMiB: 512,
      until: /^\[linux\] .*printk: console \[ttyS0\] enabled/,
      timeoutMs: 300_000,
    })
  : null;
run?.catch(() => {});

test('stock Debian kernel: 64-bit entry, our e820 map and command line, console on the UART', async () => {
  assert.ok(run, `${KERNEL} is missing: make test fetches it (toolchain/fetch-kernel.sh)`);
  const o = await run!;
  assert.is(o.status, 'matched', explain(o, 'the kernel did not reach its serial console'));
  const lines = o.lines.filter((l) => l.startsWith('[linux] ')).map((l) => l.slice(8));
  assert.ok(lines.some((l) => /Linux version \d+\.\d+/.test(l)), explain(o, 'banner'));
  assert.ok(lines.some((l) => l.endsWith(`Kernel command line: ${CMDLINE}`)), explain(o, 'our command line, without the kernel path'));
  assert.ok(lines.some((l) => /BIOS-e820: \[mem 0x0000000000100000-0x0000000007ffffff\] usable/.test(l)), explain(o, 'our e820 map: 1 MiB to 128 MiB usable'));
  assert.ok(lines.some((l) => /ACPI: RSDP 0x00000000000E0000 .*CRSGRD/.test(l)), explain(o, 'our ACPI tables found at 0xE0000'));
  assert.ok(lines.some((l) => /ACPI: Using ACPI for processor \(LAPIC\) configuration/.test(l)), explain(o, 'the MADT used for the CPUs'));
  assert.is(markersOf(o, 'vm-stop').length, 0, explain(o, 'the monitor stopped nothing'));
});

test.run();
