// Two stock Debian kernels under crossguard in Bochs sharing one base
// image, as examples/two-linux.json does: each boots the test initramfs
// (toolchain/make-initramfs.sh), loads the virtio modules, finds /dev/vda
// on the monitor's PCI bus, reads the base, writes its own marker into its
// own overlay and reads it back, then powers off. Slow tier; runs when the
// kernel cache, the initramfs and a monitor that reads disks are all here.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { boot, explain, markersOf, ROOT } from './pool.js';
import { baseImage, diskSkipReason, hex16, SECTOR } from './vblk.js';

const KERNEL = process.env.CG_LINUX_KERNEL ?? '/var/cache/crossguard/vmlinuz';
const INITRD = join(ROOT, 'build', 'linux', 'initramfs.cpio.gz');
const MARK = 100;
const SKIP = diskSkipReason() ?? (!existsSync(KERNEL) ? `${KERNEL} is missing (toolchain/fetch-kernel.sh)` : !existsSync(INITRD) ? `${INITRD} is missing (make initramfs)` : null);

const dir = mkdtempSync(join(tmpdir(), 'cg-linux-disk-'));
const image = baseImage(2048);
writeFileSync(join(dir, 'base.img'), image);
const debian = (name: string) => ({
  name,
  memory_mib: 128,
  vcpus: 1,
  kernel: KERNEL,
  initrd: INITRD,
  cmdline: `console=ttyS0 quiet cg.tag=${name} cg.sector=${MARK} cg.action=poweroff`,
  disks: [{ image: 'base', mode: 'rw', overlay: 'discard' }],
});

const run = SKIP
  ? null
  : boot({
      emulator: 'bochs',
      image: { kind: 'iso-variant', vms: { images: { base: join(dir, 'base.img') }, vms: [debian('deb1'), debian('deb2')] } },
      cpus: 2,
      memMiB: 512,
      ips: 50_000_000,
      until: /^\[deb1\] CG-LINUX poweroff/,
      timeoutMs: 900_000,
      interact: async (_m, waitFor) => {
        await waitFor(/^\[deb2\] CG-LINUX poweroff/, 600_000, 0);
      },
    });
run?.catch(() => {});

test('two Debian guests on one base image: virtio-blk found, base read, private writes, power-off', async () => {
  if (SKIP) return console.log(`  (skipped: ${SKIP})`);
  const o = await run!;
  assert.is(o.status, 'matched', explain(o, 'deb1 did not get to power off'));
  for (const vm of ['deb1', 'deb2']) {
    const p = `[${vm}] CG-LINUX `;
    const lines = o.lines.filter((l) => l.startsWith(p)).map((l) => l.slice(p.length));
    assert.equal(lines.slice(0, 3), ['init', 'cpus=1', 'modules ok'], explain(o, `${vm}: init, CPUs, modules`));
    assert.ok(lines.includes(`disk-size sectors=${image.length / SECTOR}`), explain(o, `${vm}: the disk has the image's size`));
    assert.ok(lines.some((l) => l.startsWith(`disk-read ${hex16(image)} `)), explain(o, `${vm}: sector 0 reads as the image`));
    assert.ok(lines.includes(`disk-before sector=${MARK} ${hex16(image, MARK * SECTOR)}`), explain(o, `${vm}: sees the base, not the other VM's marker`));
    assert.ok(lines.includes(`disk-write ok sector=${MARK}`), explain(o, `${vm}: its marker reads back from the device`));
    assert.ok(lines.includes('done errors=0') && lines.at(-1) === 'poweroff', explain(o, `${vm}: no errors, then power-off`));
  }
  assert.is(markersOf(o, 'fatal').length, 0, explain(o, 'the monitor did not fail'));
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
