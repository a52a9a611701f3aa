// What a stock Linux guest costs, for `make bench`. Bochs with
// `clock: sync=none` counts time in instructions, so TSC ticks are
// instructions and the figures repeat exactly run to run.
//   linux_init_instructions        Debian's kernel + the test initramfs as a
//                                  crossguard VM (1 vCPU, 128 MiB): TSC ticks
//                                  from the kernel's clock start to
//                                  "Run /init as init process" (its printk
//                                  timestamp x its TSC frequency)
//   linux_init_bare_instructions   the same kernel, initramfs and command line
//                                  booted by GRUB straight in Bochs (128 MiB)
//   linux_init_ratio               the two divided (goal <= 1.15)
//   vm_overhead_bytes              monitor memory the VM took beyond its RAM
//                                  (the vm-start marker's overhead= field)
//   virtio_exits_per_request       after /init, the guest reads its 16 MiB
//                                  virtio disk once with dd (1 MiB blocks,
//                                  page cache dropped); exits the data path
//                                  cost per request over the VM's life:
//                                  queue notifications (each an exit) plus
//                                  completion interrupts (each ends in an
//                                  EOI exit), over requests completed
//   virtio_notifies_per_request, virtio_interrupts_per_request: the parts
//   virtio_request_latency_us      the mean time from the device taking a
//                                  request off its ring to completing it
//   *_apicv                        the same with cg.apicv=1 (one more boot):
//                                  an MSI-X interrupt's EOI exits no more
// CG_BENCH_LINUX=virtio runs the crossguard VM only (the virtio figures,
// not the init ratio): one Bochs boot, for work on the data path.
// Both runs use the same emulated clock (ips), one CPU, the same kernel
// command line. The platforms differ (crossguard's devices vs Bochs' PC),
// so part of the ratio is device probing, not virtualization.

import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { boot, explain, markersOf, ROOT, type BootOutcome } from '../boot/pool.js';
import { baseImage } from '../boot/vblk.js';

const KERNEL = process.env.CG_LINUX_KERNEL ?? '/var/cache/crossguard/vmlinuz';
const INITRD = join(ROOT, 'build', 'linux', 'initramfs.cpio.gz');
const IPS = 50_000_000;
const CMDLINE = 'console=ttyS0 cg.action=poweroff cg.wait=0';
const DISK_SECTORS = 32768; // 16 MiB
const INIT_LINE = /^\[\s*(\d+\.\d+)\] Run \/init as init process/;
const TSC_LINE = /tsc: Detected (\d+\.\d+) MHz (?:TSC|processor)/;

function bench(name: string, value: number | string, unit: string): void {
  console.log(`BENCH ${name} ${value} ${unit}`);
}

/** TSC ticks from the kernel's clock start to /init, read off its own log. */
function initTicks(o: BootOutcome, prefix: string, what: string): number {
  const lines = o.lines.filter((l) => l.startsWith(prefix)).map((l) => l.slice(prefix.length));
  const init = lines.map((l) => INIT_LINE.exec(l)).find(Boolean);
  const mhz = lines.map((l) => TSC_LINE.exec(l)).filter(Boolean).at(-1);
  if (o.status !== 'matched' || !init || !mhz) {
    console.error(explain(o, `bench: ${what} did not reach /init with a TSC line`));
    process.exit(1);
  }
  return Math.round(Number(init[1]) * Number(mhz[1]) * 1e6);
}

if (!existsSync(KERNEL) || !existsSync(INITRD)) {
  console.error(`bench: ${!existsSync(KERNEL) ? KERNEL : INITRD} is missing: run make (toolchain/fetch-kernel.sh, make-initramfs.sh)`);
  process.exit(1);
}

const tmp = mkdtempSync(join(tmpdir(), 'cg-linux-bench-'));
try {
  // Bare: GRUB loads the kernel and initramfs itself, Linux runs on Bochs' PC.
  const tree = join(tmp, 'iso');
  mkdirSync(join(tree, 'boot', 'grub'), { recursive: true });
  copyFileSync(KERNEL, join(tree, 'boot', 'vmlinuz'));
  copyFileSync(INITRD, join(tree, 'boot', 'initrd'));
  writeFileSync(
    join(tree, 'boot', 'grub', 'grub.cfg'),
    ['serial --unit=0 --speed=115200', 'terminal_input serial', 'terminal_output serial', 'set timeout=0',
      'menuentry linux {', `\tlinux /boot/vmlinuz ${CMDLINE}`, '\tinitrd /boot/initrd', '}', ''].join('\n'),
  );
  const disk = join(tmp, 'disk.img');
  writeFileSync(disk, baseImage(DISK_SECTORS));
  const iso = join(tmp, 'bare.iso');
  const mk = spawnSync('grub-mkrescue', ['-o', iso, '--locales=', '--themes=', '--fonts=', tree], { encoding: 'utf8' });
  if (mk.status !== 0) {
    console.error(`bench: grub-mkrescue failed: ${mk.stderr.slice(-2000)}`);
    process.exit(1);
  }
  const guestOnly = process.env.CG_BENCH_LINUX === 'virtio';
  const guestBoot = (monitorCmdline?: string): Promise<BootOutcome> =>
    boot({
      emulator: 'bochs',
      image: {
        kind: 'iso-variant',
        ...(monitorCmdline ? { cmdline: monitorCmdline } : {}),
        vms: {
          images: { disk },
          vms: [{ name: 'linux', memory_mib: 128, vcpus: 1, kernel: KERNEL, initrd: INITRD, cmdline: `${CMDLINE} cg.write=0 cg.seqread=1`, disks: [{ image: 'disk', mode: 'ro' }] }],
        },
      },
      cpus: 1,
      memMiB: 384,
      ips: IPS,
      until: /^@cg vms-done /,
      timeoutMs: 1_500_000,
    });
  const [guest, bare] = await Promise.all([
    guestBoot(),
    guestOnly ? undefined : boot({ emulator: 'bochs', image: { kind: 'iso', path: iso }, cpus: 1, memMiB: 128, ips: IPS, until: /Run \/init as init process/, timeoutMs: 1_500_000 }),
  ]);
  const under = initTicks(guest, '[linux] ', 'the crossguard VM');
  bench('linux_init_instructions', under, 'instructions');
  if (bare) {
    const straight = initTicks(bare, '', 'bare Bochs');
    bench('linux_init_bare_instructions', straight, 'instructions');
    bench('linux_init_ratio', (under / straight).toFixed(3), 'x');
  }
  const start = markersOf(guest, 'vm-start')[0];
  if (start?.fields.overhead) bench('vm_overhead_bytes', start.fields.overhead, 'bytes');
  else console.error('bench: the vm-start marker has no overhead= field');
  virtioFigures(guest, '', false);
  // The same guest with APIC virtualization: the EOI of an MSI-X vector
  // is the CPU's, no exit (docs/guest-abi.md); INTx (level) still exits.
  virtioFigures(await guestBoot('cg.apicv=1'), '_apicv', true);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

/** The data path's cost per request of one boot's dd: queue notifications
 * (each an exit) plus the completion interrupts whose EOI exits (all of
 * them with the emulated APIC: an xAPIC register write; with APIC
 * virtualization only the INTx ones), and the mean device latency. */
function virtioFigures(o: BootOutcome, suffix: string, apicv: boolean): void {
  const startApicv = markersOf(o, 'vm-start')[0]?.fields.apicv;
  if (startApicv !== (apicv ? '1' : '0')) {
    console.error(explain(o, `bench: the VM ran with apicv=${startApicv ?? '?'}, wanted ${apicv ? 1 : 0} (cg.apicv=1 needs a CPU with APIC virtualization)`));
    process.exit(1);
  }
  const statsLine = o.lines.find((l) => l.startsWith('@cg vm-stats name=linux '));
  if (statsLine) console.error(`bench${suffix}: ${statsLine}`); // the exits by reason, for the profile
  const stats = markersOf(o, 'vm-stats').find((m) => m.fields.name === 'linux')?.fields ?? {};
  const reqs = Number(stats['disk-requests'] ?? 0);
  const read = o.lines.some((l) => /^\[linux\] CG-LINUX seqread sectors=\d+/.test(l));
  if (!read || !reqs) {
    console.error(explain(o, 'bench: the guest did not read its disk (CG-LINUX seqread) or no requests were counted'));
    process.exit(1);
  }
  const notifies = Number(stats['disk-notifies'] ?? 0);
  const irqs = Number(stats['disk-interrupts'] ?? 0);
  const eoiExits = apicv ? Number(stats['disk-interrupts-intx'] ?? irqs) : irqs;
  bench(`virtio_exits_per_request${suffix}`, ((notifies + eoiExits) / reqs).toFixed(3), 'exits');
  bench(`virtio_notifies_per_request${suffix}`, (notifies / reqs).toFixed(3), 'exits');
  bench(`virtio_interrupts_per_request${suffix}`, (irqs / reqs).toFixed(3), 'interrupts');
  bench(`virtio_request_latency_us${suffix}`, (Number(stats['disk-latency-ns'] ?? 0) / 1000).toFixed(1), 'us');
}
