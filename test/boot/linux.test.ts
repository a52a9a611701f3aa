// Stock Linux under crossguard, the slow tier: two Debian kernels
// (linux-image-amd64, fetched and cached by set-up) with the test initramfs
// (toolchain/make-initramfs.sh: busybox-static and the package's own
// virtio modules) run side by side in Bochs on one shared base image, as
// examples/two-linux.json does. Each is entered at its 64-bit entry by the
// boot protocol, takes its TSC rate from CPUID, its clock events from the
// TSC-deadline timer and its console interrupts from the IOAPIC, finds
// its vCPUs in the MADT and its disk on the PCI bus, reads the base,
// writes a marker into its own copy-on-write overlay and reads it back,
// and powers off through ACPI S5. Neither sees the other's marker. The
// second one stops at a busybox shell: the operator attaches to its
// console through the monitor's shell, types a command (received through
// the UART's receive interrupt), reads the answer and powers it off;
// before that the operator presses its NMI button (`vm nmi`), which
// Linux takes on LINT1 of its BSP.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { boot, explain, markersOf, ROOT } from './pool.js';
import { baseImage, hex16, SECTOR } from './vblk.js';

const KERNEL = process.env.CG_LINUX_KERNEL ?? '/var/cache/crossguard/vmlinuz';
const INITRD = join(ROOT, 'build', 'linux', 'initramfs.cpio.gz');
const MARK = 100;

const dir = mkdtempSync(join(tmpdir(), 'cg-linux-'));
const image = baseImage(2048);
const basePath = join(dir, 'base.img');
writeFileSync(basePath, image);
const debian = (name: string, vcpus: number, action: 'poweroff' | 'shell') => ({
  name,
  memory_mib: 128,
  vcpus,
  kernel: KERNEL,
  initrd: INITRD,
  cmdline: `console=ttyS0 cg.tag=${name} cg.sector=${MARK} cg.action=${action}`,
  disks: [{ image: 'base', mode: 'rw', overlay: 'discard' }],
});
const missing = [KERNEL, INITRD].find((f) => !existsSync(f));

const run = missing
  ? null
  : boot({
      emulator: 'bochs',
      image: { kind: 'iso-variant', vms: { images: { base: basePath }, vms: [debian('deb1', 2, 'poweroff'), debian('deb2', 1, 'shell')] } },
      cpus: 2,
      memMiB: 512,
      ips: 50_000_000,
      until: /^\[deb2\] CG-LINUX shell/,
      timeoutMs: 1_500_000,
      interact: async (m, waitFor) => {
        const done = waitFor(/^@cg vms-done /, 900_000);
        done.catch(() => {});
        // The NMI button: Linux programs LINT1 as NMI on its BSP, and an
        // NMI no device claims is reported as of unknown reason.
        const nmi = waitFor(/^\[deb2\] .*NMI received for unknown reason [0-9a-f]+ on CPU 0/, 120_000);
        m.serial.write('vm nmi deb2\r');
        await nmi;
        const attached = waitFor(/attached to deb2/, 60_000);
        m.serial.write('console deb2\r');
        await attached;
        // The shell's prompt may still be on its way; a newline gets a fresh one.
        const answer = waitFor(/^hi-42\r?$/, 120_000);
        m.serial.write('\r');
        m.serial.write('echo hi-$((6*7))\r');
        await answer;
        m.serial.write('poweroff -f\r');
        await done;
      },
    });
run?.catch(() => {});

function guestLines(lines: string[], vm: string): string[] {
  const p = `[${vm}] `;
  return lines.filter((l) => l.startsWith(p)).map((l) => l.slice(p.length));
}

test('two Debian guests: boot, vCPUs, TSC clock, UART interrupts, virtio disk, private overlays, a shell on the console, ACPI power-off', async () => {
  assert.ok(!missing, `${missing} is missing: make test fetches the kernel (toolchain/fetch-kernel.sh) and builds the initramfs`);
  const o = await run!;
  assert.is(o.status, 'matched', explain(o, 'both VMs should end'));
  for (const [vm, cpus, last] of [['deb1', 2, 'poweroff'], ['deb2', 1, 'shell']] as const) {
    const log = guestLines(o.lines, vm);
    const has = (re: RegExp, what: string) => assert.ok(log.some((l) => re.test(l)), explain(o, `${vm}: ${what}`));
    has(/Linux version \d+\.\d+/, 'banner');
    has(/BIOS-e820: \[mem 0x0000000000100000-0x0000000007ffffff\] usable/, 'our e820 map: 1 MiB to 128 MiB usable');
    has(/ACPI: RSDP 0x00000000000E0000 .*CRSGRD/, 'our ACPI tables at 0xE0000');
    has(/IOAPIC\[0\]: apic_id \d+, version 17, address 0xfec00000, GSI 0-23/, 'the IOAPIC from the MADT');
    // The rate the monitor measured against Bochs' PIT at boot (ips=50M).
    // Linux prints "… MHz TSC" only when it differs from the CPU rate it
    // took from CPUID 0x16 (whole MHz); a measured rate of exactly 50 MHz
    // gives only "… MHz processor".
    const tsc =
      log.map((l) => /tsc: Detected (\d+\.\d+) MHz TSC/.exec(l)).find(Boolean) ??
      log.map((l) => /tsc: Detected (\d+\.\d+) MHz processor/.exec(l)).find(Boolean);
    const mhz = Number(tsc?.[1] ?? NaN);
    assert.ok(mhz > 45 && mhz < 55, explain(o, `${vm}: the TSC rate from CPUID 0x15 near Bochs' 50 MHz (${tsc?.[0] ?? 'no "tsc: Detected … MHz" line'})`));
    has(/clocksource: Switched to clocksource tsc$/, 'the TSC kept as clocksource');
    assert.not.ok(log.some((l) => /Marking TSC unstable|TSC.*unstable/.test(l)), explain(o, `${vm}: the TSC is never marked unstable`));
    has(/ttyS0 at I\/O 0x3f8 \(irq = \d+, base_baud = 115200\) is a 16550A/, "the UART with an IRQ (ACPI gives GSI 4)");
    has(new RegExp(`smp: Brought up 1 node, ${cpus} CPUs?`), `${cpus} CPU(s) up`);
    has(/virtio_blk virtio\d+: \[vda\]/, 'the virtio-blk disk found on PCI');
    const cg = log.filter((l) => l.startsWith('CG-LINUX ')).map((l) => l.slice(9));
    assert.equal(cg.slice(0, 3), ['init', `cpus=${cpus}`, 'modules ok'], explain(o, `${vm}: /init, its CPUs, the virtio modules`));
    assert.ok(cg.includes(`disk-size sectors=${image.length / SECTOR}`), explain(o, `${vm}: the disk has the image's size`));
    assert.ok(cg.some((l) => l.startsWith(`disk-read ${hex16(image)} `)), explain(o, `${vm}: sector 0 reads as the base image`));
    assert.ok(cg.includes(`disk-before sector=${MARK} ${hex16(image, MARK * SECTOR)}`), explain(o, `${vm}: sees the base, not the other VM's marker`));
    assert.ok(cg.includes(`disk-write ok sector=${MARK}`), explain(o, `${vm}: its marker reads back from the device`));
    assert.ok(cg.includes('done errors=0') && cg.at(-1) === last, explain(o, `${vm}: no errors, then ${last}; its CG-LINUX lines: ${JSON.stringify(cg)}`));
    const exit = markersOf(o, 'vm-exit').find((m) => m.fields.name === vm);
    assert.equal(exit?.fields, { name: vm, status: '0', reason: 'poweroff' }, explain(o, `${vm}: ended by ACPI S5`));
  }
  assert.ok(guestLines(o.lines, 'deb2').some((l) => /Uhhuh\. NMI received for unknown reason [0-9a-f]+ on CPU 0/.test(l)), explain(o, 'deb2: the NMI button reached Linux through LINT1'));
  assert.is(markersOf(o, 'vm-stop').length, 0, explain(o, 'the monitor stopped no VM'));
  assert.is(markersOf(o, 'fatal').length, 0, explain(o, 'the monitor did not fail'));
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
